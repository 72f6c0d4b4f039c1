"""A processing run, start to end: recover a killed publish, find what is new, process each
table, hold the quality gate, publish, write the label tables (jobs/process/csv_to_parquet.py
runs it on Glue and on one machine)."""

from __future__ import annotations

import logging
import time

from pyspark.sql import SparkSession

from jobs.contract import rejected_rows
from jobs.process.inputs import csv_files, newest_complete_ingestions, table_for
from jobs.process.runs import (
    Options,
    ProcessingError,
    QualityGateError,
    RunSummary,
    discard_staging,
    now_iso,
    publish,
    recover,
    run_summaries,
    summary_uri,
)
from jobs.process.tables import process_table, write_labels
from jobs.process.transforms import Table
from jobs.storage import storage_for

log = logging.getLogger("lake.process")


def run(spark: SparkSession, options: Options) -> RunSummary:
    """Process what is new in the raw zone. Raises ProcessingError (with the summary written)
    when an input is unusable or the quality gate fails; nothing is published then."""
    started = time.monotonic()
    summary = RunSummary(run_id=options.run_id, status="noop", started_at=now_iso())
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
                f"{rejected_rows(options.rejected, name, options.run_id)}"
                for name, r in failing.items()) + "; nothing was published.")
        publish(summary, options, store)
        write_labels(options.processed, store)
    except BaseException as error:  # a failure, or an interruption (Ctrl-C)
        if summary.status != "publishing":  # once publishing, the next run rolls forward
            summary.status = "failed"
            summary.error = str(error) or type(error).__name__
            discard_staging(options, options.run_id, store)
        raise
    finally:
        summary.finished_at = now_iso()
        summary.seconds = round(time.monotonic() - started, 3)
        if summary.status != "noop":
            store.write_text(summary_uri(options, summary.run_id), summary.to_json())
    return summary
