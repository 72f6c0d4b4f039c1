"""The gold answers: every query's result equals an independent computation in plain Python over
the CSV itself, for both layouts of the microdata (the 76-column one derived from the same rows).

Twice: on synthetic rows that lake/synth generates with a fixed seed (the same bytes on every
machine, so these checks run on any clone), and on the real rows where ../shared/enem2019 is
present (skipped, with the reason, where it is not)."""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from pathlib import Path

import pytest

from jobs.contract import DEFAULT_MIN_GROUP_SIZE
from jobs.enem.dictionary import DICTIONARY
from jobs.enem.schema import PUBLIC_MICRODATA_COLUMNS
from jobs.process import csv_to_parquet as job
from jobs.process import pipeline, runs
from lake.local import lake
from lake.local.catalog import connect
from lake.local.sql import QueryError
from lake.samples import SHARED, real_rows_available, real_rows_csv, to_lgpd
from lake.synth.archive import microdata_chunks

LABELS = DICTIONARY["MICRODADOS"]
SYNTHETIC_ROWS = 20_000  # every state, income band and school type; 8 essay statuses
SYNTHETIC_SEED = 2019


@pytest.fixture(scope="module")
def spark():
    session = job.local_session("lake-tests")
    job.tune(session)
    yield session


def build(root: Path, csv_bytes: bytes, spark) -> lake.Zones:
    """ingest (as `lake ingest` lays it out) -> process -> crawl -> gold."""
    z = lake.zones(root, "dev")
    folder = Path(z.raw) / "microdados_enem_2019" / "ingest=20261125T000000Z"
    folder.mkdir(parents=True)
    (folder / "MICRODADOS_ENEM_2019.csv").write_bytes(csv_bytes)
    (folder / "_manifest.json").write_text(json.dumps({"files": []}))
    summary = pipeline.run(spark, runs.Options(raw=z.raw, processed=z.processed,
                                               restricted=z.restricted, rejected=z.rejected))
    assert summary.status == "published"
    assert summary.tables["microdados_enem_2019"].rows_rejected == 0
    lake.crawl(z)
    failed = [r for r in lake.gold(z) if r.error]
    assert not failed, failed
    return z


@pytest.fixture(scope="module", params=["synthetic", "real"])
def original_csv(request: pytest.FixtureRequest) -> bytes:
    """The microdata in INEP's original layout: synthetic, or the real rows where present."""
    if request.param == "synthetic":
        return b"".join(microdata_chunks(SYNTHETIC_ROWS, "original", seed=SYNTHETIC_SEED))
    if not real_rows_available():
        pytest.skip(f"real ENEM rows not found in {SHARED} (they are not part of the "
                    "repository); the synthetic twin of this test ran")
    return real_rows_csv()


@pytest.fixture(scope="module")
def lakes(tmp_path_factory, spark, original_csv) -> dict[str, lake.Zones]:
    return {"original": build(tmp_path_factory.mktemp("original"), original_csv, spark),
            "lgpd": build(tmp_path_factory.mktemp("lgpd"), to_lgpd(original_csv), spark)}


def gold(z: lake.Zones, name: str) -> list[dict]:
    with connect(z.catalog, read_only=True) as con:  # views read relative to its folder
        cursor = con.execute(f"SELECT * FROM gold_{name}")
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


# --- the independent computation: plain Python over the CSV --------------------------------------

@pytest.fixture(scope="module")
def rows(original_csv: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(original_csv.decode("iso-8859-1")), delimiter=";"))


def num(value: str) -> float | None:
    return float(value) if value != "" else None


def mean(values: list) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


class Rounded:
    """An exact value that SQL's ROUND(value, digits) reports. On an exact half (507.15) binary
    floating point may land either side, in Athena as in DuckDB, so both neighbours count."""

    def __init__(self, value: float, digits: int) -> None:
        self.value, self.digits = value, digits

    def accepts(self, got: float) -> bool:
        scaled = self.value * 10 ** self.digits
        candidates = {math.floor(scaled + 0.5)}
        if abs(scaled - math.floor(scaled) - 0.5) < 1e-6:  # a half: either neighbour
            candidates |= {math.floor(scaled), math.ceil(scaled)}
        return any(abs(got - c / 10 ** self.digits) < 1e-9 for c in candidates)

    def __repr__(self) -> str:
        return f"round({self.value!r}, {self.digits})"


def round_half_up(value: float | None, digits: int) -> Rounded | None:
    return None if value is None else Rounded(value, digits)


def means(group: list[dict]) -> dict:
    return {f"mean_{key}": round_half_up(mean([num(r[column]) for r in group]), 1)
            for key, column in (("cn", "NU_NOTA_CN"), ("ch", "NU_NOTA_CH"), ("lc", "NU_NOTA_LC"),
                                ("mt", "NU_NOTA_MT"), ("essay", "NU_NOTA_REDACAO"))}


