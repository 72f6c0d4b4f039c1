"""Benchmark of `lake query`'s memory: peak RSS of the whole command as a result grows.

    .venv/bin/python bench/query_bench.py [--root .lake] [--rows 100000 200000 500000]

Runs `lake demo --root ROOT` first (not timed) when ROOT holds no demo lake yet (500,000 rows,
the microdata table's 76 columns). Then, each as its own process, its peak resident memory read
from the kernel when it ends (wait4's ru_maxrss):

- `lake query "SELECT * FROM microdados_enem_2019 LIMIT N" --format csv` for each N, and
  `--format json` for the middle N: written as the rows arrive;
- the baseline, in the same run on the same lake: the same SELECT fetched whole and then written
  as CSV (DuckDB's fetchall, csv.writer), which is what `lake query` did before;
- `lake query "SELECT * FROM microdados_enem_2019"` in the table format (its first 1,000 rows).

Targets (bench/README.md): at most 500 MB for 200,000 rows as CSV, and flat as rows grow.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from local_bench import LAKE, ROOT, wall  # bench/ is on the path when this script runs

TARGET_MB = 500
SELECT = "SELECT * FROM microdados_enem_2019"
WHOLE = """
import csv, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET file_search_path = '" + sys.argv[2] + "'")
rows = con.execute(sys.argv[3])
columns = [d[0] for d in rows.description]
data = rows.fetchall()
writer = csv.writer(sys.stdout, lineterminator="\\n")
writer.writerow(columns)
writer.writerows(data)
"""


def peak(command: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of `command`, its output thrown away."""
    started = time.perf_counter()
    with open(os.devnull, "w") as devnull:
        child = subprocess.Popen(command, cwd=ROOT, stdout=devnull, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        errors = child.stderr.read().decode() if child.stderr else ""
        child.stderr.close() if child.stderr else None
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[:3]} failed: {errors[-800:]}")
    return usage.ru_maxrss / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT / ".lake")
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 200_000, 500_000])
    args = parser.parse_args()
    base = args.root / "dev"
    if not (base / "catalog.duckdb").exists():
        wall([LAKE, "demo", "--root", str(args.root)])
    lake = [LAKE, "query", "--root", str(args.root)]

    print(f"{'rows':>8}  {'lake query csv':>20}  {'whole, then csv (before)':>26}  ratio")
    streamed = {}
    for rows in args.rows:
        sql = f"{SELECT} LIMIT {rows}"
        mb, seconds = peak([*lake, sql, "--format", "csv"])
        whole_mb, whole_seconds = peak([sys.executable, "-c", WHOLE, str(base / "catalog.duckdb"),
                                        str(base.resolve()), sql])
        streamed[rows] = mb
        print(f"{rows:>8,}  {mb:>9.0f} MB {seconds:>6.1f} s  {whole_mb:>15.0f} MB "
              f"{whole_seconds:>6.1f} s  {whole_mb / mb:5.1f}x")
    middle = args.rows[len(args.rows) // 2]
    mb, seconds = peak([*lake, f"{SELECT} LIMIT {middle}", "--format", "json"])
    print(f"{middle:>8,}  {mb:>9.0f} MB {seconds:>6.1f} s  (json)")
    mb, seconds = peak([*lake, SELECT])
    print(f"{'all':>8}  {mb:>9.0f} MB {seconds:>6.1f} s  (table: the first 1,000 rows)")
    first, last = args.rows[0], args.rows[-1]
    growth = streamed[last] / streamed[first]
    at_target = streamed.get(200_000, streamed[middle])
    verdict = "met" if at_target <= TARGET_MB else "missed"
    print(f"peak at {last:,} rows / at {first:,} rows: {growth:.2f} ({last // first}x the rows); "
          f"at 200,000 rows {at_target:.0f} MB (target <= {TARGET_MB} MB: {verdict})")


if __name__ == "__main__":
    main()
