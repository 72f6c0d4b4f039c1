"""Profile the real ENEM 2019 rows once into lake/synth/profile.py (aggregates only).

    .venv/bin/python tools/profile_real_rows.py [../shared/enem2019]

Reads every `*.csv.gz` in the folder (INEP's original layout: `;`, latin-1, no quoting) with
DuckDB and writes frequencies, rates and quantiles that the synthetic generator
(`lake/synth/`) samples from. No row, and nothing that identifies one, is written: each
number is a count, a share or a quantile over many rows. The generated module is committed;
nothing reads the real files at run time.
"""

from __future__ import annotations

import pprint
import sys
from collections import Counter, defaultdict
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jobs.enem.schema import AREAS, LAYOUTS_BY_NAME, UF  # noqa: E402

OUTPUT = ROOT / "lake" / "synth" / "profile.py"
DEFAULT_SOURCE = ROOT.parent / "shared" / "enem2019"

# Registrations per exam state in 2019: rounded approximations of INEP's published figures, with
# SP adjusted so that the total is the full file's 5,095,270 rows; AC and RR are the real rows'
# exact counts (by residence). Not derived from the rows: the real rows are mostly AC and RR.
UF_REGISTRATIONS = {
    "SP": 708094, "MG": 526000, "BA": 397000, "RJ": 338000, "CE": 307000, "PE": 300000,
    "PA": 285000, "MA": 219000, "RS": 212000, "PR": 209000, "GO": 171000, "AM": 148000,
    "PB": 145000, "PI": 131000, "RN": 121000, "SC": 113000, "AL": 106000, "ES": 103000,
    "DF": 98000, "MT": 96000, "SE": 80000, "MS": 67000, "RO": 64000, "TO": 55000, "AP": 45000,
    "AC": 38229, "RR": 12947,
}
# Q006 (monthly family income) letters grouped so that every group has enough rows.
INCOME_GROUPS = {"A": 0, "B": 1, "C": 2, "D": 3, "E": 4, "F": 4, "G": 5, "H": 5}
TOP_INCOME_GROUP = 6  # I..Q
ABILITY_CLASSES = 10
ESSAY_CLASSES = 10
QUANTILE_STEPS = 50  # SCORE_QUANTILES hold QUANTILE_STEPS + 1 values per area and class
ANSWER_BIN = 20  # score points per ANSWER_RATES bin
MIN_BIN_ROWS = 40
MIN_CELL_ROWS = 30  # smaller (income group, school type) cells are left to the generator's prior
AGE_GROUPS = (19, 24, 29)  # upper bounds of the marital-status age groups (then 30+)
SCHOOL_COLUMNS = ("TP_DEPENDENCIA_ADM_ESC", "TP_LOCALIZACAO_ESC", "TP_SIT_FUNC_ESC")
MARGINALS = ("TP_SEXO", "TP_COR_RACA", "TP_NACIONALIDADE", "TP_LINGUA", "Q006")


def load(con: duckdb.DuckDBPyConnection, source: Path) -> int:
    files = sorted(str(path) for path in source.glob("*.csv.gz"))
    if not files:
        raise SystemExit(f"no *.csv.gz in {source}")
    con.execute(
        "CREATE TABLE r AS SELECT * FROM read_csv($files, delim=';', header=true, quote='', "
        "escape='', encoding='latin-1', all_varchar=true, union_by_name=true)",
        {"files": files})
    header = tuple(name for name, *_ in con.execute("DESCRIBE r").fetchall())
    if header != LAYOUTS_BY_NAME["microdados-original"].header:
        raise SystemExit("the real rows are not in the original layout")
    return con.execute("SELECT count(*) FROM r").fetchone()[0]


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def value(text: str | None) -> object:
    """A CSV field as the profile stores it: int when it is a whole number, else the text."""
    if text is None:
        return None
    return int(text) if text.lstrip("-").isdigit() else text


def frequencies(con: duckdb.DuckDBPyConnection, column: str, where: str = "TRUE") -> tuple:
    found = rows(con, f"SELECT {column}, count(*) FROM r WHERE {where} AND {column} IS NOT NULL "
                      f"GROUP BY 1 ORDER BY 1")
    return tuple(sorted((value(v), n) for v, n in found))


def income_group_sql() -> str:
    cases = " ".join(f"WHEN '{letter}' THEN {group}" for letter, group in INCOME_GROUPS.items())
    return f"CASE Q006 {cases} ELSE {TOP_INCOME_GROUP} END"


