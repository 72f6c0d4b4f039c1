"""The local gold step keeps the gold job's rule: an empty result never replaces answers."""

from __future__ import annotations

from pathlib import Path

import duckdb

from lake.local.gold import export

ANSWERS = """-- How many candidates per state.
SELECT sg_uf_prova, count(*) AS candidates FROM microdados GROUP BY 1 ORDER BY 1
"""


def catalog_with(path: Path, states: list[str]) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE OR REPLACE TABLE microdados (sg_uf_prova VARCHAR)")
        for state in states:
            con.execute("INSERT INTO microdados VALUES (?)", [state])


def gold_rows(catalog: Path) -> list[tuple]:
    with duckdb.connect(str(catalog), read_only=True) as con:
        return con.execute("SELECT * FROM gold_answers ORDER BY 1").fetchall()


def test_an_empty_result_keeps_the_published_answers(tmp_path: Path) -> None:
    catalog, queries, gold = tmp_path / "catalog.duckdb", tmp_path / "queries", tmp_path / "gold"
    queries.mkdir()
    (queries / "answers.sql").write_text(ANSWERS)
    catalog_with(catalog, ["AC", "AC", "RR"])
    [first] = export(catalog, queries, gold, run_id="20261201T000000Z")
    assert first.error is None and first.rows == 2

    catalog_with(catalog, [])  # the processed data is gone
    [empty] = export(catalog, queries, gold, run_id="20261202T000000Z")

    assert empty.error == ("returned no rows, where gold_answers has 2 rows: its input tables "
                           "are empty or gone (process the data again); gold_answers keeps its "
                           "answers")
    assert gold_rows(catalog) == [("AC", 2), ("RR", 1)]
    assert [p.name for p in (gold / "answers").iterdir()] == ["run=20261201T000000Z"]


def test_an_empty_result_is_published_where_there_were_no_answers(tmp_path: Path) -> None:
    catalog, queries, gold = tmp_path / "catalog.duckdb", tmp_path / "queries", tmp_path / "gold"
    queries.mkdir()
    (queries / "answers.sql").write_text(ANSWERS)
    catalog_with(catalog, [])
    [result] = export(catalog, queries, gold)
    assert result.error is None and result.rows == 0
    assert gold_rows(catalog) == []
