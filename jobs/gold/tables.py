"""The catalog table a gold run publishes: Glue's TableInput for `gold_<name>`, made from the
temporary table Athena's CTAS registered (its columns, its new location, Parquet's serde)."""

from __future__ import annotations

from typing import Any

from jobs.contract import QUERY_SUFFIX
from jobs.gold.names import GoldError, gold_table_name
from jobs.gold.privacy import Withholding

# What Athena's CTAS registers for `format = 'PARQUET'` (kept if the temporary table lacks it).
PARQUET_FORMATS = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {"SerializationLibrary":
                  "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                  "Parameters": {"serialization.format": "1"}},
}
# The StorageDescriptor fields that Glue's TableInput accepts (GetTable returns the same ones).
STORAGE_DESCRIPTOR_KEYS = (
    "Columns", "Location", "AdditionalLocations", "InputFormat", "OutputFormat", "Compressed",
    "NumberOfBuckets", "SerdeInfo", "BucketColumns", "SortColumns", "Parameters", "SkewedInfo",
    "StoredAsSubDirectories", "SchemaReference",
)
MAX_DESCRIPTION = 2048
ROWS_PARAMETER = "gold.rows"  # how many rows the published run holds
HAS_ROWS = -1  # a published table whose count is not recorded (published before gold.rows)


def published_rows(table: dict[str, Any] | None) -> int | None:
    """Rows of the published `gold_<name>`: None if there is none, HAS_ROWS if not recorded."""
    if table is None:
        return None
    recorded = (table.get("Parameters") or {}).get(ROWS_PARAMETER, "")
    return int(recorded) if recorded.isdigit() else HAS_ROWS


def empty_result_problem(table: str, rows: int, published: int | None,
                         withheld: int = 0) -> str | None:
    """Why a result may not replace the published one, or None. An empty result never replaces
    answers: its inputs are gone or empty (an expired zone, a processing run that wrote
    nothing), and publishing it would wipe the answers with no one noticing. An empty result
    whose groups were all withheld as too small does replace them: the query had answers, and
    the small-group rule (a higher threshold, say) must take effect."""
    if rows > 0 or withheld > 0 or published is None or published == 0:
        return None
    had = "rows" if published == HAS_ROWS else f"{published:,} rows"
    return (f"returned no rows, where {table} has {had}: its input tables are empty or gone "
            f"(process the data again); {table} keeps its answers")


def gold_table_input(temporary: dict[str, Any], name: str, run: str, location: str,
                     description: str = "", query_id: str = "",
                     rows: int | None = None,
                     withholding: Withholding | None = None) -> dict[str, Any]:
    """Glue's TableInput for `gold_<name>`: the temporary table's columns and storage (its new
    location, Parquet serde), an external table, its provenance in Parameters (the run, its
    rows, and what the small-group rule withheld).

    Raises GoldError if the temporary table has no columns or lies elsewhere than `location`."""
    source = temporary.get("StorageDescriptor") or {}
    storage = {key: source[key] for key in STORAGE_DESCRIPTOR_KEYS if key in source}
    where = f"Athena's table {temporary.get('Name', '?')} for query {name}"
    if not storage.get("Columns"):
        raise GoldError(f"{where} has no columns; the query must select at least one.")
    if storage.get("Location", "").rstrip("/") != location.rstrip("/"):
        raise GoldError(f"{where} lies at {storage.get('Location')!r}, not at {location}.")
    for key, value in PARQUET_FORMATS.items():
        storage.setdefault(key, value)
    parameters = dict(temporary.get("Parameters") or {})
    parameters.update({"classification": "parquet", "EXTERNAL": "TRUE", "gold.run": run,
                       "gold.query": name + QUERY_SUFFIX})
    if query_id:
        parameters["gold.query_execution_id"] = query_id
    if rows is not None:
        parameters[ROWS_PARAMETER] = str(rows)
    if withholding is not None:
        parameters.update(withholding.parameters())
    table: dict[str, Any] = {
        "Name": gold_table_name(name),
        "Description": (description or name)[:MAX_DESCRIPTION],
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": storage,
        "PartitionKeys": list(temporary.get("PartitionKeys") or []),
        "Parameters": parameters,
    }
    return table
