"""`lake upload DIR` (lake/upload.py) and `lake ingest`: local files into the raw zone,
in a folder and in S3 (moto), resumable, the manifest last."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from jobs.enem.schema import ITENS_ORIGINAL_COLUMNS, MICRODADOS_LGPD_COLUMNS
from jobs.ingest import publish
from jobs.ingest.publish import MANIFEST, UploadSettings
from lake.cli import app
from lake.upload import UploadError, upload_folder

# INEP's headers (upload knows the files by them); the rows need not be valid to be uploaded.
MICRODADOS = (";".join(MICRODADOS_LGPD_COLUMNS) + "\n").encode() + b"".join(
    b"%012d;2019\n" % i for i in range(400_000))
ITENS = (";".join(ITENS_ORIGINAL_COLUMNS) + "\n").encode() + b"1;CN\n2;CN\n"
DAY = datetime(2026, 11, 25, 10, 12, 53, tzinfo=UTC)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def unpacked(tmp_path: Path) -> Path:
    """An INEP archive unpacked by hand: DADOS/ plus documents."""
    folder = tmp_path / "microdados_enem_2019"
    (folder / "DADOS").mkdir(parents=True)
    (folder / "DADOS" / "MICRODADOS_ENEM_2019.csv").write_bytes(MICRODADOS)
    (folder / "DADOS" / "ITENS_PROVA_2019.csv").write_bytes(ITENS)
    (folder / "DICIONÁRIO").mkdir()
    (folder / "DICIONÁRIO" / "Dicionário.csv").write_bytes(b"coluna;descricao\n")
    (folder / "leia-me.pdf").write_bytes(b"%PDF-1.4")
    return folder


def test_a_folder_lands_as_one_ingestion_with_the_manifest_last(unpacked: Path,
                                                               tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    result = upload_folder(unpacked, str(raw), now=DAY)

    folder = raw / "microdados_enem_2019" / "ingest=20261125T101253Z"
    assert result.status == "ingested" and result.folder == str(folder)
    assert sorted(p.name for p in folder.iterdir()) == [
        "ITENS_PROVA_2019.csv", "MICRODADOS_ENEM_2019.csv", MANIFEST]
    assert (folder / "MICRODADOS_ENEM_2019.csv").read_bytes() == MICRODADOS
    manifest = json.loads((folder / MANIFEST).read_text())
    assert [(f["name"], f["rows"], f["sha256"], f["member"]) for f in manifest["files"]] == [
        ("ITENS_PROVA_2019.csv", 2, sha(ITENS), "DADOS/ITENS_PROVA_2019.csv"),
        ("MICRODADOS_ENEM_2019.csv", 400_000, sha(MICRODADOS), "DADOS/MICRODADOS_ENEM_2019.csv"),
    ]
    # The dictionary is a CSV but not data: it is left out (or goes to docs/ with --docs).
    assert manifest["skipped_members"] == ["DICIONÁRIO/Dicionário.csv", "leia-me.pdf"]
    assert sorted(result.uploaded) == ["ITENS_PROVA_2019.csv", "MICRODADOS_ENEM_2019.csv"]


def test_docs_on_request(unpacked: Path, tmp_path: Path) -> None:
    result = upload_folder(unpacked, str(tmp_path / "raw"), keep_docs=True, now=DAY)
    folder = Path(result.folder)
    assert (folder / "docs" / "DICIONÁRIO" / "Dicionário.csv").is_file()
    assert (folder / "docs" / "leia-me.pdf").read_bytes() == b"%PDF-1.4"
    assert sorted(p.name for p in folder.glob("*.csv")) == ["ITENS_PROVA_2019.csv",
                                                           "MICRODADOS_ENEM_2019.csv"]


def test_the_same_files_again_are_a_no_op_and_a_changed_file_is_a_new_ingestion(
        unpacked: Path, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    first = upload_folder(unpacked, str(raw), now=DAY)
    again = upload_folder(unpacked, str(raw), now=DAY.replace(hour=11))
    assert again.status == "unchanged" and again.folder == first.folder
    (unpacked / "DADOS" / "ITENS_PROVA_2019.csv").write_bytes(ITENS + b"3;CH\n")
    changed = upload_folder(unpacked, str(raw), now=DAY.replace(hour=12))
    assert changed.status == "ingested" and changed.folder != first.folder


@pytest.fixture
def bucket(s3_bucket: str) -> str:
    return s3_bucket


def keys(bucket: str) -> list[str]:
    client = boto3.client("s3")
    return sorted(o["Key"] for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket) for o in page.get("Contents", []))


def test_into_s3_in_parallel_multipart_parts(unpacked: Path, bucket: str) -> None:
    big = MICRODADOS * 2  # 12.8 MB: three 5 MiB parts
    (unpacked / "DADOS" / "MICRODADOS_ENEM_2019.csv").write_bytes(big)
    result = upload_folder(unpacked, f"s3://{bucket}/raw", settings=UploadSettings(5, 3),
                           workers=2, now=DAY)

    prefix = "raw/microdados_enem_2019/ingest=20261125T101253Z/"
    assert keys(bucket) == [prefix + "ITENS_PROVA_2019.csv", prefix + "MICRODADOS_ENEM_2019.csv",
                            prefix + MANIFEST]
    client = boto3.client("s3")
    body = client.get_object(Bucket=bucket, Key=prefix + "MICRODADOS_ENEM_2019.csv")
    assert body["ETag"].strip('"').endswith("-3") and body["Metadata"] == {"sha256": sha(big)}
    assert body["Body"].read() == big
    assert result.folder == f"s3://{bucket}/{prefix.rstrip('/')}"


def test_a_failed_file_leaves_no_manifest_and_a_re_run_resumes(
        unpacked: Path, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real_upload_part = publish.S3Writer._upload_part

    def broken(self, number, body):
        if self.key.endswith("MICRODADOS_ENEM_2019.csv") and number == 1:
            raise ConnectionError("connection reset by peer")
        return real_upload_part(self, number, body)

    monkeypatch.setattr(publish.S3Writer, "_upload_part", broken)
    failed = upload_folder(unpacked, f"s3://{bucket}", settings=UploadSettings(5, 2), now=DAY)
    prefix = "microdados_enem_2019/ingest=20261125T101253Z/"
    assert failed.status == "failed"
    assert failed.failed == {"MICRODADOS_ENEM_2019.csv": "connection reset by peer"}
    assert keys(bucket) == [prefix + "ITENS_PROVA_2019.csv"]  # whole files only, no manifest
    assert boto3.client("s3").list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []

    monkeypatch.setattr(publish.S3Writer, "_upload_part", real_upload_part)
    resumed = upload_folder(unpacked, f"s3://{bucket}", settings=UploadSettings(5, 2),
                            now=DAY.replace(hour=11))
    assert resumed.status == "ingested" and resumed.folder == f"s3://{bucket}/{prefix[:-1]}"
    assert resumed.skipped == ["ITENS_PROVA_2019.csv"]
    assert resumed.uploaded == ["MICRODADOS_ENEM_2019.csv"]
    assert keys(bucket) == [prefix + "ITENS_PROVA_2019.csv", prefix + "MICRODADOS_ENEM_2019.csv",
                            prefix + MANIFEST]


@pytest.mark.parametrize(("layout", "message"), [
    ("missing", "does not exist"),
    ("file", "is not a folder; give the folder that holds the CSVs"),
    ("empty", r"holds no CSV data file \(expected \*.csv or DADOS/\*.csv\)"),
    ("clash", "X.csv and DADOS/X.csv would both land as MICRODADOS_ENEM_2019.csv; keep one, or "
              "join them into one file with one header"),
    ("unknown", r"DADOS/notas\.csv is not one of INEP's ENEM 2019 files: its header \(2 "
                r"columns\) matches neither release of ITENS_PROVA_2019\.csv nor "
                r"MICRODADOS_ENEM_2019\.csv; upload the files as INEP ships them"),
])
def test_bad_folders_are_named(layout: str, message: str, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    if layout == "file":
        folder.write_text("x")
    elif layout == "empty":
        (folder / "docs").mkdir(parents=True)
        (folder / "docs" / "a.pdf").write_text("x")
    elif layout == "clash":
        (folder / "DADOS").mkdir(parents=True)
        (folder / "DADOS" / "X.csv").write_bytes(MICRODADOS[:2000])
        (folder / "X.csv").write_bytes(MICRODADOS[:2000])
    elif layout == "unknown":
        (folder / "DADOS").mkdir(parents=True)
        (folder / "DADOS" / "notas.csv").write_text("a;b\n1;2\n")
    with pytest.raises(UploadError, match=message):
        upload_folder(folder, str(tmp_path / "raw"))
    assert not (tmp_path / "raw").exists()


# --- the `lake` commands --------------------------------------------------------------------------

def test_lake_upload_defaults_to_the_stacks_raw_zone(unpacked: Path, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    result = CliRunner().invoke(app, ["upload", str(unpacked), "--root", str(root),
                                      "--stack", "prod"])
    assert result.exit_code == 0, result.output
    folder = Path(result.stdout.strip())
    assert folder.parent == root / "prod" / "raw" / "microdados_enem_2019"
    assert (folder / MANIFEST).is_file()
    assert "2 uploaded" in result.stderr


def test_lake_upload_of_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["upload", str(tmp_path / "nope"), "--root",
                                      str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr == f"lake upload: error: {tmp_path / 'nope'} does not exist\n"


def test_lake_ingest_takes_a_local_zip(tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "microdados_enem_2019.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("DADOS/ITENS_PROVA_2019.csv", ITENS)
    root = tmp_path / "lake"
    result = CliRunner().invoke(app, ["ingest", "--source", str(archive), "--root", str(root)])
    assert result.exit_code == 0, result.output
    folder = Path(result.stdout.strip())
    assert folder.parent == root / "dev" / "raw" / "microdados_enem_2019"
    assert (folder / "ITENS_PROVA_2019.csv").read_bytes() == ITENS

    bad = CliRunner().invoke(app, ["ingest", "--source", str(tmp_path / "x.zip"), "--root",
                                   str(root)])
    assert bad.exit_code == 1
    assert bad.stderr.endswith(f"lake ingest: error: cannot ingest {tmp_path / 'x.zip'}: the "
                               "file does not exist\n")


def test_multipart_uploads_carry_a_checksum_and_complete_with_each_parts(s3_bucket: str) -> None:
    """S3 completes an upload created with a checksum algorithm only when the request lists each
    part's checksum ("The upload was created using a crc32 checksum. The complete request must
    include the checksum for each part"; API_CompleteMultipartUpload, CompletedPart)."""
    import boto3

    from jobs.ingest.publish import S3Writer

    client = boto3.client("s3")
    calls: dict[str, dict] = {}
    for operation in ("CreateMultipartUpload", "CompleteMultipartUpload"):
        client.meta.events.register(f"before-parameter-build.s3.{operation}",
                                    lambda params, operation=operation, **_: calls.update(
                                        {operation: dict(params)}))
    writer = S3Writer(client, f"s3://{s3_bucket}/big.csv", UploadSettings(5, 2))
    data = bytes(range(256)) * (12 * 4096)  # 12 MiB: three parts
    writer.write(data)
    writer.close()
    writer.commit()
    assert calls["CreateMultipartUpload"]["ChecksumAlgorithm"] == "CRC32"
    parts = calls["CompleteMultipartUpload"]["MultipartUpload"]["Parts"]
    assert [p["PartNumber"] for p in parts] == [1, 2, 3]
    assert all(p["ChecksumCRC32"] for p in parts)
    body = client.get_object(Bucket=s3_bucket, Key="big.csv")["Body"].read()
    assert body == data


def test_inep_s_files_are_known_by_their_header_whatever_their_names(tmp_path: Path) -> None:
    """`microdados_enem_2019_ac.csv` would have become a table of its own, which no query reads."""
    folder = tmp_path / "acre"
    folder.mkdir()
    (folder / "microdados_enem_2019_ac.csv").write_bytes(MICRODADOS[:5000])
    (folder / "itens.csv").write_bytes(ITENS)
    result = upload_folder(folder, str(tmp_path / "raw"), now=DAY)
    assert sorted(result.uploaded) == ["ITENS_PROVA_2019.csv", "MICRODADOS_ENEM_2019.csv"]
    manifest = json.loads((Path(result.folder) / MANIFEST).read_text())
    assert {f["name"]: f["member"] for f in manifest["files"]} == {
        "ITENS_PROVA_2019.csv": "itens.csv",
        "MICRODADOS_ENEM_2019.csv": "microdados_enem_2019_ac.csv"}
