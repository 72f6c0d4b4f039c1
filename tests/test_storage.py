"""Zone bookkeeping on S3 (moto in server mode) and on folders: the same operations, the same
answers, including the table replacement the processing job publishes with."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from jobs.process import csv_to_parquet as job
from jobs.storage import LocalStorage, S3Storage, Storage, join
from tests.enem_rows import microdata_csv, microdata_line


@pytest.fixture(params=["s3", "local"])
def zone(request, tmp_path: Path) -> tuple[Storage, str]:
    """(storage, root URI) of an empty zone."""
    if request.param == "local":
        return LocalStorage(), str(tmp_path / "zone")
    bucket = request.getfixturevalue("s3_bucket")
    return S3Storage(boto3.client("s3")), f"s3://{bucket}/zone"


def put(store: Storage, uri: str, data: bytes) -> None:
    if isinstance(store, S3Storage):
        bucket, key = store.split(uri)
        store.client.put_object(Bucket=bucket, Key=key, Body=data)
    else:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
        Path(uri).write_bytes(data)


def test_listing_reading_and_writing(zone) -> None:
    store, root = zone
    put(store, join(root, "a", "ingest=1", "X.csv"), b"h\n1\n")
    put(store, join(root, "a", "ingest=1", "docs", "leia-me.pdf"), b"%PDF")
    put(store, join(root, "b", "ingest=2", "Y.csv"), b"h\n")
    assert store.children(root) == ["a", "b"]
    assert store.children(join(root, "a")) == ["ingest=1"]
    assert store.files(join(root, "a")) == [join(root, "a", "ingest=1", "X.csv"),
                                            join(root, "a", "ingest=1", "docs", "leia-me.pdf")]
    assert store.read_bytes(join(root, "a", "ingest=1", "X.csv"), 3) == b"h\n1"
    assert store.size(join(root, "a", "ingest=1", "X.csv")) == 4
    assert store.exists(join(root, "a", "ingest=1", "X.csv"))
    assert not store.exists(join(root, "a", "ingest=1", "Z.csv"))
    store.write_text(join(root, "_runs", "r.json"), '{"ok": true}')
    assert json.loads(store.read_bytes(join(root, "_runs", "r.json"))) == {"ok": True}
    store.delete(join(root, "a"))
    assert store.children(root) == ["_runs", "b"]


def test_replace_makes_the_target_exactly_the_source(zone) -> None:
    store, root = zone
    table, staged = join(root, "table"), join(root, "_staging", "run-2", "table")
    put(store, join(table, "sg_uf_prova=AC", "old.parquet"), b"old")
    put(store, join(table, "sg_uf_prova=RR", "old.parquet"), b"old")
    put(store, join(staged, "sg_uf_prova=AC", "new.parquet"), b"new")
    store.replace(staged, table)
    assert store.files(table) == [join(table, "sg_uf_prova=AC", "new.parquet")]
    assert store.read_bytes(join(table, "sg_uf_prova=AC", "new.parquet")) == b"new"
    assert store.files(staged) == []


def test_finding_the_newest_complete_ingestion_and_its_csvs(zone) -> None:
    store, root = zone
    dataset = join(root, "microdados_enem_2019")
    csv = microdata_csv([microdata_line(number=1)])
    put(store, join(dataset, "ingest=20261124T000000Z", "MICRODADOS_ENEM_2019.csv"), csv)
    put(store, join(dataset, "ingest=20261124T000000Z", "_manifest.json"), b"{}")
    put(store, join(dataset, "ingest=20261124T000000Z", "docs", "DICIONARIO.csv"), b"x;y\n")
    put(store, join(dataset, "ingest=20261125T000000Z", "MICRODADOS_ENEM_2019.csv"), csv)

    newest = job.newest_complete_ingestions(root, store)
    assert newest == {"microdados_enem_2019": join(dataset, "ingest=20261124T000000Z")}
    files = job.csv_files(newest["microdados_enem_2019"], store)
    assert files == [join(dataset, "ingest=20261124T000000Z", "MICRODADOS_ENEM_2019.csv")]
    assert job.table_for(files[0], store).layout.name == "microdados-original"
