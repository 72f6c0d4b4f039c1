"""A gold job's world in moto: the buckets, the Glue database and the Athena workgroup it runs
in, and a fake Athena that does what a CTAS does when the job starts one (moto runs no SQL)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import boto3

from jobs.gold import names, tables
from jobs.gold.exporter import Exporter
from jobs.gold.outcomes import Outcome
from jobs.gold.settings import Settings
from tests.gold_queries import (
    COLUMNS,
    COUNT_PATTERN,
    CTAS_PATTERN,
    PUBLISHED_PATTERN,
    WITHHELD_PATTERN,
)

ATHENA_REASON = "COLUMN_NOT_FOUND: line 3:8: Column 'nu_nota_xx' cannot be resolved"
SCANNED = 123_456_789
COUNT_SCANNED = 1_000_000  # what the COUNT(*) of a new table reports scanning
WITHHELD_SCANNED = SCANNED  # the withheld count runs the query once more
ROWS = 3  # what a CTAS writes unless `rows[name]` says otherwise
PARQUET = b"PAR1" + b"\0" * 16 + b"PAR1"


@dataclass
class FakeAthena:
    """What Athena's CTAS does, done in moto when the job starts a query (see the module's
    docstring). `behaviour[name]`: "ok", "fail" (writes a part and the table, then FAILED),
    "slow" (RUNNING until stopped) or "fail_withheld" (the CTAS succeeds, the count of withheld
    groups FAILS); `rows[name]`: how many rows its CTAS writes, which the job's COUNT(*) of the
    new table then reads (default ROWS); `withheld[name]`: how many groups the count of withheld
    groups reports (default 0), each below the threshold in every group-size column; `groups[name]`:
    the query's groups that count reports (default rows + withheld)."""

    athena: Any
    glue: Any
    s3: Any
    behaviour: dict[str, str] = field(default_factory=dict)
    started: list[dict[str, Any]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # query id -> query name
    rows: dict[str, int] = field(default_factory=dict)
    counted: dict[str, str] = field(default_factory=dict)  # COUNT(*) query id -> query name
    withheld: dict[str, int] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)
    withheld_counts: list[dict[str, Any]] = field(default_factory=list)  # the statements sent
    pending: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        events = self.athena.meta.events
        events.register("before-parameter-build.athena.StartQueryExecution", self._capture)
        events.register("before-parameter-build.athena.GetQueryResults", self._capture)
        events.register("after-call.athena.StartQueryExecution", self._ctas)
        events.register("after-call.athena.GetQueryExecution", self._status)
        events.register("after-call.athena.GetQueryResults", self._results)

    def _capture(self, params: dict[str, Any], **_: Any) -> None:
        self.pending = dict(params)

    def _ctas(self, parsed: dict[str, Any], **_: Any) -> None:
        request = self.pending
        count = COUNT_PATTERN.match(request["QueryString"])
        if count:
            self.counted[parsed["QueryExecutionId"]] = count["table"][len("gold_"):].split("__")[0]
            return
        withheld = WITHHELD_PATTERN.match(request["QueryString"])
        if withheld:  # the query of the last CTAS that ran the same select
            name = next(started["name"] for started in reversed(self.started)
                        if started["inner"] == withheld["select"])
            self.names[parsed["QueryExecutionId"]] = name
            self.withheld_counts.append({**request, **withheld.groupdict(), "name": name,
                                         "id": parsed["QueryExecutionId"]})
            return
        match = CTAS_PATTERN.match(request["QueryString"])
        assert match, request["QueryString"]
        query_id = parsed["QueryExecutionId"]
        name = match["table"][len("gold_"):].split("__")[0]
        self.names[query_id] = name
        published = PUBLISHED_PATTERN.match(match["select"])
        self.started.append({**request, **match.groupdict(), "name": name, "id": query_id,
                             "inner": published["select"] if published else None,
                             "condition": published["condition"] if published else None})
        bucket, key = names.split_uri(match["location"])
        self.s3.put_object(Bucket=bucket, Key=f"{key}{query_id}_0.parquet", Body=PARQUET)
        if self.behaviour.get(name, "ok") in ("ok", "fail"):
            self.glue.create_table(DatabaseName=match["database"], TableInput={
                "Name": match["table"], "TableType": "EXTERNAL_TABLE",
                "Parameters": {"EXTERNAL": "TRUE", "has_encrypted_data": "false"},
                "StorageDescriptor": {"Columns": COLUMNS[name], "Location": match["location"],
                                      **tables.PARQUET_FORMATS}})

    def _withheld_count(self, query_id: str) -> dict[str, Any] | None:
        return next((sent for sent in self.withheld_counts if sent["id"] == query_id), None)

    def _results(self, parsed: dict[str, Any], **_: Any) -> None:
        query_id = self.pending.get("QueryExecutionId", "")
        name = self.counted.get(query_id)
        if name is not None:  # a SELECT's results: the header row, then the values
            parsed["ResultSet"] = {"Rows": [{"Data": [{"VarCharValue": "rows"}]}, {"Data": [
                {"VarCharValue": str(self.rows.get(name, ROWS))}]}]}
        sent = self._withheld_count(query_id)
        if sent is not None:
            name = sent["name"]
            withheld = self.withheld.get(name, 0)
            groups = self.groups.get(name, self.rows.get(name, ROWS) + withheld)
            columns = sent["counts"].count(" AS below_")
            values = [groups, withheld, *[withheld] * columns]
            header = ["groups", "withheld", *[f"below_{n}" for n in range(1, columns + 1)]]
            parsed["ResultSet"] = {"Rows": [
                {"Data": [{"VarCharValue": column} for column in header]},
                {"Data": [{"VarCharValue": str(value)} for value in values]}]}

    def _status(self, parsed: dict[str, Any], **_: Any) -> None:
        execution = parsed["QueryExecution"]
        if execution["QueryExecutionId"] in self.counted:
            execution.setdefault("Statistics", {})["DataScannedInBytes"] = COUNT_SCANNED
            return
        behaviour = self.behaviour.get(self.names.get(execution["QueryExecutionId"], ""), "ok")
        if self._withheld_count(execution["QueryExecutionId"]) is not None:
            execution.setdefault("Statistics", {})["DataScannedInBytes"] = WITHHELD_SCANNED
            if behaviour == "fail_withheld":
                execution["Status"].update(State="FAILED", StateChangeReason=ATHENA_REASON)
            return
        execution.setdefault("Statistics", {})["DataScannedInBytes"] = SCANNED
        if behaviour == "fail":
            execution["Status"].update(State="FAILED", StateChangeReason=ATHENA_REASON)
        elif behaviour == "slow" and execution["Status"]["State"] != "CANCELLED":
            execution["Status"]["State"] = "RUNNING"


