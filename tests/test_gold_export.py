"""The gold job (jobs/gold/export.py): its plain functions (names, the CTAS text, what to delete,
the arguments) and whole runs against S3, Glue and Athena in moto's server.

Athena in moto runs no SQL, so `FakeAthena` does what a CTAS does: when the job starts a query it
parses the CTAS and creates the temporary Glue table and a Parquet object under the external
location; per query it can make Athena report FAILED, or keep it RUNNING until it is stopped.
Everything after that (the switch, the clean-up) runs for real against moto."""

from __future__ import annotations

import ast
import logging
import re
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pulumi
import pytest

from components.config import load_config
from components.datalake import DataLake, DataLakeArgs
from components.gold import GOLD_DISTRIBUTION
from components.packaging import PROJECT_ROOT, EntryPoint, SourceTree
from jobs import contract
from jobs.gold import export, names, tables
from jobs.gold import outcomes as gold_outcomes
from jobs.gold import settings as gold_settings
from jobs.gold.exporter import Exporter
from jobs.gold.names import GoldError, leftover_tables, result_location, stale_keys
from jobs.gold.outcomes import Outcome
from jobs.gold.settings import Settings, parse_arguments
from jobs.gold.sql import ctas, select_statement
from jobs.gold.tables import gold_table_input
from tests.pulumi_harness import run, stack_config

RUN_1, RUN_2 = "20261124T101253Z", "20261125T101253Z"
MEDIA = """-- Média de matemática por UF da prova, presentes.
-- Population: every candidate present on day 2.
SELECT sg_uf_prova, avg(nu_nota_mt) AS media_mt, count(*) AS n
FROM microdados_enem_2019
WHERE tp_presenca_mt = 1
GROUP BY sg_uf_prova
ORDER BY sg_uf_prova;
"""
PRESENCA = "SELECT tp_presenca_mt, count(*) AS n FROM microdados_enem_2019 GROUP BY 1\n"
COLUMNS = {  # what each simulated CTAS "selects"
    "media": [{"Name": "sg_uf_prova", "Type": "string"}, {"Name": "media_mt", "Type": "double"},
              {"Name": "n", "Type": "bigint"}],
    "media_por_uf": [{"Name": "sg_uf_prova", "Type": "string"},
                     {"Name": "media_mt", "Type": "double"}],
    "presenca": [{"Name": "tp_presenca_mt", "Type": "int"}, {"Name": "n", "Type": "bigint"}],
}
ATHENA_REASON = "COLUMN_NOT_FOUND: line 3:8: Column 'nu_nota_xx' cannot be resolved"
SCANNED = 123_456_789
PARQUET = b"PAR1" + b"\0" * 16 + b"PAR1"
CTAS_PATTERN = re.compile(
    r'CREATE TABLE "(?P<database>[^"]+)"\."(?P<table>[^"]+)" WITH \(format = \'PARQUET\', '
    r"write_compression = 'ZSTD', external_location = '(?P<location>[^']+)'\) AS\n"
    r"(?P<select>.*)\Z", re.DOTALL)


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


# --- Python 3.9 ----------------------------------------------------------------------------

EXPORT = Path(export.__file__)
# Glue's Python shell runs the script from its own file, with the wheel installed beside it.
PY39_SMOKE = """
import importlib.util
import sys
from datetime import datetime, timezone
sys.path.insert(0, sys.argv[1])
spec = importlib.util.spec_from_file_location("export", sys.argv[2])
e = sys.modules["export"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(e)
assert callable(e.main)
assert "boto3" not in sys.modules  # imported by main() only
from jobs.gold import names, outcomes, settings, sql, tables
s = settings.parse_arguments(["--workgroup", "w", "--database", "d", "--gold", "s3://g",
                              "--queries", "s3://a/q/"])
run = names.run_id(datetime(2026, 11, 25, 10, 12, 53, tzinfo=timezone.utc))
loc = names.result_location(s.gold, "media", run)
print(sql.ctas(s.database, names.temporary_table_name("media", run), loc,
               sql.select_statement("-- q\\nSELECT 1;\\n", "media")))
t = {"Name": "t", "StorageDescriptor": {"Columns": [{"Name": "x", "Type": "int"}],
                                        "Location": loc}}
print(tables.gold_table_input(t, "media", run, loc)["Name"])
print(outcomes.summary_lines([outcomes.Outcome("media", error="FAILED: x")]))
print(sorted(name for name in sys.modules if name.startswith("jobs")))
"""


