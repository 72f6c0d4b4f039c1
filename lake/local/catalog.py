"""The local catalog: a DuckDB database (`<root>/<stack>/catalog.duckdb`) standing in for the
Glue Data Catalog + Athena.

`crawl` does what the Glue crawler does: one table per folder of the processed zone (data and
label tables), partitions discovered from `key=value` folders; `_runs/`, `_staging/` and hidden
files are skipped. Each table is a view over its Parquet files, so the database is small. Gold
tables (`gold_<query>`) are registered by the gold step, as the gold job does in AWS.

The views name their files relative to the stack's folder (`processed/<table>/**/*.parquet`),
and every connection the lake opens searches that folder (DuckDB's `file_search_path`, set by
`connect` and `lake.local.access.open_as`). So `<root>/<stack>/` can be moved or copied whole and
still works, and a copy reads its own files, never the original's. Opened by hand, the catalog
needs the same: `cd <root>/<stack> && duckdb catalog.duckdb`, or `SET file_search_path` to that
folder first. A catalog written before its views were relative, and since moved, is refused in
one line that says to crawl again (`check_location`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from jobs.contract import GOLD_PREFIX, LABEL_PREFIX
from lake.local.sql import (
    Context,
    Describe,
    Query,
    QueryError,
    ShowColumns,
    ShowDatabases,
    ShowTables,
    prepare,
    translate,
)

_PARTITION = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=")
_VIEW_SOURCE = re.compile(r"read_parquet\('((?:[^']|'')*)'")
BATCH_ROWS = 2048
"""Rows fetched at a time: what a streamed result holds in memory, besides DuckDB's own."""


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


def view_sql(table: CatalogTable, base: Path, glob: str = "**/*.parquet",
             schema: str = "main") -> str:
    """The view over `table`'s files, named relative to `base`, the folder of the catalog it
    is written into (the stack's). A table outside that folder (none of the lake's zones is)
    keeps its full path."""
    location = Path(table.location).resolve()
    here = base.resolve()
    where = location.relative_to(here).as_posix() if location.is_relative_to(here) else (
        location.as_posix())
    source = literal(f"{where}/{glob}")
    hive = "true" if table.partitions else "false"
    return (f"CREATE OR REPLACE VIEW {quote(schema)}.{quote(table.name)} AS SELECT * FROM "
            f"read_parquet({source}, hive_partitioning = {hive})")


def search_path(base: Path) -> str:
    """`SET file_search_path` to the stack's folder: where the views' relative paths start."""
    folder = str(base.resolve())
    if "," in folder:  # DuckDB reads the setting as a comma-separated list
        raise QueryError(f"the lake's folder {folder} has a comma in its path, which DuckDB "
                         "cannot search: move it to a folder without one")
    return f"SET file_search_path = {literal(folder)}"


def connect(catalog: Path, read_only: bool = False):
    """A connection to `catalog` that reads its views from the catalog's folder and answers
    translated Athena SQL as Athena would (`lake.local.sql.prepare`)."""
    import duckdb

    if read_only and not catalog.exists():
        raise QueryError(f"no catalog at {catalog}; run `lake crawl` (or `lake run`) first")
    catalog.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(catalog), read_only=read_only)
    except duckdb.IOException as error:
        raise QueryError(f"cannot open {catalog}: {str(error).splitlines()[0]}") from None
    try:
        con.execute(search_path(catalog.parent))
        prepare(con)
        if read_only:  # a reader: refuse a moved catalog whose views would read elsewhere
            check_location(con, catalog.parent, catalog)
    except (QueryError, duckdb.Error):
        con.close()
        raise
    return con


def check_location(con, base: Path, catalog: Path) -> None:
    """QueryError if a view of the attached catalog reads the zone of another stack folder of
    this name by its full path: a catalog written before views were relative, moved or copied
    since, whose views would read the old place's files."""
    for (sql,) in con.execute("SELECT sql FROM duckdb_views() WHERE NOT internal "
                              "AND database_name = current_database()").fetchall():
        for found in _VIEW_SOURCE.finditer(sql or ""):
            path = Path(found.group(1).replace("''", "'"))
            stack = _other_stack(path, base)
            if stack is not None:
                raise QueryError(
                    f"{catalog} reads the files of {stack}, not of {base}: the lake was moved or "
                    f"copied; run `lake crawl --root {base.parent} --stack {base.name}` and "
                    f"`lake gold` with the same --root and --stack to catalog it where it is")


