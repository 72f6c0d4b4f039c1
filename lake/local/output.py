"""Query results as text: an aligned table for people, CSV and JSON for pipes."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal

FORMATS = ("table", "csv", "json")


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _cell(value: object) -> str:
    if value is None:
        return ""
    return str(_plain(value))


def table(columns: list[str], rows: list[tuple], indent: str = "") -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    numeric = [all(isinstance(row[i], (int, float, Decimal)) or row[i] is None for row in rows)
               and rows for i in range(len(columns))]

    def line(values: list[str]) -> str:
        return indent + "  ".join(v.rjust(widths[i]) if numeric[i] else v.ljust(widths[i])
                                  for i, v in enumerate(values)).rstrip()

    out = [line(list(columns)), indent + "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out)


def render(columns: list[str], rows: list[tuple], fmt: str) -> str:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_plain(v) for v in row] for row in rows])
        return buffer.getvalue().rstrip("\n")
    if fmt == "json":
        return json.dumps([{columns[i]: _plain(v) for i, v in enumerate(row)} for row in rows],
                          ensure_ascii=False, indent=1)
    return table(columns, rows)
