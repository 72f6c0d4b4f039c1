"""Benchmark of the processing job against baselines measured in the same run.

    .venv/bin/python bench/process_bench.py [--rows 1000000] [--work bench/out] [--full]
        [--only job] [--before REV]

Each contender runs as its own process (session start included, as a scheduled job pays it) on
the same synthetic original-layout CSV in which one line in a thousand is made invalid (a value
of the wrong type, out of its domain or pattern, a wrong field count), on this machine:
  naive   Spark, inferSchema=true, otherwise the same partitioned zstd Parquet output, no checks
  job     jobs/process/csv_to_parquet.py: exact schema, every value checked, staged + published
  duckdb  DuckDB's COPY … TO … (FORMAT parquet, PARTITION_BY (nu_ano, sg_uf_prova), zstd),
          ignore_errors=true (else it stops at the first invalid line)
  before  with --before REV: the job as it was at commit REV (its jobs/ from `git archive`), to
          measure what a change costs
Then the processed size as a share of the CSV on the real rows (both layouts), and with --full
the same three contenders on the whole 5,095,270-row file.
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
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jobs.enem.schema import MICRODADOS_ORIGINAL_COLUMNS  # noqa: E402
from lake.samples import real_rows_available, real_rows_csv, to_lgpd  # noqa: E402
from lake.synth.archive import microdata_chunks  # noqa: E402

PYTHON = sys.executable
FULL_ROWS = 5_095_270
INVALID_EVERY = 1000  # about 0.1% of the lines are invalid
# What the injected lines get wrong, in turn: (column, value), or None for an extra field.
INVALID_VALUES = (("NU_IDADE", b"dezoito"), ("NU_NOTA_MT", b"1200.5"), ("SG_UF_PROVA", b"XX"),
                  ("TX_RESPOSTAS_CN", b"ABC"), None)
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
    encoding='latin-1', normalize_names=true, ignore_errors=true)) TO '{out}'
    (FORMAT parquet, PARTITION_BY (nu_ano, sg_uf_prova), COMPRESSION zstd)\"\"\")
"""


def spoiled(line: bytes, number: int) -> bytes:
    """The line made invalid in the `number`-th way of INVALID_VALUES (in turn)."""
    mistake = INVALID_VALUES[number % len(INVALID_VALUES)]
    if mistake is None:
        return line + b";extra"
    fields = line.split(b";")
    fields[MICRODADOS_ORIGINAL_COLUMNS.index(mistake[0])] = mistake[1]
    return b";".join(fields)


