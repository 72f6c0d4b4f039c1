"""The synthetic rows: no value breaks the schema's domains or rules, the answer keys match the
items, and the statistics match the real rows' (means, shares, null rates, compressibility)."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import duckdb
import pytest

from jobs.enem.schema import AREAS, LAYOUTS_BY_NAME, UF, Layout
from lake.synth import booklets
from tests.synth_data import (
    load_typed,
    needs_real_rows,
)

# Columns that follow the national mix of states, not the real rows' (mostly AC and RR).
GEOGRAPHIC = ("NU_INSCRICAO", "CO_ESCOLA", "CO_MUNICIPIO_", "NO_MUNICIPIO_", "CO_UF_", "SG_UF_")
MEAN_TOLERANCE = 0.10
COMPRESSION_TOLERANCE = 0.15
SAMPLING_SIGMAS = 4  # rare values are compared within this many standard errors instead


def domain_violations(con: duckdb.DuckDBPyConnection, table: str, layout: Layout) -> dict:
    """Rows that break each column's domain and each Rule, by check name (only non-zero)."""
    checks = {}
    for c in layout.columns:
        col = c.output
        if c.values is not None:
            allowed = ", ".join(f"'{v}'" for v in c.values)
            checks[f"{c.name}.values"] = f"CAST({col} AS VARCHAR) NOT IN ({allowed})"
        if c.minimum is not None:
            checks[f"{c.name}.minimum"] = f"{col} < {c.minimum}"
        if c.maximum is not None:
            checks[f"{c.name}.maximum"] = f"{col} > {c.maximum}"
        if c.multiple_of is not None:
            checks[f"{c.name}.multiple_of"] = f"{col} % {c.multiple_of} <> 0"
        if c.pattern is not None:
            checks[f"{c.name}.pattern"] = f"NOT regexp_full_match({col}, '{c.pattern}')"
    for rule in layout.rules:
        checks[f"rule.{rule.name}"] = f"({rule.sql}) IS NOT TRUE"
    counts = con.execute("SELECT " + ", ".join(
        f"count(*) FILTER ({sql})" for sql in checks.values()) + f" FROM {table}").fetchone()
    return {name: n for name, n in zip(checks, counts, strict=True) if n}


@pytest.mark.parametrize("layout", ["original", "lgpd"])
def test_zero_domain_and_rule_violations(con: duckdb.DuckDBPyConnection, layout: str) -> None:
    table = f"micro_{layout}"
    assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0
    assert domain_violations(con, table, LAYOUTS_BY_NAME[f"microdados-{layout}"]) == {}


@pytest.mark.parametrize("layout", ["original", "lgpd"])
def test_itens_domains(con: duckdb.DuckDBPyConnection, layout: str) -> None:
    itens = LAYOUTS_BY_NAME[f"itens-{layout}"]
    load = f"itens_{layout}_typed"
    load_typed(con, load, f"raw_itens_{layout}", itens)
    assert domain_violations(con, load, itens) == {}
    found = con.execute(f"SELECT sg_area, co_prova, count(*) FROM {load} GROUP BY ALL").fetchall()
    micro = LAYOUTS_BY_NAME["microdados-original"]
    expected = {(area, code, booklets.answer_width(area)) for area in AREAS
                for code in micro.column(f"CO_PROVA_{area}").values}
    assert set(found) == expected  # every test of the domains, in its own area, 45 or 50 items


def test_more_cross_field_facts(con: duckdb.DuckDBPyConnection) -> None:
    states = ", ".join(f"({code}, '{acronym}')" for code, acronym in UF.items())
    con.execute(f"CREATE OR REPLACE TABLE uf(code INT, acronym VARCHAR); "
                f"INSERT INTO uf VALUES {states}")
    facts = {
        "day 1 shared": "tp_presenca_ch <> tp_presenca_lc",
        "day 2 shared": "tp_presenca_cn <> tp_presenca_mt",
        "essay empty when absent": "(tp_presenca_lc <> 1) AND (nu_nota_comp1 IS NOT NULL OR "
                                   "nu_nota_comp5 IS NOT NULL OR nu_nota_redacao IS NOT NULL)",
        "essay status 1 or zeros": "tp_status_redacao <> 1 AND (nu_nota_comp1 + nu_nota_comp2 + "
                                   "nu_nota_comp3 + nu_nota_comp4 + nu_nota_comp5) <> 0",
        "LC other language is 99999": "(tp_lingua = 0 AND substr(tx_respostas_lc, 6, 5) <> "
                                      "'99999') OR (tp_lingua = 1 AND "
                                      "substr(tx_respostas_lc, 1, 5) <> '99999') OR "
                                      "length(replace(tx_respostas_lc, '9', '')) <> 45",
        "gabarito only when present": "(tx_gabarito_cn IS NULL) <> (co_prova_cn IS NULL)",
        "zero score is a blank sheet": "nu_nota_ch = 0 AND tx_respostas_ch <> repeat('.', 45)",
        "one decimal": "round(nu_nota_mt, 1) <> nu_nota_mt",
    }
    for place in ("RESIDENCIA", "NASCIMENTO", "ESC", "PROVA"):
        p = place.lower()
        facts[f"{place} state code"] = (f"co_uf_{p} <> floor(co_municipio_{p} / 100000) OR "
                                        f"(co_uf_{p} IS NULL) <> (no_municipio_{p} IS NULL)")
        facts[f"{place} state acronym"] = (f"sg_uf_{p} <> (SELECT acronym FROM uf "
                                           f"WHERE code = co_uf_{p})")
    found = {name: con.execute(f"SELECT count(*) FROM micro_original WHERE {sql}").fetchone()[0]
             for name, sql in facts.items()}
    assert {name: n for name, n in found.items() if n} == {}


