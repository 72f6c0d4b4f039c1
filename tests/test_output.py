"""`lake query`'s output: CSV and JSON are written as the rows arrive (a batch at a time, never the
whole result), the table stops reading once it has its rows, values print as Athena prints
them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from lake.local.output import write

BATCH = 3


@dataclass
class Stream:
    """A result whose batches record how far they were read, and what `out` held then."""

    columns: list[str]
    types: list[str]
    out: io.StringIO
    batches_total: int = 4
    read: int = 0
    written_before: list[int] | None = None

    @property
    def batches(self) -> Iterator[list[tuple]]:
        self.written_before = []
        for number in range(self.batches_total):
            self.written_before.append(self.out.getvalue().count("\n"))
            self.read += 1
            yield [(number * BATCH + i, f"v{number * BATCH + i}") for i in range(BATCH)]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_csv_and_json_are_written_as_the_batches_arrive(fmt: str) -> None:
    out = io.StringIO()
    result = Stream(["n", "s"], ["INTEGER", "VARCHAR"], out)
    assert write(result, fmt, out) == 12
    # when each batch was asked for, the ones before it were already out (lines: CSV's header
    # and a line a row; JSON's "[" and an object a line, the last one's newline to come)
    header = 1 if fmt == "csv" else 0
    assert result.written_before == [header + n * BATCH for n in range(4)]
    text = out.getvalue()
    rows = list(csv.reader(io.StringIO(text)))[1:] if fmt == "csv" else json.loads(text)
    assert len(rows) == 12


def test_a_limit_stops_reading_the_result() -> None:
    out = io.StringIO()
    result = Stream(["n", "s"], ["INTEGER", "VARCHAR"], out)
    assert write(result, "table", out, limit=4) == 4
    assert result.read == 2  # the third and fourth batches were never produced
    assert out.getvalue().splitlines()[-1].split() == ["3", "v3"]


@dataclass
class Rows:
    columns: list[str]
    types: list[str]
    batches: Iterator[list[tuple]]


def test_values_print_as_athena_prints_them() -> None:
    row = (True, [1, None], {"a": 1}, Decimal("1.50"), date(2019, 11, 3), b"ab", None, 2.5)
    types = ["BOOLEAN", "INTEGER[]", "MAP(VARCHAR, INTEGER)", "DECIMAL(3,2)", "DATE", "BLOB",
             "INTEGER", "DOUBLE"]
    columns = list("abcdefgh")
    out = io.StringIO()
    write(Rows(columns, types, iter([[row]])), "csv", out)
    assert out.getvalue() == ("a,b,c,d,e,f,g,h\n"
                              "true,\"[1, NULL]\",{a=1},1.50,2019-11-03,61 62,,2.5\n")
    out = io.StringIO()
    write(Rows(columns, types, iter([[row]])), "json", out)
    assert json.loads(out.getvalue()) == [{"a": True, "b": [1, None], "c": {"a": 1}, "d": 1.5,
                                           "e": "2019-11-03", "f": "61 62", "g": None,
                                           "h": 2.5}]
    out = io.StringIO()
    write(Rows(columns, types, iter([])), "json", out)
    assert out.getvalue() == "[]\n"
