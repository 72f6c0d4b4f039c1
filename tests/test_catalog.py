"""The local catalog is relocatable: its views name their files relative to the stack's folder,
so `<root>/<stack>/` moved or copied whole just works, a copy reads its own files and never the
original's, and a catalog written before (full paths) and moved since is refused in one line.
Also: what `lake tables TABLE` says of each column, and Athena's type names."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from lake.cli import app
from lake.local.access import open_as
from lake.local.catalog import (
    CatalogTable,
    athena_type,
    columns,
    connect,
    crawl_zones,
    run_query,
    view_sql,
)
from lake.local.sql import QueryError
from tests.lake_run import STACK, LakeRun


def lake(*args: str):
    return CliRunner().invoke(app, list(args))


def copy_of(lake_run: LakeRun, where: Path) -> Path:
    """A copy of the run's stack, as `cp -r <root>/<stack> <where>/<stack>` makes it."""
    shutil.copytree(lake_run.base, where / STACK)
    return where


def query(root: Path, sql: str, *args: str):
    return lake("query", sql, "--root", str(root), "--stack", STACK, "--format", "csv", *args)


COUNT = "SELECT count(*) AS n FROM microdados_enem_2019"
GOLD = "SELECT sum(essays) AS n FROM gold_essay_status"


def test_the_views_name_their_files_relative_to_the_stack(lake_run: LakeRun) -> None:
    with duckdb.connect(str(lake_run.base / "catalog-researcher.duckdb"), read_only=True) as con:
        sources = [sql.split("read_parquet('")[1].split("'")[0] for (sql,) in con.execute(
            "SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall()]
    assert sources and all(not Path(s).is_absolute() for s in sources), sources
    assert {s.split("/")[0] for s in sources} == {"processed", "gold"}  # lgpd: none restricted


def test_a_moved_stack_just_works(lake_run: LakeRun, tmp_path: Path) -> None:
    before = {sql: query(lake_run.root, sql).stdout for sql in (COUNT, GOLD)}
    moved = copy_of(lake_run, tmp_path / "elsewhere")
    for sql, answer in before.items():
        result = query(moved, sql)
        assert result.exit_code == 0 and result.stdout == answer, result.output
    tables = lake("tables", "--root", str(moved), "--stack", STACK)
    assert tables.exit_code == 0 and "microdados_enem_2019" in tables.stdout, tables.output
    report = lake("report", "--root", str(moved), "--stack", STACK, "--out",
                  str(tmp_path / "page.html"))
    assert report.exit_code == 0, report.output
    assert "<svg" in (tmp_path / "page.html").read_text(encoding="utf-8")


def test_a_copy_reads_its_own_files_never_the_originals(lake_run: LakeRun,
                                                          tmp_path: Path) -> None:
    copy = copy_of(lake_run, tmp_path / "copy")
    shutil.rmtree(copy / STACK / "processed" / "label_q006")  # the original still has it
    labels = "SELECT count(*) AS n FROM label_q006"
    assert query(lake_run.root, labels).stdout == "n\n17\n"
    result = query(copy, labels)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        "lake query: error: IO Error: No files found that match the pattern "
        f"\"processed/label_q006/**/*.parquet\": the catalog names files that are gone; run "
        f"`lake crawl` (--root {copy} --stack {STACK}), then `lake gold` for a gold table\n")
    assert query(copy, COUNT).exit_code == 0  # its other tables still read its own files
    assert lake("crawl", "--root", str(copy), "--stack", STACK).exit_code == 0
    assert query(copy, labels).stderr.startswith(
        "lake query: error: unknown table label_q006; role analyst reads: ")


def test_a_catalog_written_with_full_paths_and_moved_is_refused_in_one_line(
        lake_run: LakeRun, tmp_path: Path) -> None:
    """As every catalog was before views were relative: it still works where it was written,
    but moved it would read the old place's files, so it says to crawl again."""
    copy = copy_of(lake_run, tmp_path / "old")
    catalog = copy / STACK / "catalog.duckdb"
    with duckdb.connect(str(catalog)) as con:
        [(sql,)] = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = "
                               "'gold_essay_status'").fetchall()
        old = sql.replace("read_parquet('gold/", f"read_parquet('{lake_run.base}/gold/")
        con.execute(old.replace("CREATE VIEW", "CREATE OR REPLACE VIEW"))
    message = (f"{catalog} reads the files of {lake_run.base}, not of {copy / STACK}: the lake "
               f"was moved or copied; run `lake crawl --root {copy} --stack {STACK}` and `lake "
               f"gold` with the same --root and --stack to catalog it where it is")
    for command in (["query", COUNT], ["tables"], ["report", "--out", str(tmp_path / "p.html")]):
        result = lake(*command, "--root", str(copy), "--stack", STACK)
        assert result.exit_code == 1, result.output
        assert result.stderr == f"lake {command[0]}: error: {message}\n"
    assert lake("crawl", "--root", str(copy), "--stack", STACK).exit_code == 0
    assert lake("gold", "--root", str(copy), "--stack", STACK).exit_code == 0
    assert query(copy, GOLD).stdout == query(lake_run.root, GOLD).stdout
    # where it was written, a catalog with full paths keeps working
    in_place = tmp_path / "in-place"
    shutil.copytree(lake_run.base, in_place / STACK)
    with duckdb.connect(str(in_place / STACK / "catalog.duckdb")) as con:
        con.execute(old.replace(str(lake_run.base), str(in_place / STACK)).replace(
            "CREATE VIEW", "CREATE OR REPLACE VIEW"))
    assert query(in_place, GOLD).stdout == query(lake_run.root, GOLD).stdout


