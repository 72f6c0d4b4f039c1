"""`lake report` on this machine's lake: every number on the page is the gold table's, at its
column's precision and in pt-BR; each section has its question, population and chart; the
header says what the page is built from; bad input is one line and leaves no page."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
import vl_convert
from typer.testing import CliRunner

from jobs.gold.privacy import Withholding, group_size_columns, read_sidecar
from lake.cli import app
from lake.report import charts
from lake.report.build import LOCALE
from lake.report.page import withheld_text
from lake.report.sources import GoldTable, ReportInputs
from lake.report.tilemap import TILES
from tests.lake_run import STACK, LakeRun
from tests.report_html import ReportParser, decimals, number, parse

QUERIES = Path(__file__).resolve().parent.parent / "queries"
ROUND = re.compile(r"ROUND\(.*?,\s*(\d+)\)\s+AS\s+(\w+)", re.S)


def lake(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def page(lake_run: LakeRun, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = lake("report", "--root", str(lake_run.root), "--stack", STACK, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}\n"
    return out, out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def report(page: tuple[Path, str]) -> ReportParser:
    return parse(page[1])


def gold(lake_run: LakeRun, name: str) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(str(lake_run.base / "catalog.duckdb"), read_only=True) as con:
        result = con.sql(f"SELECT * FROM gold_{name}")
        return list(result.columns), result.fetchall()


def test_lake_run_ends_with_the_report_in_the_gold_zone(lake_run: LakeRun) -> None:
    page = lake_run.base / "gold" / "_report" / "index.html"
    assert set(parse(page.read_text(encoding="utf-8")).sections) == \
        {path.stem for path in QUERIES.glob("*.sql")}


@pytest.mark.parametrize("name", sorted(path.stem for path in QUERIES.glob("*.sql")))
def test_every_number_shown_is_the_gold_tables_at_its_precision(
        name: str, report: ReportParser, lake_run: LakeRun) -> None:
    section = report.sections[name]
    columns, rows = gold(lake_run, name)
    assert section.table == f"gold_{name}" and section.columns == columns
    assert len(section.rows) == len(rows)
    rounded = {column: int(n) for n, column in ROUND.findall((QUERIES / f"{name}.sql")
                                                               .read_text())}
    for shown, row in zip(section.rows, rows, strict=True):
        for column, text, value in zip(columns, shown, row, strict=True):
            if isinstance(value, str) or value is None:
                assert text == (value if value is not None else "—")
                continue
            places = rounded.get(column, 0)
            assert decimals(text) == places, (column, text)
            assert number(text) == pytest.approx(round(value, places)), (column, text, value)


def test_each_section_has_its_question_population_and_chart(report: ReportParser) -> None:
    for name, section in report.sections.items():
        comments = [line[2:].strip() for line in
                    (QUERIES / f"{name}.sql").read_text().splitlines()
                    if line.startswith("--")]
        assert section.question == comments[0]
        assert section.population.startswith(comments[1][:40])
        assert section.svg.startswith("<svg") and "<text" in section.svg


def test_each_section_says_how_many_small_groups_were_withheld_and_why(
        report: ReportParser, lake_run: LakeRun) -> None:
    """From the `_gold.json` of the run the gold table reads; the table shows no small group."""
    withheld = 0
    for name, section in report.sections.items():
        [record] = (lake_run.base / "gold" / name).glob("run=*/_gold.json")
        rows, withholding = read_sidecar(record.read_text(encoding="utf-8"))
        assert section.withheld == withheld_text(withholding), name
        assert len(section.rows) == rows == withholding.published
        sql = (QUERIES / f"{name}.sql").read_text(encoding="utf-8")
        sizes = [section.columns.index(c) for c in group_size_columns(sql, name)]
        assert all(number(row[i]) >= 10 for row in section.rows for i in sizes), name
        withheld += withholding.withheld
    assert withheld > 0, "3,000 rows leave some group small: the sentence with a count shows"
    assert any(re.fullmatch(r"Small groups: (1 group|\d+ groups) withheld, (with|each with) "
                            r"fewer than 10 in candidates; (its|their) numbers are not "
                            r"published\.", section.withheld)
               for section in report.sections.values())


@pytest.mark.parametrize(("withholding", "text"), [
    (None, "Small groups: this table has no record of what was withheld (it was published "
           "before small groups were withheld); run the gold step again."),
    (Withholding(10, ("essays",), 8, 0, (0,)),
     "Small groups: none withheld; every group has at least 10 in essays."),
    (Withholding(10, ("candidates",), 60, 1, (1,)),
     "Small groups: 1 group withheld, with fewer than 10 in candidates; its numbers are not "
     "published."),
    (Withholding(1000, ("candidates",), 5000, 1234, (1234,)),
     "Small groups: 1.234 groups withheld, each with fewer than 1.000 in candidates; their "
     "numbers are not published."),
    (Withholding(10, ("candidates_day2", "candidates_essay"), 27, 3, (1, 3)),
     "Small groups: 3 groups withheld, each with fewer than 10 in candidates_day2 (1) or "
     "candidates_essay (3); their numbers are not published."),
    (Withholding(10, ("candidates_day2", "candidates_essay"), 27, 0, (0, 0)),
     "Small groups: none withheld; every group has at least 10 in candidates_day2 and "
     "candidates_essay."),
])
def test_the_withheld_sentence(withholding: Withholding | None, text: str) -> None:
    assert withheld_text(withholding) == text


def test_a_table_without_its_record_says_so_and_a_bad_record_stops_the_page(
        lake_run: LakeRun, tmp_path: Path) -> None:
    [folder] = (lake_run.base / "gold" / "essay_status").glob("run=*")
    elsewhere = tmp_path / "essay_status"
    elsewhere.mkdir()
    shutil.copy(folder / "data.parquet", elsewhere / "data.parquet")
    root = broken_lake(lake_run, tmp_path, "CREATE OR REPLACE VIEW gold_essay_status AS SELECT * "
                       f"FROM read_parquet('{elsewhere}/*.parquet')")
    out = tmp_path / "report.html"
    result = lake("report", "--root", str(root), "--stack", STACK, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert parse(out.read_text(encoding="utf-8")).sections["essay_status"].withheld == \
        withheld_text(None)

    (elsewhere / "_gold.json").write_text('{"rows": "many"}')
    result = lake("report", "--root", str(root), "--stack", STACK, "--out", str(out))
    assert result.exit_code == 1
    assert result.stderr == (f"lake report: error: {elsewhere}/_gold.json is not a gold run's "
                             "record (KeyError: 'group_size_columns'); run the gold step "
                             "again.\n")


def test_charts_print_numbers_as_a_brazilian_reads_them(report: ReportParser) -> None:
    legend = re.findall(r">(\d[\d.,]*)</text>", report.sections["mean_scores_by_state"].svg)
    assert any(re.fullmatch(r"\d{3},\d", label) for label in legend), legend
    assert not any(re.fullmatch(r"\d{3}\.\d", label) for label in legend), legend
    rows = [{"state": "SP", "registered": 708_094, "present_both_days": 503_210}]
    chart = charts.participants(GoldTable("participants_by_state", list(rows[0]), rows, ""),
                                ReportInputs({}))
    ticks = re.findall(r">(\d[\d.,]*)</text>",
                       vl_convert.vegalite_to_svg(chart.to_dict(), format_locale=LOCALE))
    assert "700.000" in ticks and not any("," in tick for tick in ticks), ticks


def test_the_state_map_has_one_tile_per_state_in_each_area(report: ReportParser) -> None:
    section = report.sections["mean_scores_by_state"]
    svg = section.svg
    names = re.findall(r">([A-Z]{2})</text>", svg)
    assert {state: names.count(state) for state in TILES} == {state: 5 for state in TILES}
    # A state gold withheld (3,000 rows leave some state small) keeps a grey tile in each area.
    withheld = set(TILES) - {row[0] for row in section.rows}
    assert withheld, "some state is small enough to be withheld"
    assert svg.count(f'fill="{charts.NO_VALUE}"') == 5 * len(TILES)  # under every tile
    assert svg.count("<path") - svg.count(f'fill="{charts.NO_VALUE}"') >= 5 * (
        len(TILES) - len(withheld))
    for area in ("Ciências da Natureza", "Ciências Humanas", "Linguagens e Códigos",
                 "Matemática", "Redação"):
        assert f">{area}</text>" in svg


def test_the_categories_are_worded_by_inep(report: ReportParser) -> None:
    income = report.sections["mean_scores_by_income"].svg
    assert ">Matemática</text>" in income
    school = report.sections["mean_scores_by_school_type"].svg
    assert ">Pública</text>" in school and ">Privada</text>" in school
    assert ">Sem problemas</text>" in report.sections["essay_status"].svg


def test_the_header_says_what_the_page_is_built_from(report: ReportParser,
                                                     lake_run: LakeRun) -> None:
    header = " ".join(report.header_text)
    runs = sorted((lake_run.base / "processed" / "_runs").glob("*.json"))
    assert f"Processing run {runs[-1].stem}" in header
    assert re.search(r"ingest=\d{8}T\d{6}Z", header)
    assert "microdados_enem_2019 3.000 3.000 0" in " ".join(header.split())


def test_the_page_is_self_contained(page: tuple[Path, str]) -> None:
    html = page[1]
    assert "<script" not in html and "http://" not in html.replace(
        "http://www.w3.org/", "") and "https://" not in html
    assert "<link" not in html and "@import" not in html
    assert all(target.startswith("#") for target in re.findall(r"url\(([^)]*)\)", html))


# --- bad input -----------------------------------------------------------------------------------

def broken_lake(lake_run: LakeRun, tmp_path: Path, *statements: str) -> Path:
    root = tmp_path / "lake"
    (root / STACK).mkdir(parents=True)
    catalog = root / STACK / "catalog.duckdb"
    shutil.copy(lake_run.base / "catalog.duckdb", catalog)
    with duckdb.connect(str(catalog)) as con:
        for statement in statements:
            con.execute(statement)
    return root


def drop_gold(lake_run: LakeRun) -> list[str]:
    with duckdb.connect(str(lake_run.base / "catalog.duckdb"), read_only=True) as con:
        return [f"DROP VIEW {name}" for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_name LIKE 'gold_%'").fetchall()]


@pytest.mark.parametrize(("damage", "message"), [
    ("none", "no gold tables in {catalog}: run `lake gold` (or `lake run`)"),
    ("DROP VIEW gold_essay_status", "gold_essay_status is missing from {catalog}: run `lake gold`"),
    ("CREATE OR REPLACE VIEW gold_essay_status AS SELECT 1 AS essays",
     "gold_essay_status has no column essay_status_label, share_pct (it has essays): run "
     "`lake gold` to rebuild it from queries/essay_status.sql"),
])
def test_a_lake_without_its_gold_tables_is_one_line_and_no_page(
        lake_run: LakeRun, tmp_path: Path, damage: str, message: str) -> None:
    statements = drop_gold(lake_run) if damage == "none" else [damage]
    root = broken_lake(lake_run, tmp_path, *statements)
    out = root / STACK / "gold" / "_report" / "index.html"
    result = lake("report", "--root", str(root), "--stack", STACK)
    assert result.exit_code == 1 and result.stdout == ""
    catalog = root / STACK / "catalog.duckdb"
    assert result.stderr == f"lake report: error: {message.format(catalog=catalog)}\n"
    assert not out.exists() and not list(out.parent.glob("*")) if out.parent.exists() else True


def test_a_failed_report_keeps_the_previous_page(lake_run: LakeRun, tmp_path: Path) -> None:
    root = broken_lake(lake_run, tmp_path, "DROP VIEW gold_score_histogram")
    out = tmp_path / "report.html"
    out.write_text("the previous page")
    result = lake("report", "--root", str(root), "--stack", STACK, "--out", str(out))
    assert result.exit_code == 1
    assert out.read_text() == "the previous page" and sorted(tmp_path.iterdir()) == [
        tmp_path / "lake", out]


def test_a_lake_with_no_catalog_says_what_to_run(tmp_path: Path) -> None:
    result = lake("report", "--root", str(tmp_path), "--stack", "empty")
    assert result.exit_code == 1
    assert result.stderr == (f"lake report: error: no catalog at {tmp_path}/empty/catalog.duckdb"
                             ": run `lake run` (or `lake crawl` and `lake gold`) first\n")


@pytest.mark.parametrize("args", [["--gold", "s3://gold/"],
                                  ["--gold", "s3://g/", "--processed", "s3://p/",
                                   "--database", "db"]])
def test_a_stack_in_aws_needs_all_four_options(args: list[str]) -> None:
    result = lake("report", *args)
    assert result.exit_code == 2
    assert "needs --gold, --processed, --database and --out" in result.stderr
