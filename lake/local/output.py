"""Query results as text: an aligned table for people, CSV and JSON for pipes.

`write` prints a result as its rows arrive, batch by batch, so CSV and JSON of a whole table
hold a batch in memory, not the table (bench/query_bench.py). The table format must see every
row it shows before it prints one (its columns are as wide as their widest value), so
`lake query` shows its first `TABLE_ROWS` unless told otherwise. Values read as Athena prints
them: `true`, `[1, 2]`, `{a=1}`; JSON is an array of one object per line.
"""
from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Protocol, TextIO

FORMATS = ("table", "csv", "json")
TABLE_ROWS = 1000
"""Rows the table format shows unless told otherwise (`lake query --limit N`): it must hold
them all before it prints the first."""


class Result(Protocol):
    """A result as it streams (`lake.local.catalog.Rows`)."""

    columns: list[str]
    types: list[str]
    batches: Iterator[list[tuple]]


def _text(value: object) -> str:
    """One value as Athena's text shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_text(v) if v is not None else "NULL" for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_text(k)}={_text(v) if v is not None else 'NULL'}"
                               for k, v in value.items()) + "}"
    if isinstance(value, bytes):
        return " ".join(f"{b:02x}" for b in value)
    return str(value)


def _plain(value: object) -> object:
    """One value as JSON has it: numbers, strings, lists, objects, null."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {_text(k): _plain(v) for k, v in value.items()}
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return _text(value)


def _needs_text(duckdb_type: str) -> bool:
    """Columns whose values Python would print otherwise than Athena (True, [1, 2], b'…');
    the others go to CSV as they are, which keeps a wide export fast."""
    return duckdb_type in ("BOOLEAN", "BLOB") or "[" in duckdb_type or \
        duckdb_type.startswith(("STRUCT", "MAP", "UNION"))


def _json_native(duckdb_type: str) -> bool:
    """Columns whose values json writes as they are (numbers, strings, booleans, null)."""
    return duckdb_type in ("BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                           "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "VARCHAR")


def table(columns: list[str], rows: list[tuple], indent: str = "") -> str:
    cells = [[_text(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    numeric = [all(isinstance(row[i], int | float | Decimal) and not isinstance(row[i], bool)
                   or row[i] is None for row in rows) and rows for i in range(len(columns))]

    def line(values: list[str]) -> str:
        return indent + "  ".join(v.rjust(widths[i]) if numeric[i] else v.ljust(widths[i])
                                  for i, v in enumerate(values)).rstrip()

    out = [line(list(columns)), indent + "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out)


def _limited(batches: Iterable[list[tuple]], limit: int | None) -> Iterator[list[tuple]]:
    """The batches, cut after `limit` rows (None: all of them)."""
    left = limit
    for batch in batches:
        if left is not None and len(batch) >= left:
            if left:
                yield batch[:left]
            return
        if left is not None:
            left -= len(batch)
        yield batch


def write(result: Result, fmt: str, out: TextIO, limit: int | None = None) -> int:
    """Print `result` to `out` in `fmt` as its batches arrive, at most `limit` rows (None: all
    of them). Returns the rows printed."""
    if fmt == "table":
        rows = [row for batch in _limited(result.batches, limit) for row in batch]
        out.write(table(result.columns, rows) + "\n")
        return len(rows)
    printed = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(result.columns)
        texts = [i for i, t in enumerate(result.types) if _needs_text(t)]
        for batch in _limited(result.batches, limit):
            if texts:
                batch = [tuple(_text(v) if i in texts else v for i, v in enumerate(row))
                         for row in batch]
            writer.writerows(batch)
            printed += len(batch)
        return printed
    if fmt != "json":
        raise ValueError(f"unknown format {fmt!r}")
    # An array with one object per line: still JSON, and json's C encoder writes it (indented
    # output would take its pure-Python one, ten times slower on a wide table).
    out.write("[")
    columns = result.columns
    plain = [i for i, t in enumerate(result.types) if not _json_native(t)]
    for batch in _limited(result.batches, limit):
        if plain:
            batch = [tuple(_plain(v) if i in plain else v for i, v in enumerate(row))
                     for row in batch]
        lines = [json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False)
                 for row in batch]
        out.write(("," if printed else "") + "\n" + ",\n".join(lines))
        printed += len(lines)
    out.write("\n]\n" if printed else "]\n")
    return printed
