"""The catalog table a gold run publishes: Glue's TableInput for `gold_<name>`, made from the
temporary table Athena's CTAS registered (its columns, its new location, Parquet's serde)."""

from __future__ import annotations

from typing import Any

from jobs.contract import QUERY_SUFFIX
from jobs.gold.names import GoldError, gold_table_name

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


def gold_table_input(temporary: dict[str, Any], name: str, run: str, location: str,
                     description: str = "", query_id: str = "") -> dict[str, Any]:
    """Glue's TableInput for `gold_<name>`: the temporary table's columns and storage (its new
    location, Parquet serde), an external table, its provenance in Parameters.

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
    table: dict[str, Any] = {
        "Name": gold_table_name(name),
        "Description": (description or name)[:MAX_DESCRIPTION],
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": storage,
        "PartitionKeys": list(temporary.get("PartitionKeys") or []),
        "Parameters": parameters,
    }
    return table
