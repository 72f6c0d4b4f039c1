"""The small-group rule's plain functions (jobs/gold/privacy.py): which columns hold a query's
group sizes, the SQL that publishes only the large enough groups and the SQL that counts the
others, and what a run records. The gold job and the local gold step both run these."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
import sqlglot

from jobs.contract import DEFAULT_MIN_GROUP_SIZE
from jobs.gold.names import GoldError
from jobs.gold.privacy import (
    SIDECAR,
    Withholding,
    group_size_columns,
    named_columns,
    output_columns,
    published_select,
    read_sidecar,
    sidecar_text,
    withheld_select,
    withholding_from_row,
)
from jobs.gold.settings import parse_arguments
from jobs.gold.sql import select_statement
from jobs.gold.tables import empty_result_problem, gold_table_input
from lake.local.sql import to_duckdb
from tests.gold_queries import MEDIA, NO_GROUP_SIZE, PRESENCA

QUERIES = sorted((Path(__file__).resolve().parent.parent / "queries").glob("*.sql"))
EXPECTED_GROUP_SIZES = {
    "participants_by_state": ("registered",),
    "mean_scores_by_state": ("candidates_day2", "candidates_essay"),
    "mean_scores_by_school_type": ("candidates",),
    "mean_scores_by_income": ("candidates",),
    "mean_scores_by_sex_and_race": ("candidates",),
    "essay_status": ("essays",),
    "score_histogram": ("candidates",),
}


# --- which columns are group sizes -------------------------------------------------------------

@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_every_project_query_names_its_group_size(path: Path) -> None:
    assert group_size_columns(path.read_text(encoding="utf-8"), path.stem) == \
        EXPECTED_GROUP_SIZES[path.stem]


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_the_columns_read_from_the_text_are_those_sqlglot_reads(path: Path) -> None:
    """The gold job cannot use sqlglot (Python shell, standard library): its reading of the
    outermost SELECT list agrees with sqlglot's on every project query."""
    select = select_statement(path.read_text(encoding="utf-8"), path.stem)
    parsed = sqlglot.parse_one(select, read="athena")
    assert output_columns(select) == tuple(parsed.named_selects)


@pytest.mark.parametrize(("select", "columns"), [
    ("SELECT a, b AS c, t.d, COUNT(*) candidates FROM t", ("a", "c", "d", "candidates")),
    ('SELECT x AS "Candidates", CASE WHEN y THEN 1 END FROM t', ("candidates", "")),
    ("SELECT DISTINCT f(a, b) AS n, 'it''s, from' AS s FROM t WHERE z", ("n", "s")),
    ("WITH s AS (SELECT 1 AS q FROM t) SELECT q AS candidates FROM s UNION SELECT 2",
     ("candidates",)),
    ("SELECT /* from */ a -- , b\n, b FROM t", ("a", "b")),
    ("SELECT CAST(x AS INTEGER) AS bin, x IS NULL FROM t", ("bin", "")),
    ("SELECT * FROM t", None),
    ("SELECT t.*, 1 AS candidates FROM t", None),
    ("(SELECT 1 AS candidates)", None),
])
def test_the_columns_a_select_returns(select: str, columns: tuple | None) -> None:
    assert output_columns(select) == columns


@pytest.mark.parametrize(("header", "columns"), [
    ("-- group size: essays\n", ("essays",)),
    ("-- Group size: candidates_day2, candidates_essay.\n",
     ("candidates_day2", "candidates_essay")),
    ("--GROUP SIZE:n\n-- group size: n, m\n", ("n", "m")),
    ("-- Population: everyone; the group size is the state's.\n", ()),
])
def test_the_header_names_the_group_size_columns(header: str, columns: tuple) -> None:
    assert named_columns(f"-- Question?\n{header}SELECT 1 AS n, 2 AS m, 3 AS essays, "
                         f"4 AS candidates_day2, 5 AS candidates_essay", "q") == columns


def test_the_convention_is_the_candidates_column_and_a_header_replaces_it() -> None:
    assert group_size_columns(PRESENCA, "presenca") == ("candidates",)
    assert group_size_columns(MEDIA, "media") == ("n",)
    header = "-- group size: n\nSELECT 1 AS candidates, 2 AS n"
    assert group_size_columns(header, "q") == ("n",)
    star = "-- group size: n\nSELECT * FROM gold_media"  # its columns are unknown: trusted
    assert group_size_columns(star, "q") == ("n",)