def municipalities(con: duckdb.DuckDBPyConnection) -> dict[int, tuple]:
    """Every municipality named in any column, weighted by how often it is named."""
    union = " UNION ALL ".join(
        f"SELECT CO_MUNICIPIO_{kind} c, NO_MUNICIPIO_{kind} n FROM r"
        for kind in ("RESIDENCIA", "NASCIMENTO", "ESC", "PROVA"))
    found = rows(con, f"SELECT c, n, count(*) FROM ({union}) WHERE c IS NOT NULL GROUP BY 1, 2")
    names: dict[int, Counter] = defaultdict(Counter)
    for code, name, count in found:
        names[int(code)][name] += count
    by_state: dict[int, list] = defaultdict(list)
    for code, counter in names.items():
        name, _ = counter.most_common(1)[0]
        by_state[code // 100000].append((code, name, sum(counter.values())))
    missing = set(UF) - set(by_state)
    if missing:
        raise SystemExit(f"no municipality known for states {sorted(missing)}")
    return {uf: tuple(sorted(found, key=lambda m: (-m[2], m[0])))
            for uf, found in sorted(by_state.items())}


def geography(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, float]]:
    """How often residence, birth and school place repeat the reference place."""
    pairs = {"residence": ("RESIDENCIA", "PROVA"), "birth": ("NASCIMENTO", "RESIDENCIA"),
             "school": ("ESC", "RESIDENCIA")}
    result = {}
    for kind, (this, reference) in pairs.items():
        same_municipality, same_state, total = rows(con, f"""
            SELECT count(*) FILTER (CO_MUNICIPIO_{this} = CO_MUNICIPIO_{reference}),
                   count(*) FILTER (CO_MUNICIPIO_{this} <> CO_MUNICIPIO_{reference}
                                    AND CO_UF_{this} = CO_UF_{reference}),
                   count(*)
            FROM r WHERE CO_MUNICIPIO_{this} IS NOT NULL""")[0]
        result[kind] = {"same_municipality": round(same_municipality / total, 5),
                        "same_state": round(same_state / total, 5),
                        "other_state": round(1 - (same_municipality + same_state) / total, 5)}
    return result


def situations(con: duckdb.DuckDBPyConnection) -> tuple:
    found = rows(con, """
        SELECT TP_ST_CONCLUSAO, TP_ANO_CONCLUIU, TP_ESCOLA, TP_ENSINO, IN_TREINEIRO,
               CO_ESCOLA IS NOT NULL, count(*)
        FROM r GROUP BY ALL""")
    situation = [((value(st), value(year), value(school), value(kind), value(trainee),
                   int(filled)), n) for st, year, school, kind, trainee, filled, n in found]
    return tuple(sorted(situation, key=lambda item: (-item[1], repr(item[0]))))


def ages(con: duckdb.DuckDBPyConnection) -> dict[tuple, tuple]:
    found = rows(con, "SELECT TP_ST_CONCLUSAO, TP_ANO_CONCLUIU, NU_IDADE, count(*) FROM r "
                      "WHERE NU_IDADE IS NOT NULL GROUP BY ALL")
    result: dict[tuple, list] = defaultdict(list)
    for st, year, age, n in found:
        result[(value(st), value(year))].append((value(age), n))
    return {key: tuple(sorted(found)) for key, found in sorted(result.items())}


def age_group_sql() -> str:
    cases = " ".join(f"WHEN NU_IDADE::INT <= {bound} THEN {i}"
                     for i, bound in enumerate(AGE_GROUPS))
    return f"CASE {cases} ELSE {len(AGE_GROUPS)} END"


def conditional(con: duckdb.DuckDBPyConnection, column: str, by_sql: str,
                where: str = "TRUE") -> dict[int, tuple]:
    found = rows(con, f"SELECT {by_sql}, {column}, count(*) FROM r "
                      f"WHERE {where} AND {column} IS NOT NULL GROUP BY ALL")
    result: dict[object, list] = defaultdict(list)
    for key, v, n in found:
        result[value(key) if isinstance(key, str) else key].append((value(v), n))
    return {key: tuple(sorted(found)) for key, found in sorted(result.items())}


def with_classes(con: duckdb.DuckDBPyConnection) -> None:
    """Add ability class (deciles of the mean non-zero score) and income group to each row."""
    scores = [f"NULLIF(TRY_CAST(NU_NOTA_{a} AS DOUBLE), 0)" for a in AREAS]
    present = " OR ".join(f"TP_PRESENCA_{a} = '1'" for a in AREAS)
    con.execute(f"""
        CREATE TABLE c AS
        SELECT *, {income_group_sql()} AS income_group,
               CASE WHEN {present} THEN ntile({ABILITY_CLASSES}) OVER (
                   PARTITION BY {present}
                   ORDER BY coalesce(list_avg([{', '.join(scores)}]), 0), NU_INSCRICAO) - 1
               END AS ability
        FROM r""")


