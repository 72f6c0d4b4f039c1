"""The gold job: each saved query (`queries/<name>.sql`) runs in Athena into the gold zone.

    python jobs/gold/export.py --workgroup WG --database DB --gold s3://BUCKET[/PREFIX] \\
        --queries s3://ARTIFACTS/queries/<digest>/ [--poll-seconds 2] \\
        [--query-timeout-minutes 20]

This file is the script of a Glue Python shell job, so it runs on Python 3.9 with the standard
library, boto3 and `jobs.contract` (shipped to the job as a wheel, `--extra-py-files`). A run
has one run id, the UTC stamp `20261125T101253Z`. For each
`<name>.sql` under `--queries`, in name order:

1. a CTAS in the workgroup writes the result as Parquet (zstd) to a new folder
   `<gold>/<name>/run=<run id>/` and registers it as the temporary table
   `gold_<name>__<run id, lower case>`; the job waits for it (at most `--query-timeout-minutes`;
   a query still running then is stopped and counts as failed);
2. on success, the switch: `gold_<name>` is created, or updated to the temporary table's columns
   and new location. That one catalog update is atomic, so readers see the old result or the
   new one, never a mix. Then the temporary table is dropped (its data is now `gold_<name>`'s)
   and the objects under `<gold>/<name>/` outside the new `run=` folder are deleted;
3. on failure, the temporary table and whatever the query wrote under its new folder are
   deleted; `gold_<name>` and its data stay as they were; the other queries still run.

The run ends with one line per failed query (its name and Athena's reason) and exit code 1 if
any failed. `main()` is thin: the SQL text, the names, what to delete and the arguments are plain
functions that tests call directly.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from jobs.contract import (
    GOLD_POLL_SECONDS,
    GOLD_PREFIX,
    QUERY_SUFFIX,
    query_description,
    query_name_problem,
)
from jobs.storage import delete_keys

log = logging.getLogger("lake.gold")

TEMPORARY_SEPARATOR = "__"
RUN_PREFIX = "run="
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"  # UTC: 20261125T101253Z
STAMP_PATTERN = r"\d{8}t\d{6}z"  # the same, lower case, as temporary tables carry it
STATEMENT_START = re.compile(r"(?:select|with|values|table)\b|\(", re.IGNORECASE)

SUCCEEDED = "SUCCEEDED"
TERMINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")
DEFAULT_QUERY_TIMEOUT_MINUTES = 20.0
STOP_GRACE_SECONDS = 60.0  # after StopQueryExecution, wait this long for Athena to stop writing

# What Athena's CTAS registers for `format = 'PARQUET'` (kept if the temporary table lacks it).
PARQUET_FORMATS = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {"SerializationLibrary":
                  "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                  "Parameters": {"serialization.format": "1"}},
}
# The StorageDescriptor fields that Glue's TableInput accepts (GetTable returns the same ones).
STORAGE_DESCRIPTOR_KEYS = (
    "Columns", "Location", "AdditionalLocations", "InputFormat", "OutputFormat", "Compressed",
    "NumberOfBuckets", "SerdeInfo", "BucketColumns", "SortColumns", "Parameters", "SkewedInfo",
    "StoredAsSubDirectories", "SchemaReference",
)
MAX_DESCRIPTION = 2048


class GoldError(ValueError):
    """A bad query file, argument or catalog state; the message is one sentence naming it."""


# --- names and locations -------------------------------------------------------------------

def run_id(now: datetime) -> str:
    """The run's id: `now` in UTC as `20261125T101253Z`."""
    return now.astimezone(timezone.utc).strftime(STAMP_FORMAT)


def check_query_name(name: str) -> str:
    """`name` if it can name the gold table `gold_<name>`, else GoldError suggesting one."""
    problem = query_name_problem(name)
    if problem:
        raise GoldError(problem)
    return name


def gold_table_name(name: str) -> str:
    return GOLD_PREFIX + check_query_name(name)


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
    return folder_uri(gold, check_query_name(name))


