"""The processing job: the newest complete ingestion of each dataset → typed, partitioned Parquet.

    python -m jobs.process.csv_to_parquet --raw URI --processed URI --rejected URI \\
        [--max-rejected-share 0.01]

The same file is the Glue job's script (Glue 5.0 runs it with `awsglue` importable and the
arguments from the job definition) and the local step (a local SparkSession). What it does, per
dataset under `raw/`:

1. take the newest `ingest=<stamp>/` that has `_manifest.json` (others are incomplete);
   skip it if a published run already processed it;
2. per CSV: detect the layout from the header, read once with the layout's exact columns, check
   every value, write valid rows to `processed/_staging/<run>/<table>/` and invalid ones to
   `rejected/<table>/run=<run>/`;
3. quality gate: a table whose rejected share exceeds the threshold fails the run, unpublished;
4. publish: each staged table replaces the current one whole; `_runs/<run>.json` says what
   happened (it is written before publishing as an intent, so a killed publish is finished by
   the next run);
5. label tables (`label_<column>`, from INEP's dictionary) are written beside the data when
   missing or changed, so the crawler catalogs them with it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from jobs.enem.labels import label_parquet, label_tables
from jobs.enem.schema import detect_layout
from jobs.process.transforms import (
    Table,
    read_csv,
    read_typed,
    rejections,
    unknown_layout_table,
    valid_rows,
    with_checks,
    with_fast_checks,
)
from jobs.storage import Storage, join, name_of, storage_for

log = logging.getLogger("lake.process")

MANIFEST = "_manifest.json"
RUNS = "_runs"
STAGING = "_staging"
DEFAULT_MAX_REJECTED_SHARE = 0.01
# A partition's file never exceeds ~1 GB: ENEM Parquet rows take ~100 bytes (measured in bench/).
MAX_RECORDS_PER_FILE = 2_000_000
HEADER_PROBE_BYTES = 1 << 16
ZSTD_LEVEL = 9
# The throughput collector: ~10% faster than G1 on this batch job (bench/README.md).
JAVA_OPTIONS = "-XX:+UseParallelGC"
LABEL_FILE = "labels.parquet"
MAX_WRITERS = 4  # files per partition per run, at most
SPLIT_BYTES = 128 << 20  # Spark's default split size
SMALL_FILE_BYTES = 256 << 20  # below this, an unpartitioned table is written as one file


class ProcessingError(Exception):
    """A problem with the input a user can fix; the message names it."""


class QualityGateError(ProcessingError):
    pass


@dataclass
class Options:
    raw: str
    processed: str
    rejected: str
    max_rejected_share: float = DEFAULT_MAX_REJECTED_SHARE
    run_id: str = field(default_factory=lambda: new_run_id())


@dataclass
class TableReport:
    file: str
    layout: str
    rows_read: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rejected_share(self) -> float:
        return self.rows_rejected / self.rows_read if self.rows_read else 0.0


@dataclass
class RunSummary:
    run_id: str
    status: str  # "publishing" | "published" | "failed" | "noop"
    started_at: str
    inputs: dict[str, str] = field(default_factory=dict)  # dataset -> ingestion URI
    tables: dict[str, TableReport] = field(default_factory=dict)
    finished_at: str | None = None
    seconds: float = 0.0
    error: str | None = None

    def to_json(self) -> str:
        data = asdict(self)
        for name, report in self.tables.items():
            data["tables"][name]["rejected_share"] = round(report.rejected_share, 6)
        return json.dumps(data, indent=2, ensure_ascii=False)

    @staticmethod
    def from_json(text: str) -> RunSummary:
        data = json.loads(text)
        tables = {name: TableReport(**{k: v for k, v in report.items()
                                       if k != "rejected_share"})
                  for name, report in data.pop("tables", {}).items()}
        return RunSummary(**data, tables=tables)


def new_run_id() -> str:
    """UTC time to the microsecond (so ids sort in run order), plus a random suffix."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- finding work ------------------------------------------------------------------------------

