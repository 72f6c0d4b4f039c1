"""Where the processing job's time goes: its steps one by one, each in its own process.

    .venv/bin/python bench/process_floor.py [--rows 5095270] [--work bench/out]

On the same synthetic CSV as bench/process_bench.py (one line in a thousand invalid), each step
as a fresh local Spark process with the job's session and settings, its rows sent to Spark's
`noop` sink or written as the job writes them:
  parse          the typed read (136 columns), nothing else
  parse+checks   + every value and rule check, the refused rows dropped
  parse+write    the typed read, sorted and written as the job writes (no checks)
  parse+write (pyarrow)  the same rows and sort, written by pyarrow's Parquet writer (C++)
                 through Spark's mapInArrow instead of Spark's own (not what the job does:
                 what another writer would buy; bench/README.md says why the job keeps Spark's)
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
    parquet_bytes,
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
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Python workers: pyarrow's writer
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
elif step == "parse+write (pyarrow)":
    columns = [c.output for c in table.columns]
    parts = list(table.partition_by)
    data = [c for c in columns if c not in parts]
    group_rows = 1 << 20

    def write(batches):
        # The sorted rows of one task arrive partition after partition: one file each, row
        # groups of 1M rows, zstd level 9 as the job's.
        import pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq
        from pyspark import TaskContext
        task, writer, current, pending, total = TaskContext.get().partitionId(), None, None, [], 0
        def flush():
            if pending:
                writer.write_table(pa.Table.from_batches(pending), row_group_size=group_rows)
                pending.clear()
        for batch in batches:
            key = pc.binary_join_element_wise(
                *[pc.cast(batch.column(p), pa.string()).fill_null("__HIVE_DEFAULT_PARTITION__")
                  for p in parts], "/")
            n = batch.num_rows
            cuts = [0] + ([i + 1 for i in pc.indices_nonzero(pc.not_equal(
                key.slice(1), key.slice(0, n - 1))).to_pylist()] if n > 1 else []) + [n]
            for start, end in zip(cuts, cuts[1:]):
                piece = batch.slice(start, end - start).select(data)
                if key[start].as_py() != current:
                    flush()
                    if writer is not None:
                        writer.close()
                    current = key[start].as_py()
                    folder = os.path.join(out, *[f"{p}={v}" for p, v in
                                                 zip(parts, current.split("/"))])
                    os.makedirs(folder, exist_ok=True)
                    writer = pq.ParquetWriter(os.path.join(folder, f"part-{task:05d}.parquet"),
                                              piece.schema, compression="zstd",
                                              compression_level=job.ZSTD_LEVEL)
                pending.append(piece)
                total += piece.num_rows
                if sum(b.num_rows for b in pending) >= group_rows:
                    flush()
        flush()
        if writer is not None:
            writer.close()
        yield pa.RecordBatch.from_pydict({"rows": [total]})

    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "20000")
    rows = typed.select(*columns).sortWithinPartitions(*parts, *table.sort_by)
    print(sum(r.rows for r in rows.mapInArrow(write, "rows long").collect()))
elif step == "first pass":
    print(tables.stage(with_fast_checks(typed, table), table, out, False).rejected)
"""
STEPS = ("parse", "parse+checks", "parse+write", "parse+write (pyarrow)", "first pass")


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
        if out.exists():
            results[step]["parquet_bytes"] = parquet_bytes(out)
        print(f"{step:21s} {seconds:7.1f} s {peak:5.2f} GB", file=sys.stderr)
    lake, command = lake_for(csv, args.work)
    seconds, peak = timed(command)
    results["job"] = {"seconds": round(seconds, 1), "peak_rss_gb": round(peak, 2),
                      "rows_rejected": job_rejected(lake)}
    print(f"{'job':21s} {seconds:7.1f} s", file=sys.stderr)
    out = Path(tempfile.mkdtemp(dir=args.work, prefix="floor-")) / "out"
    seconds, peak = timed([PYTHON, "-c", NAIVE, str(csv), str(out), SPARK_MEMORY])
    results["naive"] = {"seconds": round(seconds, 1), "peak_rss_gb": round(peak, 2)}
    print(f"{'naive':21s} {seconds:7.1f} s", file=sys.stderr)
    print(json.dumps({"rows": args.rows, "steps": results}, indent=2))


if __name__ == "__main__":
    main()
