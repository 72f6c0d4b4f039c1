"""What a report is built from: each saved query's current gold result, the label tables and
the latest published processing run, read from this machine's lake or from a stack in AWS.

On this machine `gold_<name>` is a view of the local catalog; in AWS it is a Glue table, and the
report reads exactly the folder its location names (never a newer one a killed run left), with
the `_gold.json` the gold step left in it: how many small groups that run withheld, and why.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobs.contract import gold_table, label_file, label_table
from jobs.errors import UserError
from jobs.gold.names import GoldError
from jobs.gold.privacy import SIDECAR, Withholding, read_sidecar
from jobs.process.runs import RunSummary, run_summaries
from jobs.storage import LocalStorage, S3Storage, Storage

LABELLED = ("Q006", "TP_ESCOLA", "TP_SEXO", "TP_COR_RACA", "TP_STATUS_REDACAO")
"""The columns whose label tables order (and word) the report's categories."""


class ReportError(UserError):
    """What the report cannot be built from, and the command that builds it."""


@dataclass
class GoldTable:
    name: str
    """The saved query's name (`queries/<name>.sql`)."""
    columns: list[str]
    rows: list[dict[str, Any]]
    location: str
    withholding: Withholding | None = None
    """What the small-group rule withheld from this result (None: the run left no record)."""


@dataclass
class ReportInputs:
    tables: dict[str, GoldTable]
    labels: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """`label_<column>` -> its rows (code, label, ordinal), in INEP's order."""
    summary: RunSummary | None = None
    origin: str = ""
    """Where it was read, for the page's header: the lake's folder, or the gold bucket."""
    database: str = ""
    """In AWS: the Glue database whose tables name the gold results."""


def _latest_published(processed: str, store: Storage) -> RunSummary | None:
    published = [s for s in run_summaries(processed, store) if s.status == "published"]
    return published[-1] if published else None


def _arrow_rows(table: Any) -> tuple[list[str], list[dict[str, Any]]]:
    return list(table.column_names), table.to_pylist()


def _labels(processed: str, store: Storage) -> dict[str, list[dict[str, Any]]]:
    import pyarrow.parquet as pq

    labels = {}
    for column in LABELLED:
        name = label_table(column)
        uri = label_file(processed, name)
        if store.exists(uri):
            rows = pq.read_table(io.BytesIO(store.read_bytes(uri))).to_pylist()
            labels[name] = sorted(rows, key=lambda row: row["ordinal"])
    return labels


def _withholding(text: str | None, where: str) -> Withholding | None:
    """The Withholding a `_gold.json` records (None without one); ReportError if it is not
    one."""
    if text is None:
        return None
    try:
        return read_sidecar(text, where)[1]
    except GoldError as error:
        raise ReportError(str(error)) from None


_VIEW_SOURCE = re.compile(r"read_parquet\('((?:[^']|'')*)'")


def _local_folder(view_sql: str, base: Path) -> Path | None:
    """The folder a local gold view reads (its `read_parquet('<folder>/*.parquet')`): relative
    to the catalog's folder `base` (the stack's), or absolute in a catalog written before."""
    match = _VIEW_SOURCE.search(view_sql)
    if match is None:
        return None
    folder = Path(match.group(1).replace("''", "'")).parent
    return folder if folder.is_absolute() else base / folder


def from_local(catalog: Path, processed: str | None, queries: list[str]) -> ReportInputs:
    """The local lake: each `gold_<name>` view of an audience's DuckDB catalog; the label
    tables and the run summary from the processed zone, where the audience reads it."""
    from lake.local.catalog import connect

    if not catalog.is_file():
        raise ReportError(f"no catalog at {catalog}: run `lake run` (or `lake crawl` and "
                          "`lake gold`) first")
    with connect(catalog, read_only=True) as con:  # its views read relative to its folder
        present = {name for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}
        views = dict(con.execute("SELECT view_name, sql FROM duckdb_views()").fetchall())
        if not any(name.startswith("gold_") for name in present):
            raise ReportError(f"no gold tables in {catalog}: run `lake gold` (or `lake run`)")
        tables = {}
        for name in queries:
            table = gold_table(name)
            if table not in present:
                raise ReportError(f"{table} is missing from {catalog}: run `lake gold`")
            result = con.sql(f'SELECT * FROM "{table}"')
            columns = list(result.columns)
            rows = [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
            folder = _local_folder(views.get(table) or "", catalog.parent)
            sidecar = folder / SIDECAR if folder is not None else None
            text = sidecar.read_text(encoding="utf-8") if sidecar and sidecar.is_file() else None
            tables[name] = GoldTable(name, columns, rows, table,
                                     _withholding(text, str(sidecar)))
    store = LocalStorage()
    if processed is None:
        return ReportInputs(tables, {}, None, str(catalog.parent))
    return ReportInputs(tables, _labels(processed, store), _latest_published(processed, store),
                        str(catalog.parent))


def from_aws(gold: str, processed: str, database: str, queries: list[str],
             glue: Any = None, store: S3Storage | None = None) -> ReportInputs:
    """A stack in AWS: each Glue table `gold_<name>`'s location, read with pyarrow."""
    import boto3
    import pyarrow as pa
    import pyarrow.parquet as pq

    glue = glue or boto3.client("glue")
    store = store or S3Storage()
    tables = {}
    for name in queries:
        table = gold_table(name)
        try:
            location = glue.get_table(DatabaseName=database, Name=table)["Table"][
                "StorageDescriptor"]["Location"]
        except glue.exceptions.EntityNotFoundException:
            raise ReportError(f"{table} is not in the Glue database {database}: run the gold "
                              "job (the workflow's last step), or check --database") from None
        location = location if location.endswith("/") else location + "/"
        if not location.startswith(gold.rstrip("/") + "/"):
            raise ReportError(f"{table} points at {location}, outside --gold {gold}: give the "
                              "stack's gold bucket (pulumi stack output)")
        parts = [pq.read_table(io.BytesIO(store.read_bytes(uri)))
                 for uri in store.files(location)
                 if uri.endswith(".parquet") and not Path(uri).name.startswith(("_", "."))]
        if not parts:
            raise ReportError(f"{table} points at {location}, which holds no Parquet file: "
                              "run the gold job again")
        columns, rows = _arrow_rows(pa.concat_tables(parts))
        sidecar = location + SIDECAR
        text = store.read_bytes(sidecar).decode("utf-8") if store.exists(sidecar) else None
        tables[name] = GoldTable(name, columns, rows, location, _withholding(text, sidecar))
    return ReportInputs(tables, _labels(processed, store), _latest_published(processed, store),
                        gold, database)
