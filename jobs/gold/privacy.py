"""Small groups are never published: the rule every gold table follows, as plain functions that
the gold job (Athena) and the local gold step (DuckDB, after translation) share.

A saved query names its group-size column(s): the columns whose value is how many candidates a
row's group holds. By convention that is `candidates` (GROUP_SIZE_COLUMN); a query may instead
name others in its header comment, one line such as

    -- group size: candidates_day2, candidates_essay

A row is withheld when any of its group-size columns is below the threshold (`--min-group-size`,
the stack's `gold.minGroupSize`) or NULL: the row is dropped, so neither its measures nor its
count, nor the fact that the group exists, is published. A query that names no group-size
column and selects no `candidates` is refused before it runs.

The gold step runs `published_select` (the query wrapped in a filter) instead of the query, and
`withheld_select` (one row: the query's groups, how many are withheld, how many fall below in
each column) beside it; `Withholding` is what the latter answers, and the bookkeeping
(`_gold.json` beside the data, the Glue table's parameters) records it. Standard library only,
Python 3.9: this module runs in the gold job on Glue's Python shell.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from jobs.contract import GROUP_SIZE_COLUMN, MIN_GROUP_SIZE, QUERY_SUFFIX
from jobs.gold.names import GoldError
from jobs.gold.sql import quote_identifier, select_statement

HEADER_LINE = re.compile(r"--\s*group\s+size\s*:(?P<columns>.*)\Z", re.IGNORECASE)
COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
EXAMPLE = "-- group size: candidates_day2, candidates_essay"
ALIAS = "answers"  # the wrapped query's name in published_select and withheld_select
SIDECAR = "_gold.json"  # beside a run's data: `_` keeps it out of Athena's and DuckDB's reads

# --- the query's text: its header and the names of the columns it selects ----------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<symbol>\|\||<=|>=|<>|!=|->|=>|.)
""", re.VERBOSE | re.DOTALL)
# Words that end a SELECT's list of columns (at its own depth).
_LIST_END = {"from", "where", "group", "having", "order", "limit", "union", "intersect",
             "except", "window", "offset", "fetch"}
# Words that end an expression but never name a column (`CASE … END`, `x IS NULL`).
_NOT_ALIASES = {"end", "null", "true", "false", "and", "or", "not", "is", "in", "like",
                "between", "then", "else", "when", "case", "distinct", "all"}


def _tokens(sql: str) -> list[tuple[str, str]]:
    """(kind, text) of each token, comments and blanks left out; names lower case, as Athena
    holds them (a quoted identifier loses its quotes)."""
    found = []
    for match in _TOKEN.finditer(sql):
        kind, text = match.lastgroup or "symbol", match.group()
        if kind in ("space", "comment"):
            continue
        if kind == "word":
            text = text.lower()
        elif kind == "quoted":
            kind, text = "name", text[1:-1].replace('""', '"').lower()
        found.append((kind, text))
    return found


def _column_name(item: list[tuple[str, str]]) -> str | None:
    """The name an item of a SELECT list gives its column: its alias, or the column it reads
    (`m.candidates` -> `candidates`); '' for an expression without one (Athena calls it
    `_col<n>`); None for `*` or `t.*` (only the tables know those)."""
    if not item:
        return ""
    kinds = [kind for kind, _ in item]
    texts = [text for _, text in item]
    if texts[-1] == "*" and kinds[-1] == "symbol":
        return None
    if kinds[-1] not in ("word", "name"):
        return ""
    if len(item) == 1:
        return "" if kinds[0] == "word" and texts[0] in _NOT_ALIASES else texts[0]
    if kinds[-2] == "word" and texts[-2] == "as":
        return texts[-1]
    dotted = all(text == "." if position % 2 else kind in ("word", "name")
                 for position, (kind, text) in enumerate(item))
    if dotted:
        return texts[-1]
    if kinds[-1] == "word" and texts[-1] in _NOT_ALIASES:
        return ""
    if texts[-2] == ")" or kinds[-2] in ("word", "name", "string", "number"):
        return texts[-1]  # an alias without AS: `COUNT(*) candidates`
    return ""


def output_columns(select: str) -> tuple[str, ...] | None:
    """The names of the columns `select` returns (its outermost SELECT list, the first one of a
    UNION), or None where they cannot be read from the text (`SELECT *`, a query that starts
    with a parenthesis)."""
    tokens = _tokens(select)
    depth, start = 0, -1
    for position, (kind, text) in enumerate(tokens):
        if kind == "symbol" and text == "(":
            depth += 1
        elif kind == "symbol" and text == ")":
            depth -= 1
        elif depth == 0 and kind == "word" and text == "select":
            start = position + 1
            break
    if start < 0:
        return None
    if start < len(tokens) and tokens[start] in (("word", "distinct"), ("word", "all")):
        start += 1
    items: list[list[tuple[str, str]]] = [[]]
    depth = 0
    for kind, text in tokens[start:]:
        if depth == 0 and kind == "word" and text in _LIST_END:
            break
        if kind == "symbol" and text == "(":
            depth += 1
        elif kind == "symbol" and text == ")":
            depth -= 1
        elif depth == 0 and kind == "symbol" and text == ",":
            items.append([])
            continue
        items[-1].append((kind, text))
    names = [_column_name(item) for item in items]
    return None if any(name is None for name in names) else tuple(str(n) for n in names)


