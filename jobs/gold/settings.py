"""The gold job's arguments (set by the stack: `--workgroup`, `--database`, `--gold`,
`--queries`, `--poll-seconds`, `--query-timeout-minutes`, `--min-group-size`), read as argparse
and as Glue reads them; a missing or bad one exits with status 2 and one line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from jobs.contract import DEFAULT_MIN_GROUP_SIZE, GOLD_POLL_SECONDS, MIN_GROUP_SIZE
from jobs.gold.names import GoldError, split_uri

DEFAULT_QUERY_TIMEOUT_MINUTES = 20.0


@dataclass(frozen=True)
class Settings:
    """The job's arguments (set by components/analytics.py, `Analytics.gold_arguments`)."""

    workgroup: str
    database: str
    gold: str
    queries: str
    poll_seconds: float = GOLD_POLL_SECONDS
    query_timeout_minutes: float = DEFAULT_QUERY_TIMEOUT_MINUTES
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE
    """Rows whose group has fewer candidates are withheld (stack config gold.minGroupSize)."""


REQUIRED_ARGUMENTS = ("workgroup", "database", "gold", "queries")


def parse_arguments(argv: list[str]) -> Settings:
    """Settings from `--key value` arguments; arguments Glue adds (`--JOB_NAME`, …) are ignored.
    A missing or bad argument exits with status 2 and argparse's one-line message."""
    parser = argparse.ArgumentParser(prog="export.py", allow_abbrev=False,
                                     description="Run the saved queries into the gold zone.")
    parser.add_argument("--workgroup", required=True, help="Athena workgroup to run the queries in")
    parser.add_argument("--database", required=True, help="Glue database of the gold tables")
    parser.add_argument("--gold", required=True, help="gold zone: s3://bucket[/prefix]")
    parser.add_argument("--queries", required=True,
                        help="s3:// folder holding the <name>.sql files to run")
    parser.add_argument("--poll-seconds", type=float, default=GOLD_POLL_SECONDS,
                        help="seconds between two looks at a running query")
    parser.add_argument("--query-timeout-minutes", type=float,
                        default=DEFAULT_QUERY_TIMEOUT_MINUTES,
                        help="stop a query (it fails) that runs longer than this")
    parser.add_argument("--min-group-size", type=int, default=DEFAULT_MIN_GROUP_SIZE,
                        help="withhold each result row whose group has fewer candidates")
    args, _unknown = parser.parse_known_args(argv)
    return check_settings(Settings(
        workgroup=args.workgroup, database=args.database, gold=args.gold, queries=args.queries,
        poll_seconds=args.poll_seconds, query_timeout_minutes=args.query_timeout_minutes,
        min_group_size=args.min_group_size), parser.error)


def check_settings(settings: Settings, fail: Callable[[str], Any]) -> Settings:
    """`settings` if valid, else `fail(message)` (argparse's `error` exits with status 2)."""
    for key in REQUIRED_ARGUMENTS:
        if not getattr(settings, key).strip():
            fail(f"--{key} must not be empty")
    for key in ("gold", "queries"):
        try:
            split_uri(getattr(settings, key))
        except GoldError as error:
            fail(f"--{key}: {error}")
    if settings.poll_seconds < 0:
        fail("--poll-seconds must be 0 or more")
    if settings.query_timeout_minutes <= 0:
        fail("--query-timeout-minutes must be more than 0")
    problem = MIN_GROUP_SIZE.problem(settings.min_group_size)
    if problem:
        fail(f"--min-group-size {problem}")
    return settings


def resolve_arguments(argv: list[str]) -> Settings:
    """`parse_arguments`, then on Glue the required arguments as Glue resolves them."""
    settings = parse_arguments(argv)
    try:
        from awsglue.utils import getResolvedOptions
    except ImportError:
        return settings
    resolved = getResolvedOptions(sys.argv, list(REQUIRED_ARGUMENTS))
    return replace(settings, **{key: resolved[key] for key in REQUIRED_ARGUMENTS})
