"""One table of a processing run: read a CSV, check every value, stage the valid rows as
Parquet and write the invalid ones with their reasons; and the label tables beside the data."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from jobs.contract import join, label_file, rejected_rows, staging_folder
from jobs.enem.labels import label_parquet, label_tables
from jobs.enem.schema import public_layout, restricted_columns, staged_select
from jobs.process.runs import Options, ProcessingError, TableReport
from jobs.process.transforms import (
    Table,
    explained,
    invalid_lines,
    read_typed,
    refused_bucket,
    rejections,
    valid_rows,
    with_fast_checks,
)
from jobs.storage import Storage

log = logging.getLogger("lake.process")

# A partition's file never exceeds ~1 GB: ENEM Parquet rows take ~100 bytes (measured in bench/).
MAX_RECORDS_PER_FILE = 2_000_000
MAX_WRITERS = 4  # files per partition per run, at most
SPLIT_BYTES = 128 << 20  # Spark's default split size
SMALL_FILE_BYTES = 256 << 20  # below this, an unpartitioned table is written as one file
# Beyond this many refused lines' buckets, the second pass reads every line (a filter that long
# would cost more than it saves; bench/README.md).
MAX_FILTER_BUCKETS = 100_000


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
    # Per-column settings are `<key>#<column path>` (parquet-java's parquet-hadoop/README.md).
    for column in table.plain:
        writer = writer.option(f"parquet.enable.dictionary#{column}", "false")
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


@dataclass(frozen=True)
class Staged:
    """What the first pass counted: rows read, written, rejected, and the refused lines' first
    field buckets (`refused_bucket`), or None when there are too many to filter by."""

    read: int
    written: int
    rejected: int
    buckets: list[int] | None


def stage(checked: DataFrame, table: Table, staging: str, small: bool) -> Staged:
    """Write the valid rows of `checked` to `staging`, counting while writing (Spark
    observations: no extra pass)."""
    read, written = Observation(), Observation()
    observed = checked.observe(
        read, F.count(F.lit(1)).alias("rows"),
        F.sum(F.when(F.col("_ok"), 0).otherwise(1)).alias("rejected"),
        # as text: PySpark hands an observed array back as an opaque Java object
        F.concat_ws(",", F.collect_set(refused_bucket(table)).cast("array<string>"))
        .alias("buckets"))
    valid = valid_rows(observed, table)
    if table.layout is not None and table.layout.public_layout:
        valid = valid.selectExpr(*staged_select(table.layout))  # + the public columns derived
    write_valid(valid.observe(written, F.count(F.lit(1)).alias("rows")), table, staging, small)
    buckets = [int(b) for b in read.get["buckets"].split(",") if b]
    return Staged(int(read.get["rows"]), int(written.get["rows"]),
                  int(read.get["rejected"] or 0),
                  sorted(buckets) if len(buckets) <= MAX_FILTER_BUCKETS else None)


def found_again(spark: SparkSession, csv_uri: str, table: Table, staged: Staged) -> DataFrame:
    """The refused lines with their reasons, cached: exactly `staged.rejected` of them, found
    among the lines in their buckets or, failing that, among all the file's lines."""
    for buckets in ([staged.buckets] if staged.buckets is not None else []) + [None]:
        bad = rejections(explained(invalid_lines(spark, csv_uri, table, buckets), table), table,
                         csv_uri).cache()
        found = bad.count()
        if found == staged.rejected:
            return bad
        bad.unpersist()
        log.warning("%s: %d lines found again in %s, %d were refused", table.name, found,
                    "their buckets" if buckets is not None else "the file", staged.rejected)
    raise ProcessingError(f"{table.name}: {staged.rejected} rows were refused but {found} "
                          "lines found again; is the file changing while it is read?")


def public_table(table: Table) -> Table | None:
    """What analysts get from `table`: the public layout's columns (the 2022 re-release), or
    None for a file of unknown layout, whose columns nobody has classified."""
    if table.layout is None:
        return None
    layout = public_layout(table.layout)
    return Table(name=table.name, columns=layout.columns, layout=layout)


SPARK_SCHEMA_KEY = "org.apache.spark.sql.parquet.row.metadata"  # Spark's own copy of the schema


