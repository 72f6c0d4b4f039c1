"""Athena SQL on DuckDB: the queries are written once, in Athena's (Trino's) dialect, and
translated with sqlglot for the local lake."""

from __future__ import annotations

from jobs.errors import UserError


class QueryError(UserError):
    """A query that cannot run: bad SQL or an unknown table. The message is one line."""


def to_duckdb(athena_sql: str) -> str:
    """One Athena statement translated to DuckDB; raises QueryError for SQL that Athena would
    not accept either."""
    import sqlglot
    from sqlglot.errors import ParseError

    try:
        statements = [s for s in sqlglot.parse(athena_sql, read="athena") if s is not None]
    except ParseError as error:
        detail = error.errors[0] if error.errors else {}
        where = (f" at line {detail.get('line')}, column {detail.get('col')}"
                 if detail.get("line") else "")
        message = str(detail.get("description") or error).splitlines()[0]
        message = message.split(" but got <Token")[0]  # sqlglot's token dump helps no one
        raise QueryError(f"bad SQL{where}: {message}") from None
    if len(statements) != 1:
        raise QueryError(f"give one SQL statement (got {len(statements)})")
    return statements[0].sql(dialect="duckdb")
