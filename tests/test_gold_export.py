"""The gold job (jobs/gold/export.py): its plain functions (names, the CTAS text, what to delete,
the arguments) and whole runs against S3, Glue and Athena in moto's server.

Athena in moto runs no SQL, so `FakeAthena` does what a CTAS does: when the job starts a query it
parses the CTAS and creates the temporary Glue table and a Parquet object under the external
location; per query it can make Athena report FAILED, or keep it RUNNING until it is stopped.
Everything after that (the switch, the clean-up) runs for real against moto."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.config import load_config
from components.datalake import DataLake, DataLakeArgs
from components.packaging import PROJECT_ROOT, SourceTree
from jobs import contract
from jobs.gold import names, tables
from jobs.gold import settings as gold_settings
from jobs.gold.names import GoldError, leftover_tables, result_location, stale_keys
from jobs.gold.settings import Settings, parse_arguments
from jobs.gold.sql import ctas, select_statement
from jobs.gold.tables import gold_table_input
from policies.mocks import run, stack_config
from tests.gold_queries import COLUMNS, CTAS_PATTERN, MEDIA, PRESENCA

RUN_1, RUN_2 = "20261124T101253Z", "20261125T101253Z"


# --- names and locations -------------------------------------------------------------------

def test_the_run_id_is_the_utc_stamp() -> None:
    local = datetime(2026, 11, 25, 7, 12, 53, tzinfo=timezone(timedelta(hours=-3)))
    assert names.run_id(local) == RUN_2
    assert names.temporary_table_name("media_por_uf", RUN_2) == (
        "gold_media_por_uf__20261125t101253z")
    assert names.gold_table_name("media_por_uf") == "gold_media_por_uf"


@pytest.mark.parametrize("name", ["media", "media_por_uf", "q1", "nota_2019_por_escola"])
def test_lower_case_names_with_single_underscores_are_query_names(name: str) -> None:
    assert names.check_query_name(name) == name


@pytest.mark.parametrize(("name", "suggestion"), [
    ("Media_Por_UF", "media_por_uf"),
    ("media-por-uf", "media_por_uf"),
    ("Média por UF", "media_por_uf"),
    ("media__por_uf", "media_por_uf"),  # `__` separates a temporary table's run id
    ("_media", "media"),
    ("2019_media", "q_2019_media"),
    ("x" * 129, ""),
    ("", ""),
])
def test_other_names_are_refused_with_a_suggestion(name: str, suggestion: str) -> None:
    with pytest.raises(GoldError) as error:
        names.check_query_name(name)
    message = str(error.value)
    assert message.startswith(f"Query file {name}.sql must be named with lower-case letters")
    assert "Glue table gold_<name>" in message
    assert (f"e.g. to {suggestion}.sql" in message) == bool(suggestion)


def test_a_bad_name_stops_the_pulumi_program_before_anything_is_declared(
        tmp_path: Path) -> None:
    folder = tmp_path / "queries"
    folder.mkdir()
    (folder / "media.sql").write_text(PRESENCA)
    (folder / "Media-UF.sql").write_text(PRESENCA)
    queries = SourceTree("queries", root=tmp_path)
    with pytest.raises(pulumi.RunError, match=r"Query file Media-UF\.sql .* media_uf\.sql"):
        run(lambda: DataLake("enem", DataLakeArgs(dataset="enem", config=load_config(),
                                                  queries=queries)),
            stack="dev", config=stack_config("dev"))


@pytest.mark.parametrize(("gold", "expected"), [
    ("s3://gold-bucket", "s3://gold-bucket/media/run=20261125T101253Z/"),
    ("s3://gold-bucket/", "s3://gold-bucket/media/run=20261125T101253Z/"),
    ("s3://gold-bucket/zone/", "s3://gold-bucket/zone/media/run=20261125T101253Z/"),
])
def test_each_run_writes_a_new_folder_under_the_query_folder(gold: str, expected: str) -> None:
    assert result_location(gold, "media", RUN_2) == expected
    assert names.table_folder(gold, "media") == expected.split("run=")[0]


def test_the_clean_up_deletes_older_runs_of_that_query_only() -> None:
    keys = ["zone/media/run=1/a.parquet", "zone/media/run=2/a.parquet", "zone/media/stray",
            "zone/media_por_uf/run=1/a.parquet", "zone/mediana/run=1/a.parquet",
            "zone/other/media/run=1/a.parquet"]
    assert stale_keys(keys, "zone/media/", "zone/media/run=2/") == [
        "zone/media/run=1/a.parquet", "zone/media/stray"]
    with pytest.raises(ValueError):
        stale_keys(keys, "zone/media", "zone/media/run=2/")


def test_temporary_tables_of_killed_runs_are_recognised() -> None:
    tables = ["gold_media", "gold_media__20261124t101253z", "gold_media__20261125t101253z",
              "gold_media_por_uf__20261124t101253z", "gold_media__backup", "media"]
    assert leftover_tables(tables, "media", keep="gold_media__20261125t101253z") == [
        "gold_media__20261124t101253z"]


# --- the SQL -------------------------------------------------------------------------------

@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT 1", "SELECT 1"),
    ("SELECT 1;", "SELECT 1"),
    ("SELECT 1 ;\n\n", "SELECT 1"),
    ("SELECT 1;;", "SELECT 1"),
    ("SELECT 1; -- the end\n", "SELECT 1"),
    ("SELECT 1 -- trailing note\n;\n/* done */\n", "SELECT 1"),
    ("-- question\n-- population\nSELECT 1\nORDER BY 1;\n",
     "-- question\n-- population\nSELECT 1\nORDER BY 1"),
    ("\ufeff-- bom\nSELECT 1;", "-- bom\nSELECT 1"),
    ("/* header */ WITH t AS (SELECT 1 AS x) SELECT x FROM t",
     "/* header */ WITH t AS (SELECT 1 AS x) SELECT x FROM t"),
    ("SELECT ';' AS s, 'it''s -- no comment' AS t, \"a;\"\"b\" FROM x;",
     "SELECT ';' AS s, 'it''s -- no comment' AS t, \"a;\"\"b\" FROM x"),
    ("(SELECT 1) UNION ALL (SELECT 2);", "(SELECT 1) UNION ALL (SELECT 2)"),
    ("values (1), (2)", "values (1), (2)"),
])
def test_the_statement_loses_trailing_semicolons_and_comments(sql: str, expected: str) -> None:
    assert select_statement(sql, "q") == expected


@pytest.mark.parametrize(("sql", "message"), [
    ("", "holds no statement"),
    ("-- only a comment\n;\n", "holds no statement"),
    ("SELECT 1; SELECT 2", "more than one statement"),
    ("SELECT 1;\nDROP TABLE x", "more than one statement"),
    ("SELECT 'open", "string that is never closed"),
    ('SELECT "open', "quoted identifier that is never closed"),
    ("SELECT 1 /* open", "/* comment that is never closed"),
    ("CREATE TABLE x AS SELECT 1", "must be one query (SELECT, or WITH … SELECT), not "
                                   "'CREATE TABLE x AS SELECT 1'"),
    ("DROP TABLE gold_media", "not 'DROP TABLE gold_media'"),
    ("selection", "must be one query"),
])
def test_a_file_that_is_not_one_query_is_refused(sql: str, message: str) -> None:
    with pytest.raises(GoldError, match=re.escape(message)) as error:
        select_statement(sql, "media")
    assert str(error.value).startswith("Query file media.sql ")


PROJECT_QUERIES = sorted((PROJECT_ROOT / "queries").glob("*.sql"))


@pytest.mark.skipif(not PROJECT_QUERIES, reason="queries/ holds no .sql file yet")
@pytest.mark.parametrize("path", PROJECT_QUERIES, ids=[p.stem for p in PROJECT_QUERIES])
def test_every_project_query_becomes_a_ctas(path: Path) -> None:
    select = select_statement(path.read_text(encoding="utf-8"), path.stem)
    text = ctas("datalake_dev_enem", names.temporary_table_name(path.stem, RUN_2),
                result_location("s3://gold", path.stem, RUN_2), select)
    match = CTAS_PATTERN.match(text)
    assert match and match["table"] == f"gold_{path.stem}__20261125t101253z"
    assert not select.rstrip().endswith(";")


def test_the_ctas_quotes_names_and_the_location() -> None:
    text = ctas('my"db', "gold_media__20261125t101253z", "s3://gold/it's/media/run=1/",
                "-- q\nSELECT 1")
    assert text == ('CREATE TABLE "my""db"."gold_media__20261125t101253z" '
                    "WITH (format = 'PARQUET', write_compression = 'ZSTD', "
                    "external_location = 's3://gold/it''s/media/run=1/') AS\n-- q\nSELECT 1")


def test_the_description_is_the_first_comment_line() -> None:
    assert contract.query_description(MEDIA, "media") == (
        "Média de matemática por UF da prova, presentes.")
    assert contract.query_description(PRESENCA, "presenca") == "presenca"


# --- the catalog ---------------------------------------------------------------------------

def athena_table(table: str, location: str, columns: list[dict]) -> dict[str, Any]:
    """A temporary table as Glue's GetTable returns what Athena's CTAS registered."""
    return {
        "Name": table, "DatabaseName": "db", "CreateTime": datetime(2026, 11, 25),
        "UpdateTime": datetime(2026, 11, 25), "CreatedBy": "arn:aws:sts::1:assumed-role/gold",
        "IsRegisteredWithLakeFormation": False, "CatalogId": "123456789012", "VersionId": "0",
        "TableType": "EXTERNAL_TABLE", "Retention": 0, "PartitionKeys": [],
        "Parameters": {"EXTERNAL": "TRUE", "has_encrypted_data": "false",
                       "parquet.compression": "ZSTD"},
        "StorageDescriptor": {
            "Columns": columns, "Location": location, "Compressed": False,
            "NumberOfBuckets": -1, "StoredAsSubDirectories": False,
            **tables.PARQUET_FORMATS,
        },
    }


def test_the_gold_table_takes_the_temporary_tables_columns_and_location() -> None:
    location = result_location("s3://gold", "media", RUN_2)
    temporary = athena_table("gold_media__20261125t101253z", location, COLUMNS["media"])
    table = gold_table_input(temporary, "media", RUN_2, location, "Média por UF", "q-1")
    assert table == {
        "Name": "gold_media",
        "Description": "Média por UF",
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": temporary["StorageDescriptor"],
        "PartitionKeys": [],
        "Parameters": {"EXTERNAL": "TRUE", "has_encrypted_data": "false",
                       "parquet.compression": "ZSTD", "classification": "parquet",
                       "gold.run": RUN_2, "gold.query": "media.sql",
                       "gold.query_execution_id": "q-1"},
    }


def test_the_gold_table_fills_in_parquet_storage_and_refuses_surprises() -> None:
    location = result_location("s3://gold", "media", RUN_2)
    bare = {"Name": "t", "StorageDescriptor": {"Columns": COLUMNS["media"],
                                                "Location": location.rstrip("/")}}
    storage = gold_table_input(bare, "media", RUN_2, location)["StorageDescriptor"]
    assert storage["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert storage["InputFormat"].endswith("MapredParquetInputFormat")
    with pytest.raises(GoldError, match="has no columns"):
        gold_table_input({"Name": "t", "StorageDescriptor": {"Location": location}}, "media",
                         RUN_2, location)
    with pytest.raises(GoldError, match="lies at 's3://gold/elsewhere/'"):
        gold_table_input(athena_table("t", "s3://gold/elsewhere/", COLUMNS["media"]), "media",
                         RUN_2, location)


# --- arguments -----------------------------------------------------------------------------

GLUE_ARGV = ["script_2026.py", "--JOB_ID", "j_1", "--JOB_RUN_ID", "jr_1", "--job-bookmark-option",
             "job-bookmark-disable", "--workgroup", "datalake-dev-enem", "--database",
             "datalake_dev_enem", "--gold", "s3://datalake-dev-enem-gold-123456789012/",
             "--queries", "s3://datalake-dev-enem-artifacts-123456789012/queries/0123/",
             "--poll-seconds", "5", "--query-timeout-minutes", "20", "--JOB_NAME",
             "datalake-dev-enem-gold", "--extra-py-files", "s3://a/jobs.zip",
             "--job-language", "python", "--TempDir", "s3://a/tmp"]


def test_the_arguments_are_those_glue_passes_and_glues_own_are_ignored() -> None:
    assert parse_arguments(GLUE_ARGV[1:]) == Settings(
        workgroup="datalake-dev-enem", database="datalake_dev_enem",
        gold="s3://datalake-dev-enem-gold-123456789012/",
        queries="s3://datalake-dev-enem-artifacts-123456789012/queries/0123/",
        poll_seconds=5.0, query_timeout_minutes=20.0)
    defaults = parse_arguments(["--workgroup=w", "--database=d", "--gold=s3://g",
                                "--queries=s3://a/q/"])
    assert (defaults.poll_seconds, defaults.query_timeout_minutes) == (2.0, 20.0)


@pytest.mark.parametrize(("change", "message"), [
    (["--gold", None], "the following arguments are required: --gold"),
    (["--gold", "/tmp/gold"], "--gold: '/tmp/gold' is not an s3://bucket[/prefix] URI."),
    (["--queries", "s3://"], "--queries: 's3://' is not an s3://bucket[/prefix] URI."),
    (["--database", " "], "--database must not be empty"),
    (["--query-timeout-minutes", "0"], "--query-timeout-minutes must be more than 0"),
    (["--poll-seconds", "-1"], "--poll-seconds must be 0 or more"),
    (["--poll-seconds", "often"], "argument --poll-seconds: invalid float value: 'often'"),
])
def test_a_bad_argument_is_one_line_and_status_2(change: list, message: str, capsys) -> None:
    argv = dict(zip(GLUE_ARGV[1::2], GLUE_ARGV[2::2], strict=True))
    key, value = change
    if value is None:
        del argv[key]
    else:
        argv[key] = value
    with pytest.raises(SystemExit) as exit_:
        parse_arguments([item for pair in argv.items() for item in pair])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"export.py: error: {message}"


def test_the_component_sets_every_argument(dev) -> None:
    arguments = dev.one("aws:glue/job:Job", "-gold-job").get("defaultArguments")
    argv = [item for key, value in arguments.items() for item in (key, value)
            if key not in ("--extra-py-files", "--job-language")]
    settings = parse_arguments(argv)
    assert settings.poll_seconds == contract.GOLD_POLL_SECONDS
    assert settings.query_timeout_minutes == gold_settings.DEFAULT_QUERY_TIMEOUT_MINUTES
    # The stack's gold.minGroupSize reaches the job as an argument it reads, never its default.
    assert arguments["--min-group-size"] == "10"
    assert settings.min_group_size == 10 == contract.DEFAULT_MIN_GROUP_SIZE


# --- Python 3.9 ----------------------------------------------------------------------------


# --- whole runs in moto --------------------------------------------------------------------


