"""One gold run: each saved query as a CTAS into a new folder, the switch of `gold_<name>` to it,
and the clean-up; a failed query keeps the previous table (jobs/gold/export.py runs it)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from jobs.contract import QUERY_SUFFIX, query_description
from jobs.gold.names import (
    TEMPORARY_SEPARATOR,
    GoldError,
    check_query_name,
    folder_uri,
    gold_table_name,
    leftover_tables,
    result_location,
    split_uri,
    stale_keys,
    table_folder,
    temporary_table_name,
)
from jobs.gold.outcomes import Outcome, human_bytes
from jobs.gold.privacy import (
    SIDECAR,
    Withholding,
    group_size_columns,
    published_select,
    sidecar_text,
    withheld_select,
    withholding_from_row,
)
from jobs.gold.settings import Settings
from jobs.gold.sql import count_rows, ctas, select_statement
from jobs.gold.tables import empty_result_problem, gold_table_input, published_rows
from jobs.storage import delete_keys

log = logging.getLogger("lake.gold")

SUCCEEDED = "SUCCEEDED"
TERMINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")
STOP_GRACE_SECONDS = 60.0  # after StopQueryExecution, wait this long for Athena to stop writing


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
                outcome: Outcome) -> str:
        """Point `gold_<name>` at the temporary table's data; 'created' or 'updated'."""
        table = self._get_table(temporary)
        if table is None:
            raise GoldError(f"Athena reported success but table {temporary} is not in database "
                            f"{self.settings.database}.")
        table_input = gold_table_input(table, name, self.run, location, description,
                                       outcome.query_id, outcome.rows, outcome.withholding)
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

    def _one_row(self, outcome: Outcome, sql: str) -> list[str]:
        """The values of the one row a SELECT answers, run in the same workgroup (its data
        scanned counts to the query's). Athena's first result row holds the column names, the
        second the values."""
        started = self.athena.start_query_execution(
            QueryString=sql, QueryExecutionContext={"Database": self.settings.database},
            WorkGroup=self.settings.workgroup)
        query_id = started["QueryExecutionId"]
        execution = self._wait(query_id)
        outcome.scanned_bytes += int((execution.get("Statistics") or {}).get(
            "DataScannedInBytes") or 0)
        status = execution["Status"]
        if status["State"] != SUCCEEDED:
            raise GoldError(status.get("StateChangeReason") or f"it ended {status['State']}")
        rows = self.athena.get_query_results(QueryExecutionId=query_id,
                                             MaxResults=2)["ResultSet"]["Rows"]
        return [cell.get("VarCharValue", "") for cell in rows[1]["Data"]]

    def _count_rows(self, outcome: Outcome, temporary: str) -> int:
        """Rows of the table a CTAS just wrote, by a COUNT(*) of it."""
        return int(self._one_row(outcome, count_rows(self.settings.database, temporary))[0])

    def _count_withheld(self, outcome: Outcome, select: str,
                        columns: tuple[str, ...]) -> Withholding:
        """How many of the query's groups the small-group rule withheld, and in which column:
        the query once more, counted (Athena cannot write a CTAS and count what it left out in
        one statement, and the small groups must never reach the gold zone)."""
        size = self.settings.min_group_size
        values = self._one_row(outcome, withheld_select(select, columns, size))
        return withholding_from_row(values, columns, size)

    def _write_sidecar(self, outcome: Outcome, withholding: Withholding) -> None:
        """`_gold.json` in the new folder, before the switch: the run's rows and what it
        withheld, for `lake report` (Athena skips files whose names start with `_`)."""
        bucket, key = split_uri(outcome.location)
        self.s3.put_object(Bucket=bucket, Key=key + SIDECAR, ContentType="application/json",
                           Body=sidecar_text(outcome.name, self.run, outcome.rows,
                                             withholding).encode("utf-8"))

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
                withheld = outcome.withholding.summary() if outcome.withholding else ""
                log.info("%s: %s %s → %s (%d rows; %s) in %.1f s, scanned %s (query %s)", name,
                         outcome.table, outcome.action, outcome.location, outcome.rows,
                         withheld, outcome.seconds, scanned, outcome.query_id)
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
            columns = group_size_columns(sql, name)  # no query skips the small-group rule
        except Exception as error:  # this query fails, the others run
            self._fail(outcome, _error_text(error))
            return
        temporary = temporary_table_name(name, self.run)
        location = result_location(settings.gold, name, self.run)
        outcome.table, outcome.location = gold_table_name(name), location
        try:
            started = self.athena.start_query_execution(
                QueryString=ctas(settings.database, temporary, location,
                                 published_select(select, columns, settings.min_group_size)),
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
            outcome.rows = self._count_rows(outcome, temporary)
        except Exception as error:  # unverified answers are not published
            self._fail(outcome, f"could not count the rows it wrote: {_error_text(error)}",
                       temporary, location)
            return
        try:
            withholding = self._count_withheld(outcome, select, columns)
            withholding.check(outcome.rows)
        except Exception as error:  # unverified answers are not published
            self._fail(outcome, f"could not count the groups it withheld: "
                                f"{_error_text(error)}", temporary, location)
            return
        outcome.withholding = withholding
        try:
            problem = empty_result_problem(outcome.table, outcome.rows,
                                           published_rows(self._get_table(outcome.table)),
                                           withholding.withheld)
        except Exception as error:  # unverified answers are not published
            problem = f"could not read {outcome.table}: {_error_text(error)}"
        if problem:
            self._fail(outcome, problem, temporary, location)
            return
        try:
            self._write_sidecar(outcome, withholding)
        except Exception as error:  # a table without its record is not published
            self._fail(outcome, f"could not write {location}{SIDECAR}: {_error_text(error)}",
                       temporary, location)
            return
        try:
            outcome.action = self._switch(name, temporary, location,
                                          query_description(sql, name), outcome)
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
