"""The local catalog: a DuckDB database (`<root>/<stack>/catalog.duckdb`) standing in for the
Glue Data Catalog + Athena.

`crawl` does what the Glue crawler does: one table per folder of the processed zone (data and
label tables), partitions discovered from `key=value` folders; `_runs/`, `_staging/` and hidden
files are skipped. Each table is a view over its Parquet files, so the database is small and a
user can open it directly (`duckdb .lake/dev/catalog.duckdb`). Gold tables (`gold_<query>`) are
registered by the gold step, as the gold job does in AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from jobs.contract import GOLD_PREFIX
from lake.local.sql import QueryError, to_duckdb

_PARTITION = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=")


@dataclass
class CatalogTable:
    name: str
    location: str
    partitions: list[str] = field(default_factory=list)
    files: int = 0


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def parquet_files(folder: Path) -> list[Path]:
    """The data files of a table folder (Spark's `.crc` and `_SUCCESS` files left out)."""
    return sorted(p for p in folder.rglob("*.parquet")
                  if not any(part.startswith((".", "_")) for part in
                             p.relative_to(folder).parts))


def discover(processed: Path) -> list[CatalogTable]:
    """The tables of the processed zone, as the Glue crawler would see them."""
    tables = []
    if not processed.is_dir():
        return tables
    for folder in sorted(processed.iterdir()):
        if not folder.is_dir() or folder.name.startswith(("_", ".")):
            continue
        files = parquet_files(folder)
        if not files:
            continue
        partitions = [m.group(1) for part in files[0].relative_to(folder).parts[:-1]
                      if (m := _PARTITION.match(part))]
        tables.append(CatalogTable(folder.name, str(folder.resolve()), partitions, len(files)))
    return tables


def view_sql(table: CatalogTable, glob: str = "**/*.parquet") -> str:
    source = literal(str(Path(table.location) / glob))
    hive = "true" if table.partitions else "false"
    return (f"CREATE OR REPLACE VIEW {quote(table.name)} AS SELECT * FROM "
            f"read_parquet({source}, hive_partitioning = {hive})")


def connect(catalog: Path, read_only: bool = False):
    import duckdb

    if read_only and not catalog.exists():
        raise QueryError(f"no catalog at {catalog}; run `lake crawl` (or `lake run`) first")
    catalog.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(catalog), read_only=read_only)
    except duckdb.IOException as error:
        raise QueryError(f"cannot open {catalog}: {str(error).splitlines()[0]}") from None


def crawl(processed: Path, catalog: Path) -> list[CatalogTable]:
    """Register every processed table as a view; drop the views of tables that are gone."""
    tables = discover(processed)
    with connect(catalog) as con:
        known = {t.name for t in tables}
        for (name,) in con.execute("SELECT view_name FROM duckdb_views() "
                                   "WHERE NOT internal").fetchall():
            if name not in known and not name.startswith(GOLD_PREFIX):
                con.execute(f"DROP VIEW {quote(name)}")
        for table in tables:
            con.execute(view_sql(table))
    return tables


def table_names(con) -> list[str]:
    return [name for (name,) in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal UNION "
        "SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]


def describe(catalog: Path) -> list[tuple[str, int, int]]:
    """(name, rows, columns) of every table of the catalog."""
    with connect(catalog, read_only=True) as con:
        return [(name, con.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0],
                 len(con.execute(f"DESCRIBE {quote(name)}").fetchall()))
                for name in table_names(con)]


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple]


def run_query(catalog: Path, athena_sql: str) -> Result:
    """Run one Athena SQL statement against the local catalog (read-only)."""
    import duckdb

    duck = to_duckdb(athena_sql)
    with connect(catalog, read_only=True) as con:
        try:
            cursor = con.execute(duck)
            return Result([d[0] for d in cursor.description], cursor.fetchall())
        except duckdb.CatalogException as error:
            missing = re.search(r"with name (\S+) does not exist", str(error))
            if missing:
                tables = ", ".join(table_names(con)) or "none (run `lake crawl`)"
                raise QueryError(f"unknown table {missing.group(1)}; the catalog has: "
                                 f"{tables}") from None
            raise QueryError(_first_line(error)) from None
        except duckdb.Error as error:
            raise QueryError(_first_line(error)) from None


def _first_line(error: Exception) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