def result_location(gold: str, name: str, run: str) -> str:
    """Where run `run` writes query `name`: `<gold>/<name>/run=<run id>/`."""
    return folder_uri(gold, check_query_name(name), RUN_PREFIX + run)


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


# --- the SQL -------------------------------------------------------------------------------

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


# --- the catalog ---------------------------------------------------------------------------

def gold_table_input(temporary: dict[str, Any], name: str, run: str, location: str,
                     description: str = "", query_id: str = "") -> dict[str, Any]:
    """Glue's TableInput for `gold_<name>`: the temporary table's columns and storage (its new
    location, Parquet serde), an external table, its provenance in Parameters.

    Raises GoldError if the temporary table has no columns or lies elsewhere than `location`."""
    source = temporary.get("StorageDescriptor") or {}
    storage = {key: source[key] for key in STORAGE_DESCRIPTOR_KEYS if key in source}
    where = f"Athena's table {temporary.get('Name', '?')} for query {name}"
    if not storage.get("Columns"):
        raise GoldError(f"{where} has no columns; the query must select at least one.")
    if storage.get("Location", "").rstrip("/") != location.rstrip("/"):
        raise GoldError(f"{where} lies at {storage.get('Location')!r}, not at {location}.")
    for key, value in PARQUET_FORMATS.items():
        storage.setdefault(key, value)
    parameters = dict(temporary.get("Parameters") or {})
    parameters.update({"classification": "parquet", "EXTERNAL": "TRUE", "gold.run": run,
                       "gold.query": name + QUERY_SUFFIX})
    if query_id:
        parameters["gold.query_execution_id"] = query_id
    table: dict[str, Any] = {
        "Name": gold_table_name(name),
        "Description": (description or name)[:MAX_DESCRIPTION],
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": storage,
        "PartitionKeys": list(temporary.get("PartitionKeys") or []),
        "Parameters": parameters,
    }
    return table


# --- arguments -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """The job's arguments (set by components/analytics.py, `Analytics.gold_arguments`)."""

    workgroup: str
    database: str
    gold: str
    queries: str
    poll_seconds: float = GOLD_POLL_SECONDS
    query_timeout_minutes: float = DEFAULT_QUERY_TIMEOUT_MINUTES


REQUIRED_ARGUMENTS = ("workgroup", "database", "gold", "queries")


def parse_arguments(argv: list[str]) -> Settings:
    """Settings from `--key value` arguments; arguments Glue adds (`--JOB_NAME`, …) are ignored.
    A missing or bad argument exits with status 2 and argparse's one-line message."""
    parser = argparse.ArgumentParser(prog="export.py", description=__doc__.split("\n\n")[0],
                                     allow_abbrev=False)
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
    args, _unknown = parser.parse_known_args(argv)
    return check_settings(Settings(
        workgroup=args.workgroup, database=args.database, gold=args.gold, queries=args.queries,
        poll_seconds=args.poll_seconds, query_timeout_minutes=args.query_timeout_minutes),
        parser.error)


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


# --- the run -------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What became of one query."""

    name: str
    table: str = ""
    location: str = ""
    query_id: str = ""
    published: bool = False
    action: str = ""  # how gold_<name> was switched: "created" or "updated"
    error: str = ""  # the query failed; gold_<name> was left as it was
    warnings: list[str] = field(default_factory=list)  # published, but cleanup was incomplete
    seconds: float = 0.0
    scanned_bytes: int = 0

    @property
    def ok(self) -> bool:
        return self.published and not self.error and not self.warnings


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{count} B"  # unreachable


def summary_lines(outcomes: list[Outcome]) -> list[str]:
    """The run's last lines: a count, then one line per query that failed or left something."""
    published = sum(1 for outcome in outcomes if outcome.published)
    lines = [f"{published} of {len(outcomes)} queries published"]
    for outcome in outcomes:
        if outcome.error:
            lines.append(f"failed: {outcome.name}: {outcome.error}")
        for warning in outcome.warnings:
            lines.append(f"incomplete cleanup: {outcome.name}: {warning}")
    return lines


