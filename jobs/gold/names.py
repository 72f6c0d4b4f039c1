"""The gold job's names and locations: run ids, the gold and temporary tables of a query, where
each run writes, and what a run leaves behind to clean up. Plain functions (Python 3.9)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from jobs.contract import (
    gold_folder,
    gold_result,
    gold_table,
    query_name_problem,
    utc_stamp,
)
from jobs.errors import UserError

TEMPORARY_SEPARATOR = "__"
STAMP_PATTERN = r"\d{8}t\d{6}z"  # a run id (contract.STAMP_FORMAT) in lower case, as tables hold it


class GoldError(UserError):
    """A bad query file, argument or catalog state; the message is one sentence naming it."""


def run_id(now: datetime) -> str:
    """The run's id: `now` in UTC as `20261125T101253Z`."""
    return utc_stamp(now)


def check_query_name(name: str) -> str:
    """`name` if it can name the gold table `gold_<name>`, else GoldError suggesting one."""
    problem = query_name_problem(name)
    if problem:
        raise GoldError(problem)
    return name


def gold_table_name(name: str) -> str:
    return gold_table(check_query_name(name))


def temporary_table_name(name: str, run: str) -> str:
    """`gold_<name>__<run id lower>`: where a run's CTAS lands before the switch."""
    return f"{gold_table_name(name)}{TEMPORARY_SEPARATOR}{run.lower()}"


def is_temporary_table(table: str, name: str) -> bool:
    """Whether `table` is a temporary table of query `name` (of any run)."""
    pattern = re.escape(gold_table_name(name) + TEMPORARY_SEPARATOR) + STAMP_PATTERN
    return re.fullmatch(pattern, table) is not None


def split_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/a/b` -> (`bucket`, `a/b`)."""
    if not uri.startswith("s3://") or not uri[len("s3://"):].split("/", 1)[0]:
        raise GoldError(f"{uri!r} is not an s3://bucket[/prefix] URI.")
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def folder_uri(uri: str, *parts: str) -> str:
    """`folder_uri("s3://b/p/", "x", "run=1")` -> `s3://b/p/x/run=1/` (always one `/` between)."""
    return "/".join([uri.rstrip("/"), *(part.strip("/") for part in parts)]) + "/"


def table_folder(gold: str, name: str) -> str:
    """Where every result of query `name` lives: `<gold>/<name>/`."""
    return gold_folder(gold, check_query_name(name)) + "/"


def result_location(gold: str, name: str, run: str) -> str:
    """Where run `run` writes query `name`: `<gold>/<name>/run=<run id>/`."""
    return gold_result(gold, check_query_name(name), run) + "/"


def stale_keys(keys: Iterable[str], folder_key: str, keep_key: str) -> list[str]:
    """The keys under `folder_key` that are not under `keep_key` (both end in `/`), sorted: what
    the switch leaves unreferenced. Keys of a sibling (`media_por_uf/` beside `media/`) never
    match."""
    if not folder_key.endswith("/") or not keep_key.endswith("/"):
        raise ValueError("folder_key and keep_key must end with '/'")
    return sorted(key for key in keys
                  if key.startswith(folder_key) and not key.startswith(keep_key))


def leftover_tables(tables: Iterable[str], name: str, keep: str = "") -> list[str]:
    """Temporary tables of query `name` left by runs that were killed, sorted (`keep` excluded)."""
    return sorted(table for table in tables if table != keep and is_temporary_table(table, name))
