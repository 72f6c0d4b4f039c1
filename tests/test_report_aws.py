"""`lake report --gold s3://… --processed s3://… --database …` against moto's server: the page
shows exactly the result each Glue table `gold_<name>` points at (not a newer folder that a
killed gold run left), with the label tables and the latest run summary from the processed
bucket, in Brazilian Portuguese or, with --lang en, English."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from lake.cli import app
from lake.local.catalog import connect
from lake.report.texts import EN, PT_BR
from tests.lake_run import LakeRun
from tests.report_html import parse

QUERIES = sorted(path.stem for path in (Path(__file__).resolve().parent.parent / "queries")
                 .glob("*.sql"))
DATABASE = "datalake_test_enem"


def parquet(rows: list[dict]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer)
    return buffer.getvalue()


def local_rows(catalog: Path, table: str) -> list[dict]:
    with connect(catalog, read_only=True) as con:  # views read relative to its folder
        result = con.sql(f"SELECT * FROM {table}")
        return [dict(zip(result.columns, row, strict=True)) for row in result.fetchall()]


@pytest.fixture
def stack(moto_env: str, lake_run: LakeRun) -> dict[str, str]:
    """A stack's gold and processed buckets and Glue database, filled from the local lake (the
    data and the gold step's `_gold.json`); each gold table has a second, newer folder with
    other numbers and another record that its Glue table does not name."""
    s3, glue = boto3.client("s3"), boto3.client("glue")
    suffix = uuid.uuid4().hex[:8]
    gold, processed = f"gold-{suffix}", f"processed-{suffix}"
    for bucket in (gold, processed):
        s3.create_bucket(Bucket=bucket,
                         CreateBucketConfiguration={"LocationConstraint": "sa-east-1"})
    glue.create_database(DatabaseInput={"Name": DATABASE})
    catalog = lake_run.base / "catalog.duckdb"
    for name in QUERIES:
        rows = local_rows(catalog, f"gold_{name}")
        current, newer = f"{name}/run=20261201T000000Z/", f"{name}/run=20261202T000000Z/"
        s3.put_object(Bucket=gold, Key=current + "part-0.parquet", Body=parquet(rows))
        s3.put_object(Bucket=gold, Key=current + "_SUCCESS", Body=b"")
        stale = [{k: (v * 2 if isinstance(v, (int, float)) else v) for k, v in row.items()}
                 for row in rows]
        s3.put_object(Bucket=gold, Key=newer + "part-0.parquet", Body=parquet(stale))
        [record] = (lake_run.base / "gold" / name).glob("run=*/_gold.json")
        s3.put_object(Bucket=gold, Key=current + "_gold.json", Body=record.read_bytes())
        other = json.loads(record.read_text(encoding="utf-8"))
        other.update(withheld=other["withheld"] + 5, groups=other["groups"] + 5)
        s3.put_object(Bucket=gold, Key=newer + "_gold.json", Body=json.dumps(other).encode())
        glue.create_table(DatabaseName=DATABASE, TableInput={
            "Name": f"gold_{name}", "TableType": "EXTERNAL_TABLE",
            "StorageDescriptor": {"Location": f"s3://{gold}/{current}", "Columns": []}})
    for path in (lake_run.base / "processed").rglob("*"):
        relative = path.relative_to(lake_run.base / "processed").as_posix()
        if path.is_file() and (relative.startswith("label_") or relative.startswith("_runs/")):
            s3.put_object(Bucket=processed, Key=relative, Body=path.read_bytes())
    yield {"gold": f"s3://{gold}/", "processed": f"s3://{processed}/"}
    glue.delete_database(Name=DATABASE)


def report(stack: dict[str, str], out: Path, database: str = DATABASE, *options: str):
    return CliRunner().invoke(app, ["report", "--gold", stack["gold"], "--processed",
                                    stack["processed"], "--database", database,
                                    "--out", str(out), *options])


def test_the_page_shows_what_each_glue_table_points_at(stack: dict[str, str], tmp_path: Path,
                                                       lake_run: LakeRun) -> None:
    out = tmp_path / "enem.html"
    result = report(stack, out)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}\n"
    remote = parse(out.read_text(encoding="utf-8"))
    local = parse((lake_run.base / "gold" / "_report" / "index.html").read_text(
        encoding="utf-8"))
    assert set(remote.sections) == set(QUERIES)
    for name in QUERIES:
        assert remote.sections[name].rows == local.sections[name].rows, name
        assert remote.sections[name].withheld == local.sections[name].withheld, name
        assert remote.sections[name].withheld.startswith("Grupos pequenos: "), name
        assert remote.sections[name].svg.startswith("<svg")
    header = " ".join(" ".join(remote.header_text).split())
    runs = sorted((lake_run.base / "processed" / "_runs").glob("*.json"))
    assert f"Execução do processamento {runs[-1].stem}" in header
    assert f"{stack['gold']} (banco de dados do Glue {DATABASE})" in header
    assert remote.lang == "pt-BR" and remote.title == PT_BR.title


def test_the_page_in_english(stack: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "enem.html"
    result = report(stack, out, DATABASE, "--lang", "en")
    assert result.exit_code == 0, result.output
    page = parse(out.read_text(encoding="utf-8"))
    assert page.lang == "en" and page.title == EN.title
    assert f"{stack['gold']} (Glue database {DATABASE})" in " ".join(page.header_text)
    assert all(section.withheld.startswith("Small groups: ")
               for section in page.sections.values())


def test_a_gold_table_missing_from_glue_is_one_line_and_no_page(
        stack: dict[str, str], tmp_path: Path) -> None:
    boto3.client("glue").delete_table(DatabaseName=DATABASE, Name="gold_essay_status")
    out = tmp_path / "enem.html"
    result = report(stack, out)
    assert result.exit_code == 1 and not out.exists()
    assert result.stderr == (f"lake report: error: gold_essay_status is not in the Glue "
                             f"database {DATABASE}: run the gold job (the workflow's last "
                             "step), or check --database\n")


def test_a_gold_table_outside_the_gold_bucket_is_refused(stack: dict[str, str],
                                                         tmp_path: Path) -> None:
    other = {**stack, "gold": "s3://some-other-bucket/"}
    result = report(other, tmp_path / "enem.html")
    assert result.exit_code == 1
    assert "outside --gold s3://some-other-bucket/: give the stack's gold bucket" in \
        result.stderr
