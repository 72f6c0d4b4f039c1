"""Whole gold runs against moto: the job's calls to S3, Glue and Athena, with a fake Athena that
does what a CTAS does (moto runs no SQL): first runs, repoints, failures kept local, timeouts,
killed runs, cleanup that fails, no queries; the small-group rule (the SQL the job sends, the
query it refuses, the bookkeeping)."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from typing import Any

import pytest

from jobs.gold import outcomes as gold_outcomes
from jobs.gold.exporter import Exporter
from jobs.gold.names import GoldError, result_location
from jobs.gold.sql import ctas
from tests.gold_moto import (
    ATHENA_REASON,
    COUNT_SCANNED,
    ROWS,
    SCANNED,
    WITHHELD_SCANNED,
    Lake,
    new_lake,
)
from tests.gold_queries import COLUMNS, MEDIA, NO_GROUP_SIZE, PRESENCA

RUN_1, RUN_2 = "20261124T101253Z", "20261125T101253Z"


@pytest.fixture
def lake(moto_env: str) -> Lake:
    return new_lake()


def test_a_first_run_creates_one_gold_table_per_query(lake: Lake) -> None:
    lake.put_query("media.sql", MEDIA)
    lake.put_query("presenca.sql", PRESENCA)
    lake.put_query("README.md", "not a query")
    lake.put_query("old/stale.sql", PRESENCA)  # only the folder's own files

    outcomes = lake.run(RUN_2)

    assert sorted(outcomes) == ["media", "presenca"]
    assert all(o.ok and o.action == "created" for o in outcomes.values())
    gold = f"s3://{lake.gold_bucket}/zone"
    first, second = lake.fake.started
    assert first["QueryString"] == (
        f'CREATE TABLE "{lake.database}"."gold_media__20261125t101253z" WITH (format = '
        f"'PARQUET', write_compression = 'ZSTD', external_location = "
        f"'{gold}/media/run=20261125T101253Z/') AS\nSELECT * FROM (\n"
        f"{MEDIA.rstrip().rstrip(';')}\n) AS answers\nWHERE \"n\" >= 10")
    assert second["location"] == f"{gold}/presenca/run=20261125T101253Z/"
    assert second["inner"] == PRESENCA.rstrip()
    assert second["condition"] == '"candidates" >= 10'
    for started in (first, second):
        assert started["QueryExecutionContext"] == {"Database": lake.database}
        assert started["WorkGroup"] == lake.settings.workgroup

    assert lake.tables() == ["gold_media", "gold_presenca"]  # temporary tables are gone
    for name in ("media", "presenca"):
        table = lake.table(f"gold_{name}")
        storage = table["StorageDescriptor"]
        assert storage["Location"] == f"{gold}/{name}/run={RUN_2}/"
        assert storage["Columns"] == COLUMNS[name]
        assert storage["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
        assert table["TableType"] == "EXTERNAL_TABLE"
        assert table["Parameters"]["classification"] == "parquet"
        assert table["Parameters"]["gold.run"] == RUN_2
        assert table["Parameters"]["gold.rows"] == str(ROWS)  # counted before the switch
        assert outcomes[name].scanned_bytes == SCANNED + COUNT_SCANNED + WITHHELD_SCANNED
    assert lake.table("gold_media")["Description"] == (
        "Média de matemática por UF da prova, presentes.")
    assert set(lake.objects()) == {  # each run folder: Athena's data and the job's record
        f"zone/{started['name']}/run={RUN_2}/{file}" for started in lake.fake.started
        for file in (f"{started['id']}_0.parquet", "_gold.json")}


def test_a_second_run_repoints_then_deletes_the_older_results(lake: Lake) -> None:
    lake.put_query("media.sql", MEDIA)
    lake.put_query("media_por_uf.sql", MEDIA)  # a sibling whose folder starts the same
    lake.run(RUN_1)
    lake.calls.clear()

    outcomes = lake.run(RUN_2)

    assert all(o.ok and o.action == "updated" for o in outcomes.values())
    gold = f"s3://{lake.gold_bucket}/zone"
    assert lake.location("gold_media") == f"{gold}/media/run={RUN_2}/"
    assert lake.location("gold_media_por_uf") == f"{gold}/media_por_uf/run={RUN_2}/"
    assert lake.tables() == ["gold_media", "gold_media_por_uf"]
    assert sorted({key.rsplit("/", 1)[0] for key in lake.objects()}) == [
        f"zone/media/run={RUN_2}", f"zone/media_por_uf/run={RUN_2}"]
    # Per query: the switch first, then the deletion of that query's older run only, at a
    # moment when the gold table already reads the new folder.
    kinds = [(kind, detail[0] if kind == "switch" else None) for kind, detail in lake.calls]
    assert kinds == [("switch", "gold_media"), ("delete", None),
                     ("switch", "gold_media_por_uf"), ("delete", None)]
    for (_, (table, location)), (_, (bucket, keys, seen)) in (lake.calls[0:2], lake.calls[2:4]):
        name = table[len("gold_"):]
        assert bucket == lake.gold_bucket
        assert keys and all(key.startswith(f"zone/{name}/run={RUN_1}/") for key in keys)
        assert seen[table] == location == f"{gold}/{name}/run={RUN_2}/"


def test_a_failed_query_keeps_the_previous_table_and_the_others_go_on(
        lake: Lake, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    lake.put_query("media.sql", MEDIA)
    lake.put_query("presenca.sql", PRESENCA)
    lake.run(RUN_1)
    before = lake.table("gold_media")
    old_keys = lake.objects("zone/media/")
    lake.fake.behaviour["media"] = "fail"
    caplog.set_level(logging.INFO, logger="lake.gold")

    code = lake.main(monkeypatch, "--poll-seconds", "0")

    assert code == 1
    after = lake.table("gold_media")
    assert after["StorageDescriptor"] == before["StorageDescriptor"]
    assert after["Parameters"]["gold.run"] == RUN_1
    assert lake.objects("zone/media/") == old_keys  # the failed run's part is gone, the old stays
    new_run = lake.location("gold_presenca").rsplit("run=", 1)[1].rstrip("/")
    assert new_run != RUN_1
    assert lake.tables() == ["gold_media", "gold_presenca"]  # no temporary table is left
    assert {k.rsplit("/", 1)[0] for k in lake.objects("zone/presenca/")} == {
        f"zone/presenca/run={new_run}"}
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors[-1] == f"failed: media: FAILED: {ATHENA_REASON}"
    assert re.fullmatch(rf"media: FAILED after \d+\.\d s, scanned 123\.5 MB: FAILED: "
                        rf"{re.escape(ATHENA_REASON)}", errors[0])
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert f"run {new_run}: 1 of 2 queries published" in infos
    assert any(re.fullmatch(rf"presenca: gold_presenca updated → "
                            rf"s3://\S+/zone/presenca/run={new_run}/ \({ROWS} rows; no group "
                            rf"withheld \(every group has candidates >= 10\)\) "
                            rf"in \d+\.\d s, scanned 247\.9 MB \(query \S+\)", line)
               for line in infos), infos
    assert "withheld: presenca: no group withheld (every group has candidates >= 10)" in infos


def test_an_empty_result_never_replaces_published_answers(lake: Lake) -> None:
    """Processed data that expired (or a processing run that wrote nothing) makes every query
    return no rows: the run fails that query, keeps the answers, and exits 1 (the alert)."""
    lake.put_query("media.sql", MEDIA)
    lake.put_query("presenca.sql", PRESENCA)
    lake.fake.rows["media"] = 27
    lake.run(RUN_1)
    before = lake.table("gold_media")
    old_keys = lake.objects("zone/media/")
    lake.fake.rows["media"] = 0

    outcomes = lake.run(RUN_2)

    empty = outcomes["media"]
    assert not empty.published
    assert empty.error == ("returned no rows, where gold_media has 27 rows: its input tables "
                           "are empty or gone (process the data again); gold_media keeps its "
                           "answers")
    assert lake.table("gold_media")["StorageDescriptor"] == before["StorageDescriptor"]
    assert lake.table("gold_media")["Parameters"]["gold.rows"] == "27"
    assert lake.objects("zone/media/") == old_keys  # the empty run's folder is gone
    assert outcomes["presenca"].ok  # the others go on
    assert lake.tables() == ["gold_media", "gold_presenca"]
    assert gold_outcomes.exit_code(list(outcomes.values())) == 1
    assert gold_outcomes.summary_lines(list(outcomes.values()))[1].startswith(
        "failed: media: returned no rows, where gold_media has 27 rows")
    counted = sorted(lake.fake.counted.values())
    assert counted == ["media", "media", "presenca", "presenca"]  # one COUNT(*) per CTAS
    assert sorted(sent["name"] for sent in lake.fake.withheld_counts) == counted


def test_an_empty_result_is_published_where_there_were_no_answers(lake: Lake) -> None:
    lake.put_query("presenca.sql", PRESENCA)
    lake.fake.rows["presenca"] = 0
    assert lake.run(RUN_1)["presenca"].ok  # nothing to lose: a first run may be empty
    assert lake.run(RUN_2)["presenca"].ok  # and an empty table may stay empty
    assert lake.table("gold_presenca")["Parameters"]["gold.rows"] == "0"
    assert lake.location("gold_presenca").endswith(f"/presenca/run={RUN_2}/")


def test_a_table_published_without_its_count_is_not_replaced_by_nothing(lake: Lake) -> None:
    lake.put_query("presenca.sql", PRESENCA)
    lake.run(RUN_1)
    table = lake.table("gold_presenca")  # as a run before `gold.rows` left it
    parameters = {k: v for k, v in table["Parameters"].items() if k != "gold.rows"}
    lake.glue.update_table(DatabaseName=lake.database, TableInput={
        "Name": table["Name"], "TableType": table["TableType"],
        "StorageDescriptor": table["StorageDescriptor"], "Parameters": parameters})
    lake.fake.rows["presenca"] = 0

    outcome = lake.run(RUN_2)["presenca"]

    assert outcome.error.startswith("returned no rows, where gold_presenca has rows: ")
    assert lake.location("gold_presenca").endswith(f"/presenca/run={RUN_1}/")


def test_the_count_runs_on_the_new_table_in_the_gold_workgroup(lake: Lake) -> None:
    lake.put_query("presenca.sql", PRESENCA)
    queries = []
    lake.athena.meta.events.register("before-parameter-build.athena.StartQueryExecution",
                                     lambda params, **_: queries.append(params))
    lake.run(RUN_2)
    ctas_query, count, withheld = queries
    assert count["QueryString"] == (f'SELECT COUNT(*) AS rows FROM "{lake.database}".'
                                    f'"gold_presenca__20261125t101253z"')
    assert count["WorkGroup"] == ctas_query["WorkGroup"] == lake.settings.workgroup
    assert withheld["WorkGroup"] == lake.settings.workgroup
    assert withheld["QueryString"].startswith("SELECT COUNT(*) AS groups, ")


def test_a_switch_that_fails_undoes_the_new_result(lake: Lake) -> None:
    lake.put_query("presenca.sql", PRESENCA)
    lake.run(RUN_1)

    def refuse(**_: Any) -> None:
        raise RuntimeError("Glue is down")

    lake.glue.meta.events.register("before-call.glue.UpdateTable", refuse)
    outcome = lake.run(RUN_2)["presenca"]

    assert not outcome.published
    assert outcome.error == "could not publish gold_presenca: Glue is down"
    assert lake.location("gold_presenca").endswith(f"/presenca/run={RUN_1}/")
    assert lake.tables() == ["gold_presenca"]
    assert {k.rsplit("/", 1)[0] for k in lake.objects()} == {f"zone/presenca/run={RUN_1}"}


def test_a_query_past_its_timeout_is_stopped_and_fails(lake: Lake) -> None:
    lake.put_query("media.sql", MEDIA)
    lake.put_query("presenca.sql", PRESENCA)
    lake.run(RUN_1)
    lake.fake.behaviour["presenca"] = "slow"

    outcomes = lake.run(RUN_2, poll_seconds=10.0, query_timeout_minutes=1.0)

    assert outcomes["media"].ok
    slow = outcomes["presenca"]
    assert not slow.published
    assert slow.error == ("CANCELLED: still running after 1 min (--query-timeout-minutes 1); "
                          "stopped it")
    execution = lake.athena.get_query_execution(QueryExecutionId=slow.query_id)
    assert execution["QueryExecution"]["Status"]["State"] == "CANCELLED"  # StopQueryExecution
    assert lake.location("gold_presenca").endswith(f"/presenca/run={RUN_1}/")
    assert {k.rsplit("/", 1)[0] for k in lake.objects("zone/presenca/")} == {
        f"zone/presenca/run={RUN_1}"}
    assert gold_outcomes.exit_code(list(outcomes.values())) == 1


def test_a_bad_query_file_fails_alone_without_reaching_athena(lake: Lake) -> None:
    lake.put_query("Media-UF.sql", MEDIA)
    lake.put_query("drop.sql", "DROP TABLE gold_presenca;")
    lake.put_query("presenca.sql", PRESENCA)

    outcomes = lake.run(RUN_2)

    assert outcomes["presenca"].ok
    assert "rename it, e.g. to media_uf.sql" in outcomes["Media-UF"].error
    assert "must be one query" in outcomes["drop"].error
    assert [s["name"] for s in lake.fake.started] == ["presenca"]
    assert lake.tables() == ["gold_presenca"]


def test_temporary_tables_left_by_a_killed_run_are_dropped(lake: Lake) -> None:
    lake.put_query("presenca.sql", PRESENCA)
    # A run killed after its CTAS: a temporary table and its data, never switched to.
    location = result_location(lake.settings.gold, "presenca", RUN_1)
    lake.athena.start_query_execution(
        QueryString=ctas(lake.database, "gold_presenca__20261124t101253z", location, PRESENCA),
        QueryExecutionContext={"Database": lake.database}, WorkGroup=lake.settings.workgroup)
    assert lake.tables() == ["gold_presenca__20261124t101253z"]

    outcomes = lake.run(RUN_2)

    assert outcomes["presenca"].ok
    assert lake.tables() == ["gold_presenca"]
    assert {k.rsplit("/", 1)[0] for k in lake.objects()} == {f"zone/presenca/run={RUN_2}"}


def test_a_clean_up_that_fails_after_the_switch_is_reported_not_undone(lake: Lake) -> None:
    lake.put_query("presenca.sql", PRESENCA)
    lake.run(RUN_1)

    def refuse(parsed: dict[str, Any], **_: Any) -> None:
        parsed["Errors"] = [{"Key": "zone/presenca/run=x/a.parquet", "Code": "AccessDenied",
                             "Message": "Access Denied"}]

    lake.s3.meta.events.register("after-call.s3.DeleteObjects", refuse)
    outcomes = lake.run(RUN_2)

    outcome = outcomes["presenca"]
    assert outcome.published and not outcome.error
    assert outcome.warnings == [
        f"could not delete older results under {lake.settings.gold}/presenca/: could not delete "
        f"1 object(s) in s3://{lake.gold_bucket}/, e.g. zone/presenca/run=x/a.parquet: "
        f"AccessDenied Access Denied"]
    assert lake.location("gold_presenca").endswith(f"/presenca/run={RUN_2}/")
    assert gold_outcomes.summary_lines([outcome])[1].startswith("incomplete cleanup: presenca: ")
    assert gold_outcomes.exit_code([outcome]) == 1


def test_no_queries_fails_the_run_loudly(lake: Lake) -> None:
    """The stack always uploads queries/: an empty folder means the code is gone (an expired
    object, a hand-made deletion), and a green run would hide it."""
    with pytest.raises(GoldError, match=r"^No \.sql files under s3://.*/queries/0123abcd/: "
                                        r"the deployed queries are missing; run "
                                        r"`pulumi up --refresh`"):
        lake.exporter(RUN_2).export_all()
    assert lake.fake.started == []


def test_main_exits_1_when_no_queries_are_deployed(lake: Lake, monkeypatch, caplog) -> None:
    caplog.set_level(logging.INFO, logger="lake.gold")
    assert lake.main(monkeypatch) == 1
    assert any(r.levelname == "ERROR" and r.getMessage().startswith("No .sql files under")
               for r in caplog.records)


def test_an_unreadable_queries_folder_ends_the_run_in_one_line(lake: Lake) -> None:
    missing = replace(lake.settings, queries="s3://no-such-bucket-gold-test/queries/")
    exporter = Exporter(missing, lake.athena, lake.glue, lake.s3, RUN_2)
    with pytest.raises(GoldError, match=r"^Cannot list the queries under "
                                        r"s3://no-such-bucket-gold-test/queries/: NoSuchBucket"):
        exporter.export_all()


# --- small groups are never published ----------------------------------------------------------

def test_the_ctas_keeps_only_groups_at_the_threshold_and_the_run_records_what_it_withheld(
        lake: Lake, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    lake.put_query("media.sql", MEDIA)
    lake.fake.rows["media"], lake.fake.withheld["media"] = 20, 7
    caplog.set_level(logging.INFO, logger="lake.gold")

    code = lake.main(monkeypatch, "--poll-seconds", "0", "--min-group-size", "25")

    assert code == 0
    [started] = lake.fake.started
    select = MEDIA.rstrip().rstrip(";")
    assert started["inner"] == select and started["condition"] == '"n" >= 25'
    [withheld] = lake.fake.withheld_counts
    assert withheld["QueryString"] == (
        'SELECT COUNT(*) AS groups, COALESCE(SUM(CASE WHEN "n" >= 25 THEN 0 ELSE 1 END), 0) AS '
        'withheld, COALESCE(SUM(CASE WHEN "n" >= 25 THEN 0 ELSE 1 END), 0) AS below_1\n'
        f"FROM (\n{select}\n) AS answers")
    assert withheld["WorkGroup"] == lake.settings.workgroup
    table = lake.table("gold_media")
    location = table["StorageDescriptor"]["Location"]
    assert {key: table["Parameters"][key] for key in table["Parameters"]
            if key.startswith("gold.") and key not in ("gold.query_execution_id",)} == {
        "gold.run": location.rsplit("run=", 1)[1].rstrip("/"), "gold.query": "media.sql",
        "gold.rows": "20", "gold.groups": "27", "gold.withheld": "7",
        "gold.min_group_size": "25", "gold.group_size_columns": "n"}
    bucket_key = location[len(f"s3://{lake.gold_bucket}/"):] + "_gold.json"
    record = json.loads(lake.s3.get_object(Bucket=lake.gold_bucket, Key=bucket_key)["Body"]
                        .read())
    assert record == {"query": "media.sql", "run": table["Parameters"]["gold.run"], "rows": 20,
                      "min_group_size": 25, "group_size_columns": ["n"], "groups": 27,
                      "withheld": 7, "below": {"n": 7}}
    infos = [r.getMessage() for r in caplog.records if r.name == "lake.gold"]
    assert "withheld: media: 7 groups withheld (n < 25)" in infos


def test_a_query_that_names_no_group_size_is_refused_in_one_line_before_athena(
        lake: Lake, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    lake.put_query("por_uf.sql", NO_GROUP_SIZE)
    lake.put_query("presenca.sql", PRESENCA)
    caplog.set_level(logging.INFO, logger="lake.gold")

    code = lake.main(monkeypatch, "--poll-seconds", "0")

    assert code == 1
    errors = [r.getMessage() for r in caplog.records
              if r.name == "lake.gold" and r.levelno >= logging.ERROR]
    assert errors[-1] == (
        "failed: por_uf: Query file por_uf.sql names no group-size column, so gold cannot "
        "withhold its small groups: select each row's number of candidates AS candidates, or "
        "name the column(s) that count them in its header, e.g. `-- group size: essays` "
        "(queries/README.md).")
    assert [s["name"] for s in lake.fake.started] == ["presenca"]  # nothing of it ran
    assert lake.tables() == ["gold_presenca"] and not lake.objects("zone/por_uf/")


def test_a_header_that_names_a_column_the_query_does_not_select_is_refused(lake: Lake) -> None:
    lake.put_query("media.sql", MEDIA.replace("-- Group size: n.", "-- Group size: alunos."))
    outcome = lake.run(RUN_2)["media"]
    assert outcome.error == (
        "Query file media.sql names the group-size column alunos in its header but does not "
        "select it (it selects sg_uf_prova, media_mt, n); select it, or name the column that "
        "counts each row's candidates.")
    assert lake.fake.started == [] and lake.tables() == []


def test_an_empty_result_whose_groups_were_all_withheld_replaces_the_answers(
        lake: Lake) -> None:
    """Answers are never replaced by nothing, unless the rule withheld them: a higher threshold
    must take effect."""
    lake.put_query("media.sql", MEDIA)
    lake.fake.rows["media"] = 27
    lake.run(RUN_1)
    lake.fake.rows["media"], lake.fake.withheld["media"] = 0, 27

    outcome = lake.run(RUN_2, min_group_size=1000)["media"]

    assert outcome.ok, outcome.error
    table = lake.table("gold_media")
    assert table["StorageDescriptor"]["Location"].endswith(f"/media/run={RUN_2}/")
    assert (table["Parameters"]["gold.rows"], table["Parameters"]["gold.withheld"]) == ("0", "27")
    assert lake.fake.started[-1]["condition"] == '"n" >= 1000'


@pytest.mark.parametrize(("fault", "message"), [
    ("fail", f"could not count the groups it withheld: {ATHENA_REASON}"),
    ("disagree", "could not count the groups it withheld: the result has 3 rows, but 10 "
                 "groups less 0 withheld leave 10; the small-group filter did not hold, so "
                 "nothing was published"),
])
def test_an_unverified_count_of_withheld_groups_keeps_the_previous_table(
        lake: Lake, fault: str, message: str) -> None:
    lake.put_query("media.sql", MEDIA)
    lake.run(RUN_1)
    before = lake.table("gold_media")
    if fault == "fail":
        lake.fake.behaviour["media"] = "fail_withheld"
    else:
        lake.fake.groups["media"] = 10

    outcome = lake.run(RUN_2)["media"]

    assert not outcome.published and outcome.error == message
    assert lake.table("gold_media")["StorageDescriptor"] == before["StorageDescriptor"]
    assert {k.rsplit("/", 1)[0] for k in lake.objects("zone/media/")} == {
        f"zone/media/run={RUN_1}"}
    assert lake.tables() == ["gold_media"]
