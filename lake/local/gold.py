"""The gold step on one machine: each `queries/<name>.sql` (Athena SQL, translated by sqlglot)
runs in DuckDB against the local catalog and lands as Parquet in `<gold>/<name>/run=<run id>/`,
less the rows whose group is smaller than `min_group_size` (jobs/gold/privacy.py: the same
wrapped SQL the gold job runs in Athena; a query that names no group-size column is refused);
`_gold.json` beside the data records its rows and the groups it withheld. Then, unless it is
empty where `gold_<name>` has rows and nothing was withheld (answers are never replaced by
nothing), the catalog's `gold_<name>` is repointed to it and older results are removed. That is
the gold job's sequence in AWS (CTAS into a new prefix, count, repoint the Glue table, clean
up), so a reader sees the old result or the new one, never a mix, and a failed query keeps the
old one.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from jobs.contract import DEFAULT_MIN_GROUP_SIZE, RUN_PREFIX, gold_result, gold_table, utc_stamp
from jobs.gold.names import GoldError, check_query_name
from jobs.gold.privacy import (
    SIDECAR,
    Withholding,
    check_min_group_size,
    group_size_columns,
    published_select,
    sidecar_text,
    withheld_select,
    withholding_from_row,
)
from jobs.gold.sql import select_statement
from jobs.gold.tables import empty_result_problem
from lake.local.catalog import CatalogTable, connect, literal, quote, table_names, view_sql
from lake.local.sql import QueryError, to_duckdb


@dataclass
class GoldResult:
    name: str
    table: str
    location: str
    rows: int = 0
    seconds: float = 0.0
    error: str | None = None
    withholding: Withholding | None = None
    """What the small-group rule withheld (None if the query failed before it was counted)."""


def query_files(queries: Path) -> list[Path]:
    return sorted(queries.glob("*.sql"))


def athena_typed(con, sql: str) -> str:
    """The query with Athena's result types: Athena sums integers into a BIGINT where DuckDB
    gives a HUGEINT, which Parquet can only store as a DOUBLE (a count would read 603.0)."""
    columns = con.execute(f"DESCRIBE {sql}").fetchall()  # (name, type, ...)
    if not any(column_type == "HUGEINT" for _, column_type, *_ in columns):
        return sql
    select = ", ".join(
        f"CAST({quote(name)} AS BIGINT) AS {quote(name)}" if column_type == "HUGEINT"
        else quote(name) for name, column_type, *_ in columns)
    return f"SELECT {select} FROM ({sql})"


def _published_rows(con, table: str) -> int | None:
    """Rows of the published `gold_<name>`, None if there is none (what `gold.rows` records
    in AWS): no view, or a view whose files someone deleted, which this run rebuilds."""
    import duckdb

    if table not in table_names(con):
        return None
    try:
        return con.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()[0]
    except duckdb.IOException:
        return None


def export(catalog: Path, queries: Path, gold: Path, run_id: str | None = None,
           on_result=None, min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
           audiences: list[Path] | tuple[Path, ...] = ()) -> list[GoldResult]:
    """Run every query against `catalog` into the gold zone, withholding groups of fewer than
    `min_group_size` candidates, and register each result in `catalog` and in the catalogs of
    the other `audiences` (every audience reads gold); failures are reported per query, not
    raised."""
    import duckdb

    check_min_group_size(min_group_size)
    run_id = run_id or utc_stamp()
    files = query_files(queries)
    if not files:
        raise QueryError(f"no queries in {queries} (expected *.sql files)")
    for path in files:  # the names `pulumi preview` accepts, checked before any query runs
        check_query_name(path.stem)
    results = []
    with connect(catalog) as con:
        for path in files:
            name = path.stem
            target = Path(gold_result(str(gold), name, run_id))
            result = GoldResult(name, gold_table(name), str(target.resolve()))
            started = time.monotonic()
            try:
                # one SELECT, checked as the gold job checks it in AWS, wrapped in the same
                # small-group filter, then DuckDB's dialect
                text = path.read_text(encoding="utf-8")
                select = select_statement(text, name)
                columns = group_size_columns(text, name)
                sql = athena_typed(con, to_duckdb(
                    published_select(select, columns, min_group_size)))
                if target.exists():
                    shutil.rmtree(target)
                target.mkdir(parents=True)
                data = literal(str(target / "data.parquet"))
                con.execute(f"COPY ({sql}) TO {data} (FORMAT parquet, COMPRESSION zstd)")
                result.rows = con.execute(f"SELECT count(*) FROM read_parquet({data})"
                                          ).fetchone()[0]
                withholding = withholding_from_row(con.execute(to_duckdb(withheld_select(
                    select, columns, min_group_size))).fetchone(), columns, min_group_size)
                withholding.check(result.rows)
                result.withholding = withholding
                problem = empty_result_problem(result.table, result.rows,
                                               _published_rows(con, result.table),
                                               withholding.withheld)
                if problem:
                    raise GoldError(problem)
                (target / SIDECAR).write_text(
                    sidecar_text(name, run_id, result.rows, withholding), encoding="utf-8")
                table = CatalogTable(result.table, result.location)
                # the repoint: readers switch here (each view relative to its catalog's folder)
                con.execute(view_sql(table, catalog.parent, "*.parquet"))
                for other in audiences:
                    with connect(other) as audience:
                        audience.execute(view_sql(table, other.parent, "*.parquet"))
                for old in (gold / name).iterdir():
                    if old.name.startswith(RUN_PREFIX) and old != target:
                        shutil.rmtree(old)
            except (GoldError, QueryError, duckdb.Error) as error:
                shutil.rmtree(target, ignore_errors=True)
                result.error = str(error).splitlines()[0]
            result.seconds = round(time.monotonic() - started, 3)
            results.append(result)
            if on_result:
                on_result(result)
    return results