@dataclass
class Lake:
    """A gold zone, an artifacts bucket with the packaged queries, a Glue database and an Athena
    workgroup in moto, and the calls the job made, in order."""

    athena: Any
    glue: Any
    s3: Any
    gold_bucket: str
    settings: Settings
    fake: FakeAthena
    calls: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def database(self) -> str:
        return self.settings.database

    def put_query(self, name: str, sql: str) -> None:
        bucket, prefix = names.split_uri(self.settings.queries)
        self.s3.put_object(Bucket=bucket, Key=f"{prefix}{name}", Body=sql.encode("utf-8"))

    def exporter(self, run_id: str, **settings: Any) -> Exporter:
        clock = [0.0]

        def sleep(seconds: float) -> None:
            clock[0] += max(seconds, 1.0)

        return Exporter(replace(self.settings, **settings), self.athena, self.glue, self.s3,
                        run_id, sleep=sleep, clock=lambda: clock[0])

    def run(self, run_id: str, **settings: Any) -> dict[str, Outcome]:
        return {o.name: o for o in self.exporter(run_id, **settings).export_all()}

    def main(self, monkeypatch: Any, *extra: str) -> int:
        """The gold job's entry point, as Glue starts it, on this lake's clients."""
        from jobs.gold import export

        monkeypatch.setattr(export, "aws_clients", lambda: (self.athena, self.glue, self.s3))
        return export.main(["--workgroup", self.settings.workgroup, "--database", self.database,
                            "--gold", self.settings.gold, "--queries", self.settings.queries,
                            *extra])

    def table(self, name: str) -> dict[str, Any] | None:
        try:
            return self.glue.get_table(DatabaseName=self.database, Name=name)["Table"]
        except self.glue.exceptions.EntityNotFoundException:
            return None

    def tables(self) -> list[str]:
        return sorted(t["Name"] for t in self.glue.get_tables(DatabaseName=self.database)[
            "TableList"])

    def objects(self, prefix: str = "") -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=self.gold_bucket, Prefix=prefix)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def location(self, table: str) -> str:
        return self.table(table)["StorageDescriptor"]["Location"]


def new_lake() -> Lake:
    """A fresh gold zone, artifacts and results buckets, database and workgroup in moto."""
    suffix = uuid.uuid4().hex[:8]
    athena, glue, s3 = (boto3.client(s) for s in ("athena", "glue", "s3"))
    inspector = boto3.client("glue")  # looks at the catalog from inside event handlers
    gold, artifacts, results = (f"datalake-test-{part}-{suffix}"
                                for part in ("gold", "artifacts", "athena-results"))
    for bucket in (gold, artifacts, results):
        s3.create_bucket(Bucket=bucket,
                         CreateBucketConfiguration={"LocationConstraint": "sa-east-1"})
    database = f"datalake_test_{suffix}"
    glue.create_database(DatabaseInput={"Name": database})
    workgroup = f"datalake-test-{suffix}"
    athena.create_work_group(Name=workgroup, Configuration={
        "ResultConfiguration": {"OutputLocation": f"s3://{results}/results/"},
        "EnforceWorkGroupConfiguration": True})
    settings = Settings(workgroup=workgroup, database=database, gold=f"s3://{gold}/zone",
                        queries=f"s3://{artifacts}/queries/0123abcd/", poll_seconds=0.0)
    # "Athena" writes with clients of its own, so the calls recorded below are the job's.
    fake = FakeAthena(athena, boto3.client("glue"), boto3.client("s3"))
    result = Lake(athena, glue, s3, gold, settings, fake)

    def switch(params: dict[str, Any], event_name: str, **_: Any) -> None:
        table = params["TableInput"]
        result.calls.append(("switch", (table["Name"], table["StorageDescriptor"]["Location"])))

    def delete(params: dict[str, Any], **_: Any) -> None:
        keys = [item["Key"] for item in params["Delete"]["Objects"]]
        gold_locations = {t["Name"]: t["StorageDescriptor"]["Location"] for t in
                          inspector.get_tables(DatabaseName=database)["TableList"]}
        result.calls.append(("delete", (params["Bucket"], keys, gold_locations)))

    glue.meta.events.register("before-parameter-build.glue.CreateTable", switch)
    glue.meta.events.register("before-parameter-build.glue.UpdateTable", switch)
    s3.meta.events.register("before-parameter-build.s3.DeleteObjects", delete)
    return result