def test_answer_keys_match_the_items(con: duckdb.DuckDBPyConnection) -> None:
    for area in AREAS:
        a = area.lower()
        keys = con.execute(f"SELECT co_prova_{a}, count(DISTINCT tx_gabarito_{a}), "
                           f"any_value(tx_gabarito_{a}) FROM micro_original "
                           f"WHERE co_prova_{a} IS NOT NULL GROUP BY 1").fetchall()
        assert keys
        for code, distinct, key in keys:
            assert distinct == 1
            items = con.execute(
                'SELECT "TX_GABARITO" FROM raw_itens_original WHERE "CO_PROVA" = ? '
                'ORDER BY coalesce("TP_LINGUA", \'9\'), "CO_POSICAO"::INT', [str(code)]
            ).fetchall()
            assert "".join(k for (k,) in items) == key


@dataclass(frozen=True)
class Comparison:
    column: str
    statistic: str
    real: float
    synthetic: float
    tolerance: float

    @property
    def ok(self) -> bool:
        return abs(self.synthetic - self.real) <= self.tolerance + 1e-12

    @property
    def relative(self) -> float:
        return abs(self.synthetic - self.real) / abs(self.real) if self.real else 0.0


def _tolerance(real: float, variance: float, n_real: int, n_synthetic: int) -> float:
    error = math.sqrt(max(variance, 0.0) * (1 / n_real + 1 / n_synthetic))
    return max(MEAN_TOLERANCE * abs(real), SAMPLING_SIGMAS * error)


def compare_with_real(con: duckdb.DuckDBPyConnection, synthetic: str = "raw_micro_original",
                      real: str = "raw_real") -> list[Comparison]:
    """Null rate of every column; mean of numeric ones; share of each categorical value."""
    layout = LAYOUTS_BY_NAME["microdados-original"]
    n = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in (synthetic, real)}
    results = []
    for c in layout.columns:
        name = c.name
        stats = {}
        for t in (synthetic, real):
            stats[t] = con.execute(
                f'SELECT avg(("{name}" IS NULL)::INT), avg(TRY_CAST("{name}" AS DOUBLE)), '
                f'var_pop(TRY_CAST("{name}" AS DOUBLE)) FROM {t}').fetchone()
        null_real, mean_real, var_real = stats[real]
        null_syn, mean_syn, _ = stats[synthetic]
        results.append(Comparison(name, "null rate", null_real, null_syn, _tolerance(
            null_real, null_real * (1 - null_real), n[real], n[synthetic])))
        if name.startswith(GEOGRAPHIC):
            continue
        if mean_real is not None and c.type != "string":
            results.append(Comparison(name, "mean", mean_real, mean_syn or 0.0, _tolerance(
                mean_real, var_real, n[real], n[synthetic] * (1 - null_syn))))
        if c.values is not None and len(c.values) <= 20:
            shares = {t: dict(con.execute(
                f'SELECT "{name}", count(*) / sum(count(*)) OVER () FROM {t} '
                f'WHERE "{name}" IS NOT NULL GROUP BY 1').fetchall()) for t in (synthetic, real)}
            for value, share in shares[real].items():
                if share >= 0.02:
                    results.append(Comparison(name, f"share {value}", share,
                                              shares[synthetic].get(value, 0.0), _tolerance(
                                                  share, share * (1 - share), n[real],
                                                  n[synthetic])))
    return results


def answer_bytes_per_row(con: duckdb.DuckDBPyConnection, table: str) -> float:
    """zlib (level 6) bytes per row of the four TX_RESPOSTAS columns, row by row."""
    found = con.execute(
        f"SELECT concat_ws(';', coalesce(TX_RESPOSTAS_CN, ''), coalesce(TX_RESPOSTAS_CH, ''), "
        f"coalesce(TX_RESPOSTAS_LC, ''), coalesce(TX_RESPOSTAS_MT, '')) FROM {table}").fetchall()
    text = "\n".join(line for (line,) in found).encode("latin-1")
    return len(zlib.compress(text, 6)) / len(found)


@needs_real_rows
def test_statistics_match_the_real_rows(real: duckdb.DuckDBPyConnection) -> None:
    comparisons = compare_with_real(real)
    assert len(comparisons) > 300
    failed = [c for c in comparisons if not c.ok]
    assert failed == []


@needs_real_rows
def test_answers_are_as_incompressible_as_the_real_ones(real: duckdb.DuckDBPyConnection) -> None:
    synthetic = answer_bytes_per_row(real, "raw_micro_original")
    actual = answer_bytes_per_row(real, "raw_real")
    assert abs(synthetic / actual - 1) <= COMPRESSION_TOLERANCE, (synthetic, actual)


def test_states_are_weighted_like_the_full_file(con: duckdb.DuckDBPyConnection) -> None:
    shares = dict(con.execute("SELECT SG_UF_PROVA, count(*) / sum(count(*)) OVER () "
                              "FROM raw_micro_original GROUP BY 1").fetchall())
    assert set(shares) == set(UF.values())
    assert 0.12 < shares["SP"] < 0.16 and 0.08 < shares["MG"] < 0.12
    assert shares["RR"] < 0.006 and shares["AC"] < 0.012