def grouped(rows: list[dict], *keys: str) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[tuple(row[k] for k in keys)].append(row)
    return dict(sorted(groups.items()))


def assert_same(actual: list[dict], expected: list[dict]) -> None:
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        assert set(got) == set(want), (got, want)
        for key, value in want.items():
            if isinstance(value, Rounded):
                assert got[key] is not None and value.accepts(got[key]), (key, got, want)
            else:
                # A count is an integer, as Athena returns it (not 603.0).
                assert got[key] == value and type(got[key]) is type(value), (key, got, want)


def code(value: str) -> int:
    return int(value)


def not_practice(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["IN_TREINEIRO"] == "0"]


def published(answers: list[dict], *sizes: str) -> list[dict]:
    """The answers gold publishes: small groups are withheld, a row whose group-size columns
    (`sizes`, as the query names them) are not all at least DEFAULT_MIN_GROUP_SIZE is dropped.
    Shares and totals stay computed over every group."""
    return [row for row in answers if all(row[size] >= DEFAULT_MIN_GROUP_SIZE for size in sizes)]


# --- one test per question ----------------------------------------------------------------------

def expected_participants(rows):
    out = []
    for (state,), group in grouped(rows, "SG_UF_PROVA").items():
        both = sum(all(r[f"TP_PRESENCA_{a}"] == "1" for a in ("CN", "CH", "LC", "MT"))
                   for r in group)
        out.append({"state": state, "registered": len(group),
                    "practice_takers": sum(r["IN_TREINEIRO"] == "1" for r in group),
                    "present_day1": sum(r["TP_PRESENCA_LC"] == "1" for r in group),
                    "present_day2": sum(r["TP_PRESENCA_MT"] == "1" for r in group),
                    "present_both_days": both,
                    "attendance_pct": round_half_up(100 * both / len(group), 2)})
    return published(out, "registered")


def expected_state_means(rows):
    return published([{"state": state,
                       "candidates_day2": sum(r["NU_NOTA_MT"] != "" for r in group),
                       "candidates_essay": sum(r["NU_NOTA_REDACAO"] != "" for r in group),
                       **means(group)}
                      for (state,), group in grouped(not_practice(rows), "SG_UF_PROVA").items()],
                     "candidates_day2", "candidates_essay")


def expected_school_type(rows):
    groups = grouped(not_practice(rows), "TP_ESCOLA")
    return published([{"school_type": code(k), "school_type_label": LABELS["TP_ESCOLA"][
                          "categories"][code(k)], "candidates": len(g), **means(g)}
                      for (k,), g in sorted(groups.items(), key=lambda item: code(item[0][0]))],
                     "candidates")


def expected_income(rows):
    groups = grouped([r for r in not_practice(rows) if r["Q006"] != ""], "Q006")
    return published([{"income_band": k, "income_band_label": LABELS["Q006"]["categories"][k],
                       "candidates": len(g), **means(g)} for (k,), g in groups.items()],
                     "candidates")


def expected_essay_status(rows):
    marked = [r for r in rows if r["TP_STATUS_REDACAO"] != ""]
    groups = grouped(marked, "TP_STATUS_REDACAO")
    return published([{"essay_status": code(k),
                       "essay_status_label": LABELS["TP_STATUS_REDACAO"]["categories"][code(k)],
                       "essays": len(g), "share_pct": round_half_up(100 * len(g) / len(marked), 2),
                       "mean_essay": round_half_up(mean([num(r["NU_NOTA_REDACAO"]) for r in g]),
                                                   1)}
                      for (k,), g in sorted(groups.items(), key=lambda item: code(item[0][0]))],
                     "essays")


def expected_sex_race(rows):
    groups = grouped(not_practice(rows), "TP_SEXO", "TP_COR_RACA")
    return published([{"sex": sex, "sex_label": LABELS["TP_SEXO"]["categories"][sex],
                       "race": code(race),
                       "race_label": LABELS["TP_COR_RACA"]["categories"][code(race)],
                       "candidates": len(g), **means(g)}
                      for (sex, race), g in sorted(groups.items(),
                                                   key=lambda item: (item[0][0],
                                                                     code(item[0][1])))],
                     "candidates")


def expected_histogram(rows):
    out = []
    columns = {"CH": "NU_NOTA_CH", "CN": "NU_NOTA_CN", "ESSAY": "NU_NOTA_REDACAO",
               "LC": "NU_NOTA_LC", "MT": "NU_NOTA_MT"}
    for area, column in sorted(columns.items()):
        scores = [num(r[column]) for r in not_practice(rows) if r[column] != ""]
        bins: dict[int, int] = defaultdict(int)
        for score in scores:
            bins[int(math.floor(score / 50) * 50)] += 1
        out += [{"area": area, "bin_start": start, "candidates": count,
                 "share_pct": round_half_up(100 * count / len(scores), 2)}
                for start, count in sorted(bins.items())]
    return published(out, "candidates")


