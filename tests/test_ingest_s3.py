"""`jobs.ingest.download` into S3 (moto in server mode): multipart parts, no object and no open
upload left by a failure, re-runs that are no-ops, a missing bucket named."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest

from jobs.ingest.download import IngestError, ingest
from jobs.ingest.publish import MANIFEST, UploadSettings
from tests.http_fixture import Served, Server
from tests.ingest_helpers import (
    CSV,
    ITENS,
    members,
    open_uploads,
    options,
    s3_objects,
    sha,
)


@pytest.fixture(scope="module")
def server(http_server: Server) -> Server:
    return http_server



@pytest.fixture
def raw_bucket(s3_bucket: str) -> str:
    return s3_bucket


def test_into_s3_with_multipart_parts(server: Server, inep_zip: bytes, raw_bucket: str) -> None:
    url = server.serve("/s3/microdados_enem_2019.zip", Served(inep_zip))
    result = ingest(url, f"s3://{raw_bucket}", options(upload=UploadSettings(5, 3)),
                    now=datetime(2026, 11, 25, 10, 12, 53, tzinfo=UTC))

    objects = s3_objects(raw_bucket)
    prefix = "microdados_enem_2019/ingest=20261125T101253Z/"
    assert sorted(objects) == [prefix + ITENS, prefix + CSV, prefix + MANIFEST]
    big = objects[prefix + CSV]
    assert big == members(inep_zip)[f"DADOS/{CSV}"] and len(big) > 5 * 1024 * 1024
    head = boto3.client("s3").head_object(Bucket=raw_bucket, Key=prefix + CSV)
    assert head["ETag"].strip('"').endswith("-2")  # went up as a 2-part multipart upload
    files = {f["name"]: f for f in json.loads(objects[prefix + MANIFEST])["files"]}
    assert files[CSV]["sha256"] == sha(big)
    assert result.folder == f"s3://{raw_bucket}/{prefix.rstrip('/')}"
    assert open_uploads(raw_bucket) == []


def test_a_failure_midway_into_s3_leaves_no_object_and_no_open_upload(
        server: Server, inep_zip: bytes, raw_bucket: str) -> None:
    # The big member fails after several parts went up.
    url = server.serve("/s3-cut/microdados_enem_2019.zip",
                       Served(inep_zip[:len(inep_zip) * 9 // 10]))
    with pytest.raises(IngestError, match="truncated"):
        ingest(url, f"s3://{raw_bucket}", options(upload=UploadSettings(5, 2)))
    assert s3_objects(raw_bucket) == {}
    assert open_uploads(raw_bucket) == []


def test_an_s3_re_run_of_the_same_source_is_a_no_op(
        server: Server, inep_zip: bytes, raw_bucket: str) -> None:
    url = server.serve("/s3-again/microdados_enem_2019.zip", Served(inep_zip))
    ingest(url, f"s3://{raw_bucket}", options(), now=datetime(2026, 1, 1, tzinfo=UTC))
    again = ingest(url, f"s3://{raw_bucket}", options(),
                   now=datetime(2026, 1, 2, tzinfo=UTC))
    assert again.status == "unchanged"
    assert len([k for k in s3_objects(raw_bucket) if k.endswith(MANIFEST)]) == 1


def test_a_missing_bucket_is_named(server: Server, inep_zip: bytes, moto_env: str) -> None:
    url = server.serve("/nobucket/microdados_enem_2019.zip", Served(inep_zip))
    with pytest.raises(IngestError, match="s3://no-such-bucket"):
        ingest(url, "s3://no-such-bucket", options())


def test_no_file_appears_before_the_whole_archive_is_verified(
        server: Server, inep_zip: bytes, raw_bucket: str, monkeypatch) -> None:
    """The end of the archive is damaged: every CSV was read and uploaded in parts, yet none
    appears, and the clean-up needs no delete permission (the container's role has none)."""
    from jobs.storage import S3Storage

    def denied(self, uri: str) -> None:
        raise AssertionError(f"tried to delete {uri}: the processing role may not")

    monkeypatch.setattr(S3Storage, "delete", denied)
    url = server.serve("/s3-tail/microdados_enem_2019.zip", Served(inep_zip[:-10]))
    with pytest.raises(IngestError, match="its end record is missing"):
        ingest(url, f"s3://{raw_bucket}", options(upload=UploadSettings(5, 2)))
    assert s3_objects(raw_bucket) == {}
    assert open_uploads(raw_bucket) == []