def _other_stack(path: Path, base: Path) -> Path | None:
    """The folder of another stack named as `base` whose zone `path` names in full, if it does
    (a view written before views were relative, in a catalog moved or copied since)."""
    from jobs.contract import ZONES

    stack = next((p for p in path.parents if p.name == base.name), None)
    if not path.is_absolute() or stack is None or stack == base.resolve():
        return None
    return stack if path.relative_to(stack).parts[0] in ZONES else None


def _relocate_gold(con, base: Path, schema: str) -> None:
    """The gold views of a catalog written before views were relative, moved or copied since:
    pointed at the same result here, relative, or dropped where it is not here (the gold step
    writes it again)."""
    for name, sql in con.execute("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal "
                                 "AND schema_name = ?", [schema]).fetchall():
        found = _VIEW_SOURCE.search(sql or "")
        path = Path(found.group(1).replace("''", "'")) if found else None
        stack = _other_stack(path, base) if path is not None else None
        if not name.startswith(GOLD_PREFIX) or stack is None:
            continue
        relative = path.relative_to(stack)
        if (base / relative.parent).is_dir():
            con.execute(view_sql(CatalogTable(name, str(base / relative.parent)), base,
                                 relative.name, schema))
        else:
            con.execute(f"DROP VIEW {quote(schema)}.{quote(name)}")


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
            con.execute(view_sql(table, catalog.parent, schema=schema))
        _relocate_gold(con, catalog.parent, schema)
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
    import duckdb

    from lake.local.access import open_as

    with open_as(role, base) as con:
        try:
            return [(name, con.execute(f"SELECT count(*) FROM {qualified(name)}").fetchone()[0],
                     len(_columns(con, name)))
                    for name in table_names(con)]
        except duckdb.Error as error:
            raise _query_error(con, base, role, error) from None


# --- a table's columns: types, INEP's descriptions, who may read them -----------------------

@dataclass(frozen=True)
class Column:
    name: str
    type: str
    """Athena's name for it (`bigint`, `string`, …)."""
    access: str
    """`public` or `restricted` (jobs/enem/schema.py)."""
    description: str
    """INEP's, from its dictionary, where the column is INEP's."""


def athena_type(duckdb_type: str) -> str:
    """A DuckDB type as Athena (Hive's DDL) names it: BIGINT → bigint, VARCHAR → string."""
    text = duckdb_type.strip()
    if text.endswith("[]"):
        return f"array<{athena_type(text[:-2])}>"
    nested = re.fullmatch(r"(STRUCT|MAP)\((.*)\)", text)
    if nested:
        parts = _split_top(nested.group(2))
        if nested.group(1) == "MAP":
            return f"map<{','.join(athena_type(p) for p in parts)}>"
        fields = [p.strip().split(" ", 1) for p in parts]
        return "struct<" + ",".join(f"{n.strip(chr(34))}:{athena_type(t)}"
                                    for n, t in fields) + ">"
    names = {"VARCHAR": "string", "INTEGER": "int", "BLOB": "binary", "FLOAT": "float",
             "HUGEINT": "decimal(38,0)", "TIMESTAMP WITH TIME ZONE": "timestamp with time zone"}
    return names.get(text, text.lower().replace(" ", ""))


