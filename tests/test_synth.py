"""The synthetic ENEM generator: INEP's packaging, the schema's rules, the real rows' statistics."""

from __future__ import annotations

import math
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from jobs.enem.schema import AREAS, LAYOUTS_BY_NAME, UF, Layout
from lake.cli import app
from lake.synth import archive as synth
from lake.synth import booklets, model, profile

REAL_DIR = Path(os.environ.get("ENEM2019_DIR",
                               Path(__file__).resolve().parents[2] / "shared" / "enem2019"))
REAL_FILES = sorted(REAL_DIR.glob("*.csv.gz"))
needs_real_rows = pytest.mark.skipif(
    not REAL_FILES, reason=f"no real ENEM rows (*.csv.gz) in {REAL_DIR}; set ENEM2019_DIR")

STAT_ROWS = 30_000
SEED = 11
UTF8_FLAG = 0x800
# Columns that follow the national mix of states, not the real rows' (mostly AC and RR).
GEOGRAPHIC = ("NU_INSCRICAO", "CO_ESCOLA", "CO_MUNICIPIO_", "NO_MUNICIPIO_", "CO_UF_", "SG_UF_")
MEAN_TOLERANCE = 0.10
COMPRESSION_TOLERANCE = 0.15
SAMPLING_SIGMAS = 4  # rare values are compared within this many standard errors instead


# --- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def original_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "original.zip"
    synth.write_zip(out, STAT_ROWS, "original", seed=SEED)
    return out


@pytest.fixture(scope="module")
def lgpd_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "lgpd.zip"
    synth.write_zip(out, 5_000, "lgpd", seed=SEED)
    return out


def member(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path, metadata_encoding="cp850") as archive:
        return archive.read(name)


def load_csv(con: duckdb.DuckDBPyConnection, table: str, files: list[Path]) -> None:
    """A table of text columns, read the way the real files must be read."""
    con.execute(
        f"CREATE TABLE {table} AS SELECT * FROM read_csv($files, delim=';', header=true, "
        "quote='', escape='', encoding='latin-1', all_varchar=true, union_by_name=true)",
        {"files": [str(f) for f in files]})


def load_typed(con: duckdb.DuckDBPyConnection, table: str, raw: str, layout: Layout) -> None:
    """Lower-case columns cast to the schema's types, as the rules expect."""
    sql_types = {"bigint": "BIGINT", "int": "INTEGER", "double": "DOUBLE", "string": "VARCHAR"}
    casts = ", ".join(
        f'"{c.name}" AS {c.output}' if c.type == "string"
        else f'CAST("{c.name}" AS {sql_types[c.type]}) AS {c.output}'
        for c in layout.columns)
    con.execute(f"CREATE TABLE {table} AS SELECT {casts} FROM {raw}")