def with_invalid_lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The CSV's pieces (header first) with every INVALID_EVERY-th data line spoiled."""
    yield next(chunks)
    seen = 0
    for chunk in chunks:
        lines = chunk.split(b"\n")
        for i in range(INVALID_EVERY - 1 - seen % INVALID_EVERY, len(lines) - 1, INVALID_EVERY):
            lines[i] = spoiled(lines[i], (seen + i) // INVALID_EVERY)
        seen += len(lines) - 1
        yield b"\n".join(lines)


def invalid_count(rows: int) -> int:
    return rows // INVALID_EVERY


def synthetic_csv(rows: int, folder: Path) -> Path:
    path = folder / f"synthetic-{rows}-invalid-{INVALID_EVERY}" / "MICRODADOS_ENEM_2019.csv"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    started = time.perf_counter()
    with open(partial, "wb") as out:
        for chunk in with_invalid_lines(iter(microdata_chunks(rows, "original", 2019))):
            out.write(chunk)
    partial.rename(path)
    print(f"generated {rows:,} synthetic rows in {time.perf_counter() - started:.1f} s "
          f"({path.stat().st_size / 1e6:.0f} MB)", file=sys.stderr)
    return path


def parquet_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.parquet"))


def _tree_rss(root: int) -> int:
    """Resident bytes of a process and all its descendants (the JVM is a grandchild).

    A process the JVM has just spawned (`jspawnhelper`, then `chmod`, which Hadoop runs for each
    file it writes without its native library) shares the JVM's memory until it execs, and
    reports the JVM's whole resident size as its own: processes whose memory figures
    (/proc/PID/statm) are identical are counted once."""
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
    memories: set[str] = set()
    for pid in tree:
        try:
            memories.add(Path(f"/proc/{pid}/statm").read_text())
        except OSError:
            continue
    return sum(int(m.split()[1]) for m in memories) * os.sysconf("SC_PAGE_SIZE")


def timed(command: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """Wall seconds and peak memory (GB, the whole process tree, sampled) of a run."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               cwd=cwd)
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
               "--processed", str(root / "processed"), "--rejected", str(root / "rejected"),
               "--restricted", str(root / "restricted")]
    return root, command


def code_at(rev: str, work: Path) -> Path:
    """The project's jobs/ as it was at commit `rev`, in a folder of its own (made once)."""
    folder = work / f"code-{rev}"
    if not (folder / "jobs").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "jobs"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def zone_bytes(lake: Path, table: str = "microdados_enem_2019") -> dict[str, int]:
    return {zone: parquet_bytes(lake / zone / table) for zone in ("processed", "restricted")
            if (lake / zone / table).exists()}


def job_rejected(lake: Path) -> int:
    """Rows the job refused, from its run summary."""
    summary, = (lake / "processed" / "_runs").glob("*.json")
    return json.loads(summary.read_text())["tables"]["microdados_enem_2019"]["rows_rejected"]


def speed(rows: int, work: Path, only: list[str] | None = None,
          before: str | None = None) -> dict:
    csv = synthetic_csv(rows, work)
    lake, job_command = lake_for(csv, work)
    outputs = {"naive": Path(tempfile.mkdtemp(dir=work, prefix="naive-")) / "out",
               "job": lake / "processed" / "microdados_enem_2019",
               "duckdb": Path(tempfile.mkdtemp(dir=work, prefix="duckdb-")) / "out"}
    contenders = {
        "naive": ([PYTHON, "-c", NAIVE, str(csv), str(outputs["naive"]), SPARK_MEMORY], None),
        "job": (job_command, None),
        "duckdb": ([PYTHON, "-c", DUCKDB, str(csv), str(outputs["duckdb"])], None),
    }
    if before:
        before_lake, before_command = lake_for(csv, work)
        outputs["before"] = before_lake / "processed" / "microdados_enem_2019"
        contenders["before"] = (before_command, code_at(before, work))
    csv_bytes = csv.stat().st_size
    results = {}
    for name, (command, cwd) in contenders.items():
        if only and name not in only and not (name == "before" and before):
            continue
        seconds, peak = timed(command, cwd)
        results[name] = {"seconds": round(seconds, 1), "peak_rss_gb": round(peak, 2),
                         "parquet_share": round(parquet_bytes(outputs[name]) / csv_bytes, 4)}
        print(f"{rows:,} rows: {name:7s} {seconds:7.1f} s", file=sys.stderr)
    if "job" in results:
        results["job"]["zone_shares"] = {zone: round(size / csv_bytes, 4)
                                         for zone, size in zone_bytes(lake).items()}
    if "job" in results:
        rejected = job_rejected(lake)
        if rejected != invalid_count(rows):
            raise SystemExit(f"the job rejected {rejected} rows; {invalid_count(rows)} were "
                             "spoiled")
        results["job"]["rows_rejected"] = rejected
    report = {"rows": rows, "csv_mb": round(csv_bytes / 1e6), "spark_memory": SPARK_MEMORY,
              "contenders": results}
    if {"naive", "job"} <= set(results):
        report["naive_over_job"] = round(results["naive"]["seconds"]
                                         / results["job"]["seconds"], 2)
    if {"job", "duckdb"} <= set(results):
        report["job_over_duckdb"] = round(results["job"]["seconds"]
                                          / results["duckdb"]["seconds"], 2)
    if {"job", "before"} <= set(results):
        report["job_over_before"] = round(results["job"]["seconds"]
                                          / results["before"]["seconds"], 2)
    return report


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
        shares[layout] = {zone: round(size / len(data), 4)
                          for zone, size in zone_bytes(lake).items()}
    return {"processed_share_of_csv": shares}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--full", action="store_true", help="also the 5,095,270-row file")
    parser.add_argument("--only", choices=("naive", "job", "duckdb"), action="append",
                        help="run only these contenders (repeatable; default: all three)")
    parser.add_argument("--before", metavar="REV",
                        help="also run the job as it was at this commit (e.g. HEAD~1)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    report = {"speed": [speed(args.rows, args.work, args.only, args.before)],
              "size": sizes_on_real_rows(args.work)}
    if args.full:
        report["speed"].append(speed(FULL_ROWS, args.work, args.only, args.before))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