def exit_code(outcomes: list[Outcome]) -> int:
    return 0 if all(outcome.ok for outcome in outcomes) else 1


def _error_text(error: BaseException) -> str:
    """One line for an AWS or other error."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and response.get("Error"):
        details = response["Error"]
        return f"{details.get('Code', type(error).__name__)}: {details.get('Message', '')}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _is_not_found(error: BaseException) -> bool:
    response = getattr(error, "response", None)
    return isinstance(response, dict) and (response.get("Error") or {}).get("Code") in (
        "EntityNotFoundException", "NoSuchKey", "404")


class Exporter:
    """Runs the queries of one run; AWS clients and time are passed in (tests use moto)."""

    def __init__(self, settings: Settings, athena: Any, glue: Any, s3: Any, run: str,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings, self.run = settings, run
        self.athena, self.glue, self.s3 = athena, glue, s3
        self.sleep, self.clock = sleep, clock

    # S3 ---------------------------------------------------------------------------------

    def _list_keys(self, uri: str) -> list[str]:
        bucket, prefix = split_uri(uri)
        keys: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                       Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(keys)

    def queries(self) -> list[tuple[str, str]]:
        """(name, key) of each `<name>.sql` directly in the queries folder, sorted by name."""
        folder = folder_uri(self.settings.queries)
        _, prefix = split_uri(folder)
        try:
            keys = self._list_keys(folder)
        except Exception as error:  # any AWS error ends the run in one line
            raise GoldError(f"Cannot list the queries under {folder}: "
                            f"{_error_text(error)}") from None
        found = []
        for key in keys:
            relative = key[len(prefix):]
            if "/" not in relative and relative.endswith(QUERY_SUFFIX):
                found.append((relative[:-len(QUERY_SUFFIX)], key))
        return sorted(found)

    def _read_query(self, key: str) -> str:
        bucket, _ = split_uri(self.settings.queries)
        body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise GoldError(f"s3://{bucket}/{key} is not UTF-8 text ({error.reason} at byte "
                            f"{error.start}); save it as UTF-8.") from None

    # Athena -----------------------------------------------------------------------------

    def _execution(self, query_id: str) -> dict[str, Any]:
        return self.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]

    def _wait(self, query_id: str) -> dict[str, Any]:
        """The query's execution once it ended; a query still running at the timeout is stopped
        and reported as CANCELLED with a reason that says so."""
        deadline = self.clock() + self.settings.query_timeout_minutes * 60
        while True:
            execution = self._execution(query_id)
            if execution["Status"]["State"] in TERMINAL_STATES:
                return execution
            if self.clock() >= deadline:
                break
            self.sleep(self.settings.poll_seconds)
        self.athena.stop_query_execution(QueryExecutionId=query_id)
        grace = self.clock() + STOP_GRACE_SECONDS
        while execution["Status"]["State"] not in TERMINAL_STATES and self.clock() < grace:
            self.sleep(self.settings.poll_seconds)
            execution = self._execution(query_id)
        minutes = f"{self.settings.query_timeout_minutes:g}"
        status = dict(execution["Status"], State="CANCELLED",
                      StateChangeReason=f"still running after {minutes} min "
                                        f"(--query-timeout-minutes {minutes}); stopped it")
        return dict(execution, Status=status)

    def _stop_quietly(self, query_id: str) -> None:
        try:
            self.athena.stop_query_execution(QueryExecutionId=query_id)
        except Exception as error:  # best effort; the failure is reported anyway
            log.warning("could not stop query %s: %s", query_id, _error_text(error))

    # Glue -------------------------------------------------------------------------------

    def _get_table(self, table: str) -> dict[str, Any] | None:
        try:
            return self.glue.get_table(DatabaseName=self.settings.database, Name=table)["Table"]
        except Exception as error:
            if _is_not_found(error):
                return None
            raise

    def _delete_table(self, table: str) -> None:
        try:
            self.glue.delete_table(DatabaseName=self.settings.database, Name=table)
        except Exception as error:
            if not _is_not_found(error):
                raise

    def _switch(self, name: str, temporary: str, location: str, description: str,
                query_id: str) -> str:
        """Point `gold_<name>` at the temporary table's data; 'created' or 'updated'."""
        table = self._get_table(temporary)
        if table is None:
            raise GoldError(f"Athena reported success but table {temporary} is not in database "
                            f"{self.settings.database}.")
        table_input = gold_table_input(table, name, self.run, location, description, query_id)
        if self._get_table(table_input["Name"]) is None:
            self.glue.create_table(DatabaseName=self.settings.database, TableInput=table_input)
            return "created"
        self.glue.update_table(DatabaseName=self.settings.database, TableInput=table_input)
        return "updated"

    def _points_at(self, table: str, location: str) -> bool:
        """Whether `table` exists and reads `location` (False if that cannot be known)."""
        try:
            found = self._get_table(table)
        except Exception:  # unknown counts as no
            return False
        current = ((found or {}).get("StorageDescriptor") or {}).get("Location", "")
        return bool(current) and current.rstrip("/") == location.rstrip("/")

    # One query --------------------------------------------------------------------------

    def _discard(self, temporary: str, location: str) -> list[str]:
        """Undo a failed query: its temporary table and its new folder. Problems, as text."""
        problems = []
        try:
            self._delete_table(temporary)
        except Exception as error:  # reported with the failure
            problems.append(f"could not drop {temporary}: {_error_text(error)}")
        try:
            bucket, _ = split_uri(location)
            delete_keys(self.s3, bucket, self._list_keys(location))
        except Exception as error:  # reported with the failure
            problems.append(f"could not delete {location}: {_error_text(error)}")
        return problems

    def _tidy(self, name: str, temporary: str, location: str) -> list[str]:
        """After the switch: drop the temporary table and any left by killed runs, delete the
        older results. Never touches the new folder. Problems, as text."""
        problems = []
        try:
            self._delete_table(temporary)
        except Exception as error:  # reported, the switch already happened
            problems.append(f"could not drop {temporary}: {_error_text(error)}")
        folder = table_folder(self.settings.gold, name)
        try:
            bucket, folder_key = split_uri(folder)
            _, keep_key = split_uri(location)
            delete_keys(self.s3, bucket, stale_keys(self._list_keys(folder), folder_key,
                                                     keep_key))
        except Exception as error:  # reported, the switch already happened
            problems.append(f"could not delete older results under {folder}: "
                            f"{_error_text(error)}")
        try:
            # Glue's Expression narrows the listing (read as a regex or as Hive's `*` pattern,
            # this one matches the same names); `leftover_tables` decides.
            names: list[str] = []
            for page in self.glue.get_paginator("get_tables").paginate(
                    DatabaseName=self.settings.database,
                    Expression=gold_table_name(name) + TEMPORARY_SEPARATOR + ".*"):
                names.extend(table["Name"] for table in page.get("TableList", []))
            for table in leftover_tables(names, name, keep=temporary):
                self._delete_table(table)
                log.info("%s: dropped %s, left by an earlier run", name, table)
        except Exception as error:  # reported, the switch already happened
            problems.append(f"could not drop temporary tables of earlier runs: "
                            f"{_error_text(error)}")
        return problems

    def _fail(self, outcome: Outcome, reason: str, temporary: str = "",
              location: str = "") -> Outcome:
        problems = self._discard(temporary, location) if temporary else []
        outcome.error = "; ".join([reason, *problems])
        return outcome

    def export(self, name: str, key: str) -> Outcome:
        """Run one query into the gold zone (see the module's docstring)."""
        started = self.clock()
        outcome = Outcome(name=name)
        try:
            self._export(outcome, key)
        finally:
            outcome.seconds = self.clock() - started
            scanned = human_bytes(outcome.scanned_bytes)
            if outcome.published:
                log.info("%s: %s %s → %s in %.1f s, scanned %s (query %s)", name,
                         outcome.table, outcome.action, outcome.location, outcome.seconds,
                         scanned, outcome.query_id)
                for warning in outcome.warnings:
                    log.warning("%s: %s", name, warning)
            else:
                log.error("%s: FAILED after %.1f s, scanned %s: %s", name, outcome.seconds,
                          scanned, outcome.error or "interrupted")
        return outcome

    def _export(self, outcome: Outcome, key: str) -> None:
        name, settings = outcome.name, self.settings
        try:
            check_query_name(name)
            sql = self._read_query(key)
            select = select_statement(sql, name)
        except Exception as error:  # this query fails, the others run
            self._fail(outcome, _error_text(error))
            return
        temporary = temporary_table_name(name, self.run)
        location = result_location(settings.gold, name, self.run)
        outcome.table, outcome.location = gold_table_name(name), location
        try:
            started = self.athena.start_query_execution(
                QueryString=ctas(settings.database, temporary, location, select),
                QueryExecutionContext={"Database": settings.database},
                WorkGroup=settings.workgroup)
        except Exception as error:  # this query fails, the others run
            self._fail(outcome, f"Athena did not start the query: {_error_text(error)}")
            return
        outcome.query_id = started["QueryExecutionId"]
        try:
            execution = self._wait(outcome.query_id)
        except Exception as error:  # this query fails, the others run
            self._stop_quietly(outcome.query_id)
            self._fail(outcome, f"lost track of query {outcome.query_id}: {_error_text(error)}",
                       temporary, location)
            return
        status = execution["Status"]
        outcome.scanned_bytes = int((execution.get("Statistics") or {}).get(
            "DataScannedInBytes") or 0)
        if status["State"] != SUCCEEDED:
            reason = status.get("StateChangeReason") or f"the query ended {status['State']}"
            self._fail(outcome, f"{status['State']}: {reason}", temporary, location)
            return
        try:
            outcome.action = self._switch(name, temporary, location,
                                          query_description(sql, name), outcome.query_id)
        except Exception as error:  # undo, unless the switch went through
            if not self._points_at(outcome.table, location):
                self._fail(outcome, f"could not publish {outcome.table}: {_error_text(error)}",
                           temporary, location)
                return
            outcome.action = "switched (despite an error)"
        outcome.published = True
        outcome.warnings = self._tidy(name, temporary, location)

    def export_all(self) -> list[Outcome]:
        queries = self.queries()
        settings = self.settings
        log.info("run %s: %d query file(s) from %s into %s (workgroup %s, database %s)",
                 self.run, len(queries), settings.queries, settings.gold, settings.workgroup,
                 settings.database)
        if not queries:
            # The stack always deploys queries/: none means the code is gone, not that there is
            # nothing to do, and a green run would hide it.
            raise GoldError(f"No {QUERY_SUFFIX} files under {settings.queries}: the deployed "
                            f"queries are missing; run `pulumi up --refresh` to upload "
                            f"queries/ again.")
        return [self.export(name, key) for name, key in queries]


def aws_clients() -> tuple[Any, Any, Any]:
    """Athena, Glue and S3 clients that retry throttled calls."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 10, "mode": "standard"})
    return tuple(boto3.client(service, config=config) for service in ("athena", "glue", "s3"))


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = resolve_arguments(sys.argv[1:] if argv is None else argv)
    athena, glue, s3 = aws_clients()
    exporter = Exporter(settings, athena, glue, s3, run_id(datetime.now(timezone.utc)))
    try:
        outcomes = exporter.export_all()
    except GoldError as error:
        log.error("%s", error)
        return 1
    lines = summary_lines(outcomes)
    log.info("run %s: %s", exporter.run, lines[0])
    for line in lines[1:]:
        log.error("%s", line)
    return exit_code(outcomes)


if __name__ == "__main__":
    sys.exit(main())