@pytest.mark.parametrize(("sql", "message"), [
    (NO_GROUP_SIZE, "Query file q.sql names no group-size column, so gold cannot withhold its "
                    "small groups: select each row's number of candidates AS candidates, or "
                    "name the column(s) that count them in its header, e.g. `-- group size: "
                    "essays` (queries/README.md)."),
    ("SELECT * FROM gold_media", "Query file q.sql names no group-size column"),
    ("-- group size: alunos\nSELECT 1 AS n",
     "Query file q.sql names the group-size column alunos in its header but does not select it "
     "(it selects n); select it, or name the column that counts each row's candidates."),
    ("-- group size:\nSELECT 1 AS n", "Query file q.sql has a `-- group size:` line that is not "
                                      "a list of column names ('-- group size:'); write e.g. "
                                      "`-- group size: candidates_day2, candidates_essay`."),
    ("-- group size: n m\nSELECT 1 AS n", "Query file q.sql has a `-- group size:` line that is "
                                          "not a list of column names ('-- group size: n m')"),
    ("SELECT 1 AS n\n-- group size: n\n", "Query file q.sql has a `-- group size:` line after "
                                          "the header comment; move it into the comment lines "
                                          "before the statement."),
    ("DROP TABLE x", "Query file q.sql must be one query"),
])
def test_a_query_without_a_usable_group_size_is_refused_in_one_line(sql: str,
                                                                     message: str) -> None:
    with pytest.raises(GoldError) as error:
        group_size_columns(sql, "q")
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


# --- the SQL -----------------------------------------------------------------------------------

def test_the_published_select_wraps_the_query_in_the_threshold() -> None:
    select = "-- q\nSELECT a, COUNT(*) AS n, COUNT(b) AS m FROM t GROUP BY a -- last"
    assert published_select(select, ("n", "m"), 10) == (
        "SELECT * FROM (\n-- q\nSELECT a, COUNT(*) AS n, COUNT(b) AS m FROM t GROUP BY a -- last"
        '\n) AS answers\nWHERE "n" >= 10 AND "m" >= 10')
    with pytest.raises(GoldError, match=r"must be a whole number between 1 and 1000 \(got 0\)"):
        published_select(select, ("n",), 0)
    with pytest.raises(ValueError):
        published_select(select, (), 10)


ROWS = [("AC", 9, 30), ("AL", 10, 10), ("AM", 50, None), ("AP", 3, 4), ("BA", 11, 9)]


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        connection.execute("CREATE TABLE t (state VARCHAR, n INTEGER, m INTEGER)")
        connection.executemany("INSERT INTO t VALUES (?, ?, ?)", ROWS)
        yield connection


@pytest.mark.parametrize("size", [1, 10, 11, 1000])
def test_the_sql_keeps_exactly_the_large_groups_and_counts_the_others(con, size: int) -> None:
    """On DuckDB after sqlglot's translation, as the local lake runs it: a row is kept when
    every group-size column is at least `size`; NULL counts as too small."""
    select = "SELECT state, n, m FROM t ORDER BY state"
    kept = [row for row in ROWS if row[1] >= size and row[2] is not None and row[2] >= size]
    assert con.execute(to_duckdb(published_select(select, ("n", "m"), size))).fetchall() == kept
    row = con.execute(to_duckdb(withheld_select(select, ("n", "m"), size))).fetchone()
    withholding = withholding_from_row(row, ("n", "m"), size)
    assert withholding == Withholding(size, ("n", "m"), len(ROWS), len(ROWS) - len(kept), (
        sum(r[1] < size for r in ROWS), sum(r[2] is None or r[2] < size for r in ROWS)))
    withholding.check(len(kept))
    with pytest.raises(GoldError, match="the small-group filter did not hold"):
        withholding.check(len(ROWS))


def test_the_count_of_an_empty_query_is_zero(con) -> None:
    row = con.execute(to_duckdb(withheld_select("SELECT n FROM t WHERE false", ("n",), 10))
                      ).fetchone()
    assert withholding_from_row(row, ("n",), 10) == Withholding(10, ("n",), 0, 0, (0,))
    assert withholding_from_row(["5", "2", "2"], ("n",), 10).published == 3  # Athena's strings


# --- what a run records ------------------------------------------------------------------------

