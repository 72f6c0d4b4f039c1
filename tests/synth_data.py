"""The synthetic archives the generator tests read, loaded into DuckDB as the real files must be
read, and the real rows from ../shared (never copied into the repository)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import duckdb
import pytest

from jobs.enem.schema import LAYOUTS_BY_NAME, Layout
from lake.synth import archive as synth

REAL_DIR = Path(os.environ.get("ENEM2019_DIR",
                               Path(__file__).resolve().parents[2] / "shared" / "enem2019"))


REAL_FILES = sorted(REAL_DIR.glob("*.csv.gz"))


needs_real_rows = pytest.mark.skipif(
    not REAL_FILES, reason=f"no real ENEM rows (*.csv.gz) in {REAL_DIR}; set ENEM2019_DIR")


STAT_ROWS = 30_000


SEED = 11


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


@pytest.fixture(scope="session")
def original_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "original.zip"
    synth.write_zip(out, STAT_ROWS, "original", seed=SEED)
    return out


@pytest.fixture(scope="session")
def lgpd_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "lgpd.zip"
    synth.write_zip(out, 5_000, "lgpd", seed=SEED)
    return out


@pytest.fixture(scope="session")
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


@pytest.fixture(scope="session")
def real(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The real rows, read from the shared folder (never copied into the repository)."""
    if not REAL_FILES:
        pytest.skip(f"no real ENEM rows (*.csv.gz) in {REAL_DIR}; set ENEM2019_DIR")
    if "raw_real" not in {t for (t,) in con.execute("SHOW TABLES").fetchall()}:
        load_csv(con, "raw_real", REAL_FILES)
    return con