def _header_lines(sql: str) -> tuple[list[str], list[str]]:
    """The lines of the header comment (the `--` lines before the statement) and the lines
    after it."""
    lines = sql.lstrip("\ufeff").splitlines()
    for position, line in enumerate(lines):
        stripped = line.strip()
        if stripped and not stripped.startswith("--"):
            return lines[:position], lines[position:]
    return lines, []


def named_columns(sql: str, name: str = "query") -> tuple[str, ...]:
    """The group-size columns a query's header names (`-- group size: a, b`), lower case, in
    order; () if it names none. Raises GoldError for a line that lists no column names, or one
    outside the header."""
    where = f"Query file {name}{QUERY_SUFFIX}"
    header, body = _header_lines(sql)
    for line in body:
        if HEADER_LINE.match(line.strip()):
            raise GoldError(f"{where} has a `-- group size:` line after the header comment; "
                            f"move it into the comment lines before the statement.")
    found: list[str] = []
    for line in header:
        match = HEADER_LINE.match(line.strip())
        if not match:
            continue
        text = match["columns"].strip()
        text = text[:-1] if text.endswith(".") else text
        columns = [part.strip() for part in text.split(",")]
        if not text or not all(COLUMN_NAME.match(column) for column in columns):
            raise GoldError(f"{where} has a `-- group size:` line that is not a list of column "
                            f"names ({line.strip()!r}); write e.g. `{EXAMPLE}`.")
        found += [column.lower() for column in columns if column.lower() not in found]
    return tuple(found)


def group_size_columns(sql: str, name: str = "query") -> tuple[str, ...]:
    """The columns whose values are a row's group size: those the header names, else
    `candidates` if the query selects it. Raises GoldError (one sentence naming the file and
    what to add) for a query that has neither, or names a column it does not select."""
    where = f"Query file {name}{QUERY_SUFFIX}"
    named = named_columns(sql, name)
    selected = output_columns(select_statement(sql, name))
    if named:
        missing = [column for column in named if selected is not None and column not in selected]
        if missing:
            listed = ", ".join(column for column in selected or () if column) or "no named column"
            raise GoldError(f"{where} names the group-size column {', '.join(missing)} in its "
                            f"header but does not select it (it selects {listed}); select it, or "
                            f"name the column that counts each row's candidates.")
        return named
    if selected is not None and GROUP_SIZE_COLUMN in selected:
        return (GROUP_SIZE_COLUMN,)
    raise GoldError(f"{where} names no group-size column, so gold cannot withhold its small "
                    f"groups: select each row's number of candidates AS {GROUP_SIZE_COLUMN}, or "
                    f"name the column(s) that count them in its header, e.g. `-- group size: "
                    f"essays` (queries/README.md).")


# --- the SQL the gold step runs ----------------------------------------------------------------

def check_min_group_size(min_group_size: int) -> int:
    problem = MIN_GROUP_SIZE.problem(min_group_size)
    if problem:
        raise GoldError(f"The smallest group gold publishes {problem} (got {min_group_size!r}).")
    return min_group_size


def _large_enough(column: str, min_group_size: int) -> str:
    return f"{quote_identifier(column)} >= {check_min_group_size(min_group_size)}"


def _wrapped(select: str) -> str:
    """`select` as a subquery: on lines of its own, so its comments end before the `)`."""
    return f"(\n{select}\n) AS {ALIAS}"


def published_select(select: str, columns: tuple[str, ...] | list[str],
                     min_group_size: int) -> str:
    """`select` with only the rows whose every group-size column is at least `min_group_size`
    (a NULL one fails the test too): what the gold step writes."""
    if not columns:
        raise ValueError("a published select needs at least one group-size column")
    condition = " AND ".join(_large_enough(column, min_group_size) for column in columns)
    return f"SELECT * FROM {_wrapped(select)}\nWHERE {condition}"


