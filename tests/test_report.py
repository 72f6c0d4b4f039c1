"""`lake report` on this machine's lake: the page is in Brazilian Portuguese (with `--lang en`,
English), its words from one table; every number on the page is the gold table's, at its
column's precision and in the page's language; each section has its question, population and
charts; the charts say what they show (shares as percentages, dots that never hide each other,
tile maps on one fixed scale from the national mean, "sem dados" for a state without one); the
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
from lake.report.build import page as build_page
from lake.report.build import query_header
from lake.report.charts import styled
from lake.report.page import withheld_text
from lake.report.sections import sections_for
from lake.report.sources import GoldTable, ReportInputs, from_local
from lake.report.texts import EN, PT_BR, TEXTS, Texts
from lake.report.tilemap import TILES
from tests.lake_run import STACK, LakeRun
from tests.report_html import ReportParser, decimals, number, parse

QUERIES = Path(__file__).resolve().parent.parent / "queries"
NAMES = sorted(path.stem for path in QUERIES.glob("*.sql"))
ROUND = re.compile(r"ROUND\(.*?,\s*(\d+)\)\s+AS\s+(\w+)", re.S)
INEP_NAME = re.compile(r"\b(?:[A-Z][A-Z0-9]*_[A-Z0-9_]+|Q\d{3})\b")


def lake(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def pages(lake_run: LakeRun, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The page in each language: by default, and with --lang en."""
    folder = tmp_path_factory.mktemp("report")
    pages = {}
    for lang, option in (("pt-BR", []), ("en", ["--lang", "en"])):
        out = folder / f"report-{lang}.html"
        result = lake("report", "--root", str(lake_run.root), "--stack", STACK, "--out",
                      str(out), *option)
        assert result.exit_code == 0, result.output
        assert result.stdout == f"{out}\n"
        pages[lang] = out.read_text(encoding="utf-8")
    return pages


@pytest.fixture(scope="module")
def page(pages: dict[str, str]) -> str:
    return pages["pt-BR"]


@pytest.fixture(scope="module")
def reports(pages: dict[str, str]) -> dict[str, ReportParser]:
    return {lang: parse(html) for lang, html in pages.items()}


@pytest.fixture(scope="module")
def report(reports: dict[str, ReportParser]) -> ReportParser:
    return reports["pt-BR"]