def test_the_sandbox_holds_for_relative_paths(lake_run: LakeRun, tmp_path: Path) -> None:
    """The role's zones are open by their relative names too (the views'), and nothing else:
    no `..`, no other zone, no file looked for in the current folder."""
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "gold").mkdir()
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT 42 AS x) TO '{secret / 'gold' / 'x.parquet'}'")
    for sql, refused in [
        ("SELECT * FROM read_parquet('gold/../processed/label_q006/*.parquet')",
         "role business may not read gold/../processed/label_q006/*.parquet"),
        ("SELECT * FROM read_parquet('processed/label_q006/*.parquet')",
         "role business may not read processed/label_q006/*.parquet"),
        ("SELECT * FROM read_parquet('gold/x.parquet')",
         "gold/x.parquet: this machine reads no file by a relative path"),
    ]:
        with pytest.raises(QueryError) as caught:
            run_query(lake_run.base, sql, "business")
        assert str(caught.value).startswith(refused)
    answer = run_query(lake_run.base, "SELECT count(*) FROM read_parquet("
                                      "'gold/essay_status/*/*.parquet')", "business")
    assert answer.rows[0][0] > 0  # its own zone, as the views name it


def test_a_table_outside_the_stack_keeps_its_full_path(tmp_path: Path) -> None:
    inside = CatalogTable("t", str(tmp_path / "stack" / "gold" / "q" / "run=1"))
    outside = CatalogTable("t", str(tmp_path / "elsewhere" / "gold" / "q" / "run=1"))
    assert "read_parquet('gold/q/run=1/*.parquet'" in view_sql(inside, tmp_path / "stack",
                                                                 "*.parquet")
    assert f"read_parquet('{tmp_path}/elsewhere/gold/q/run=1/*.parquet'" in view_sql(
        outside, tmp_path / "stack", "*.parquet")


# --- a table's columns --------------------------------------------------------------------------

@pytest.fixture
def stack(tmp_path: Path) -> Path:
    """A stack of the original release: a public table and the restricted one."""
    base = tmp_path / STACK
    public = base / "processed" / "microdados_enem_2019" / "nu_ano=2019" / "sg_uf_prova=AC"
    restricted = base / "restricted" / "microdados_enem_2019" / "nu_ano=2019" / "sg_uf_prova=AC"
    for folder, select in [(public, "1 AS nu_inscricao, 512.5 AS nu_nota_mt, 3 AS tp_faixa_etaria"),
                           (restricted, "1 AS nu_inscricao, 18 AS nu_idade, 'Feijó' AS "
                                        "no_municipio_residencia, 7 AS something_new")]:
        folder.mkdir(parents=True)
        with duckdb.connect() as con:
            con.execute(f"COPY (SELECT {select}) TO '{folder / 'part-0.parquet'}'")
    crawl_zones(base, STACK)
    return base


def test_columns_say_type_access_and_inep_description(stack: Path) -> None:
    public = {c.name: c for c in columns(stack, "microdados_enem_2019")}
    assert (public["nu_nota_mt"].type, public["nu_nota_mt"].access,
            public["nu_nota_mt"].description) == ("decimal(4,1)", "public",
                                                  "Nota da prova de Matemática")
    assert public["sg_uf_prova"].description == (
        "Sigla da Unidade da Federação da aplicação da prova")
    assert public["nu_ano"].type == "bigint"  # a partition
    restricted = {c.name: c for c in columns(stack, "datalake_test_enem_restricted."
                                                    "MICRODADOS_ENEM_2019", "researcher")}
    assert (restricted["nu_idade"].access, restricted["nu_idade"].description) == (
        "restricted", "Idade")
    assert restricted["no_municipio_residencia"].access == "restricted"
    assert restricted["nu_inscricao"].access == "public"
    assert restricted["something_new"].access == "restricted"  # nobody classified it
    with pytest.raises(QueryError, match=r"^role analyst may not read table "
                                         r"datalake_test_enem_restricted\.microdados_enem_2019"):
        columns(stack, "datalake_test_enem_restricted.microdados_enem_2019", "analyst")


def test_a_catalog_opened_by_hand_needs_the_stacks_folder(stack: Path) -> None:
    """What the README says to a user who opens the catalog with DuckDB: in its folder, or with
    file_search_path set to it; `catalog.connect` does that."""
    with connect(stack / "catalog.duckdb", read_only=True) as con:
        assert con.execute("SELECT count(*) FROM microdados_enem_2019").fetchone()[0] == 1
    with open_as("analyst", stack) as con:
        assert con.execute("SELECT count(*) FROM microdados_enem_2019").fetchone()[0] == 1


@pytest.mark.parametrize(("duckdb_type", "athena"), [
    ("BIGINT", "bigint"), ("INTEGER", "int"), ("VARCHAR", "string"), ("DOUBLE", "double"),
    ("DECIMAL(4,1)", "decimal(4,1)"), ("BOOLEAN", "boolean"), ("DATE", "date"),
    ("TIMESTAMP", "timestamp"), ("BLOB", "binary"), ("INTEGER[]", "array<int>"),
    ("MAP(VARCHAR, BIGINT)", "map<string,bigint>"),
    ("STRUCT(a INTEGER, b VARCHAR[])", "struct<a:int,b:array<string>>"),
])
def test_athena_names_the_types(duckdb_type: str, athena: str) -> None:
    assert athena_type(duckdb_type) == athena