def withheld_select(select: str, columns: tuple[str, ...] | list[str],
                    min_group_size: int) -> str:
    """One row about `select`'s result: `groups` (its rows), `withheld` (the rows
    `published_select` drops), then `below_<n>` per group-size column (the rows where that
    column is below `min_group_size` or NULL)."""
    if not columns:
        raise ValueError("a withheld count needs at least one group-size column")
    every = " AND ".join(_large_enough(column, min_group_size) for column in columns)
    counts = [f"COALESCE(SUM(CASE WHEN {every} THEN 0 ELSE 1 END), 0) AS withheld"]
    counts += [f"COALESCE(SUM(CASE WHEN {_large_enough(column, min_group_size)} THEN 0 "
               f"ELSE 1 END), 0) AS below_{position}"
               for position, column in enumerate(columns, start=1)]
    return f"SELECT COUNT(*) AS groups, {', '.join(counts)}\nFROM {_wrapped(select)}"


# --- what the rule did, and its bookkeeping ----------------------------------------------------

@dataclass(frozen=True)
class Withholding:
    """What the small-group rule did to one query's result."""

    min_group_size: int
    columns: tuple[str, ...]
    groups: int = 0
    """The query's rows before the rule: one per group."""
    withheld: int = 0
    """The rows withheld: some group-size column below min_group_size (or NULL)."""
    below: tuple[int, ...] = ()
    """Per group-size column, the rows in which it is below min_group_size (or NULL)."""

    @property
    def published(self) -> int:
        return self.groups - self.withheld

    def below_by_column(self) -> dict[str, int]:
        """Group-size column -> the rows in which it is below min_group_size (zip(strict=) is
        not Python 3.9's)."""
        return {column: self.below[position] if position < len(self.below) else 0
                for position, column in enumerate(self.columns)}

    def reason(self) -> str:
        """Why, as a phrase: `essays < 10`, `candidates_day2 < 10: 1; candidates_essay < 10: 2`;
        '' when nothing was withheld."""
        if not self.withheld:
            return ""
        if len(self.columns) == 1:
            return f"{self.columns[0]} < {self.min_group_size}"
        return "; ".join(f"{column} < {self.min_group_size}: {count:,}"
                         for column, count in self.below_by_column().items() if count)

    def summary(self) -> str:
        """`2 groups withheld (essays < 10)`, or `no group withheld (every group has essays >=
        10)`."""
        if not self.withheld:
            kept = " and ".join(self.columns)
            return f"no group withheld (every group has {kept} >= {self.min_group_size})"
        groups = "group" if self.withheld == 1 else "groups"
        return f"{self.withheld:,} {groups} withheld ({self.reason()})"

    def check(self, rows: int) -> None:
        """GoldError unless the published result holds exactly the groups not withheld (the
        filter ran, and on the same data as the count)."""
        if rows != self.published:
            raise GoldError(f"the result has {rows:,} rows, but {self.groups:,} groups less "
                            f"{self.withheld:,} withheld leave {self.published:,}; the "
                            f"small-group filter did not hold, so nothing was published")

    def parameters(self) -> dict[str, str]:
        """The Glue table parameters that record it (beside `gold.rows`)."""
        return {"gold.min_group_size": str(self.min_group_size),
                "gold.group_size_columns": ",".join(self.columns),
                "gold.groups": str(self.groups), "gold.withheld": str(self.withheld)}


def withholding_from_row(values: list[Any] | tuple[Any, ...], columns: tuple[str, ...],
                         min_group_size: int) -> Withholding:
    """The Withholding that `withheld_select`'s one row says (values as DuckDB gives them or as
    Athena's strings)."""
    numbers = [int(value) if value not in (None, "") else 0 for value in values]
    if len(numbers) != 2 + len(columns):
        raise GoldError(f"the withheld count answered {len(numbers)} values, expected "
                        f"{2 + len(columns)}")
    return Withholding(min_group_size, tuple(columns), numbers[0], numbers[1],
                       tuple(numbers[2:]))


def sidecar_text(name: str, run: str, rows: int, withholding: Withholding) -> str:
    """`_gold.json`: what one run of query `name` published and withheld."""
    return json.dumps({
        "query": name + QUERY_SUFFIX, "run": run, "rows": rows,
        "min_group_size": withholding.min_group_size,
        "group_size_columns": list(withholding.columns),
        "groups": withholding.groups, "withheld": withholding.withheld,
        "below": withholding.below_by_column(),
    }, indent=2, ensure_ascii=False) + "\n"


def read_sidecar(text: str, where: str = SIDECAR) -> tuple[int, Withholding]:
    """The published rows and the Withholding a `_gold.json` records; GoldError if it is not
    one."""
    try:
        data = json.loads(text)
        columns = tuple(str(column) for column in data["group_size_columns"])
        below = tuple(int(data["below"].get(column, 0)) for column in columns)
        return int(data["rows"]), Withholding(int(data["min_group_size"]), columns,
                                              int(data["groups"]), int(data["withheld"]), below)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise GoldError(f"{where} is not a gold run's record ({type(error).__name__}: "
                        f"{error}); run the gold step again.") from None