def _split_top(text: str) -> list[str]:
    """`a INT, b STRUCT(c INT, d INT)` at its top-level commas."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [p.strip() for p in [*parts, text[start:]]]


def _columns(con, name: str) -> list[tuple[str, str]]:
    """(column, DuckDB type) of a table the catalog has, in order."""
    schema, table = name.split(".", 1) if "." in name else ("main", name)
    return con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = "
        "current_database() AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, table]).fetchall()


def _inep(table: str) -> dict[str, str]:
    """INEP's description of each column of `table` (upper case), from every release's
    layout (jobs/enem/schema.py, which has it from the dictionary)."""
    from jobs.enem.schema import LAYOUTS

    return {column.name: column.description for layout in LAYOUTS if layout.table == table
            for column in layout.columns}


def columns(base: Path, table: str, role: str = "analyst") -> list[Column]:
    """The columns of `table` as `role` reads it: Athena's type, INEP's description and
    whether the column is public or restricted. QueryError for a table the role does not
    read."""
    from jobs.enem.schema import RESTRICTED_MICRODATA_COLUMNS
    from lake.local.access import open_as

    with open_as(role, base) as con:
        name = resolve_table(con, base, role, table)
        found = _columns(con, name)
    short = name.split(".")[-1]
    inep = _inep(short)
    restricted = set(RESTRICTED_MICRODATA_COLUMNS)
    in_restricted_zone = "." in name  # the restricted database: nobody classified the others
    described = _LABEL_COLUMNS if short.startswith(LABEL_PREFIX) else {}
    return [Column(column, athena_type(duckdb_type),
                   "restricted" if column.upper() in restricted or (
                       in_restricted_zone and column.upper() not in inep) else "public",
                   inep.get(column.upper()) or described.get(column, ""))
            for column, duckdb_type in found]


_LABEL_COLUMNS = {"code": "the code, as the labelled column holds it",
                  "label": "INEP's wording of the code (its dictionary)",
                  "ordinal": "the code's place in INEP's order"}


def resolve_table(con, base: Path, role: str, written: str) -> str:
    """A table as a statement names it (`t`, `database.t`, any case) as the catalog names it
    (`t`, or `schema.t` outside main); QueryError when the role does not read it."""
    from lake.local.access import database

    parts = [p.strip('"`').lower() for p in written.split(".")]
    if len(parts) == 2 and parts[0] == database(base.name):
        parts = parts[1:]
    wanted = ".".join(parts)
    for name in table_names(con):
        if name.lower() == wanted:
            return name
    raise _unknown_table(con, base, role, wanted)


# --- running a statement ------------------------------------------------------------------------

@dataclass
class Rows:
    """A statement's result as it streams: its columns and their DuckDB types, then its rows
    in batches of BATCH_ROWS; `total()` counts them all (for the rows a caller left out)."""

    columns: list[str]
    types: list[str]
    batches: Iterator[list[tuple]]
    total: Callable[[], int]


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple]


@contextmanager
def open_rows(base: Path, athena_sql: str, role: str = "analyst") -> Iterator[Rows]:
    """Run one Athena SQL statement as `role` on the stack in `base` (read-only) and stream its
    result. A statement that reaches beyond what the role reads is refused in one line that
    says what it reads; every other failure is one line too (QueryError), while it runs as
    well as before."""
    import duckdb

    from lake.local.access import database, open_as

    statement = translate(athena_sql, Context(database=database(base.name)))
    with open_as(role, base) as con:
        if not isinstance(statement, Query):
            names, rows = _metadata(con, base, role, statement)
            yield Rows(names, ["VARCHAR"] * len(names), iter([rows] if rows else []),
                       lambda: len(rows))
            return
        try:
            cursor = con.execute(statement.sql)
        except duckdb.Error as error:
            raise _query_error(con, base, role, error) from None
        names = [d[0] for d in cursor.description]
        types = [str(d[1]) for d in cursor.description]

        def batches() -> Iterator[list[tuple]]:
            while True:
                try:
                    batch = cursor.fetchmany(BATCH_ROWS)
                except duckdb.Error as error:
                    raise _query_error(con, base, role, error) from None
                if not batch:
                    return
                yield batch

        def total() -> int:
            try:
                return con.execute(f"SELECT count(*) FROM ({statement.sql})").fetchone()[0]
            except duckdb.Error as error:
                raise _query_error(con, base, role, error) from None

        yield Rows(names, types, batches(), total)


def run_query(base: Path, athena_sql: str, role: str = "analyst") -> Result:
    """Run one Athena SQL statement as `role` on the stack in `base` (read-only): its whole
    result (see `open_rows` to stream a large one)."""
    with open_rows(base, athena_sql, role) as rows:
        return Result(rows.columns, [row for batch in rows.batches for row in batch])


def _metadata(con, base: Path, role: str, statement) -> tuple[list[str], list[tuple]]:
    """SHOW TABLES / SHOW DATABASES / SHOW COLUMNS / DESCRIBE, answered from the catalog with
    Athena's columns."""
    from lake.local.access import database

    main = database(base.name)
    names = table_names(con)
    schemas = sorted({n.split(".")[0] for n in names if "." in n})
    if isinstance(statement, ShowDatabases):
        return ["database_name"], [(main,), *((s,) for s in schemas)]
    if isinstance(statement, ShowTables):
        schema = (statement.database or main).lower()
        if schema != main and schema not in schemas:
            raise QueryError(f"unknown database {schema}; role {role} reads: "
                             f"{', '.join([main, *schemas])}")
        tables = [n.split(".")[-1] for n in names
                  if (n.split(".")[0] if "." in n else main) == schema]
        if statement.pattern is not None:
            pattern = re.compile("|".join(
                ".*".join(re.escape(piece) for piece in choice.strip().split("*"))
                for choice in statement.pattern.split("|")), re.IGNORECASE)
            tables = [t for t in tables if pattern.fullmatch(t)]
        return ["tab_name"], [(t,) for t in tables]
    table = resolve_table(con, base, role, statement.table)
    found = _columns(con, table)
    if isinstance(statement, ShowColumns):
        return ["field"], [(c,) for c, _ in found]
    assert isinstance(statement, Describe)
    return ["col_name", "data_type", "comment"], [(c, athena_type(t), "") for c, t in found]


