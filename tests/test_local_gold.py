"""The local gold step keeps the gold job's rules: an empty result never replaces answers, and
small groups are never published. Over a catalog table made straight from the microdata CSV
(synthetic rows from lake/synth, and the real rows where ../shared/enem2019 is present), a
query the tests add publishes every group of at least the threshold with its exact count and
nothing of the smaller ones, checked against plain Python; a query that names no group size
is refused in one line."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from jobs.contract import DEFAULT_MIN_GROUP_SIZE
from jobs.errors import UserError
from lake.local import lake
from lake.local.catalog import connect
from lake.local.gold import export
from lake.samples import SHARED, real_rows_available, real_rows_csv
from lake.synth.archive import microdata_chunks
from tests.gold_queries import NO_GROUP_SIZE

ANSWERS = """-- How many candidates per state.
SELECT sg_uf_prova, count(*) AS candidates FROM microdados GROUP BY 1 ORDER BY 1
"""


def catalog_with(path: Path, states: list[str]) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE OR REPLACE TABLE microdados (sg_uf_prova VARCHAR)")
        for state in states:
            con.execute("INSERT INTO microdados VALUES (?)", [state])


def gold_rows(catalog: Path, table: str = "gold_answers") -> list[tuple]:
    with connect(catalog, read_only=True) as con:  # views read relative to its folder
        return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def test_an_empty_result_keeps_the_published_answers(tmp_path: Path) -> None:
    catalog, queries, gold = tmp_path / "catalog.duckdb", tmp_path / "queries", tmp_path / "gold"
    queries.mkdir()
    (queries / "answers.sql").write_text(ANSWERS)
    catalog_with(catalog, ["AC", "AC", "RR"])
    [first] = export(catalog, queries, gold, run_id="20261201T000000Z", min_group_size=1)
    assert first.error is None and first.rows == 2

    catalog_with(catalog, [])  # the processed data is gone
    [empty] = export(catalog, queries, gold, run_id="20261202T000000Z", min_group_size=1)

    assert empty.error == ("returned no rows, where gold_answers has 2 rows: its input tables "
                           "are empty or gone (process the data again); gold_answers keeps its "
                           "answers")
    assert gold_rows(catalog) == [("AC", 2), ("RR", 1)]
    assert [p.name for p in (gold / "answers").iterdir()] == ["run=20261201T000000Z"]


def test_a_gold_folder_someone_deleted_is_rebuilt(tmp_path: Path) -> None:
    """The published view then reads no files: the next run publishes the answers again
    instead of failing on the view every time."""
    import shutil

    catalog, queries, gold = tmp_path / "catalog.duckdb", tmp_path / "queries", tmp_path / "gold"
    queries.mkdir()
    (queries / "answers.sql").write_text(ANSWERS)
    catalog_with(catalog, ["AC", "AC", "RR"])
    export(catalog, queries, gold, run_id="20261201T000000Z", min_group_size=1)
    shutil.rmtree(gold / "answers")

    [again] = export(catalog, queries, gold, run_id="20261202T000000Z", min_group_size=1)
    assert again.error is None and again.rows == 2
    assert gold_rows(catalog) == [("AC", 2), ("RR", 1)]


def test_an_empty_result_is_published_where_there_were_no_answers(tmp_path: Path) -> None:
    catalog, queries, gold = tmp_path / "catalog.duckdb", tmp_path / "queries", tmp_path / "gold"
    queries.mkdir()
    (queries / "answers.sql").write_text(ANSWERS)
    catalog_with(catalog, [])
    [result] = export(catalog, queries, gold)
    assert result.error is None and result.rows == 0
    assert gold_rows(catalog) == []


def test_a_result_the_rule_emptied_replaces_the_answers(tmp_path: Path) -> None:
    """A higher threshold takes effect even where it withholds every group."""
    catalog, queries, gold = tmp_path / "catalog.duckdb", tmp_path / "queries", tmp_path / "gold"
    queries.mkdir()
    (queries / "answers.sql").write_text(ANSWERS)
    catalog_with(catalog, ["AC"] * 12 + ["RR"] * 3)
    [first] = export(catalog, queries, gold, run_id="20261201T000000Z")
    assert (first.rows, first.withholding.withheld) == (1, 1)
    assert gold_rows(catalog) == [("AC", 12)]

    [second] = export(catalog, queries, gold, run_id="20261202T000000Z", min_group_size=13)

    assert second.error is None and (second.rows, second.withholding.withheld) == (0, 2)
    assert gold_rows(catalog) == []
    assert [p.name for p in (gold / "answers").iterdir()] == ["run=20261202T000000Z"]


# --- small groups: a query the tests add, over real and synthetic microdata --------------------

SYNTHETIC_ROWS = 20_000
SMALL_GROUPS = """-- How many candidates sat ENEM by state, sex, colour/race and school type?
-- Population: every registration; mean_mt is over those with a maths score.
SELECT
    sg_uf_prova AS state,
    tp_sexo AS sex,
    tp_cor_raca AS race,
    tp_escola AS school_type,
    COUNT(*) AS candidates,
    ROUND(AVG(nu_nota_mt), 1) AS mean_mt