def newest_complete_ingestions(raw: str, store: Storage) -> dict[str, str]:
    """dataset -> URI of its newest `ingest=<stamp>` folder that has a manifest."""
    found = {}
    for dataset in store.children(raw):
        stamps = sorted((c for c in store.children(join(raw, dataset)) if c.startswith("ingest=")),
                        reverse=True)
        for stamp in stamps:
            folder = join(raw, dataset, stamp)
            if store.exists(join(folder, MANIFEST)):
                found[dataset] = folder
                break
            log.warning("skipping %s: no %s, the ingestion is incomplete", folder, MANIFEST)
    return found


def run_summaries(processed: str, store: Storage) -> list[RunSummary]:
    summaries = []
    for uri in store.files(join(processed, RUNS)):
        if uri.endswith(".json"):
            summaries.append(RunSummary.from_json(store.read_bytes(uri).decode("utf-8")))
    return sorted(summaries, key=lambda s: s.run_id)


def csv_files(ingestion: str, store: Storage) -> list[str]:
    """The CSVs directly in the ingestion folder (documents land elsewhere)."""
    prefix = ingestion.rstrip("/") + "/"
    return [uri for uri in store.files(ingestion)
            if uri.lower().endswith(".csv") and "/" not in uri[len(prefix):]]


def table_for(csv_uri: str, store: Storage) -> Table:
    """Detect the layout from the header; refuse empty and header-only files."""
    head = store.read_bytes(csv_uri, HEADER_PROBE_BYTES).decode("iso-8859-1")
    lines = head.replace("\r\n", "\n").split("\n")
    if not head.strip():
        raise ProcessingError(f"{csv_uri} is empty: re-ingest it from a complete source.")
    if len(lines) < 2 or not any(line.strip() for line in lines[1:]):
        raise ProcessingError(f"{csv_uri} has a header but no rows: re-ingest it from a complete "
                              "source.")
    header = lines[0].split(";")
    name = name_of(csv_uri).rsplit(".", 1)[0].lower()
    layout = detect_layout(header)
    if layout is None:
        log.warning("%s has an unknown layout (%d columns): it lands as table %s with every "
                    "column a string", csv_uri, len(header), name)
        return unknown_layout_table(name, header)
    return Table(name=name, columns=layout.columns, layout=layout)


# --- one table ---------------------------------------------------------------------------------

def write_valid(valid: DataFrame, table: Table, target: str, small: bool) -> None:
    """Parquet + zstd; the microdata partitioned by year and state, sorted within each file.

    Each task writes one file per partition it holds, so the number of writing tasks bounds the
    files per partition (at most MAX_WRITERS). On a small machine the input is read in that many
    splits and written without a shuffle (see `plan_splits`); with more cores than that, the
    rows of each partition are first brought together (one file per partition)."""
    spark = valid.sparkSession
    if table.partition_by:
        if spark.sparkContext.defaultParallelism > MAX_WRITERS:
            valid = valid.repartition(*table.partition_by)
        valid = valid.sortWithinPartitions(*table.partition_by, *table.sort_by)
    else:
        valid = valid.coalesce(1 if small else MAX_WRITERS)
    writer = (valid.write.mode("overwrite").option("compression", "zstd")
              .option("maxRecordsPerFile", MAX_RECORDS_PER_FILE))
    if table.partition_by:
        writer = writer.partitionBy(*table.partition_by)
    writer.parquet(target)


