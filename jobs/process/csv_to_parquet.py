"""The processing job: the newest complete ingestion of each dataset → typed, partitioned Parquet.

    python -m jobs.process.csv_to_parquet --raw URI --processed URI --rejected URI \\
        --restricted URI [--max-rejected-share 0.01]

The same file is the Glue job's script (Glue 5.0 runs it with `awsglue` importable and the
arguments from the job definition) and the local step (a local SparkSession). What it does, per
dataset under `raw/`:

1. take the newest `ingest=<stamp>/` that has `_manifest.json` (others are incomplete);
   skip it if a published run already processed it;
2. per CSV: detect the layout from the header, read once with the layout's exact columns, check
   every value, write valid rows to `processed/_staging/<run>/<table>/` and invalid ones to
   `rejected/<table>/run=<run>/`. A file with restricted columns (the original release: the 61
   columns INEP withdrew in 2022) is staged whole in `restricted/_staging/<run>/<table>/`
   instead, and its public table (the re-release's 76 columns, the age band derived) is written
   from it to the processed zone; a file of unknown layout stays in the restricted zone only;
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
import tempfile

from pyspark.sql import SparkSession

from jobs.process.pipeline import run
from jobs.process.runs import DEFAULT_MAX_REJECTED_SHARE, Options, ProcessingError

log = logging.getLogger("lake.process")

ZSTD_LEVEL = 9
# The throughput collector: ~10% faster than G1 on this batch job (bench/README.md).
JAVA_OPTIONS = "-XX:+UseParallelGC"
# The share of the heap Spark's sorts and caches may take (Spark's default: 0.6). On the full file
# the write's sort spills at either share, so with 0.4 it is no slower and ~0.3 GB of the 4 GB heap
# is never touched: peak 4.14-4.28 -> 3.55-3.86 GB. A 1M-row file, whose sort then spills too, is
# 0-12% slower (bench/README.md).
MEMORY_FRACTION = "0.4"


# Spark's own log lines and progress bars, none when the job runs quietly on one machine (its
# failures still reach Python as exceptions, which say what went wrong). PySpark's gateway gets a
# level of its own too: else Spark announces that it sets the default log level.
QUIET_LOG4J2 = """rootLogger.level = off
rootLogger.appenderRef.console.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark: %p %c{1}: %m%n
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = off
"""


class NotFromPy4J(logging.Filter):
    """Py4J logs some failures through the root logger (an interrupted call, a closed gateway),
    with tracebacks that say nothing a user can act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "py4j" not in record.pathname.replace("\\", "/").split("/")


def local_session(app_name: str = "lake-process", quiet: bool = False) -> SparkSession:
    """A local SparkSession sized for a small machine (2 cores, a few GB for Spark). `quiet`:
    none of Spark's warnings, notes, errors and progress bars (`lake … --verbose`
    shows them all)."""
    memory = os.environ.get("LAKE_SPARK_MEMORY", "4g")
    java_options = os.environ.get("LAKE_SPARK_JAVA_OPTIONS", JAVA_OPTIONS)
    if quiet:
        config = os.path.join(tempfile.gettempdir(), "lake-spark-quiet-log4j2.properties")
        with open(config, "w", encoding="utf-8") as out:
            out.write(QUIET_LOG4J2)
        java_options += f" -Dlog4j2.configurationFile=file:{config}"
        logging.getLogger("py4j").setLevel(logging.CRITICAL)
        if not any(isinstance(f, NotFromPy4J) for f in logging.getLogger().filters):
            logging.getLogger().addFilter(NotFromPy4J())
    builder = (SparkSession.builder.master(os.environ.get("LAKE_SPARK_MASTER", "local[*]"))
            .appName(app_name)
            .config("spark.driver.memory", memory)
            .config("spark.memory.fraction", MEMORY_FRACTION)
            .config("spark.ui.showConsoleProgress", "false" if quiet else "true")
            .config("spark.driver.extraJavaOptions", java_options)
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
    parser.add_argument("--restricted", default="",
                        help="restricted zone URI: where the columns INEP withdrew in 2022 go "
                             "(required for a file of the original release)")
    parser.add_argument("--max-rejected-share", type=float, default=DEFAULT_MAX_REJECTED_SHARE,
                        help="fail the run if a table rejects more than this share of its rows")
    args, _unknown = parser.parse_known_args(argv)  # Glue adds its own (--JOB_NAME, …)
    if not 0 <= args.max_rejected_share <= 1:
        parser.error("--max-rejected-share must be between 0 and 1")
    return Options(raw=args.raw, processed=args.processed, rejected=args.rejected,
                   restricted=args.restricted, max_rejected_share=args.max_rejected_share)


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
        resolved = getResolvedOptions(sys.argv, ["JOB_NAME", "raw", "processed", "rejected",
                                                 "restricted"])
        options.raw, options.processed = resolved["raw"], resolved["processed"]
        options.rejected, options.restricted = resolved["rejected"], resolved["restricted"]
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