FROM microdados_enem_2019
GROUP BY sg_uf_prova, tp_sexo, tp_cor_raca, tp_escola
ORDER BY state, sex, race, school_type
"""
# The same groups, sized by two columns named in the header: a row is withheld if either is
# small (here: few candidates, or few of them with a maths score).
TWO_SIZES = """-- How did candidates do in maths by state, sex, colour/race and school type?
-- Population: every registration.
-- Group size: candidates, with_mt.
SELECT
    sg_uf_prova AS state, tp_sexo AS sex, tp_cor_raca AS race, tp_escola AS school_type,
    COUNT(*) AS candidates,
    COUNT(nu_nota_mt) AS with_mt
FROM microdados_enem_2019
GROUP BY 1, 2, 3, 4
"""
KEYS = ("SG_UF_PROVA", "TP_SEXO", "TP_COR_RACA", "TP_ESCOLA")


@pytest.fixture(scope="module", params=["synthetic", "real"])
def microdata(request: pytest.FixtureRequest) -> list[dict[str, str]]:
    if request.param == "synthetic":
        data = b"".join(microdata_chunks(SYNTHETIC_ROWS, "original", seed=2019))
    elif real_rows_available():
        data = real_rows_csv()
    else:
        pytest.skip(f"real ENEM rows not found in {SHARED} (they are not part of the "
                    "repository); the synthetic twin of this test ran")
    return list(csv.DictReader(io.StringIO(data.decode("iso-8859-1")), delimiter=";"))


@pytest.fixture(scope="module")
def catalog(microdata: list[dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalog whose microdata table holds exactly these rows, typed as processing types
    them."""
    import pyarrow as pa

    path = tmp_path_factory.mktemp("catalog") / "catalog.duckdb"
    rows = pa.table({
        "sg_uf_prova": [r["SG_UF_PROVA"] for r in microdata],
        "tp_sexo": [r["TP_SEXO"] for r in microdata],
        "tp_cor_raca": pa.array([int(r["TP_COR_RACA"]) for r in microdata], pa.int32()),
        "tp_escola": pa.array([int(r["TP_ESCOLA"]) for r in microdata], pa.int32()),
        "nu_nota_mt": pa.array([float(r["NU_NOTA_MT"]) if r["NU_NOTA_MT"] else None
                                for r in microdata], pa.float64()),
    })
    with duckdb.connect(str(path)) as con:
        con.register("rows", rows)
        con.execute("CREATE TABLE microdados_enem_2019 AS SELECT * FROM rows")
    return path


def groups(microdata: list[dict[str, str]]) -> dict[tuple, list[dict[str, str]]]:
    """Plain Python: the candidates of each (state, sex, race, school type)."""
    found: dict[tuple, list[dict[str, str]]] = defaultdict(list)
    for row in microdata:
        state, sex, race, school = (row[key] for key in KEYS)
        found[(state, sex, int(race), int(school))].append(row)
    return found


def run_query(catalog: Path, tmp_path: Path, name: str, sql: str, **options):
    queries = tmp_path / "queries"
    queries.mkdir(exist_ok=True)
    (queries / f"{name}.sql").write_text(sql, encoding="utf-8")
    [result] = export(catalog, queries, tmp_path / "gold", **options)
    assert result.error is None, result.error
    record = json.loads((Path(result.location) / "_gold.json").read_text(encoding="utf-8"))
    return result, record, gold_rows(catalog, f"gold_{name}")


