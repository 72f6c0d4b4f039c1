"""Where the processing job's time goes: its steps one by one, each in its own process.

    .venv/bin/python bench/process_floor.py [--rows 5095270] [--work bench/out]

On the same synthetic CSV as bench/process_bench.py (one line in a thousand invalid), each step
as a fresh local Spark process with the job's session and settings, its rows sent to Spark's
`noop` sink or written as the job writes them:
  parse          the typed read (136 columns), nothing else
  parse+checks   + every value and rule check, the refused rows dropped
  parse+write    the typed read, sorted and written as the job writes (no checks)
  first pass     the job's first pass: parse, checks, sort, write (what `stage` does)
  job            the whole job (both passes, publish, run summary)
  naive          process_bench.py's naive Spark job, the baseline, in the same session
The differences between them are what each part costs; session start is in every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from process_bench import (  # noqa: E402
    FULL_ROWS,
    NAIVE,
    PYTHON,
    SPARK_MEMORY,
    job_rejected,
    lake_for,
    synthetic_csv,
    timed,
)

STEP = """
import os, sys
from jobs.process import csv_to_parquet as job, tables
from jobs.process.inputs import table_for
from jobs.storage import LocalStorage
from jobs.process.transforms import read_typed, with_fast_checks, valid_rows
step, csv, out = sys.argv[1:4]
spark = job.local_session("floor")
job.tune(spark)
table = table_for(csv, LocalStorage())
tables.plan_splits(spark, os.path.getsize(csv))
typed = read_typed(spark, csv, table)
if step == "parse":
    typed.write.format("noop").mode("overwrite").save()
elif step == "parse+checks":
    valid_rows(with_fast_checks(typed, table), table).write.format("noop").mode("overwrite").save()
elif step == "parse+write":
    tables.write_valid(typed.select(*[c.output for c in table.columns]), table, out, False)
elif step == "first pass":
    print(tables.stage(with_fast_checks(typed, table), table, out, False).rejected)
"""
STEPS = ("parse", "parse+checks", "parse+write", "first pass")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=FULL_ROWS)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    csv = synthetic_csv(args.rows, args.work)
    results = {}
    for step in STEPS:
        out = Path(tempfile.mkdtemp(dir=args.work, prefix="floor-")) / "out"
        seconds, peak = timed([PYTHON, "-c", STEP, step, str(csv), str(out)])
        results[step] = {"seconds": round(seconds, 1), "peak_rss_gb": round(peak, 2)}
        print(f"{step:13s} {seconds:7.1f} s", file=sys.stderr)
    lake, command = lake_for(csv, args.work)
    seconds, peak = timed(command)
    results["job"] = {"seconds": round(seconds, 1), "peak_rss_gb": round(peak, 2),
                      "rows_rejected": job_rejected(lake)}
    print(f"{'job':13s} {seconds:7.1f} s", file=sys.stderr)
    out = Path(tempfile.mkdtemp(dir=args.work, prefix="floor-")) / "out"
    seconds, peak = timed([PYTHON, "-c", NAIVE, str(csv), str(out), SPARK_MEMORY])
    results["naive"] = {"seconds": round(seconds, 1), "peak_rss_gb": round(peak, 2)}
    print(f"{'naive':13s} {seconds:7.1f} s", file=sys.stderr)
    print(json.dumps({"rows": args.rows, "steps": results}, indent=2))


if __name__ == "__main__":
    main()