def ability_by_income(con: duckdb.DuckDBPyConnection) -> dict[tuple[int, int], tuple]:
    """Ability class counts by (income group, TP_ESCOLA); cells of few rows are left out."""
    found = rows(con, "SELECT income_group, TP_ESCOLA::INT, ability, count(*) FROM c "
                      "WHERE ability IS NOT NULL GROUP BY ALL")
    table: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * ABILITY_CLASSES)
    for group, school, ability, n in found:
        table[(group, school)][ability] += n
    return {key: tuple(counts) for key, counts in sorted(table.items())
            if sum(counts) >= MIN_CELL_ROWS}


def score_quantiles(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    levels = [0.002] + [i / QUANTILE_STEPS for i in range(1, QUANTILE_STEPS)] + [0.998]
    result = {}
    for area in AREAS:
        found = dict(rows(con, f"""
            SELECT ability, quantile_cont(NU_NOTA_{area}::DOUBLE, {levels})
            FROM c WHERE TP_PRESENCA_{area} = '1' AND NU_NOTA_{area}::DOUBLE > 0
            GROUP BY 1"""))
        result[area] = tuple(tuple(round(q, 1) for q in found[k])
                             for k in range(ABILITY_CLASSES))
    return result


def zero_scores(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    result = {}
    for area in AREAS:
        zeros, present = rows(con, f"""SELECT count(*) FILTER (NU_NOTA_{area}::DOUBLE = 0),
            count(*) FROM r WHERE TP_PRESENCA_{area} = '1'""")[0]
        result[area] = round(zeros / present, 6)
    return result


def effective_answers(area: str, answers: str, key: str, language: str) -> tuple[str, str]:
    """The 45 answers a candidate gave and their keys (LC: without the other language)."""
    if area != "LC":
        return answers, key
    if language == "0":
        return answers[:5] + answers[10:], key[:5] + key[10:]
    return answers[5:], key[5:]


def answer_rates(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    """Per score bin: share of right answers; among the others, share of blanks and doubles."""
    result = {}
    for area in AREAS:
        found = rows(con, f"""SELECT NU_NOTA_{area}::DOUBLE, TX_RESPOSTAS_{area},
            TX_GABARITO_{area}, TP_LINGUA FROM r
            WHERE TP_PRESENCA_{area} = '1' AND NU_NOTA_{area}::DOUBLE > 0""")
        bins: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
        for score, answers, key, language in found:
            answers, key = effective_answers(area, answers, key, language)
            right = sum(a == k for a, k in zip(answers, key, strict=True))
            counts = bins[int(score // ANSWER_BIN)]
            counts[0] += 1
            counts[1] += right
            counts[2] += len(answers) - right
            counts[3] += answers.count(".")
            counts[4] += answers.count("*")
        result[area] = smooth_bins(bins, 1000 // ANSWER_BIN)
    return result


def smooth_bins(bins: dict[int, list[int]], last: int) -> tuple:
    """(correct, blank among wrong, double mark among wrong) for every bin 0..last.

    A bin with fewer than MIN_BIN_ROWS rows borrows rows from its neighbours until it has them.
    """
    table = []
    for b in range(last + 1):
        total = [0, 0, 0, 0, 0]
        width = 0
        while total[0] < MIN_BIN_ROWS and width <= last:
            for neighbour in {b - width, b + width}:
                for i, n in enumerate(bins.get(neighbour, ())):
                    total[i] += n
            width += 1
        rows_, right, wrong, blank, double = total
        answers = right + wrong
        table.append((round(right / answers, 4), round(blank / max(wrong, 1), 5),
                      round(double / max(wrong, 1), 5)))
    return tuple(table)


def essay(con: duckdb.DuckDBPyConnection) -> tuple[tuple, dict, dict]:
    status = frequencies(con, "TP_STATUS_REDACAO", "TP_PRESENCA_LC = '1'")
    con.execute(f"""CREATE TABLE e AS SELECT *, ntile({ESSAY_CLASSES}) OVER (
        ORDER BY NU_NOTA_REDACAO::INT, NU_INSCRICAO) - 1 AS essay_class
        FROM c WHERE TP_STATUS_REDACAO = '1'""")
    by_ability: dict[int, list[int]] = defaultdict(lambda: [0] * ESSAY_CLASSES)
    for ability, essay_class, n in rows(con, "SELECT ability, essay_class, count(*) FROM e "
                                             "GROUP BY ALL"):
        by_ability[ability][essay_class] += n
    components = {}
    for i in range(1, 6):
        found = rows(con, f"SELECT essay_class, NU_NOTA_COMP{i}::INT, count(*) FROM e "
                          f"GROUP BY ALL")
        table: dict[int, list] = defaultdict(list)
        for essay_class, score, n in found:
            table[essay_class].append((score, n))
        components[f"NU_NOTA_COMP{i}"] = {k: tuple(sorted(v)) for k, v in sorted(table.items())}
    return status, {k: tuple(v) for k, v in sorted(by_ability.items())}, components


def build(source: Path) -> dict[str, object]:
    con = duckdb.connect()
    total = load(con, source)
    original = LAYOUTS_BY_NAME["microdados-original"]
    flags = [c.name for c in original.columns
             if c.name.startswith("IN_") and c.name != "IN_TREINEIRO"]
    with_classes(con)
    status, essay_by_ability, components = essay(con)
    questions = [c.name for c in original.columns if c.name.startswith("Q") and c.name != "Q006"]
    return {
        "REAL_ROWS": total,
        "UF_REGISTRATIONS": {uf: UF_REGISTRATIONS[uf] for uf in UF.values()},
        "MUNICIPALITIES": municipalities(con),
        "GEOGRAPHY": geography(con),
        "SITUATIONS": situations(con),
        "AGES": ages(con),
        "AGE_GROUPS": AGE_GROUPS,
        "MARITAL_BY_AGE_GROUP": conditional(con, "TP_ESTADO_CIVIL", age_group_sql()),
        "MARGINALS": {column: frequencies(con, column) for column in MARGINALS},
        "SCHOOL": {column: conditional(con, column, "TP_ESCOLA::INT", "CO_ESCOLA IS NOT NULL")
                   for column in SCHOOL_COLUMNS},
        "FLAGS": {flag: rows(con, f"SELECT round(avg({flag}::INT), 6) FROM r")[0][0]
                  for flag in flags},
        "PRESENCE": tuple(sorted(((int(cn), int(ch), int(lc), int(mt)), n) for cn, ch, lc, mt, n
                                 in rows(con, "SELECT TP_PRESENCA_CN, TP_PRESENCA_CH, "
                                              "TP_PRESENCA_LC, TP_PRESENCA_MT, count(*) FROM r "
                                              "GROUP BY ALL"))),
        "TESTS_DAY1": tuple(sorted(((int(ch), int(lc)), n) for ch, lc, n in rows(
            con, "SELECT CO_PROVA_CH, CO_PROVA_LC, count(*) FROM r "
                 "WHERE CO_PROVA_CH IS NOT NULL GROUP BY ALL"))),
        "TESTS_DAY2": tuple(sorted(((int(cn), int(mt)), n) for cn, mt, n in rows(
            con, "SELECT CO_PROVA_CN, CO_PROVA_MT, count(*) FROM r "
                 "WHERE CO_PROVA_CN IS NOT NULL GROUP BY ALL"))),
        "INCOME_GROUPS": INCOME_GROUPS,
        "TOP_INCOME_GROUP": TOP_INCOME_GROUP,
        "QUESTIONS": {q: conditional(con, q, income_group_sql()) for q in questions},
        "ABILITY_BY_INCOME_AND_SCHOOL": ability_by_income(con),
        "QUANTILE_STEPS": QUANTILE_STEPS,
        "SCORE_QUANTILES": score_quantiles(con),
        "ZERO_SCORE": zero_scores(con),
        "ANSWER_BIN": ANSWER_BIN,
        "ANSWER_RATES": answer_rates(con),
        "ESSAY_STATUS": status,
        "ESSAY_CLASS_BY_ABILITY": essay_by_ability,
        "ESSAY_COMPONENTS": components,
    }


HEADER = '''# Generated by tools/profile_real_rows.py; do not edit
"""Aggregated profile of {files} real ENEM 2019 rows, sampled by lake/synth/model.py.

Counts, shares and quantiles only: no row. Categorical distributions are ((value, count), ...);
conditional ones are {{condition: ((value, count), ...)}}. UF_REGISTRATIONS are approximate
public 2019 figures (not from the rows). ANSWER_RATES: per {bin}-point score bin, (share of
right answers, share of blanks among the others, share of double marks among the others).
"""

# ruff: noqa: E501
'''


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE
    profile = build(source)
    text = HEADER.format(files=f"{profile['REAL_ROWS']:,}", bin=ANSWER_BIN)
    for name, content in profile.items():
        text += f"{name} = {pprint.pformat(content, width=100, compact=True)}\n"
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(text):,} characters)")


if __name__ == "__main__":
    main()
