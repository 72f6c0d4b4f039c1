"""Benchmark of `lake report` as a whole command, on the demo's lake.

    .venv/bin/python bench/report_bench.py [--root .lake] [--repeat 5]

Runs `lake demo --root ROOT` first (not timed) when ROOT holds no demo lake yet. Each command is
its own process (interpreter start and imports included, as a user pays them). The baseline,
measured in the same run on the same lake, is `lake tables`: what any `lake` command costs to
start and open the catalog. Target (bench/README.md): `lake report` <= 5 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from local_bench import LAKE, ROOT, wall  # bench/ is on the path when this script runs

TARGET_SECONDS = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT / ".lake")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not (args.root / "dev" / "catalog.duckdb").exists():
        wall([LAKE, "demo", "--root", str(args.root)])
    out = Path(tempfile.mkdtemp(prefix="report-bench-")) / "index.html"
    report = [wall([LAKE, "report", "--root", str(args.root), "--out", str(out)])
              for _ in range(args.repeat)]
    tables = [wall([LAKE, "tables", "--root", str(args.root)]) for _ in range(args.repeat)]
    median, baseline = statistics.median(report), statistics.median(tables)
    verdict = "met" if max(report) <= TARGET_SECONDS else "missed"
    print(f"lake report: median {median:.2f} s, slowest {max(report):.2f} s "
          f"(target <= {TARGET_SECONDS:.0f} s: {verdict}); page {out.stat().st_size / 1e3:,.0f} kB")
    print(f"lake tables (baseline): median {baseline:.2f} s; report / tables = "
          f"{median / baseline:.2f}")


if __name__ == "__main__":
    main()