EXPECTED = {
    "participants_by_state": expected_participants,
    "mean_scores_by_state": expected_state_means,
    "mean_scores_by_school_type": expected_school_type,
    "mean_scores_by_income": expected_income,
    "essay_status": expected_essay_status,
    "mean_scores_by_sex_and_race": expected_sex_race,
    "score_histogram": expected_histogram,
}


def test_every_query_has_an_independent_check() -> None:
    assert {p.stem for p in lake.QUERIES.glob("*.sql")} == set(EXPECTED)


@pytest.mark.parametrize("layout", ["original", "lgpd"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_gold_answer_equals_an_independent_computation(name: str, layout: str, lakes,
                                                       rows) -> None:
    assert_same(gold(lakes[layout], name), EXPECTED[name](rows))


def test_the_rows_cover_what_the_questions_ask(rows) -> None:
    # Guard against a vacuous pass: three states, six essay statuses, every income band, etc.
    assert {r["SG_UF_PROVA"] for r in rows} >= {"AC", "RR", "PA"}
    assert len({r["TP_STATUS_REDACAO"] for r in rows}) >= 6
    assert len({r["Q006"] for r in rows}) == 17


# --- who sees what, on one machine ------------------------------------------------------------

RESTRICTED_TABLE = "datalake_dev_enem_restricted.microdados_enem_2019"


def refused(z: lake.Zones, role: str, sql: str) -> str:
    with pytest.raises(QueryError) as error:
        lake.query(z, sql, role)
    assert "\n" not in str(error.value)
    return str(error.value)


@pytest.mark.parametrize("layout", ["original", "lgpd"])
def test_analysts_get_exactly_the_76_public_columns_from_either_release(layout: str,
                                                                         lakes) -> None:
    result = lake.query(lakes[layout], "SELECT * FROM microdados_enem_2019 LIMIT 1")
    assert sorted(result.columns) == sorted(c.lower() for c in PUBLIC_MICRODATA_COLUMNS)


def test_an_analyst_cannot_read_restricted_columns_tables_or_files(lakes) -> None:
    z = lakes["original"]
    analyst = "role analyst may not read"
    reads = "role analyst reads the gold tables, the public microdata and the label tables"
    assert refused(z, "analyst", "SELECT avg(nu_idade) FROM microdados_enem_2019") == (
        f"{analyst} column nu_idade: it is restricted; {reads}")
    assert refused(z, "analyst", f"SELECT count(*) FROM {RESTRICTED_TABLE}").startswith(
        f"{analyst} table ")
    path = Path(z.restricted) / "microdados_enem_2019"
    assert refused(z, "analyst", f"SELECT count(*) FROM read_parquet('{path}/**/*.parquet')"
                   ).startswith(f"{analyst} {path}")
    assert refused(z, "analyst", f"SELECT * FROM read_json('{z.rejected}/**/*.json')"
                   ).startswith(analyst)
    assert refused(z, "analyst", "SELECT * FROM read_csv('/etc/passwd')").startswith(analyst)


def test_a_business_user_reads_gold_and_nothing_else(lakes) -> None:
    z = lakes["original"]
    assert refused(z, "business", "SELECT count(*) FROM microdados_enem_2019") == (
        "role business may not read table microdados_enem_2019; role business reads the gold "
        "tables")
    assert refused(z, "business", "SELECT * FROM label_q006").startswith(
        "role business may not read table label_q006")
    answer = lake.query(z, "SELECT count(*) FROM gold_essay_status", "business")
    assert answer.rows[0][0] > 0
    assert {t.name for t in lake.tables(z, "business")} == {
        f"gold_{p.stem}" for p in lake.QUERIES.glob("*.sql")}


def test_a_researcher_reads_the_restricted_table_under_its_athena_name(lakes, rows) -> None:
    z = lakes["original"]
    listed = {t.name: t for t in lake.tables(z, "researcher")}
    assert listed[RESTRICTED_TABLE].columns == 137  # the release's 136 and the age band
    assert listed[RESTRICTED_TABLE].rows == len(rows)
    assert RESTRICTED_TABLE not in {t.name for t in lake.tables(z, "analyst")}
    answer = lake.query(z, f"SELECT nu_idade, count(*) AS n FROM {RESTRICTED_TABLE} "
                           "WHERE nu_idade IS NOT NULL GROUP BY 1 ORDER BY 1", "researcher")
    ages: dict[int, int] = defaultdict(int)
    for row in rows:
        if row["NU_IDADE"]:
            ages[int(row["NU_IDADE"])] += 1
    assert answer.rows == sorted(ages.items())
    joined = lake.query(z, f"SELECT count(*) FROM {RESTRICTED_TABLE} r JOIN "
                           "microdados_enem_2019 p USING (nu_inscricao)", "researcher")
    assert joined.rows[0][0] == len(rows)


def test_the_re_release_gives_researchers_nothing_restricted(lakes) -> None:
    z = lakes["lgpd"]
    assert not [t for t in lake.tables(z, "researcher") if "." in t.name]
