"""Benchmark of the processing job against baselines measured in the same run.

    .venv/bin/python bench/process_bench.py [--rows 1000000] [--work bench/out] [--full]

Each contender runs as its own process (session start included, as a scheduled job pays it) on
the same synthetic original-layout CSV, on this machine:
  naive   Spark, inferSchema=true, otherwise the same partitioned zstd Parquet output, no checks
  job     jobs/process/csv_to_parquet.py: exact schema, every value checked, staged + published
  duckdb  DuckDB's COPY … TO … (FORMAT parquet, PARTITION_BY (nu_ano, sg_uf_prova), zstd)
Then the processed size as a share of the CSV on the real rows (both layouts), and with --full
the whole 5,095,270-row file through the job (time and peak memory).
Prints ratios; the targets are in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lake.synth.archive import microdata_chunks  # noqa: E402
from tests.enem_rows import real_rows_available, real_rows_csv, to_lgpd  # noqa: E402

PYTHON = sys.executable
FULL_ROWS = 5_095_270
SPARK_MEMORY = os.environ.get("LAKE_SPARK_MEMORY", "4g")

NAIVE = """
import sys
from pyspark.sql import SparkSession
csv, out, memory = sys.argv[1:4]
spark = (SparkSession.builder.master("local[*]").config("spark.driver.memory", memory)
         .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "8")
         .getOrCreate())
df = spark.read.csv(csv, sep=";", header=True, encoding="ISO-8859-1", inferSchema=True)
df = df.toDF(*[c.lower() for c in df.columns])
(df.repartition("nu_ano", "sg_uf_prova").write.mode("overwrite").option("compression", "zstd")
   .partitionBy("nu_ano", "sg_uf_prova").parquet(out))
"""

DUCKDB = """
import sys, duckdb
csv, out = sys.argv[1:3]
duckdb.sql(f\"\"\"COPY (SELECT * FROM read_csv('{csv}', sep=';', header=true,
    encoding='latin-1', normalize_names=true)) TO '{out}'
    (FORMAT parquet, PARTITION_BY (nu_ano, sg_uf_prova), COMPRESSION zstd)\"\"\")
"""


def synthetic_csv(rows: int, folder: Path) -> Path:
    path = folder / f"synthetic-{rows}" / "MICRODADOS_ENEM_2019.csv"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    started = time.perf_counter()
    with open(partial, "wb") as out:
        for chunk in microdata_chunks(rows, "original", 2019):
            out.write(chunk)
    partial.rename(path)
    print(f"generated {rows:,} synthetic rows in {time.perf_counter() - started:.1f} s "
          f"({path.stat().st_size / 1e6:.0f} MB)", file=sys.stderr)
    return path


def parquet_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.parquet"))


def _tree_rss(root: int) -> int:
    """Resident bytes of a process and all its descendants (the JVM is a grandchild)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    total = 0
    for pid in tree:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf(
                "SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (GB, the whole process tree, sampled) of a run."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid))
        time.sleep(0.25)
    seconds = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"{command[:3]} failed with exit code {process.returncode}")
    return seconds, peak / 1e9


def lake_for(csv: Path, work: Path) -> tuple[Path, list[str]]:
    """A raw zone holding `csv` as one complete ingestion, and the job's command over it."""
    root = Path(tempfile.mkdtemp(dir=work, prefix="lake-"))
    ingestion = root / "raw" / "microdados_enem_2019" / "ingest=20261125T000000Z"
    ingestion.mkdir(parents=True)
    os.link(csv, ingestion / csv.name)  # same folder tree: no copy of a multi-GB file
    (ingestion / "_manifest.json").write_text("{}")
    command = [PYTHON, "-m", "jobs.process.csv_to_parquet", "--raw", str(root / "raw"),
               "--processed", str(root / "processed"), "--rejected", str(root / "rejected")]
    return root, command


def speed(rows: int, work: Path) -> dict:
    csv = synthetic_csv(rows, work)
    lake, job_command = lake_for(csv, work)
    contenders = {
        "naive": [PYTHON, "-c", NAIVE, str(csv), str(work / "naive-out"), SPARK_MEMORY],
        "job": job_command,
        "duckdb": [PYTHON, "-c", DUCKDB, str(csv), str(work / "duckdb-out")],
    }
    results = {}
    for name, command in contenders.items():
        seconds, peak = timed(command)
        results[name] = {"seconds": round(seconds, 1), "peak_rss_gb": round(peak, 2)}
        print(f"{name:7s} {seconds:7.1f} s", file=sys.stderr)
    csv_bytes = csv.stat().st_size
    results["job"]["parquet_share"] = round(
        parquet_bytes(lake / "processed" / "microdados_enem_2019") / csv_bytes, 4)
    results["naive"]["parquet_share"] = round(parquet_bytes(work / "naive-out") / csv_bytes, 4)
    results["duckdb"]["parquet_share"] = round(parquet_bytes(work / "duckdb-out") / csv_bytes, 4)
    return {
        "rows": rows,
        "csv_mb": round(csv_bytes / 1e6),
        "contenders": results,
        "naive_over_job": round(results["naive"]["seconds"] / results["job"]["seconds"], 2),
        "job_over_duckdb": round(results["job"]["seconds"] / results["duckdb"]["seconds"], 2),
    }


def sizes_on_real_rows(work: Path) -> dict:
    if not real_rows_available():
        return {"skipped": "real ENEM rows not found in ../shared/enem2019"}
    original = real_rows_csv()
    shares = {}
    for layout, data in (("original", original), ("lgpd", to_lgpd(original))):
        folder = work / f"real-{layout}"
        folder.mkdir(parents=True, exist_ok=True)
        csv = folder / "MICRODADOS_ENEM_2019.csv"
        csv.write_bytes(data)
        lake, command = lake_for(csv, work)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shares[layout] = round(parquet_bytes(lake / "processed" / "microdados_enem_2019")
                               / len(data), 4)
    return {"processed_share_of_csv": shares}


def full(work: Path) -> dict:
    csv = synthetic_csv(FULL_ROWS, work)
    _lake, command = lake_for(csv, work)
    seconds, peak = timed(command)
    return {"rows": FULL_ROWS, "seconds": round(seconds, 1), "peak_rss_gb": round(peak, 2),
            "spark_memory": SPARK_MEMORY}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--full", action="store_true", help="also the 5,095,270-row file")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    report = {"speed": speed(args.rows, args.work), "size": sizes_on_real_rows(args.work)}
    if args.full:
        report["full"] = full(args.work)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