def python39() -> str | None:
    """A Python 3.9 that runs (a pyenv shim on PATH may not)."""
    candidates = [str(p) for p in sorted(Path.home().glob(".pyenv/versions/3.9*/bin/python3.9"))]
    candidates += [found for found in [shutil.which("python3.9")] if found]
    for candidate in candidates:
        probe = subprocess.run([candidate, "--version"], capture_output=True, text=True,
                               timeout=30, check=False)
        if probe.returncode == 0 and probe.stdout.startswith("Python 3.9"):
            return candidate
    return None


GOLD_WHEEL = {"jobs/__init__.py", "jobs/contract.py", "jobs/errors.py", "jobs/storage.py",
              "jobs/gold/__init__.py", "jobs/gold/export.py", "jobs/gold/exporter.py",
              "jobs/gold/names.py", "jobs/gold/outcomes.py", "jobs/gold/settings.py",
              "jobs/gold/sql.py", "jobs/gold/tables.py"}


def test_export_parses_as_python_3_9_and_imports_only_what_glue_has() -> None:
    """Every file the gold job runs parses as Python 3.9 and imports the standard library, what
    Glue's Python shell has (boto3, botocore, awsglue) and its own wheel, nothing else."""
    shipped = {path.relative_to(PROJECT_ROOT).as_posix()
               for path in EntryPoint("jobs.gold.export").files()}
    assert shipped == GOLD_WHEEL
    for name in sorted(shipped):
        tree = ast.parse((PROJECT_ROOT / name).read_text(encoding="utf-8"),
                         feature_version=(3, 9))
        roots = {alias.name.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.Import) for alias in node.names}
        roots |= {node.module.split(".")[0] for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom) and node.module}
        assert roots - set(sys.stdlib_module_names) <= {"boto3", "botocore", "awsglue",
                                                       "jobs"}, name
        if tree.body[1:] and name != "jobs/gold/__init__.py" and name != "jobs/__init__.py":
            assert "__future__" in roots, name  # annotations stay strings on 3.9
    script = ast.parse(EXPORT.read_text(encoding="utf-8"))
    assert any(isinstance(node, ast.If) for node in script.body)  # `if __name__ == "__main__"`


def test_export_runs_on_python_3_9_from_its_script_and_wheel(tmp_path: Path) -> None:
    interpreter = python39()
    if interpreter is None:
        pytest.skip("no python3.9 on PATH or under ~/.pyenv: cannot run the Glue Python shell "
                    "version here")
    gold = EntryPoint("jobs.gold.export")
    wheel = tmp_path / gold.wheel_name(GOLD_DISTRIBUTION)
    wheel.write_bytes(gold.wheel(GOLD_DISTRIBUTION))
    script = tmp_path / "export.py"
    script.write_bytes(gold.script.read_bytes())
    # -I: neither the project, the working folder nor PYTHONPATH is on the path; only the wheel.
    result = subprocess.run([interpreter, "-I", "-c", PY39_SMOKE, str(wheel), str(script)],
                            capture_output=True, text=True, timeout=60, check=False,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        'CREATE TABLE "d"."gold_media__20261125t101253z" WITH (format = \'PARQUET\', '
        "write_compression = 'ZSTD', external_location = 's3://g/media/run=20261125T101253Z/')"
        " AS", "-- q", "SELECT 1", "gold_media", "['0 of 1 queries published', "
        "'failed: media: FAILED: x']",
        str(sorted(name.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
                   for name in GOLD_WHEEL if name != "jobs/gold/export.py"))]


# --- whole runs in moto --------------------------------------------------------------------

