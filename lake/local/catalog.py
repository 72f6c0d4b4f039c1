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


def view_sql(table: CatalogTable, glob: str = "**/*.parquet", schema: str = "main") -> str:
    source = literal(str(Path(table.location) / glob))
    hive = "true" if table.partitions else "false"
    return (f"CREATE OR REPLACE VIEW {quote(schema)}.{quote(table.name)} AS SELECT * FROM "
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


def crawl(folder: Path, catalog: Path, schema: str = "main") -> list[CatalogTable]:
    """Register every table of a zone's `folder` as a view in `schema`; drop the views of that
    schema whose tables are gone (gold tables are the gold step's)."""
    tables = discover(folder)
    with connect(catalog) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
        known = {t.name for t in tables}
        for (name,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal "
                                   "AND schema_name = ?", [schema]).fetchall():
            if name not in known and not name.startswith(GOLD_PREFIX):
                con.execute(f"DROP VIEW {quote(schema)}.{quote(name)}")
        for table in tables:
            con.execute(view_sql(table, schema=schema))
    return tables


def crawl_zones(base: Path, stack: str) -> list[CatalogTable]:
    """What the two crawlers do in AWS, into each audience's catalog: the processed zone's
    tables for analysts and researchers, the restricted zone's for researchers only, in the
    schema named as their Glue database. Returns the processed zone's tables."""
    from lake.local.access import catalog_file, restricted_schema

    public = []
    for role in ("analyst", "researcher"):
        public = crawl(base / "processed", catalog_file(base, role))
    crawl(base / "restricted", catalog_file(base, "researcher"), restricted_schema(stack))
    return public


def table_names(con) -> list[str]:
    """The catalog's tables, as a query names them: `name`, or `schema.name` outside `main`."""
    rows = con.execute(
        "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal "
        "AND database_name = current_database() UNION "
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = current_database()").fetchall()
    return sorted(name if schema == "main" else f"{schema}.{name}" for schema, name in rows)


def qualified(name: str) -> str:
    """`schema.name` or `name`, quoted."""
    return ".".join(quote(part) for part in name.split(".", 1))


def describe(base: Path, role: str = "analyst") -> list[tuple[str, int, int]]:
    """(name, rows, columns) of every table `role` may read, from its own connection."""
    from lake.local.access import open_as

    with open_as(role, base) as con:
        return [(name, con.execute(f"SELECT count(*) FROM {qualified(name)}").fetchone()[0],
                 len(con.execute(f"DESCRIBE {qualified(name)}").fetchall()))
                for name in table_names(con)]


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple]


def run_query(base: Path, athena_sql: str, role: str = "analyst") -> Result:
    """Run one Athena SQL statement as `role` on the stack in `base` (read-only). A statement
    that reaches beyond what the role reads is refused in one line that says what it reads."""
    import duckdb

    from lake.local.access import open_as, refused

    duck = to_duckdb(athena_sql)
    with open_as(role, base) as con:
        try:
            cursor = con.execute(duck)
            return Result([d[0] for d in cursor.description], cursor.fetchall())
        except duckdb.PermissionException as error:
            path = re.search(r'file "([^"]+)"', str(error))
            raise refused(role, path.group(1) if path else "that file") from None
        except duckdb.CatalogException as error:
            missing = re.search(r"with name (\S+) does not exist", str(error))
            if missing:
                raise _unknown_table(con, base, role, missing.group(1).strip('"')) from None
            raise QueryError(_first_line(error)) from None
        except duckdb.BinderException as error:
            column = re.search(r'column "?([A-Za-z0-9_]+)"? not found', str(error))
            if column and column.group(1).upper() in restricted_names():
                raise refused(role, f"column {column.group(1)}: it is restricted") from None
            raise QueryError(_first_line(error)) from None
        except duckdb.Error as error:
            raise QueryError(_first_line(error)) from None


def restricted_names() -> set[str]:
    from jobs.enem.schema import RESTRICTED_MICRODATA_COLUMNS

    return set(RESTRICTED_MICRODATA_COLUMNS)


def _unknown_table(con, base: Path, role: str, name: str) -> QueryError:
    """A table the role's catalog lacks: one another audience reads, or none at all."""
    from lake.local.access import catalog_file

    wider = [other for other in ("analyst", "researcher")
             if other != role and catalog_file(base, other).exists()
             and _has_table(catalog_file(base, other), name)]
    if wider:
        from lake.local.access import refused

        return refused(role, f"table {name}")
    tables = ", ".join(table_names(con)) or "none (run `lake crawl`)"
    return QueryError(f"unknown table {name}; role {role} reads: {tables}")


def _has_table(catalog: Path, name: str) -> bool:
    with connect(catalog, read_only=True) as con:
        return name.lower() in {t.lower() for t in table_names(con)}


def _first_line(error: Exception) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
