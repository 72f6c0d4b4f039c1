"""The `lake` command on one machine: `lake run` end to end on a synthetic archive, then each step
alone, results on stdout only, and one-line errors with exit codes."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jobs.errors import UserError
from lake.cli import app
from tests.lake_run import LAKE_RUN_ROWS, LakeRun

ROWS = LAKE_RUN_ROWS
COMMANDS = ["synth", "ingest", "upload", "process", "crawl", "gold", "tables", "query", "report",
            "run", "demo"]


def lake(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def root(lake_run: LakeRun) -> Path:
    return lake_run.root


@pytest.fixture(scope="module")
def first_run(lake_run: LakeRun):
    return lake_run.archive, lake_run.result


def at(root: Path, *args: str):
    return lake(*args, "--root", str(root), "--stack", "test")


def test_lake_run_reports_steps_tables_outputs_and_gold_previews(first_run, root) -> None:
    _, result = first_run
    out = result.stdout
    for step in ("ingest", "process", "crawl", "gold", "report", "total"):
        assert f"\n  {step} " in out
    assert f"report     {root / 'test' / 'gold' / '_report' / 'index.html'}" in out
    assert re.search(rf"\n  microdados_enem_2019 +{ROWS} +{ROWS} +0\n", out)
    assert f"catalog    {root / 'test' / 'catalog.duckdb'}" in out
    assert "gold_mean_scores_by_income (17 rows; first 3):" in out
    # logs and progress went to stderr, not into the report
    assert "lake run: process" in result.stderr and "lake run: process" not in out
    assert (root / "test" / "gold" / "essay_status").is_dir()


def test_a_second_run_is_a_no_op_that_still_reports(first_run, root) -> None:
    archive, _ = first_run
    again = at(root, "run", "--source", str(archive))
    assert again.exit_code == 0, again.output
    assert "unchanged:" in again.stdout
    assert "no-op: the newest ingestion is already processed" in again.stdout
    assert re.search(rf"\n  microdados_enem_2019 +{ROWS} +{ROWS} +0\n", again.stdout)


def test_tables_lists_data_label_and_gold_tables(first_run, root) -> None:
    result = at(root, "tables")
    assert result.exit_code == 0
    lines = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[2:]}
    assert lines["microdados_enem_2019"][0] == str(ROWS)
    assert lines["label_q006"] == ["17", "3"]
    assert {"gold_participants_by_state", "itens_prova_2019", "label_tp_status_redacao"} <= \
        set(lines)


SQL = ("SELECT sg_uf_prova AS state, COUNT(*) AS n FROM microdados_enem_2019 "
       "GROUP BY sg_uf_prova ORDER BY n DESC, state LIMIT 3")


def test_query_csv_is_clean_on_stdout(first_run, root) -> None:
    result = at(root, "query", SQL, "--format", "csv")
    assert result.exit_code == 0
    table = list(csv.reader(io.StringIO(result.stdout)))
    assert table[0] == ["state", "n"] and len(table) == 4
    assert result.stderr == ""


def test_query_json_and_athena_functions(first_run, root) -> None:
    result = at(root, "query", "SELECT approx_percentile(nu_nota_mt, 0.5) AS median_mt, "
                               "count_if(tp_presenca_mt = 1) AS present FROM "
                               "microdados_enem_2019", "--format", "json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert 300 < row["median_mt"] < 800 and 0 < row["present"] < ROWS


def test_query_files_and_stdin_take_statements_that_start_with_a_comment(first_run,
                                                                         root) -> None:
    path = Path(__file__).parent.parent / "queries" / "essay_status.sql"
    by_file = at(root, "query", "--file", str(path), "--format", "csv")
    by_stdin = CliRunner().invoke(app, ["query", "-", "--format", "csv", "--root", str(root),
                                        "--stack", "test"], input=path.read_text())
    after_dashes = lake("query", "--format", "csv", "--root", str(root), "--stack", "test",
                        "--", path.read_text())
    assert by_file.exit_code == 0, by_file.output
    assert by_file.stdout == by_stdin.stdout == after_dashes.stdout
    assert by_file.stdout.startswith("essay_status,essay_status_label,essays,share_pct,")


def test_the_partitions_are_columns(first_run, root) -> None:
    result = at(root, "query", "SELECT DISTINCT nu_ano FROM microdados_enem_2019", "--format",
                "csv")
    assert result.stdout.splitlines() == ["nu_ano", "2019"]


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT * FROM", "lake query: error: bad SQL at line 1, column 14: unexpected end of the "
                      "statement (expected a table name)"),
    ("SELEC * FROM enem", "lake query: error: bad SQL at line 1, column 1: unexpected SELEC (a "
                          "statement starts with SELECT, WITH, VALUES, SHOW or DESCRIBE)"),
    ("SELECT luhn_check('79927398713')", "lake query: error: luhn_check() is not a function "
                                         "this machine has"),
    ("SELECT * FROM enem", "lake query: error: unknown table enem; role analyst reads: "
                           "gold_essay_status, "),
    ("SELECT nota FROM microdados_enem_2019", "lake query: error: Binder Error: Referenced "
                                              "column \"nota\" not found"),
])
def test_bad_queries_are_one_line_with_exit_code_1(first_run, root, sql, message) -> None:
    result = at(root, "query", sql)
    assert result.exit_code == 1
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_unknown_table_lists_every_table(first_run, root) -> None:
    result = at(root, "query", "SELECT * FROM nope")
    assert "microdados_enem_2019" in result.stderr and "label_q006" in result.stderr


def test_a_bad_format_is_a_usage_error(first_run, root) -> None:
    result = at(root, "query", SQL, "--format", "xml")
    assert result.exit_code == 2
    assert result.stderr == "lake query: error: --format 'xml': use table, csv, json\n"


ALL_ROWS = "SELECT nu_inscricao, nu_nota_mt FROM microdados_enem_2019"


@pytest.mark.parametrize(("args", "shown", "note"), [
    ((), 1000, f"lake query: 1,000 of {ROWS:,} rows shown (--limit N shows more, --format csv "
               "writes them all)\n"),
    (("--limit", "10"), 10, f"lake query: 10 of {ROWS:,} rows shown (--limit N shows more, "
                            "--format csv writes them all)\n"),
    (("--limit", "0"), ROWS, ""),
    (("--limit", str(ROWS)), ROWS, ""),
])
def test_the_table_shows_its_first_rows_and_says_how_many_it_left_out(
        first_run, root, args, shown, note) -> None:
    result = at(root, "query", ALL_ROWS, *args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["nu_inscricao", "nu_nota_mt"] and len(lines) == 2 + shown
    assert result.stderr == note  # stdout stays the result


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_csv_and_json_write_every_row_unless_limited(first_run, root, fmt: str) -> None:
    every = at(root, "query", ALL_ROWS, "--format", fmt)
    assert every.exit_code == 0 and every.stderr == ""
    rows = (list(csv.reader(io.StringIO(every.stdout)))[1:] if fmt == "csv"
            else json.loads(every.stdout))
    assert len(rows) == ROWS
    some = at(root, "query", ALL_ROWS, "--format", fmt, "--limit", "5")
    rows = (list(csv.reader(io.StringIO(some.stdout)))[1:] if fmt == "csv"
            else json.loads(some.stdout))
    assert len(rows) == 5
    assert some.stderr == f"lake query: 5 of {ROWS:,} rows shown (without --limit, every row)\n"


def test_values_print_as_athena_prints_them(first_run, root) -> None:
    sql = ("SELECT true AS t, ARRAY[1, 2] AS a, map(ARRAY['x'], ARRAY[1]) AS m, 1.50 AS d, "
           "DATE '2019-11-03' AS day, format('%.1f', 0.25) AS f, 7 / 2 AS q, NULL AS n")
    result = at(root, "query", sql, "--format", "csv")
    assert result.stdout == "t,a,m,d,day,f,q,n\ntrue,\"[1, 2]\",{x=1},1.50,2019-11-03,0.3,3,\n"
    [row] = json.loads(at(root, "query", sql, "--format", "json").stdout)
    assert row == {"t": True, "a": [1, 2], "m": {"x": 1}, "d": 1.5, "day": "2019-11-03",
                   "f": "0.3", "q": 3, "n": None}


def test_a_bad_limit_is_a_usage_error(first_run, root) -> None:
    result = at(root, "query", SQL, "--limit", "ten")
    assert result.exit_code == 2
    assert result.stderr == "lake query: error: --limit ten: give a number of rows (0 for all " \
                            "of them)\n"


def test_show_and_describe_answer_with_athenas_columns(first_run, root) -> None:
    def rows(sql: str, *args: str) -> list[list[str]]:
        result = at(root, "query", sql, "--format", "csv", *args)
        assert result.exit_code == 0 and result.stderr == "", result.output
        return list(csv.reader(io.StringIO(result.stdout)))

    tables = rows("SHOW TABLES")
    assert tables[0] == ["tab_name"] and ["microdados_enem_2019"] in tables
    assert rows("SHOW TABLES 'label_q00*|gold_essay*'") == [
        ["tab_name"], ["gold_essay_status"], ["label_q001"], ["label_q002"], ["label_q006"]]
    assert rows("SHOW TABLES IN datalake_test_enem '*2019'")[1:] == [
        ["itens_prova_2019"], ["microdados_enem_2019"]]
    columns = rows("SHOW COLUMNS FROM microdados_enem_2019")
    assert columns[0] == ["field"] and len(columns) == 1 + 76 and ["nu_nota_mt"] in columns
    assert rows("DESCRIBE datalake_test_enem.label_q006") == [
        ["col_name", "data_type", "comment"], ["code", "string", ""], ["label", "string", ""],
        ["ordinal", "int", ""]]
    assert rows("SHOW DATABASES") == [["database_name"], ["datalake_test_enem"]]
    refused = at(root, "query", "SHOW COLUMNS FROM microdados_enem_2019", "--role", "business")
    assert refused.exit_code == 1 and refused.stderr.startswith(
        "lake query: error: role business may not read table microdados_enem_2019")


def test_tables_table_lists_its_columns_with_inep_descriptions(first_run, root) -> None:
    result = at(root, "tables", "microdados_enem_2019")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["column", "type", "access", "description"]
    by_name = {line.split()[0]: line.split(None, 3)[1:] for line in lines[2:]}
    assert len(by_name) == 76
    assert by_name["nu_nota_mt"] == ["double", "public", "Nota da prova de Matemática"]
    assert by_name["tp_faixa_etaria"][:2] == ["int", "public"]
    assert by_name["q006"][2].startswith("Qual é a renda mensal de sua família?")
    labels = at(root, "tables", "label_q006").stdout.splitlines()
    assert labels[2].split(None, 3) == ["code", "string", "public",
                                        "the code, as the labelled column holds it"]


@pytest.mark.parametrize(("args", "message"), [
    (("nope",), "lake tables: error: unknown table nope; role analyst reads: gold_essay_status"),
    (("microdados_enem_2019", "--role", "business"),
     "lake tables: error: role business may not read table microdados_enem_2019; role business "
     "reads the gold tables\n"),
])
def test_tables_of_a_table_the_role_does_not_read_is_one_line(first_run, root, args,
                                                              message) -> None:
    result = at(root, "tables", *args)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_query_stops_quietly_when_its_reader_has_enough(first_run, root) -> None:
    """`lake query … | head`: no traceback when head closes the pipe."""
    lake_command = Path(sys.executable).parent / "lake"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"'{lake_command}' query --root '{root}' --stack test "
         f"--format csv '{ALL_ROWS}' | head -2"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "nu_inscricao,nu_nota_mt" and done.stderr == ""


@pytest.mark.parametrize(("args", "message"), [
    ((), 'give the SQL: lake query "SELECT …", --file FILE, or - for stdin'),
    (("SELECT 1", "--file", "queries/essay_status.sql"),
     "give the SQL as an argument or with --file, not both"),
])
def test_query_needs_exactly_one_statement_source(first_run, root, args, message) -> None:
    result = at(root, "query", *args)
    assert result.exit_code == 2
    assert result.stderr == f"lake query: error: {message}\n"


@pytest.mark.parametrize(("command", "message"), [
    ("query", "no catalog at {base}/catalog.duckdb; run `lake crawl` (or `lake run`) first"),
    ("tables", "no catalog at {base}/catalog.duckdb; run `lake crawl` (or `lake run`) first"),
    ("gold", "{base}/processed holds no data table yet: run `lake process` and `lake crawl` "
             "first (or `lake run`)"),
    ("crawl", "{base}/processed holds no table yet; run `lake process` first"),
])
def test_steps_on_an_empty_stack_say_what_to_run_first(tmp_path, command, message) -> None:
    args = [command, "SELECT 1"] if command == "query" else [command]
    result = lake(*args, "--root", str(tmp_path), "--stack", "empty")
    assert result.exit_code == 1
    assert result.stderr == f"lake {command}: error: " + message.format(
        base=tmp_path / "empty") + "\n"


def test_a_bad_stack_name_is_refused(tmp_path) -> None:
    result = lake("tables", "--root", str(tmp_path), "--stack", "../x")
    assert result.exit_code == 2
    assert "--stack '../x': use letters, digits" in result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = lake(command, "--help")
    assert result.exit_code == 0, result.output
    # synth writes a zip anywhere (--out); every other command works on a stack's zones.
    expected = "--out" if command == "synth" else "--root"
    assert expected in result.stdout, result.stdout


def test_gold_refuses_a_query_file_that_pulumi_preview_refuses(first_run, root,
                                                               tmp_path) -> None:
    """The local gold step checks query names as the stack does, before any query runs."""
    from lake.local import lake as local_lake

    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "essay_status.sql").write_text("SELECT 1 AS x")
    (queries / "Média por UF.sql").write_text("SELECT 1 AS x")
    zones = local_lake.zones(root, "test")
    before = sorted((root / "test" / "gold" / "essay_status").iterdir())
    with pytest.raises(UserError, match=r"^Query file Média por UF\.sql must be "
                                                   r"named with lower-case letters.*rename it, "
                                                   r"e\.g\. to media_por_uf\.sql\.$"):
        local_lake.gold(zones, queries)
    assert sorted((root / "test" / "gold" / "essay_status").iterdir()) == before


# --- --min-group-size: small groups are never published ----------------------------------------

@pytest.mark.parametrize("command", ["gold", "run", "demo"])
@pytest.mark.parametrize("value", ["0", "1001", "ten", "2.5"])
def test_a_bad_min_group_size_is_one_line_before_anything_runs(tmp_path, command: str,
                                                               value: str) -> None:
    args = [command, "--min-group-size", value, "--root", str(tmp_path), "--stack", "s"]
    if command == "run":
        args += ["--source", str(tmp_path / "missing.zip")]
    result = lake(*args)
    assert result.exit_code == 2
    assert result.stderr == (f"lake {command}: error: --min-group-size {value}: must be a whole "
                             f"number between 1 and 1000 (the fewest candidates a published "
                             f"gold row may count)\n")
    assert result.stdout == "" and list(tmp_path.iterdir()) == []  # no archive, no zone


def test_lake_run_says_how_many_groups_each_question_withheld(first_run) -> None:
    _, result = first_run
    out = result.stdout
    assert "small groups withheld (fewer than 10 candidates; never published):" in out
    block = out.split("small groups withheld")[1].split("\n\n")[0].splitlines()
    assert block[1].split() == ["query", "rows", "withheld", "why"]
    withheld = {line.split()[0]: line.split()[2:] for line in block[3:]}
    assert set(withheld) == {path.stem for path in
                             (Path(__file__).parent.parent / "queries").glob("*.sql")}
    for count, *why in withheld.values():
        assert (why == ["—"]) if count == "0" else ("< 10" in " ".join(why)), withheld
    assert any(count != "0" and why == ["candidates", "<", "10"]
               for count, *why in withheld.values()), withheld  # 3,000 rows leave some


def test_lake_gold_takes_min_group_size_and_says_what_it_withheld(first_run, root,
                                                                  tmp_path) -> None:
    """On a copy of the run's stack (its catalog's views read the copy's files)."""
    from lake.local.catalog import connect

    copy = tmp_path / "copy" / "test"
    shutil.copytree(root / "test", copy)

    result = lake("gold", "--min-group-size", "200", "--root", str(tmp_path / "copy"),
                  "--stack", "test")

    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0].split()
    assert header == ["table", "rows", "withheld", "location"]
    lines = {line.split(": ")[1]: line for line in result.stderr.splitlines()}
    assert re.fullmatch(r"lake gold: essay_status: \d+ rows, \d+ groups? withheld "
                        r"\(essays < 200\) \(\d+\.\d s\)", lines["essay_status"])
    with connect(copy / "catalog.duckdb", read_only=True) as con:
        sizes = con.execute("SELECT min(candidates) FROM gold_mean_scores_by_sex_and_race"
                            ).fetchone()[0]
        essays = con.execute("SELECT min(essays) FROM gold_essay_status").fetchone()[0]
    assert sizes >= 200 and essays >= 200


# --- lake report --lang ---------------------------------------------------------------------------

def test_report_lists_its_languages_and_refuses_another_in_one_line(tmp_path) -> None:
    help_text = " ".join(lake("report", "--help").stdout.split())
    assert "--lang pt-BR|en" in help_text and "[default: pt-BR]" in help_text
    result = lake("report", "--root", str(tmp_path), "--stack", "test", "--lang", "fr")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "lake report: error: --lang 'fr': use one of pt-BR, en\n"