def _query_error(con, base: Path, role: str, error: Exception) -> QueryError:
    """A DuckDB error as the one line a user reads."""
    import duckdb

    from lake.local.access import refused

    if isinstance(error, duckdb.PermissionException):
        path = re.search(r'file "([^"]+)"', str(error))
        return refused(role, path.group(1) if path else "that file")
    if isinstance(error, duckdb.CatalogException):
        missing = re.search(r"with name (\S+) does not exist", str(error))
        function = re.search(r"Function with name (\S+) does not exist", str(error))
        if function:
            return QueryError(f"{function.group(1).strip(chr(34))}() is not a function this "
                              "machine has (DuckDB stands in for Athena here)")
        if missing:
            return _unknown_table(con, base, role, missing.group(1).strip('"'))
    if isinstance(error, duckdb.BinderException):
        column = re.search(r'column "?([A-Za-z0-9_]+)"? not found', str(error))
        if column and column.group(1).upper() in restricted_names():
            return refused(role, f"column {column.group(1)}: it is restricted")
    if isinstance(error, duckdb.IOException) and "No files found" in str(error):
        return QueryError(f"{_first_line(error)}: the catalog names files that are gone; run "
                          f"`lake crawl` (--root {base.parent} --stack {base.name}), then "
                          f"`lake gold` for a gold table")
    return QueryError(_first_line(error))


def restricted_names() -> set[str]:
    from jobs.enem.schema import RESTRICTED_MICRODATA_COLUMNS

    return set(RESTRICTED_MICRODATA_COLUMNS)


def _unknown_table(con, base: Path, role: str, name: str) -> QueryError:
    """A table the role's catalog lacks: one another audience reads, or none at all."""
    from lake.local.access import catalog_file, refused

    wider = [other for other in ("analyst", "researcher")
             if other != role and catalog_file(base, other).exists()
             and _has_table(catalog_file(base, other), name)]
    if wider:
        return refused(role, f"table {name}")
    tables = ", ".join(table_names(con)) or "none (run `lake crawl`)"
    return QueryError(f"unknown table {name}; role {role} reads: {tables}")


def _has_table(catalog: Path, name: str) -> bool:
    import duckdb

    with duckdb.connect(str(catalog), read_only=True) as con:
        return name.lower() in {t.lower() for t in table_names(con)}


def _first_line(error: Exception) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