def plan_splits(spark: SparkSession, size: int) -> None:
    """Read a file in at most as many splits as the writer may have tasks (see `write_valid`),
    and a small file in one: fewer, larger files per partition compress better."""
    parallelism = spark.sparkContext.defaultParallelism
    if parallelism <= MAX_WRITERS:
        splits = max(1, min(parallelism, -(-size // SPLIT_BYTES)))
        spark.conf.set("spark.sql.files.maxPartitionBytes", str(size // splits + 1))
        spark.conf.set("spark.sql.files.minPartitionNum", str(splits))  # else: one per core


def stage(checked: DataFrame, table: Table, staging: str, small: bool) -> tuple[int, int, int]:
    """Write the valid rows of `checked` to `staging`; (rows read, written, rejected), counted
    while writing (Spark observations: no extra pass)."""
    read, written = Observation(), Observation()
    observed = checked.observe(read, F.count(F.lit(1)).alias("rows"),
                               F.sum(F.when(F.col("_ok"), 0).otherwise(1)).alias("rejected"))
    valid = valid_rows(observed, table).observe(written, F.count(F.lit(1)).alias("rows"))
    write_valid(valid, table, staging, small)
    return (int(read.get["rows"]), int(written.get["rows"]), int(read.get["rejected"] or 0))


def process_table(spark: SparkSession, csv_uri: str, table: Table, options: Options,
                  store: Storage) -> TableReport:
    """Read, check and stage one CSV; write its rejected rows.

    One pass when every row is valid (the fast typed read). A file with invalid rows is read
    again as text, staged again from that exact read, and its invalid rows reported with their
    reasons and raw lines."""
    started = time.monotonic()
    report = TableReport(file=csv_uri, layout=table.layout.name if table.layout else "unknown")
    staging = join(options.processed, STAGING, options.run_id, table.name)
    size = store.size(csv_uri)
    small = size < SMALL_FILE_BYTES
    plan_splits(spark, size)
    counts = stage(with_fast_checks(read_typed(spark, csv_uri, table), table), table, staging,
                   small)
    if counts[2]:
        log.info("%s: %d invalid rows; reading it again as text to report them exactly",
                 table.name, counts[2])
        checked = with_checks(read_csv(spark, csv_uri, table), table)
        counts = stage(checked, table, staging, small)
        bad = rejections(checked, table, csv_uri).cache()
        bad.write.mode("overwrite").json(
            join(options.rejected, table.name, f"run={options.run_id}"))
        report.rejected_by_reason = dict(sorted(
            (row["reason"], row["count"]) for row in
            bad.select(F.explode("reasons").alias("reason")).groupBy("reason").count().collect()))
        bad.unpersist()
    report.rows_read, report.rows_written, report.rows_rejected = counts
    if report.rows_read != report.rows_written + report.rows_rejected:
        raise ProcessingError(f"{table.name}: {report.rows_read} rows read but "
                              f"{report.rows_written} written + {report.rows_rejected} rejected.")
    report.seconds = round(time.monotonic() - started, 3)
    log.info("%s: %d rows read, %d written, %d rejected (%.1f s)", table.name,
             report.rows_read, report.rows_written, report.rows_rejected, report.seconds)
    return report


def write_labels(processed: str, store: Storage) -> list[str]:
    """Write the label tables (`jobs/enem/labels.py`) that are missing or out of date; one small
    Parquet file each, replaced whole. Returns the names written."""
    written = []
    for label in label_tables():
        uri = join(processed, label.name, LABEL_FILE)
        data = label_parquet(label)
        if not store.exists(uri) or store.read_bytes(uri) != data:
            store.write_bytes(uri, data)
            written.append(label.name)
    if written:
        log.info("label tables written: %s", ", ".join(written))
    return written


# --- publishing --------------------------------------------------------------------------------

def summary_uri(options: Options, run_id: str) -> str:
    return join(options.processed, RUNS, f"{run_id}.json")


def publish(summary: RunSummary, options: Options, store: Storage) -> None:
    """Replace each table by its staged copy. The summary is written first with status
    "publishing", so that a run killed half-way is finished by the next one (`recover`)."""
    summary.status = "publishing"
    store.write_text(summary_uri(options, summary.run_id), summary.to_json())
    staging_root = join(options.processed, STAGING, summary.run_id)
    for table in store.children(staging_root):
        store.replace(join(staging_root, table), join(options.processed, table))
    store.delete(staging_root)
    summary.status = "published"


def recover(options: Options, store: Storage, summaries: list[RunSummary]) -> None:
    """Finish publishes that a killed run left half-done; drop other runs' staging."""
    for summary in summaries:
        if summary.status == "publishing":
            log.warning("finishing the publish of run %s, which stopped half-way",
                        summary.run_id)
            publish(summary, options, store)
            store.write_text(summary_uri(options, summary.run_id), summary.to_json())
    for run_id in store.children(join(options.processed, STAGING)):
        if run_id != options.run_id:
            store.delete(join(options.processed, STAGING, run_id))


# --- the run -----------------------------------------------------------------------------------

def run(spark: SparkSession, options: Options) -> RunSummary:
    """Process what is new in the raw zone. Raises ProcessingError (with the summary written)
    when an input is unusable or the quality gate fails; nothing is published then."""
    started = time.monotonic()
    summary = RunSummary(run_id=options.run_id, status="noop", started_at=_now())
    raw_store, store = storage_for(options.raw), storage_for(options.processed)
    summaries = run_summaries(options.processed, store)
    recover(options, store, summaries)
    done = {uri for s in run_summaries(options.processed, store) if s.status == "published"
            for uri in s.inputs.values()}
    todo = {dataset: ingestion for dataset, ingestion in
            newest_complete_ingestions(options.raw, raw_store).items() if ingestion not in done}
    if not todo:
        log.info("nothing new in %s: every complete ingestion is already processed",
                 options.raw)
        write_labels(options.processed, store)
        return summary

    summary.inputs = todo
    try:
        work: dict[str, tuple[str, Table]] = {}
        for ingestion in todo.values():
            files = csv_files(ingestion, raw_store)
            if not files:
                raise ProcessingError(f"{ingestion} has a manifest but no CSV file.")
            for csv_uri in files:
                table = table_for(csv_uri, raw_store)
                if table.name in work:
                    raise ProcessingError(f"{csv_uri} and {work[table.name][0]} would both "
                                          f"become table {table.name}; ingest them separately.")
                work[table.name] = (csv_uri, table)
        for name, (csv_uri, table) in work.items():
            summary.tables[name] = process_table(spark, csv_uri, table, options, raw_store)
        failing = {name: report for name, report in summary.tables.items()
                   if report.rejected_share > options.max_rejected_share}
        if failing:
            raise QualityGateError("quality gate: " + "; ".join(
                f"{name} rejected {r.rows_rejected} of {r.rows_read} rows "
                f"({r.rejected_share:.2%} > {options.max_rejected_share:.2%}), see "
                f"{join(options.rejected, name, 'run=' + options.run_id)}"
                for name, r in failing.items()) + "; nothing was published.")
        publish(summary, options, store)
        write_labels(options.processed, store)
    except BaseException as error:  # a failure, or an interruption (Ctrl-C)
        if summary.status != "publishing":  # once publishing, the next run rolls forward
            summary.status = "failed"
            summary.error = str(error) or type(error).__name__
            store.delete(join(options.processed, STAGING, options.run_id))
        raise
    finally:
        summary.finished_at = _now()
        summary.seconds = round(time.monotonic() - started, 3)
        if summary.status != "noop":
            store.write_text(summary_uri(options, summary.run_id), summary.to_json())
    return summary


# --- entrypoints -------------------------------------------------------------------------------

def local_session(app_name: str = "lake-process") -> SparkSession:
    """A local SparkSession sized for a small machine (2 cores, a few GB for Spark)."""
    memory = os.environ.get("LAKE_SPARK_MEMORY", "4g")
    builder = (SparkSession.builder.master(os.environ.get("LAKE_SPARK_MASTER", "local[*]"))
            .appName(app_name)
            .config("spark.driver.memory", memory)
            .config("spark.driver.extraJavaOptions", os.environ.get("LAKE_SPARK_JAVA_OPTIONS",
                                                                    JAVA_OPTIONS))
            .config("spark.sql.shuffle.partitions", os.environ.get("LAKE_SPARK_PARTITIONS", "8"))
            .config("spark.sql.adaptive.enabled", "true")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC"))
    for setting in filter(None, os.environ.get("LAKE_SPARK_CONF", "").split(",")):
        key, _, value = setting.partition("=")
        builder = builder.config(key.strip(), value.strip())
    return builder.getOrCreate()


def tune(spark: SparkSession) -> None:
    """Settings the job needs wherever it runs (they are runtime SQL settings, so Glue's own
    session takes them too)."""
    # The checks make one large boolean per row; constraint propagation over it exhausts the
    # optimizer's memory (OOM before any data is read) and buys nothing here.
    spark.conf.set("spark.sql.constraintPropagation.enabled", "false")
    # Simplifying that boolean takes seconds per query and finds nothing to simplify.
    spark.conf.set("spark.sql.optimizer.excludedRules",
                   "org.apache.spark.sql.catalyst.optimizer.BooleanSimplification")
    spark.conf.set("spark.sql.parquet.compression.codec", "zstd")
    # zstd level 9: 4% smaller than the default 3 on ENEM and no slower (bench/README.md). Parquet
    # reads the level when it first builds its codec, so this must precede the first write.
    spark.sparkContext._jsc.hadoopConfiguration().set(
        "parquet.compression.codec.zstd.level", str(ZSTD_LEVEL))
    # The raw columns are named `_<NAME>`, so Spark's header check warns on every file.
    try:
        jvm = spark.sparkContext._jvm
        jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
            "org.apache.spark.sql.catalyst.csv.CSVHeaderChecker",
            jvm.org.apache.logging.log4j.Level.ERROR)
    except Exception:  # noqa: BLE001 - only a log level; other logging back-ends are fine
        log.debug("could not quiet the CSV header checker")


def parse_arguments(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", required=True, help="raw zone URI (s3://… or a folder)")
    parser.add_argument("--processed", required=True, help="processed zone URI")
    parser.add_argument("--rejected", required=True, help="rejected zone URI")
    parser.add_argument("--max-rejected-share", type=float, default=DEFAULT_MAX_REJECTED_SHARE,
                        help="fail the run if a table rejects more than this share of its rows")
    args, _unknown = parser.parse_known_args(argv)  # Glue adds its own (--JOB_NAME, …)
    if not 0 <= args.max_rejected_share <= 1:
        parser.error("--max-rejected-share must be between 0 and 1")
    return Options(raw=args.raw, processed=args.processed, rejected=args.rejected,
                   max_rejected_share=args.max_rejected_share)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    argv = sys.argv[1:] if argv is None else argv
    options = parse_arguments(argv)
    try:  # on Glue: the job's own context, arguments resolved the Glue way
        from awsglue.context import GlueContext
        from awsglue.job import Job
        from awsglue.utils import getResolvedOptions
        from pyspark.context import SparkContext
    except ImportError:
        glue_job = None
        spark = local_session()
    else:
        resolved = getResolvedOptions(sys.argv, ["JOB_NAME", "raw", "processed", "rejected"])
        options.raw, options.processed = resolved["raw"], resolved["processed"]
        options.rejected = resolved["rejected"]
        glue_context = GlueContext(SparkContext.getOrCreate())
        spark = glue_context.spark_session
        glue_job = Job(glue_context)
        glue_job.init(resolved["JOB_NAME"], resolved)
    tune(spark)
    try:
        summary = run(spark, options)
    except ProcessingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if glue_job is not None:
        glue_job.commit()
    print(json.dumps({"run_id": summary.run_id, "status": summary.status,
                      "tables": {n: r.rows_written for n, r in summary.tables.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