@pytest.mark.parametrize("size", [DEFAULT_MIN_GROUP_SIZE, 30])
def test_an_added_query_publishes_each_large_group_exactly_and_nothing_of_the_small_ones(
        catalog: Path, microdata: list[dict[str, str]], tmp_path: Path, size: int) -> None:
    options = {} if size == DEFAULT_MIN_GROUP_SIZE else {"min_group_size": size}
    result, record, published = run_query(catalog, tmp_path, "small_groups", SMALL_GROUPS,
                                          **options)

    every = groups(microdata)
    large = {key: rows for key, rows in every.items() if len(rows) >= size}
    small = set(every) - set(large)
    assert small and large, "the rows must hold groups on both sides of the threshold"
    by_group = {row[:4]: row for row in published}
    assert len(by_group) == len(published) == len(large)
    assert {key: row[4] for key, row in by_group.items()} == {
        key: len(rows) for key, rows in large.items()}  # each exact count, no other group
    assert not small & set(by_group)
    assert min(row[4] for row in published) >= size
    for key, rows in large.items():  # and the measures of the published ones
        scores = [float(r["NU_NOTA_MT"]) for r in rows if r["NU_NOTA_MT"]]
        got = by_group[key][5]
        if scores:
            assert abs(got - sum(scores) / len(scores)) <= 0.05 + 1e-9, (key, got)
        else:
            assert got is None
    assert (result.rows, result.withholding.groups, result.withholding.withheld) == (
        len(large), len(every), len(small))
    assert record == {"query": "small_groups.sql", "run": record["run"], "rows": len(large),
                      "min_group_size": size, "group_size_columns": ["candidates"],
                      "groups": len(every), "withheld": len(small),
                      "below": {"candidates": len(small)}}


def test_every_group_size_the_header_names_must_reach_the_threshold(
        catalog: Path, microdata: list[dict[str, str]], tmp_path: Path) -> None:
    _, record, published = run_query(catalog, tmp_path, "two_sizes", TWO_SIZES)

    counts = {key: (len(rows), sum(1 for r in rows if r["NU_NOTA_MT"]))
              for key, rows in groups(microdata).items()}
    kept = {key: sizes for key, sizes in counts.items() if min(sizes) >= 10}
    assert {row[:4]: row[4:] for row in published} == kept
    few_mt = [key for key, (candidates, with_mt) in counts.items()
              if candidates >= 10 > with_mt]
    assert few_mt, "some group has candidates enough but too few maths scores"
    assert record["group_size_columns"] == ["candidates", "with_mt"]
    assert record["below"] == {"candidates": sum(c < 10 for c, _ in counts.values()),
                               "with_mt": sum(m < 10 for _, m in counts.values())}
    assert record["withheld"] == len(counts) - len(kept)


def test_a_query_with_no_group_size_is_refused_in_one_line_and_writes_nothing(
        catalog: Path, tmp_path: Path) -> None:
    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "por_uf.sql").write_text(NO_GROUP_SIZE)
    (queries / "small_groups.sql").write_text(SMALL_GROUPS)

    refused, published = export(catalog, queries, tmp_path / "gold")

    assert refused.error == (
        "Query file por_uf.sql names no group-size column, so gold cannot withhold its small "
        "groups: select each row's number of candidates AS candidates, or name the column(s) "
        "that count them in its header, e.g. `-- group size: essays` (queries/README.md).")
    assert published.error is None  # the others run
    assert not (tmp_path / "gold" / "por_uf").exists()
    with duckdb.connect(str(catalog), read_only=True) as con:
        assert not con.execute("SELECT * FROM duckdb_views() WHERE view_name = 'gold_por_uf'"
                               ).fetchall()


def test_the_lake_api_refuses_a_query_without_group_size_and_a_bad_threshold(
        catalog: Path, tmp_path: Path) -> None:
    z = lake.zones(tmp_path / "lake", "dev")
    z.base.mkdir(parents=True)
    z.catalog.write_bytes(catalog.read_bytes())
    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "por_uf.sql").write_text(NO_GROUP_SIZE)
    [result] = lake.gold(z, queries)
    assert result.error.startswith("Query file por_uf.sql names no group-size column")
    with pytest.raises(UserError, match=r"^--min-group-size 0: must be a whole number between 1 "
                                        r"and 1000 \(the fewest candidates a published gold row "
                                        r"may count\)$"):
        lake.gold(z, queries, min_group_size=0)