def test_the_record_reads_back_and_says_why() -> None:
    withholding = Withholding(10, ("candidates_day2", "candidates_essay"), 27, 2, (1, 2))
    text = sidecar_text("mean_scores_by_state", "20261125T101253Z", 25, withholding)
    assert json.loads(text)["below"] == {"candidates_day2": 1, "candidates_essay": 2}
    assert read_sidecar(text) == (25, withholding)
    assert withholding.summary() == ("2 groups withheld (candidates_day2 < 10: 1; "
                                     "candidates_essay < 10: 2)")
    one = Withholding(10, ("essays",), 8, 1, (1,))
    assert one.summary() == "1 group withheld (essays < 10)" and one.reason() == "essays < 10"
    none = Withholding(10, ("essays",), 8, 0, (0,))
    assert none.summary() == "no group withheld (every group has essays >= 10)"
    assert none.reason() == ""
    with pytest.raises(GoldError, match=r"^x/_gold\.json is not a gold run's record"):
        read_sidecar('{"rows": 1}', "x/_gold.json")


def test_the_record_is_a_file_that_athena_and_duckdb_skip(tmp_path: Path) -> None:
    """`_gold.json` lies in the run folder that the gold table reads. Athena (engine 3 is Trino)
    lists a table's files with the Hive connector, which skips every file whose name starts
    with `_` or `.` ("Hive ignores files starting with _ and . as well",
    `containsHiddenPathPartAfterIndex` in https://github.com/trinodb/trino/blob/
    05657f7218fdf232db029426990d461efafc5baf/plugin/trino-hive/src/main/java/io/trino/plugin/
    hive/fs/HiveFileIterator.java; Athena's own page on table locations says only that it reads
    all data in the folder). The local views read `*.parquet` only."""
    assert SIDECAR.startswith("_") and not SIDECAR.endswith(".parquet")
    (tmp_path / SIDECAR).write_text("{}")
    with duckdb.connect() as connection:
        connection.execute(f"COPY (SELECT 1 AS n) TO '{tmp_path / 'data.parquet'}'")
        assert connection.execute(f"SELECT * FROM read_parquet('{tmp_path}/*.parquet')"
                                  ).fetchall() == [(1,)]


def test_the_glue_table_records_the_rule() -> None:
    location = "s3://gold/media/run=1/"
    temporary = {"Name": "t", "StorageDescriptor": {
        "Columns": [{"Name": "n", "Type": "bigint"}], "Location": location}}
    withholding = Withholding(25, ("n", "m"), 9, 4, (4, 1))
    parameters = gold_table_input(temporary, "media", "1", location, rows=5,
                                  withholding=withholding)["Parameters"]
    assert {k: v for k, v in parameters.items() if k.startswith("gold.")} == {
        "gold.run": "1", "gold.query": "media.sql", "gold.rows": "5", "gold.groups": "9",
        "gold.withheld": "4", "gold.min_group_size": "25", "gold.group_size_columns": "n,m"}


def test_an_empty_result_replaces_answers_only_when_the_rule_emptied_it() -> None:
    assert empty_result_problem("gold_media", 0, 27).startswith("returned no rows")
    assert empty_result_problem("gold_media", 0, 27, withheld=27) is None


# --- the gold job's argument -------------------------------------------------------------------

BASE = ["--workgroup", "w", "--database", "d", "--gold", "s3://g", "--queries", "s3://a/q/"]


def test_the_threshold_defaults_to_the_contracts_and_takes_the_argument() -> None:
    assert parse_arguments(BASE).min_group_size == DEFAULT_MIN_GROUP_SIZE == 10
    assert parse_arguments([*BASE, "--min-group-size", "25"]).min_group_size == 25
    assert parse_arguments([*BASE, "--min-group-size=1000"]).min_group_size == 1000


@pytest.mark.parametrize(("value", "message"), [
    ("0", "--min-group-size must be a whole number between 1 and 1000"),
    ("1001", "--min-group-size must be a whole number between 1 and 1000"),
    ("-5", "--min-group-size must be a whole number between 1 and 1000"),
    ("ten", "argument --min-group-size: invalid int value: 'ten'"),
    ("2.5", "argument --min-group-size: invalid int value: '2.5'"),
])
def test_a_bad_threshold_is_one_line_and_status_2(value: str, message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_arguments([*BASE, "--min-group-size", value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"export.py: error: {message}"
    assert re.match(r"usage: export\.py", err[0])  # argparse's usage, then the one line