@dataclass
class FakeAthena:
    """What Athena's CTAS does, done in moto when the job starts a query (see the module's
    docstring). `behaviour[name]`: "ok", "fail" (writes a part and the table, then FAILED) or
    "slow" (RUNNING until stopped)."""

    athena: Any
    glue: Any
    s3: Any
    behaviour: dict[str, str] = field(default_factory=dict)
    started: list[dict[str, Any]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # query id -> query name
    pending: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        events = self.athena.meta.events
        events.register("before-parameter-build.athena.StartQueryExecution", self._capture)
        events.register("after-call.athena.StartQueryExecution", self._ctas)
        events.register("after-call.athena.GetQueryExecution", self._status)

    def _capture(self, params: dict[str, Any], **_: Any) -> None:
        self.pending = dict(params)

    def _ctas(self, parsed: dict[str, Any], **_: Any) -> None:
        request = self.pending
        match = CTAS_PATTERN.match(request["QueryString"])
        assert match, request["QueryString"]
        query_id = parsed["QueryExecutionId"]
        name = match["table"][len("gold_"):].split("__")[0]
        self.names[query_id] = name
        self.started.append({**request, **match.groupdict(), "name": name, "id": query_id})
        bucket, key = names.split_uri(match["location"])
        self.s3.put_object(Bucket=bucket, Key=f"{key}{query_id}_0.parquet", Body=PARQUET)
        if self.behaviour.get(name, "ok") in ("ok", "fail"):
            self.glue.create_table(DatabaseName=match["database"], TableInput={
                "Name": match["table"], "TableType": "EXTERNAL_TABLE",
                "Parameters": {"EXTERNAL": "TRUE", "has_encrypted_data": "false"},
                "StorageDescriptor": {"Columns": COLUMNS[name], "Location": match["location"],
                                      **tables.PARQUET_FORMATS}})

    def _status(self, parsed: dict[str, Any], **_: Any) -> None:
        execution = parsed["QueryExecution"]
        behaviour = self.behaviour.get(self.names.get(execution["QueryExecutionId"], ""), "ok")
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


@pytest.fixture
def lake(moto_env: str) -> Lake:
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
        f"'{gold}/media/run=20261125T101253Z/') AS\n{MEDIA.rstrip().rstrip(';')}")
    assert second["location"] == f"{gold}/presenca/run=20261125T101253Z/"
    assert second["select"] == PRESENCA.rstrip()
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
        assert outcomes[name].scanned_bytes == SCANNED
    assert lake.table("gold_media")["Description"] == (
        "Média de matemática por UF da prova, presentes.")
    assert [key.rsplit("/", 1)[0] for key in lake.objects()] == [
        f"zone/media/run={RUN_2}", f"zone/presenca/run={RUN_2}"]


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
    assert [key.rsplit("/", 1)[0] for key in lake.objects()] == [
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
    monkeypatch.setattr(export, "aws_clients", lambda: (lake.athena, lake.glue, lake.s3))
    caplog.set_level(logging.INFO, logger="lake.gold")

    code = export.main(["--workgroup", lake.settings.workgroup, "--database", lake.database,
                        "--gold", lake.settings.gold, "--queries", lake.settings.queries,
                        "--poll-seconds", "0"])

    assert code == 1
    after = lake.table("gold_media")
    assert after["StorageDescriptor"] == before["StorageDescriptor"]
    assert after["Parameters"]["gold.run"] == RUN_1
    assert lake.objects("zone/media/") == old_keys  # the failed run's part is gone, the old stays
    new_run = lake.location("gold_presenca").rsplit("run=", 1)[1].rstrip("/")
    assert new_run != RUN_1
    assert lake.tables() == ["gold_media", "gold_presenca"]  # no temporary table is left
    assert [k.rsplit("/", 1)[0] for k in lake.objects("zone/presenca/")] == [
        f"zone/presenca/run={new_run}"]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors[-1] == f"failed: media: FAILED: {ATHENA_REASON}"
    assert re.fullmatch(rf"media: FAILED after \d+\.\d s, scanned 123\.5 MB: FAILED: "
                        rf"{re.escape(ATHENA_REASON)}", errors[0])
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert f"run {new_run}: 1 of 2 queries published" in infos
    assert any(re.fullmatch(rf"presenca: gold_presenca updated → "
                            rf"s3://\S+/zone/presenca/run={new_run}/ "
                            rf"in \d+\.\d s, scanned 123\.5 MB \(query \S+\)", line)
               for line in infos), infos


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
    assert [k.rsplit("/", 1)[0] for k in lake.objects()] == [f"zone/presenca/run={RUN_1}"]


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
    assert [k.rsplit("/", 1)[0] for k in lake.objects("zone/presenca/")] == [
        f"zone/presenca/run={RUN_1}"]
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
    assert [k.rsplit("/", 1)[0] for k in lake.objects()] == [f"zone/presenca/run={RUN_2}"]


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
    monkeypatch.setattr(export, "aws_clients", lambda: (lake.athena, lake.glue, lake.s3))
    caplog.set_level(logging.INFO, logger="lake.gold")
    arguments = ["--workgroup", lake.settings.workgroup, "--database", lake.database,
                 "--gold", lake.settings.gold, "--queries", lake.settings.queries]
    assert export.main(arguments) == 1
    assert any(r.levelname == "ERROR" and r.getMessage().startswith("No .sql files under")
               for r in caplog.records)


def test_an_unreadable_queries_folder_ends_the_run_in_one_line(lake: Lake) -> None:
    missing = replace(lake.settings, queries="s3://no-such-bucket-gold-test/queries/")
    exporter = Exporter(missing, lake.athena, lake.glue, lake.s3, RUN_2)
    with pytest.raises(GoldError, match=r"^Cannot list the queries under "
                                        r"s3://no-such-bucket-gold-test/queries/: NoSuchBucket"):
        exporter.export_all()
