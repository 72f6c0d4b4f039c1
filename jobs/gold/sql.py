"""The gold job's SQL: a saved query's one statement, checked and trimmed, wrapped in the CTAS
that writes it as Parquet to a new folder. A small lexer, so no SQL library is needed on Glue's
Python shell (Python 3.9)."""

from __future__ import annotations

import re

from jobs.contract import QUERY_SUFFIX
from jobs.gold.names import GoldError

STATEMENT_START = re.compile(r"(?:select|with|values|table)\b|\(", re.IGNORECASE)


def _closing_quote(sql: str, start: int) -> int:
    """Index of the quote that closes the literal or identifier opened at `start` (a doubled
    quote inside is an escaped one), or -1."""
    quote, position = sql[start], start + 1
    while True:
        position = sql.find(quote, position)
        if position < 0:
            return -1
        if sql.startswith(quote * 2, position):
            position += 2
            continue
        return position


def select_statement(sql: str, name: str = "query") -> str:
    """The one statement of a query file, ready to follow `AS` in a CTAS: its text up to its last
    token, so without trailing semicolons, comments or blanks (leading comments stay).

    Raises GoldError for an empty file, more than one statement, an unclosed string, identifier
    or comment, or a statement that is not a query (SELECT, WITH, VALUES, TABLE or `(`)."""
    where = f"Query file {name}{QUERY_SUFFIX}"
    sql = sql.lstrip("\ufeff")
    position, end, first, after_semicolon = 0, 0, -1, False
    while position < len(sql):
        char = sql[position]
        if sql.startswith("--", position):
            newline = sql.find("\n", position)
            position = len(sql) if newline < 0 else newline + 1
        elif sql.startswith("/*", position):
            closing = sql.find("*/", position + 2)
            if closing < 0:
                raise GoldError(f"{where} has a /* comment that is never closed; close it.")
            position = closing + 2
        elif char.isspace():
            position += 1
        elif char == ";":
            after_semicolon = True
            position += 1
        else:
            if after_semicolon:
                raise GoldError(f"{where} holds more than one statement (text follows a `;`); "
                                f"keep one SELECT per file.")
            if first < 0:
                first = position
            if char in "'\"":
                closing = _closing_quote(sql, position)
                if closing < 0:
                    kind = "string" if char == "'" else "quoted identifier"
                    raise GoldError(f"{where} has a {kind} that is never closed; close it.")
                position = closing + 1
            else:
                position += 1
            end = position
    if first < 0:
        raise GoldError(f"{where} holds no statement; write one SELECT in it.")
    if not STATEMENT_START.match(sql, first):
        start = " ".join(sql[first:first + 40].split())
        raise GoldError(f"{where} must be one query (SELECT, or WITH … SELECT), not "
                        f"{start!r}; the gold job wraps it in CREATE TABLE … AS itself.")
    return sql[:end]


def quote_identifier(name: str) -> str:
    """A Trino quoted identifier: `a"b` -> `"a""b"`."""
    return '"' + name.replace('"', '""') + '"'


def quote_string(text: str) -> str:
    """A Trino string literal: `it's` -> `'it''s'`."""
    return "'" + text.replace("'", "''") + "'"


def ctas(database: str, table: str, location: str, select: str) -> str:
    """The CTAS that writes `select` as zstd Parquet to `location` and registers `table`."""
    return (f"CREATE TABLE {quote_identifier(database)}.{quote_identifier(table)} "
            f"WITH (format = 'PARQUET', write_compression = 'ZSTD', "
            f"external_location = {quote_string(location)}) AS\n{select}")


def count_rows(database: str, table: str) -> str:
    """How many rows a table holds (Athena answers a header row, then the count)."""
    return f"SELECT COUNT(*) AS rows FROM {quote_identifier(database)}.{quote_identifier(table)}"
