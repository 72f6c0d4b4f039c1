"""Helpers of the ingestion tests: quick retries, the manifest's file names, an archive's members,
what a raw zone holds."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import boto3

from jobs.ingest.download import IngestOptions
from jobs.ingest.source import RetryPolicy

NO_WAIT = RetryPolicy(attempts=4, backoff_seconds=0, timeout_seconds=10)
CSV = "MICRODADOS_ENEM_2019.csv"
ITENS = "ITENS_PROVA_2019.csv"


def options(**kwargs) -> IngestOptions:
    kwargs.setdefault("retry", NO_WAIT)
    return IngestOptions(**kwargs)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ingestions(raw: Path, dataset: str = "microdados_enem_2019") -> list[Path]:
    return sorted((raw / dataset).glob("ingest=*")) if (raw / dataset).exists() else []


def leftovers(raw: Path) -> list[str]:
    """Whatever is under the raw zone: files and folders, empty ones too."""
    return sorted(str(p.relative_to(raw)) for p in raw.rglob("*")) if raw.exists() else []


def s3_objects(bucket: str) -> dict[str, bytes]:
    client = boto3.client("s3")
    keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])]
    return {k: client.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


def open_uploads(bucket: str) -> list:
    return boto3.client("s3").list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def members(blob: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob), metadata_encoding="cp850") as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}
