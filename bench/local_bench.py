"""Benchmark of the local lake: `lake demo` end to end, then `lake query` as a whole command.

    .venv/bin/python bench/local_bench.py [--work bench/out] [--repeat 5]

1. `lake demo` (its default size: synth, ingest, process, crawl, gold, report) in a fresh root,
   as `make demo` runs it with a warm .venv; then again (archive, ingestion and processed zone
   reused), which is what a second `make demo` costs.
2. `lake query` over a 1,000,000-row table (`lake demo --rows 1000000`, not timed), each query
   as its own process (interpreter start and imports included, as a user pays them): every
   queries/*.sql file, and an ad-hoc aggregate. Prints the median and the slowest of --repeat runs.
Targets (bench/README.md): demo <= 90 s, each query <= 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERY_ROWS = 1_000_000
LAKE = str(Path(sys.executable).parent / "lake")
AD_HOC = ("SELECT sg_uf_prova, COUNT(*) AS n, AVG(nu_nota_mt) AS mean_mt "
          "FROM microdados_enem_2019 WHERE in_treineiro = 0 GROUP BY 1 ORDER BY 1")


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{command[:3]} failed: {done.stderr[-800:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(dir=args.work, prefix="demo-"))
    first = wall([LAKE, "demo", "--root", str(root)])
    second = wall([LAKE, "demo", "--root", str(root)])
    print(f"lake demo, fresh root:        {first:5.1f} s (target <= 90 s)")
    print(f"lake demo, again (all reused): {second:5.1f} s")
    big = Path(tempfile.mkdtemp(dir=args.work, prefix="demo-1m-"))
    wall([LAKE, "demo", "--rows", str(QUERY_ROWS), "--root", str(big)])

    queries = {p.stem: p.read_text(encoding="utf-8") for p in sorted((ROOT / "queries").glob(
        "*.sql"))}
    queries["ad-hoc aggregate"] = AD_HOC
    worst = 0.0
    for name, sql in queries.items():
        times = [wall([LAKE, "query", "--root", str(big), "--format", "csv", "--", sql])
                 for _ in range(args.repeat)]
        worst = max(worst, max(times))
        print(f"lake query {name:<30} median {statistics.median(times):.2f} s, "
              f"slowest {max(times):.2f} s")
    print(f"slowest lake query over {QUERY_ROWS:,} rows: {worst:.2f} s (target <= 1 s)")


if __name__ == "__main__":
    main()
