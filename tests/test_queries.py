"""queries/*.sql: each states its question and population, parses as Athena SQL, and is what the
Pulumi program saves as a named query (the same text, no second copy)."""

from __future__ import annotations

import re

import pytest
import sqlglot

from jobs.contract import query_description
from lake.local.lake import QUERIES
from lake.local.sql import QueryError, to_duckdb

FILES = sorted(QUERIES.glob("*.sql"))
REQUIRED = {"participants_by_state", "mean_scores_by_state", "mean_scores_by_school_type",
            "mean_scores_by_income", "essay_status", "mean_scores_by_sex_and_race",
            "score_histogram"}


def test_the_business_questions_are_all_there() -> None:
    assert {p.stem for p in FILES} >= REQUIRED


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_each_query_states_its_question_and_population(path) -> None:
    header = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        header.append(line[2:].strip())
    text = " ".join(header)
    assert header and header[0].endswith("?"), f"{path.name}: first line must be the question"
    assert "Population:" in text, f"{path.name}: say which rows it counts"
    assert re.fullmatch(r"[a-z][a-z0-9_]*", path.stem)
    assert query_description(path.read_text(encoding="utf-8"), path.stem) == header[0]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_each_query_parses_as_athena_sql_and_translates(path) -> None:
    sql = path.read_text(encoding="utf-8")
    parsed = sqlglot.parse_one(sql, read="athena")
    assert parsed.find(sqlglot.exp.Select) is not None
    assert "microdados_enem_2019" in {t.name for t in parsed.find_all(sqlglot.exp.Table)}
    assert to_duckdb(sql).startswith(("/*", "SELECT", "WITH"))


def test_the_named_queries_are_the_files(dev) -> None:
    saved = {q.get("name"): q.get("query") for q in dev.of_type("aws:athena/namedQuery:NamedQuery")}
    assert saved == {p.stem: p.read_text(encoding="utf-8") for p in FILES}


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT * FROM", "bad SQL at line 1, column 14: unexpected end of the statement (expected "
                      "a table name)"),
    ("SELECT 1; SELECT 2", "give one SQL statement (got 2)"),
    ("", "give one SQL statement (got 0)"),
])
def test_bad_sql_is_one_line(sql: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        to_duckdb(sql)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)