def copy_without(spark: SparkSession, source: str, target: str, drop: set[str]) -> int:
    """Copy the Parquet files under `source` to the same places under `target` without the
    columns in `drop`: each remaining column chunk byte for byte (parquet-java's
    ParquetFileWriter.appendRowGroup, which drops the columns its schema lacks), the footer's
    schema and Spark's copy of it rewritten, so that no reader sees a dropped column, not even
    its name. Nothing is decoded, sorted or compressed again. Returns the files copied."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    parquet = jvm.org.apache.parquet
    hadoop_path = jvm.org.apache.hadoop.fs.Path
    filesystem = hadoop_path(source).getFileSystem(conf)
    root = filesystem.makeQualified(hadoop_path(source))  # a relative folder, made absolute
    listing = filesystem.listFiles(root, True)
    output_fs = hadoop_path(target).getFileSystem(conf)  # another bucket, in AWS
    prefix = len(str(root.toUri().getPath()).rstrip("/")) + 1
    copied = 0
    while listing.hasNext():
        path = listing.next().getPath()
        relative = str(path.toUri().getPath())[prefix:]
        if not relative.endswith(".parquet") or any(
                part.startswith(("_", ".")) for part in relative.split("/")):
            continue
        source_file = parquet.hadoop.util.HadoopInputFile.fromPath(path, conf)
        reader = parquet.hadoop.ParquetFileReader.open(source_file)
        try:
            footer = reader.getFooter()
            schema = footer.getFileMetaData().getSchema()
            kept = jvm.java.util.ArrayList()
            for index in range(schema.getFieldCount()):
                if schema.getFieldName(index) not in drop:
                    kept.add(schema.getType(index))
            metadata = jvm.java.util.HashMap()
            for key, value in dict(footer.getFileMetaData().getKeyValueMetaData()).items():
                if key == SPARK_SCHEMA_KEY:
                    spark_schema = json.loads(value)
                    spark_schema["fields"] = [field for field in spark_schema["fields"]
                                              if field["name"] not in drop]
                    value = json.dumps(spark_schema, separators=(",", ":"))
                metadata.put(key, value)
            writer = parquet.hadoop.ParquetFileWriter(
                parquet.hadoop.util.HadoopOutputFile.fromPath(
                    output_fs.makeQualified(hadoop_path(target.rstrip("/") + "/" + relative)),
                    conf),
                parquet.schema.MessageType(schema.getName(), kept),
                parquet.hadoop.ParquetFileWriter.Mode.CREATE, MAX_RECORDS_PER_FILE, 0)
            writer.start()
            stream = source_file.newStream()
            try:
                for block in footer.getBlocks():
                    writer.appendRowGroup(stream, block, True)
            finally:
                stream.close()
            writer.end(metadata)
        finally:
            reader.close()
        copied += 1
    return copied


def process_table(spark: SparkSession, csv_uri: str, table: Table, options: Options,
                  store: Storage) -> TableReport:
    """Read, check and stage one CSV in one pass; write its rejected rows.

    A file with invalid rows is read once more, as lines, for exactly the refused ones (their
    text and reasons); its valid rows are written once, in the first pass: into the processed
    zone when every column is public, else, every column, into the restricted zone, from which
    the public table is then written (Who sees what, in the README)."""
    started = time.monotonic()
    report = TableReport(file=csv_uri, layout=table.layout.name if table.layout else "unknown")
    public = public_table(table)
    restricted = public is None or bool(restricted_columns(table.layout))
    if restricted and not options.restricted:
        raise ProcessingError(f"{csv_uri} holds restricted columns, and the run has no "
                              "restricted zone to keep them in (--restricted).")
    processed_staging = join(staging_folder(options.processed, options.run_id), table.name)
    staging = (join(staging_folder(options.restricted, options.run_id), table.name)
               if restricted else processed_staging)
    size = store.size(csv_uri)
    small = size < SMALL_FILE_BYTES
    plan_splits(spark, size)
    staged = stage(with_fast_checks(read_typed(spark, csv_uri, table), table), table, staging,
                   small)
    if public is None:
        report.restricted_columns = len(table.columns)
        report.restricted = ("unknown layout: every column is kept in the restricted zone, "
                             f"{join(options.restricted, table.name)}")
    elif restricted:
        copy_without(spark, staging, processed_staging,
                     {column.output for column in restricted_columns(table.layout)})
        report.public_columns = len(public.columns)
        report.restricted_columns = len(staged_select(table.layout))
        where = join(options.restricted, table.name)
        report.restricted = (f"{len(restricted_columns(table.layout))} restricted columns: "
                             f"every column of the release, and the public ones it lacks "
                             f"derived, in {where}")
    else:
        report.public_columns = len(table.columns)
        report.restricted = f"none: every column of {table.layout.name} is public"
    if staged.rejected:
        log.info("%s: %d invalid rows; reading its lines again to report them exactly",
                 table.name, staged.rejected)
        bad = found_again(spark, csv_uri, table, staged)
        bad.write.mode("overwrite").json(
            rejected_rows(options.rejected, table.name, options.run_id))
        report.rejected_by_reason = dict(sorted(
            (row["reason"], row["count"]) for row in
            bad.select(F.explode("reasons").alias("reason")).groupBy("reason").count().collect()))
        bad.unpersist()
    report.rows_read, report.rows_written, report.rows_rejected = (
        staged.read, staged.written, staged.rejected)
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
        uri = label_file(processed, label.name)
        data = label_parquet(label)
        if not store.exists(uri) or store.read_bytes(uri) != data:
            store.write_bytes(uri, data)
            written.append(label.name)
    if written:
        log.info("label tables written: %s", ", ".join(written))
    return written