@pytest.fixture(scope="module")
def con(original_zip: Path, lgpd_zip: Path, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("csv")
    connection = duckdb.connect()
    for name, path in (("original", original_zip), ("lgpd", lgpd_zip)):
        for kind, member_name in (("micro", synth.MICRODADOS_MEMBER),
                                  ("itens", synth.ITENS_MEMBER)):
            csv = folder / f"{kind}_{name}.csv"
            csv.write_bytes(member(path, member_name))
            load_csv(connection, f"raw_{kind}_{name}", [csv])
        load_typed(connection, f"micro_{name}", f"raw_micro_{name}",
                   LAYOUTS_BY_NAME[f"microdados-{name}"])
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def real(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The real rows, read from the shared folder (never copied into the repository)."""
    if not REAL_FILES:
        pytest.skip(f"no real ENEM rows (*.csv.gz) in {REAL_DIR}; set ENEM2019_DIR")
    if "raw_real" not in {t for (t,) in con.execute("SHOW TABLES").fetchall()}:
        load_csv(con, "raw_real", REAL_FILES)
    return con


# --- packaging ---------------------------------------------------------------------------------

def central_directory_names(path: Path) -> list[tuple[bytes, int]]:
    """(raw name bytes, general purpose flags) of every central directory entry."""
    data = path.read_bytes()
    end = data.rindex(b"PK\x05\x06")  # end of central directory record
    entries_count, _, at = struct.unpack_from("<HII", data, end + 10)
    assert at != 0xFFFFFFFF, "a small test archive needs no ZIP64 end record"
    entries = []
    for _ in range(entries_count):
        assert data[at:at + 4] == b"PK\x01\x02"
        flags = struct.unpack_from("<H", data, at + 8)[0]
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, at + 28)
        entries.append((data[at + 46:at + 46 + name_length], flags))
        at += 46 + name_length + extra_length + comment_length
    return entries


def local_extra_ids(path: Path, info: zipfile.ZipInfo) -> list[int]:
    """Header ids of the extra fields in a member's local file header."""
    with path.open("rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
        assert header[:4] == b"PK\x03\x04"
        name_length, extra_length = struct.unpack_from("<HH", header, 26)
        f.seek(name_length, 1)
        extra = f.read(extra_length)
    ids, at = [], 0
    while at + 4 <= len(extra):
        header_id, size = struct.unpack_from("<HH", extra, at)
        ids.append(header_id)
        at += 4 + size
    return ids


def test_zip_layout_like_inep(original_zip: Path) -> None:
    with zipfile.ZipFile(original_zip, metadata_encoding="cp850") as archive:
        infos = {info.filename: info for info in archive.infolist()}
        assert archive.testzip() is None
    assert set(infos) == {synth.MICRODADOS_MEMBER, synth.ITENS_MEMBER, synth.DICTIONARY_MEMBER,
                          synth.README_MEMBER}
    assert any(name.startswith("DICIONÁRIO/") for name in infos)
    assert any(name.startswith("LEIA-ME E DOCUMENTOS TÉCNICOS/") for name in infos)
    assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in infos.values())
    assert 1 in local_extra_ids(original_zip, infos[synth.MICRODADOS_MEMBER]), \
        "the big member's local header carries a ZIP64 extra field"


def test_member_names_are_cp850_without_utf8_flag(original_zip: Path) -> None:
    entries = central_directory_names(original_zip)
    assert len(entries) == 4
    names = []
    for raw, flags in entries:
        assert not flags & UTF8_FLAG, raw
        names.append(raw.decode("cp850"))
    assert "DICIONÁRIO/Dicionário_Microdados_Enem_2019.csv" in names
    assert b"DICION\xb5RIO/" in b"".join(raw for raw, _ in entries)  # 0xB5 is Á in cp850
    with zipfile.ZipFile(original_zip) as archive:  # local headers agree (no UTF-8 flag either)
        for info in archive.infolist():
            assert not info.flag_bits & UTF8_FLAG


@pytest.mark.parametrize("layout", ["original", "lgpd"])
def test_headers_are_the_schemas(layout: str, original_zip: Path, lgpd_zip: Path) -> None:
    path = original_zip if layout == "original" else lgpd_zip
    micro = member(path, synth.MICRODADOS_MEMBER).split(b"\n", 1)[0].decode("latin-1")
    itens = member(path, synth.ITENS_MEMBER).split(b"\n", 1)[0].decode("latin-1")
    assert tuple(micro.split(";")) == LAYOUTS_BY_NAME[f"microdados-{layout}"].header
    assert tuple(itens.split(";")) == LAYOUTS_BY_NAME[f"itens-{layout}"].header
    assert len(micro.split(";")) == (136 if layout == "original" else 76)


def test_csv_format(original_zip: Path) -> None:
    data = member(original_zip, synth.MICRODADOS_MEMBER)
    assert b"\r" not in data and b'"' not in data
    assert data.endswith(b"\n") and data.count(b"\n") == STAT_ROWS + 1
    header, *lines = data.decode("latin-1").splitlines()
    names = header.split(";")
    assert all(line.count(";") == len(names) - 1 for line in lines)
    scores = [names.index(f"NU_NOTA_{a}") for a in AREAS]
    found = [line.split(";")[i] for line in lines for i in scores]
    one_decimal = re.compile(r"(0|[1-9][0-9]{0,3})(\.[1-9])?")  # 466, 472.9, 0; never 466.0
    assert all(one_decimal.fullmatch(value) for value in found if value)
    assert "0" in found and "" in found


def test_accents_are_latin1(original_zip: Path) -> None:
    data = member(original_zip, synth.MICRODADOS_MEMBER)
    text = data.decode("latin-1")
    assert "Santarém" in text and "Mãe do Rio" in text
    assert "Ã©" not in text and "Ã£" not in text, "UTF-8 bytes read as latin-1 (mojibake)"
    assert "Santarém".encode("latin-1") in data and "Santarém".encode() not in data
    names = {name for found in profile.MUNICIPALITIES.values() for _, name, _ in found}
    assert {"Santarém", "Mãe do Rio"} <= names
    assert "Mãe do Rio".encode("latin-1") in model.model().geography.names.to_pylist()


def test_seed_makes_bytes_repeatable(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a.zip", tmp_path / "b.zip", tmp_path / "c.zip"
    synth.write_zip(first, 3_000, "original", seed=5)
    synth.write_zip(second, 3_000, "original", seed=5)
    synth.write_zip(other, 3_000, "original", seed=6)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()


@pytest.mark.parametrize("rows, chunk_rows", [(5_000, 999), (5_000, 4096), (40, 1)])
def test_chunk_size_does_not_change_the_rows(rows: int, chunk_rows: int) -> None:
    whole = b"".join(synth.microdata_chunks(rows, "original", SEED, chunk_rows=rows))
    assert b"".join(synth.microdata_chunks(rows, "original", SEED, chunk_rows)) == whole


def age_band(age: int) -> int:
    """TP_FAIXA_ETARIA as INEP defines it."""
    if age < 17:
        return 1
    if age <= 25:
        return age - 15  # 2..10
    if age <= 30:
        return 11
    if age > 70:
        return 20
    return 12 + (age - 31) // 5  # 31-35 .. 66-70: 12..19


def test_lgpd_is_the_original_without_the_dropped_columns() -> None:
    original = b"".join(synth.microdata_chunks(2_000, "original", SEED)).decode("latin-1")
    lgpd = b"".join(synth.microdata_chunks(2_000, "lgpd", SEED)).decode("latin-1")
    original_rows = [dict(zip(original.splitlines()[0].split(";"), line.split(";"), strict=True))
                     for line in original.splitlines()]
    lgpd_rows = [dict(zip(lgpd.splitlines()[0].split(";"), line.split(";"), strict=True))
                 for line in lgpd.splitlines()]
    for before, after in zip(original_rows[1:], lgpd_rows[1:], strict=True):
        assert {k: v for k, v in after.items() if k != "TP_FAIXA_ETARIA"} == \
            {k: before[k] for k in after if k != "TP_FAIXA_ETARIA"}
        assert int(after["TP_FAIXA_ETARIA"]) == age_band(int(before["NU_IDADE"]))


# --- zero invalid rows -------------------------------------------------------------------------

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


# --- the real rows' statistics -----------------------------------------------------------------

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


# --- the command -------------------------------------------------------------------------------

def run(*args: str):
    return CliRunner().invoke(app, ["synth", *args])


def test_cli_writes_the_zip_and_prints_its_path(tmp_path: Path) -> None:
    out = tmp_path / "enem.zip"
    result = run("--rows", "50", "--layout", "lgpd", "--out", str(out), "--seed", "3")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(out)
    assert "rows/s" in result.stderr
    assert out.exists() and [p.name for p in tmp_path.iterdir()] == ["enem.zip"]


@pytest.mark.parametrize("args, message", [
    (["--rows", "10", "--layout", "csv"], "--layout 'csv' is unknown"),
    (["--rows", "0", "--layout", "original"], "--rows 0"),
    (["--rows", "-5", "--layout", "original"], "--rows -5"),
])
def test_cli_rejects_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(*args, "--out", str(tmp_path / "enem.zip"))
    assert result.exit_code != 0
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == "" and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["missing folder", "a file as folder", "a folder as out"])
def test_cli_rejects_unwritable_out(tmp_path: Path, where: str) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder").mkdir()
    out = {"missing folder": tmp_path / "nope" / "enem.zip",
           "a file as folder": tmp_path / "file" / "enem.zip",
           "a folder as out": tmp_path / "folder"}[where]
    result = run("--rows", "10", "--layout", "original", "--out", str(out))
    assert result.exit_code != 0
    assert "--out" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder"]
    assert list((tmp_path / "folder").iterdir()) == []


def test_failed_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    def broken(*args, **kwargs):
        yield b"header\n"
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(synth, "microdata_chunks", broken)
    result = run("--rows", "10", "--layout", "original", "--out", str(tmp_path / "enem.zip"))
    assert result.exit_code == 1
    assert "No space left on device" in result.stderr
    assert list(tmp_path.iterdir()) == []