def open_catalog(catalog: Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A stack's catalog as the lake opens it: its views may name their files relative to its
    folder."""
    con = duckdb.connect(str(catalog), read_only=read_only)
    con.execute("SET file_search_path = '{}'".format(str(catalog.parent).replace("'", "''")))
    return con


def gold(lake_run: LakeRun, name: str) -> tuple[list[str], list[tuple]]:
    with open_catalog(lake_run.base / "catalog.duckdb") as con:
        result = con.sql(f"SELECT * FROM gold_{name}")
        return list(result.columns), result.fetchall()


def gold_rows(lake_run: LakeRun, name: str) -> list[dict]:
    columns, rows = gold(lake_run, name)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def svg_texts(svg: str) -> list[str]:
    """The text of each <text> element, its lines joined by a space."""
    return [" ".join(re.findall(r">([^<>]+)<", f">{text}<"))
            for text in re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S)]


def test_lake_run_ends_with_the_report_in_the_gold_zone_in_portuguese(lake_run: LakeRun) -> None:
    page = parse((lake_run.base / "gold" / "_report" / "index.html").read_text(encoding="utf-8"))
    assert set(page.sections) == set(NAMES)
    assert page.lang == "pt-BR" and page.title == PT_BR.title


@pytest.mark.parametrize("lang", sorted(TEXTS))
def test_the_page_speaks_its_language(lang: str, reports: dict[str, ReportParser]) -> None:
    texts, page = TEXTS[lang], reports[lang]
    assert page.lang == lang and page.title == texts.title
    assert texts.heading in page.text
    for name, section in page.sections.items():
        assert section.headers == [texts.column(name, c) for c in section.columns], name
        assert section.withheld.startswith(texts.withheld_none.split(":")[0] + ": "), name


def words(value: object) -> set[str]:
    """The lower-case words of every text in `value` (a Texts, or any text or collection)."""
    if isinstance(value, Texts):
        return set().union(*(words(getattr(value, name)) for name in vars(value)))
    if isinstance(value, dict):
        return words(list(value.values()))
    if isinstance(value, (list, tuple)):
        return set().union(set(), *(words(item) for item in value))
    if not isinstance(value, str):
        return set()
    plain = INEP_NAME.sub(" ", re.sub(r"\{\w+\}", " ", value))  # less fields and INEP's names
    return set(re.findall(r"[^\W\d_]+", plain.lower()))


BOTH_LANGUAGES = {"a", "no", "enem", "gold", "glue", "utc", "cn", "ch", "lc", "mt"}
"""The words the English table shares with Portuguese: "a" and "no" are Portuguese too ("no 2º
dia"), the others are names."""


def test_the_portuguese_page_has_no_english_word(report: ReportParser) -> None:
    """Every word the page shows, outside the data (table cells, paths, states' codes) and the
    gold column names under its table headers, is Portuguese: none of the English table's words
    but those both languages share."""
    english = words(EN) - BOTH_LANGUAGES
    wording = [token for text in report.text for token in text.split() if "/" not in token]
    drawn = [text for section in report.sections.values() for text in svg_texts(section.svg)
             if text not in TILES]  # the states' codes: TO is Tocantins
    shown = words(wording) | words(drawn)
    assert english, "the English table has words of its own"
    assert words(PT_BR) & english == set()
    assert shown & english == set()


@pytest.mark.parametrize("lang", sorted(TEXTS))
@pytest.mark.parametrize("name", NAMES)
def test_every_number_shown_is_the_gold_tables_at_its_precision(
        name: str, lang: str, reports: dict[str, ReportParser], lake_run: LakeRun) -> None:
    section = reports[lang].sections[name]
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
            assert decimals(text, lang) == places, (column, text)
            assert number(text, lang) == pytest.approx(round(value, places)), (column, text)


@pytest.mark.parametrize("lang", sorted(TEXTS))
def test_each_section_has_its_question_population_and_charts(
        lang: str, reports: dict[str, ReportParser]) -> None:
    """In Portuguese, the table of texts' words for the query; in English, its header comment."""
    for name, section in reports[lang].sections.items():
        header = query_header((QUERIES / f"{name}.sql").read_text(encoding="utf-8"))
        expected = PT_BR.queries[name] if lang == "pt-BR" else header
        assert (section.question, section.population) == expected, name
        assert section.svgs and all(svg.startswith("<svg") and "<text" in svg
                                    for svg in section.svgs), name


def test_every_query_has_a_portuguese_text_that_names_the_same_inep_variables() -> None:
    """The Portuguese question and population say what the query's header says: the same INEP
    variables (a query's header that changes them leaves this test failing until its
    Portuguese text follows)."""
    assert set(PT_BR.queries) == set(NAMES)
    for name in NAMES:
        header = query_header((QUERIES / f"{name}.sql").read_text(encoding="utf-8"))
        assert set(INEP_NAME.findall(" ".join(PT_BR.queries[name]))) == \
            set(INEP_NAME.findall(" ".join(header))), name


@pytest.mark.parametrize("lang", sorted(TEXTS))
def test_a_query_the_report_does_not_know_says_its_header_comment(
        lang: str, lake_run: LakeRun, tmp_path: Path) -> None:
    queries = tmp_path / "queries"
    shutil.copytree(QUERIES, queries)
    (queries / "zz_extra.sql").write_text("-- How many are there?\n-- Population: everyone.\n"
                                          "SELECT 1234 AS n\n")
    inputs = from_local(lake_run.base / "catalog.duckdb", str(lake_run.base / "processed"),
                        NAMES)
    inputs.tables["zz_extra"] = GoldTable("zz_extra", ["n"], [{"n": 1234}], "")
    section = parse(build_page(inputs, queries, lang=lang)).sections["zz_extra"]
    assert (section.question, section.population) == ("How many are there?",
                                                      "Population: everyone.")
    assert section.headers == ["n"] and section.svgs == []
    assert section.rows == [["1.234" if lang == "pt-BR" else "1,234"]]


def test_each_section_says_how_many_small_groups_were_withheld_and_why(
        report: ReportParser, lake_run: LakeRun) -> None:
    """From the `_gold.json` of the run the gold table reads; the table shows no small group."""
    withheld = 0
    for name, section in report.sections.items():
        [record] = (lake_run.base / "gold" / name).glob("run=*/_gold.json")
        rows, withholding = read_sidecar(record.read_text(encoding="utf-8"))
        assert section.withheld == withheld_text(withholding, PT_BR, name), name
        assert len(section.rows) == rows == withholding.published
        sql = (QUERIES / f"{name}.sql").read_text(encoding="utf-8")
        sizes = [section.columns.index(c) for c in group_size_columns(sql, name)]
        assert all(number(row[i]) >= 10 for row in section.rows for i in sizes), name
        withheld += withholding.withheld
    assert withheld > 0, "3,000 rows leave some group small: the sentence with a count shows"
    assert any(re.fullmatch(r"Grupos pequenos: (1 grupo omitido, com|\d+ grupos omitidos, cada "
                            r"um com) menos de 10 (participantes|inscritos|redações); (seus) "
                            r"números não são publicados\.", section.withheld)
               for section in report.sections.values())


@pytest.mark.parametrize(("withholding", "query", "pt_br", "en"), [
    (None, "essay_status",
     "Grupos pequenos: esta tabela não tem registro do que foi omitido (foi publicada antes de "
     "os grupos pequenos serem omitidos); execute de novo a etapa gold.",
     "Small groups: this table has no record of what was withheld (it was published before "
     "small groups were withheld); run the gold step again."),
    (Withholding(10, ("essays",), 8, 0, (0,)), "essay_status",
     "Grupos pequenos: nenhum omitido; todo grupo tem ao menos 10 redações.",
     "Small groups: none withheld; every group has at least 10 essays."),
    (Withholding(10, ("candidates",), 60, 1, (1,)), "mean_scores_by_income",
     "Grupos pequenos: 1 grupo omitido, com menos de 10 participantes; seus números não são "
     "publicados.",
     "Small groups: 1 group withheld, with fewer than 10 candidates; its numbers are not "
     "published."),
    (Withholding(1000, ("registered",), 5000, 1234, (1234,)), "participants_by_state",
     "Grupos pequenos: 1.234 grupos omitidos, cada um com menos de 1.000 inscritos; seus "
     "números não são publicados.",
     "Small groups: 1,234 groups withheld, each with fewer than 1,000 registered; their "
     "numbers are not published."),
    (Withholding(10, ("candidates_day2", "candidates_essay"), 27, 3, (1, 3)),
     "mean_scores_by_state",
     "Grupos pequenos: 3 grupos omitidos, cada um com menos de 10 participantes no 2º dia (1) "
     "ou redações corrigidas (3); seus números não são publicados.",
     "Small groups: 3 groups withheld, each with fewer than 10 candidates on day 2 (1) or "
     "marked essays (3); their numbers are not published."),
    (Withholding(10, ("candidates_day2", "candidates_essay"), 27, 0, (0, 0)),
     "mean_scores_by_state",
     "Grupos pequenos: nenhum omitido; todo grupo tem ao menos 10 participantes no 2º dia e "
     "redações corrigidas.",
     "Small groups: none withheld; every group has at least 10 candidates on day 2 and marked "
     "essays."),
    (Withholding(10, ("people",), 5, 2, (2,)), "zz_unknown",
     "Grupos pequenos: 2 grupos omitidos, cada um com menos de 10 people; seus números não são "
     "publicados.",
     "Small groups: 2 groups withheld, each with fewer than 10 people; their numbers are not "
     "published."),
])
def test_the_withheld_sentence(withholding: Withholding | None, query: str, pt_br: str,
                               en: str) -> None:
    assert withheld_text(withholding, PT_BR, query) == pt_br
    assert withheld_text(withholding, EN, query) == en


def test_a_table_without_its_record_says_so_and_a_bad_record_stops_the_page(
        lake_run: LakeRun, tmp_path: Path) -> None:
    root = broken_lake(lake_run, tmp_path)
    [folder] = (root / STACK / "gold" / "essay_status").glob("run=*")
    elsewhere = root / STACK / "gold" / "essay_status_elsewhere"
    elsewhere.mkdir()
    shutil.copy(folder / "data.parquet", elsewhere / "data.parquet")
    with open_catalog(root / STACK / "catalog.duckdb", read_only=False) as con:
        con.execute("CREATE OR REPLACE VIEW gold_essay_status AS SELECT * "
                    f"FROM read_parquet('{elsewhere}/*.parquet')")
    out = tmp_path / "report.html"
    result = lake("report", "--root", str(root), "--stack", STACK, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert parse(out.read_text(encoding="utf-8")).sections["essay_status"].withheld == \
        PT_BR.withheld_no_record

    (elsewhere / "_gold.json").write_text('{"rows": "many"}')
    result = lake("report", "--root", str(root), "--stack", STACK, "--out", str(out))
    assert result.exit_code == 1
    assert result.stderr == (f"lake report: error: {elsewhere}/_gold.json is not a gold run's "
                             "record (KeyError: 'group_size_columns'); run the gold step "
                             "again.\n")


@pytest.mark.parametrize(("texts", "four_hundred_thousand", "mean"),
                         [(PT_BR, "400.000", "453,1"), (EN, "400,000", "453.1")])
def test_charts_print_numbers_in_the_pages_language(texts: Texts, four_hundred_thousand: str,
                                                    mean: str) -> None:
    rows = [{"state": "SP", "registered": 708_094, "present_both_days": 503_210}]
    [chart] = charts.participants(GoldTable("participants_by_state", list(rows[0]), rows, ""),
                                  ReportInputs({}), texts)
    ticks = svg_texts(vl_convert.vegalite_to_svg(styled(chart).to_dict(),
                                                 format_locale=texts.format_locale))
    assert four_hundred_thousand in ticks, ticks
    assert texts.candidates_axis in ticks and texts.column("", "registered") in ticks
    rows = [{"state": "SP", "candidates_day2": 100, "candidates_essay": 100,
             **dict.fromkeys(charts.MEANS, 453.1)}]
    maps = charts.state_maps(GoldTable("mean_scores_by_state", list(rows[0]), rows, ""),
                             ReportInputs({}), texts)
    svg = vl_convert.vegalite_to_svg(styled(maps[0]).to_dict(), format_locale=texts.format_locale)
    assert texts.national_mean.format(mean=mean) in svg_texts(svg)


# --- the tile maps -------------------------------------------------------------------------------

def national_mean(rows: list[dict], column: str) -> float:
    """The mean over every candidate with a score in the area, from the states' means."""
    weight = "candidates_day2" if column in ("mean_cn", "mean_mt") else "candidates_essay"
    return sum(row[column] * row[weight] for row in rows) / sum(row[weight] for row in rows)


def tiles(svg: str) -> dict[str, tuple[str, str]]:
    """Each state's tile on a map: its fill, and the text under its name (the lines of a
    text joined by a space), found by where they are drawn."""
    marks = svg.split("layer_0_marks")[1].split('class="mark-group role-legend')[0]
    boxes = []
    for d, fill in re.findall(r'<path d="([^"]+)"[^>]*fill="([^"]+)"', marks):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
        boxes.append((min(numbers[0::2]), max(numbers[0::2]), min(numbers[1::2]),
                      max(numbers[1::2]), fill))
    found: dict[tuple, list[str]] = {box: [] for box in boxes}
    for x, y, text in re.findall(r'<text[^>]*translate\(([-\d.]+),([-\d.]+)\)[^>]*>(.*?)</text>',
                                 marks, re.S):
        [box] = [b for b in boxes if b[0] <= float(x) <= b[1] and b[2] <= float(y) <= b[3]]
        found[box].append(" ".join(re.findall(r">([^<>]+)<", f">{text}<")))
    assert all(len(texts) == 2 and texts[0] in TILES for texts in found.values()), found
    return {texts[0]: (box[4], texts[1]) for box, texts in found.items()}


def test_the_state_maps_measure_each_state_from_the_national_mean(
        report: ReportParser, lake_run: LakeRun) -> None:
    """One map per area, titled with the area and its national mean (the states' means weighted
    by their candidates); every state has its tile; the tile's number is the state's mean less
    the national mean; a state without a mean is a grey tile that says "sem dados"."""
    rows = gold_rows(lake_run, "mean_scores_by_state")
    section = report.sections["mean_scores_by_state"]
    withheld = set(TILES) - {row["state"] for row in rows}
    assert withheld, "3,000 rows leave some state small enough to be withheld"
    assert len(section.svgs) == len(charts.MEANS)
    for svg, (column, score) in zip(section.svgs, charts.MEANS.items(), strict=True):
        texts = svg_texts(svg)
        national = national_mean(rows, column)
        assert texts[-2:] == [PT_BR.areas[score],
                              PT_BR.national_mean.format(mean=PT_BR.number(national, 1))]
        assert [text for text in texts if text in TILES] == list(TILES)
        shown = tiles(svg)
        for row in rows:
            assert shown[row["state"]][1] == PT_BR.signed(row[column] - national, 0), row
        for state in withheld:
            assert shown[state] == (charts.NO_VALUE, "sem dados")
        assert sum(fill == charts.NO_VALUE for fill, _ in shown.values()) == len(withheld)


def map_svg(means: dict[str, float], texts: Texts = PT_BR) -> list[str]:
    """The five maps of states with these means in every area (100 candidates each)."""
    rows = [{"state": state, "candidates_day2": 100, "candidates_essay": 100,
             **dict.fromkeys(charts.MEANS, mean)} for state, mean in means.items()]
    maps = charts.state_maps(GoldTable("mean_scores_by_state", list(rows[0]), rows, ""),
                             ReportInputs({}), texts)
    return [vl_convert.vegalite_to_svg(styled(m).to_dict(), format_locale=texts.format_locale)
            for m in maps]


def lightness(fill: str) -> float:
    """0 (black) to 1 (white), of `#rrggbb` or `rgb(r, g, b)`."""
    if fill.startswith("#"):
        channels = [int(fill[i:i + 2], 16) for i in (1, 3, 5)]
    else:
        channels = [int(c) for c in re.findall(r"\d+", fill)]
    return sum(channels) / (3 * 255)


def test_the_maps_share_one_fixed_scale_so_noise_stays_pale() -> None:
    """A spread of 4 points (noise) stays near the scale's pale middle, where a scale stretched
    to the data would paint its ends in the darkest colours; 60 points saturate at the ends;
    the same difference has the same colour on every map; the legend says the scale."""
    states = list(TILES)
    noise = map_svg({state: 500 + (i % 5 - 2) for i, state in enumerate(states)})
    for svg in noise:
        fills = [fill for fill, _ in tiles(svg).values()]
        assert min(lightness(fill) for fill in fills) > 0.85, fills
        labels = svg_texts(svg)
        for label in ("≥ +50", "+25", "média nacional", "−25", "≤ −50"):
            assert label in labels, labels
    spread = map_svg({state: 500 + (60 if i % 2 else -60) for i, state in enumerate(states)})
    ends = {fill for svg in spread for fill, _ in tiles(svg).values()}
    assert len(ends) == 2 and max(lightness(fill) for fill in ends) < 0.6, ends
    same = [tiles(svg)["SP"][0] for svg in map_svg({"SP": 520, "RJ": 480})]
    assert len(set(same)) == 1


# --- the other charts ----------------------------------------------------------------------------

def symbols(svg: str) -> list[tuple[float, float]]:
    """The centre of every point mark of a chart."""
    marks = svg.split('class="mark-symbol role-mark')[1].split("</g>")[0]
    return [(float(x), float(y)) for x, y in
            re.findall(r'transform="translate\(([-\d.]+),([-\d.]+)\)"', marks)]


@pytest.mark.parametrize("name", ["mean_scores_by_school_type", "mean_scores_by_sex_and_race"])
def test_no_dot_hides_another(name: str, report: ReportParser, lake_run: LakeRun) -> None:
    """Each category's dot sits in a lane of its own: no two dots of a chart are closer than a
    dot's width, however close their means."""
    rows = gold_rows(lake_run, name)
    dots = [symbols(svg) for svg in report.sections[name].svgs]
    assert sum(len(chart) for chart in dots) == len(rows) * len(charts.MEANS)
    for chart in dots:
        for i, (x, y) in enumerate(chart):
            for other_x, other_y in chart[i + 1:]:
                assert abs(y - other_y) >= 8 or abs(x - other_x) >= 8, (x, y, other_x, other_y)


def test_the_essay_shares_are_labelled_as_shares(report: ReportParser, lake_run: LakeRun) -> None:
    svg = report.sections["essay_status"].svg
    labels = svg_texts(svg)
    for row in gold_rows(lake_run, "essay_status"):
        assert f"{PT_BR.number(row['share_pct'], 2)}%" in labels, (row, labels)
    ticks = [label for label in labels if re.fullmatch(r"[\d.,]+%", label)]
    assert "0%" in ticks and PT_BR.essay_axis in labels


def test_the_categories_are_worded_by_inep(report: ReportParser) -> None:
    income = report.sections["mean_scores_by_income"].svg
    assert ">Matemática</text>" in income
    school = report.sections["mean_scores_by_school_type"].svg
    assert ">Pública</text>" in school and ">Privada</text>" in school
    assert ">Sem problemas</text>" in report.sections["essay_status"].svg
    for area in ("Ciências da Natureza", "Ciências Humanas", "Linguagens e Códigos",
                 "Matemática", "Redação"):
        assert area in svg_texts(report.sections["score_histogram"].svg)


@pytest.mark.parametrize("texts", [PT_BR, EN])
def test_every_chart_is_valid_vega_lite(texts: Texts, lake_run: LakeRun) -> None:
    """The page renders its charts unvalidated (for speed); here each one meets the schema."""
    inputs = from_local(lake_run.base / "catalog.duckdb", str(lake_run.base / "processed"),
                        NAMES)
    for section in sections_for(NAMES):
        for chart in (section.chart(inputs.tables[section.query], inputs, texts)
                      if section.chart is not None else []):
            styled(chart).to_dict(validate=True)


def test_no_chart_writes_text_under_10_px(report: ReportParser) -> None:
    """As written; the page never scales a chart down (tests/test_report_browser.py measures
    what Chromium draws)."""
    sizes = [float(size) for section in report.sections.values()
             for size in re.findall(r'font-size="([\d.]+)px"', section.svg)]
    assert sizes and min(sizes) >= 10


@pytest.mark.parametrize(("lang", "built"), [("pt-BR", "Execução do processamento"),
                                             ("en", "Processing run")])
def test_the_header_says_what_the_page_is_built_from(
        lang: str, built: str, reports: dict[str, ReportParser], lake_run: LakeRun) -> None:
    header = " ".join(reports[lang].header_text)
    runs = sorted((lake_run.base / "processed" / "_runs").glob("*.json"))
    assert f"{built} {runs[-1].stem}" in header
    assert re.search(r"ingest=\d{8}T\d{6}Z", header)
    assert "microdados_enem_2019 3.000 3.000 0" in " ".join(header.split()) if lang == "pt-BR" \
        else "microdados_enem_2019 3,000 3,000 0" in " ".join(header.split())


def test_the_page_is_self_contained(page: str) -> None:
    html = page
    assert "<script" not in html and "http://" not in html.replace(
        "http://www.w3.org/", "") and "https://" not in html
    assert "<link" not in html and "@import" not in html
    assert all(target.startswith("#") for target in re.findall(r"url\(([^)]*)\)", html))


# --- bad input -----------------------------------------------------------------------------------

def broken_lake(lake_run: LakeRun, tmp_path: Path, *statements: str) -> Path:
    """A copy of the run's stack (less its page), its catalog changed by `statements`."""
    root = tmp_path / "lake"
    shutil.copytree(lake_run.base, root / STACK, ignore=shutil.ignore_patterns("_report"))
    with open_catalog(root / STACK / "catalog.duckdb", read_only=False) as con:
        for statement in statements:
            con.execute(statement)
    return root


def drop_gold(lake_run: LakeRun) -> list[str]:
    with open_catalog(lake_run.base / "catalog.duckdb") as con:
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
