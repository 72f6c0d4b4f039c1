"""Zone bookkeeping on S3 (moto in server mode) and on folders: the same operations, the same
answers, including the table replacement the processing job publishes with."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from jobs.contract import join
from jobs.process import inputs, runs
from jobs.storage import LocalStorage, S3Storage, Storage, StorageError
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

    newest = inputs.newest_complete_ingestions(root, store)
    assert newest == {"microdados_enem_2019": join(dataset, "ingest=20261124T000000Z")}
    files = inputs.csv_files(newest["microdados_enem_2019"], store)
    assert files == [join(dataset, "ingest=20261124T000000Z", "MICRODADOS_ENEM_2019.csv")]
    assert inputs.table_for(files[0], store).layout.name == "microdados-original"


def refuse_deleting(client, denied_key: str) -> None:
    """Make S3 refuse to delete `denied_key` the way it does for a key a bucket policy protects:
    the DeleteObjects call succeeds (HTTP 200), the key stays, and `Errors` names it ("the
    response includes … an Error element for each key that Amazon S3 could not delete";
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html)."""
    def drop(params: dict, **_) -> None:  # a key that does not exist is deleted quietly
        params["Delete"]["Objects"] = [
            {"Key": "_no_such_key"} if item["Key"] == denied_key else item
            for item in params["Delete"]["Objects"]]

    def report(parsed: dict, **_) -> None:
        parsed.setdefault("Errors", []).append(
            {"Key": denied_key, "Code": "AccessDenied", "Message": "Access Denied"})

    client.meta.events.register("before-parameter-build.s3.DeleteObjects", drop)
    client.meta.events.register("after-call.s3.DeleteObjects", report)


def test_a_delete_that_s3_refuses_for_one_key_fails(s3_bucket: str) -> None:
    client = boto3.client("s3")
    store = S3Storage(client)
    root = f"s3://{s3_bucket}/zone"
    for name in ("a.parquet", "b.parquet"):
        put(store, join(root, "t", name), b"x")
    refuse_deleting(client, "zone/t/b.parquet")
    with pytest.raises(StorageError, match=rf"^could not delete 1 object\(s\) in "
                                           rf"s3://{s3_bucket}/, e\.g\. zone/t/b\.parquet: "
                                           rf"AccessDenied Access Denied$"):
        store.delete(join(root, "t"))


def test_a_publish_that_cannot_delete_a_stale_file_fails_and_the_next_run_finishes_it(
        s3_bucket: str) -> None:
    """A replaced table must not keep a stale Parquet file: the publish fails, its run summary
    stays `publishing`, and the next run (with the delete allowed) completes the swap."""
    root = f"s3://{s3_bucket}"
    options = runs.Options(raw=f"{root}/raw", processed=f"{root}/processed",
                          rejected=f"{root}/rejected", run_id="20261125T101253000000Z-abcdef")
    table = join(options.processed, "microdados_enem_2019")
    staged = join(options.processed, "_staging", options.run_id, "microdados_enem_2019")
    refusing = boto3.client("s3")
    store = S3Storage(refusing)
    put(store, join(table, "sg_uf_prova=RR", "old.parquet"), b"old")
    put(store, join(staged, "sg_uf_prova=RR", "new.parquet"), b"new")
    refuse_deleting(refusing, "processed/microdados_enem_2019/sg_uf_prova=RR/old.parquet")
    summary = runs.RunSummary(run_id=options.run_id, status="noop", started_at="now")

    with pytest.raises(StorageError, match="old.parquet: AccessDenied"):
        runs.publish(summary, options, store)
    assert summary.status == "publishing"
    [written] = runs.run_summaries(options.processed, store)
    assert written.status == "publishing"

    healthy = S3Storage(boto3.client("s3"))
    runs.recover(runs.Options(raw=options.raw, processed=options.processed,
                            rejected=options.rejected), healthy, [written])
    assert healthy.files(table) == [join(table, "sg_uf_prova=RR", "new.parquet")]
    [finished] = runs.run_summaries(options.processed, healthy)
    assert finished.status == "published"


def test_the_first_bytes_of_an_empty_file_are_none(zone) -> None:
    """S3 refuses any Range of an empty object (416 InvalidRange); an empty CSV must reach the
    processing job's own check ("is empty: re-ingest it"), not fail on the read."""
    store, root = zone
    put(store, join(root, "t", "EMPTY.csv"), b"")
    assert store.read_bytes(join(root, "t", "EMPTY.csv"), 65536) == b""
    assert store.read_bytes(join(root, "t", "EMPTY.csv")) == b""
