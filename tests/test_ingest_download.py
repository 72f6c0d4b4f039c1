"""`jobs.ingest.download`: an INEP zip from a misbehaving local HTTP server (or a file) into a
folder or S3 (moto), streamed, verified, published whole or not at all."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from jobs.ingest import download, source
from jobs.ingest.download import IngestError, IngestOptions, ingest
from jobs.ingest.progress import Progress
from jobs.ingest.publish import MANIFEST, UploadSettings
from jobs.ingest.source import RetryPolicy
from lake.synth import archive as synth
from tests.http_fixture import Served, Server, tls_server
from tests.zip_builder import DEFLATE, DEFLATE64, Entry, build, seven_zip

NO_WAIT = RetryPolicy(attempts=4, backoff_seconds=0, timeout_seconds=10)
CSV = "MICRODADOS_ENEM_2019.csv"
ITENS = "ITENS_PROVA_2019.csv"


def options(**kwargs) -> IngestOptions:
    kwargs.setdefault("retry", NO_WAIT)
    return IngestOptions(**kwargs)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    http = Server()
    yield http
    http.close()


@pytest.fixture(scope="module")
def inep_zip(tmp_path_factory) -> bytes:
    """INEP's layout as `lake synth` writes it: ZIP64 Deflate members, cp850 names, ~7 MB CSV."""
    out = tmp_path_factory.mktemp("zip") / "microdados_enem_2019.zip"
    synth.write_zip(out, 12_000, "original")
    return out.read_bytes()


def members(blob: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob), metadata_encoding="cp850") as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


@pytest.fixture(scope="module")
def deflate64_zip(inep_zip: bytes) -> bytes:
    """The same members, Deflate64-compressed by 7-Zip, with data descriptors and ZIP64 on the
    big member: what a Windows-made INEP archive can look like."""
    if seven_zip() is None:
        pytest.skip("7-Zip is missing (apt-get install -y p7zip-full; .ci/run installs it)")
    return build([Entry(name, data, DEFLATE64 if len(data) > 1000 else DEFLATE,
                        descriptor=name.endswith(CSV), zip64=name.endswith(CSV))
                  for name, data in members(inep_zip).items()])


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ingestions(raw: Path, dataset: str = "microdados_enem_2019") -> list[Path]:
    return sorted((raw / dataset).glob("ingest=*")) if (raw / dataset).exists() else []


def leftovers(raw: Path) -> list[str]:
    return [str(p.relative_to(raw)) for p in raw.rglob("*") if p.is_file()] if raw.exists() \
        else []


# --- happy paths --------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["deflate", "deflate64"])
def test_streams_every_csv_byte_for_byte_and_writes_the_manifest(
        kind, request, server: Server, tmp_path: Path) -> None:
    blob = request.getfixturevalue("inep_zip" if kind == "deflate" else "deflate64_zip")
    url = server.serve(f"/{kind}/microdados_enem_2019.zip", Served(blob))
    raw = tmp_path / "raw"

    result = ingest(url, str(raw), options(), now=datetime(2026, 11, 25, 10, 12, 53,
                                                           tzinfo=UTC))

    expected = members(request.getfixturevalue("inep_zip"))
    folder = raw / "microdados_enem_2019" / "ingest=20261125T101253Z"
    assert result.status == "ingested" and result.folder == str(folder)
    assert sorted(p.name for p in folder.iterdir()) == [ITENS, CSV, MANIFEST]
    assert (folder / CSV).read_bytes() == expected[f"DADOS/{CSV}"]
    assert (folder / ITENS).read_bytes() == expected[f"DADOS/{ITENS}"]
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["dataset"] == "microdados_enem_2019"
    assert manifest["ingestion"] == "20261125T101253Z"
    assert manifest["source"] == {"uri": url, "bytes": len(blob), "sha256": sha(blob),
                                  "etag": '"v1"', "last_modified": "Tue, 10 May 2022 12:00:00 GMT"}
    by_name = {f["name"]: f for f in manifest["files"]}
    assert by_name[CSV]["rows"] == 12_000
    assert by_name[CSV]["bytes"] == len(expected[f"DADOS/{CSV}"])
    assert by_name[CSV]["sha256"] == sha(expected[f"DADOS/{CSV}"])
    assert by_name[CSV]["compression"] == ("Deflate64" if kind == "deflate64" else "Deflate")
    assert by_name[ITENS]["rows"] == expected[f"DADOS/{ITENS}"].count(b"\n") - 1
    # Documents are left out by default, and said so.
    assert manifest["docs"] == []
    assert "DICIONÁRIO/Dicionário_Microdados_Enem_2019.csv" in manifest["skipped_members"]


def test_docs_on_request_land_under_docs_with_their_accented_names(
        inep_zip: bytes, tmp_path: Path) -> None:
    source = tmp_path / "microdados_enem_2019.zip"
    source.write_bytes(inep_zip)
    result = ingest(str(source), str(tmp_path / "raw"), options(keep_docs=True))
    folder = Path(result.folder)
    assert (folder / "docs" / "DICIONÁRIO" / "Dicionário_Microdados_Enem_2019.csv").is_file()
    assert (folder / "docs" / "LEIA-ME E DOCUMENTOS TÉCNICOS" / "Leia_Me_Enem_2019.txt").is_file()
    # Processing reads only the CSVs directly in the ingestion folder.
    assert sorted(p.name for p in folder.glob("*.csv")) == [ITENS, CSV]
    assert {d["member"] for d in result.manifest["docs"]} == {
        "DICIONÁRIO/Dicionário_Microdados_Enem_2019.csv",
        "LEIA-ME E DOCUMENTOS TÉCNICOS/Leia_Me_Enem_2019.txt"}


def test_the_same_source_again_is_a_no_op_unless_forced(
        server: Server, inep_zip: bytes, tmp_path: Path) -> None:
    url = server.serve("/again/microdados_enem_2019.zip", Served(inep_zip, etag='"again"'))
    raw = tmp_path / "raw"
    first = ingest(url, str(raw), options(), now=datetime(2026, 1, 1, tzinfo=UTC))
    before = server.count("/again/microdados_enem_2019.zip")

    again = ingest(url, str(raw), options(), now=datetime(2026, 1, 2, tzinfo=UTC))
    assert again.status == "unchanged" and again.folder == first.folder
    assert len(ingestions(raw)) == 1
    assert server.count("/again/microdados_enem_2019.zip") == before + 1  # headers only

    forced = ingest(url, str(raw), options(force=True),
                    now=datetime(2026, 1, 3, tzinfo=UTC))
    assert forced.status == "ingested" and len(ingestions(raw)) == 2


def test_a_local_zip_with_the_same_bytes_is_a_no_op(inep_zip: bytes, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    first, second = tmp_path / "a" / "microdados_enem_2019.zip", tmp_path / "b" / \
        "microdados_enem_2019.zip"
    for path in (first, second):
        path.parent.mkdir()
        path.write_bytes(inep_zip)
    ingest(str(first), str(raw), options(), now=datetime(2026, 1, 1, tzinfo=UTC))
    result = ingest(str(second), str(raw), options(),
                    now=datetime(2026, 1, 2, tzinfo=UTC))
    assert result.status == "unchanged" and len(ingestions(raw)) == 1


# --- the network misbehaves ---------------------------------------------------------------------

def test_a_dropped_connection_resumes_with_range_from_the_byte_where_it_stopped(
        server: Server, inep_zip: bytes, tmp_path: Path) -> None:
    path = "/drop/microdados_enem_2019.zip"
    third = len(inep_zip) // 3
    url = server.serve(path, Served(inep_zip, drop_after=[third, third]))
    result = ingest(url, str(tmp_path / "raw"), options())

    asked = [r for p, r, _ in server.requests if p == path]
    assert asked == [None, f"bytes={third}-", f"bytes={2 * third}-"]
    assert result.manifest["source"]["sha256"] == sha(inep_zip)
    assert result.manifest["source"]["resumed_with_range"] == 2
    assert (Path(result.folder) / CSV).read_bytes() == members(inep_zip)[f"DADOS/{CSV}"]


def test_without_range_support_it_starts_over_and_skips_what_it_has(
        server: Server, inep_zip: bytes, tmp_path: Path) -> None:
    url = server.serve("/norange/microdados_enem_2019.zip",
                       Served(inep_zip, ranges=False, drop_after=[len(inep_zip) // 2]))
    result = ingest(url, str(tmp_path / "raw"), options())
    assert result.manifest["source"]["restarted_without_range"] == 1
    assert (Path(result.folder) / CSV).read_bytes() == members(inep_zip)[f"DADOS/{CSV}"]


def test_a_5xx_is_retried(server: Server, inep_zip: bytes, tmp_path: Path) -> None:
    path = "/busy/microdados_enem_2019.zip"
    url = server.serve(path, Served(inep_zip, fail_first=2, fail_status=503))
    result = ingest(url, str(tmp_path / "raw"), options())
    assert [s for p, _, s in server.requests if p == path] == [503, 503, 200]
    assert result.manifest["source"]["retries"] == 2


def test_a_server_that_keeps_failing_gives_up_and_leaves_nothing(
        server: Server, inep_zip: bytes, tmp_path: Path) -> None:
    path = "/down/microdados_enem_2019.zip"
    url = server.serve(path, Served(inep_zip, fail_first=99))
    raw = tmp_path / "raw"
    with pytest.raises(IngestError, match=r"download failed after 4 tries \(HTTP 500"):
        ingest(url, str(raw), options())
    assert server.count(path) == 4
    assert leftovers(raw) == []


def test_a_connection_that_keeps_dropping_gives_up_and_leaves_nothing(
        server: Server, inep_zip: bytes, tmp_path: Path) -> None:
    url = server.serve("/flaky/microdados_enem_2019.zip",
                       Served(inep_zip, drop_after=[100_000] + [0] * 10))
    raw = tmp_path / "raw"
    with pytest.raises(IngestError, match="download failed after 4 tries"):
        ingest(url, str(raw), options())
    assert leftovers(raw) == []


def test_a_file_that_changes_during_the_download_is_refused(
        server: Server, inep_zip: bytes, tmp_path: Path) -> None:
    url = server.serve("/changed/microdados_enem_2019.zip",
                       Served(inep_zip, drop_after=[len(inep_zip) // 2], etag_after_first='"v2"'))
    raw = tmp_path / "raw"
    with pytest.raises(IngestError, match=r'changed during the download \(ETag was "v1", '
                                          r'now "v2"\)'):
        ingest(url, str(raw), options())
    assert leftovers(raw) == []


# --- bad sources: one sentence, exit code 1, nothing written ------------------------------------

def _bad_sources(inep_zip: bytes) -> dict[str, tuple[Served | None, str]]:
    corrupt = bytearray(inep_zip)
    corrupt[len(corrupt) // 2] ^= 0xFF
    no_csv = build([Entry("LEIA-ME/leia_me.txt", b"nothing here\n")])
    return {
        "missing": (None, r"was not found \(HTTP 404\); check the URL"),
        "html": (Served(b"<!DOCTYPE html><html><body>Erro</body></html>",
                        content_type="text/html"),
                 r"it is not a ZIP archive, it looks like an HTML page"),
        "truncated": (Served(inep_zip[:len(inep_zip) * 2 // 3]),
                      r"the archive is truncated: it ends inside member DADOS/MICRODADOS"),
        "no-end": (Served(inep_zip[:-30]), r"the archive is truncated"),
        "corrupt": (Served(bytes(corrupt)), r"member DADOS/MICRODADOS_ENEM_2019.csv is corrupt"),
        "no-csv": (Served(no_csv), r"the archive holds no CSV data file \(expected DADOS/\*"),
        "forbidden": (Served(b"", status=403), r"the server answered HTTP 403 Forbidden$"),
    }


@pytest.mark.parametrize("case", ["missing", "html", "truncated", "no-end", "corrupt", "no-csv",
                                  "forbidden"])
def test_a_bad_source_is_refused_with_one_sentence(
        case: str, server: Server, inep_zip: bytes, tmp_path: Path, capsys) -> None:
    served, message = _bad_sources(inep_zip)[case]
    path = f"/bad-{case}/microdados_enem_2019.zip"
    url = server.serve(path, served) if served else server.url(path)
    raw = tmp_path / "raw"

    code = download.main(["--source", url, "--target", str(raw)])

    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 1
    assert err.startswith(f"error: cannot ingest {url}: ")
    assert __import__("re").search(message, err), err
    assert leftovers(raw) == []
    if case in ("missing", "forbidden"):
        assert server.count(path) == 1  # 4xx is not retried


def test_a_missing_local_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"cannot ingest .*nope.zip: the file does not exist$"):
        ingest(str(tmp_path / "nope.zip"), str(tmp_path / "raw"), options())


# --- S3 through moto: multipart parts, nothing left on failure ----------------------------------

@pytest.fixture
def raw_bucket(s3_bucket: str) -> str:
    return s3_bucket


def s3_objects(bucket: str) -> dict[str, bytes]:
    client = boto3.client("s3")
    keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])]
    return {k: client.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


def open_uploads(bucket: str) -> list:
    return boto3.client("s3").list_multipart_uploads(Bucket=bucket).get("Uploads", [])


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


# --- names, the command line, progress ----------------------------------------------------------

@pytest.mark.parametrize(("source", "dataset"), [
    ("https://download.inep.gov.br/microdados/microdados_enem_2019.zip", "microdados_enem_2019"),
    ("/data/Microdados ENEM 2019.ZIP", "microdados_enem_2019"),
    ("https://h/x/enem%202019.zip?download=1", "enem_2019"),
])
def test_dataset_is_the_lower_case_stem(source: str, dataset: str) -> None:
    assert download.dataset_name(source) == dataset


@pytest.mark.parametrize(("name", "data"), [
    ("DADOS/MICRODADOS_ENEM_2019.csv", True), ("ITENS.CSV", True), ("dados/x.csv", True),
    ("DICIONÁRIO/dicionario.csv", False), ("DADOS/sub/x.csv", False), ("DADOS/x.txt", False),
])
def test_data_files_are_the_csvs_in_dados_or_at_the_root(name: str, data: bool) -> None:
    assert download.is_data_csv(name) is data


def test_the_command_prints_a_summary_on_stdout(inep_zip: bytes, tmp_path: Path, capsys) -> None:
    source = tmp_path / "microdados_enem_2019.zip"
    source.write_bytes(inep_zip)
    assert download.main(["--source", str(source), "--target", str(tmp_path / "raw")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"ingested {tmp_path / 'raw' / 'microdados_enem_2019'}/ingest=")
    assert "MICRODADOS_ENEM_2019.csv (12,000 rows" in out


def test_a_bad_part_size_is_a_usage_error(tmp_path: Path, capsys) -> None:
    code = download.main(["--source", "x.zip", "--target", str(tmp_path), "--part-size-mb", "1"])
    assert code == 1
    assert "--part-size-mb must be a whole number between 5 and 5120 (got 1)" in \
        capsys.readouterr().err


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_logs_plain_lines_when_not_a_terminal() -> None:
    out, clock = io.StringIO(), FakeClock()
    meter = Progress("download", 100_000_000, stream=out, log_every=10, clock=clock)
    for _ in range(4):
        clock.now += 5
        meter.update(10_000_000)
    meter.done()
    lines = out.getvalue().splitlines()
    assert lines[0] == "download: 20.0 MB of 100.0 MB (20%), 2.0 MB/s, ETA 0:00:40"
    assert lines[-1] == "download: 40.0 MB of 100.0 MB (40%), 2.0 MB/s, ETA 0:00:30 in 0:00:20"
    assert "\r" not in out.getvalue()


def test_progress_redraws_one_line_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out, clock = Terminal(), FakeClock()
    meter = Progress("download", None, stream=out, clock=clock)
    clock.now += 1
    meter.update(5_000_000)
    assert out.getvalue() == "\r\x1b[Kdownload: 5.0 MB, 5.0 MB/s"


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


def test_in_a_folder_only_hidden_part_files_exist_until_the_end(
        inep_zip: bytes, tmp_path: Path, monkeypatch) -> None:
    seen: list[list[str]] = []
    real_finish = download.Publication.finish

    def finish(self, manifest):
        seen.append(sorted(p.name for p in Path(self.folder).iterdir()))
        return real_finish(self, manifest)

    monkeypatch.setattr(download.Publication, "finish", finish)
    source = tmp_path / "microdados_enem_2019.zip"
    source.write_bytes(inep_zip)
    result = ingest(str(source), str(tmp_path / "raw"), options())
    assert seen == [[f".{ITENS}.part", f".{CSV}.part"]]
    assert sorted(p.name for p in Path(result.folder).iterdir()) == [ITENS, CSV, MANIFEST]


# --- TLS: the source's certificate ------------------------------------------------------------

@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> Iterator[tuple[Server, Path]]:
    """An https server whose certificate no default trust store holds, and its CA file."""
    server, ca_file = tls_server(tmp_path_factory.mktemp("tls"))
    yield server, ca_file
    server.close()


def test_a_certificate_that_fails_verification_ends_at_once_naming_the_host(
        tls, inep_zip: bytes, tmp_path: Path, monkeypatch) -> None:
    server, _ = tls
    url = server.serve("/self-signed.zip", Served(inep_zip))
    before = server.count("/self-signed.zip")
    waits: list[str] = []  # every retry waits first

    def wait(self, tries: int, problem: str) -> None:
        waits.append(problem)
        raise source.SourceError(f"retried: {problem}")

    monkeypatch.setattr(source.HttpSource, "_wait", wait)
    with pytest.raises(IngestError) as error:
        ingest(url, str(tmp_path / "raw"), options(retry=RetryPolicy(attempts=6,
                                                                     backoff_seconds=0)))
    message = str(error.value)
    assert message.startswith(f"cannot ingest {url}: the TLS certificate of 127.0.0.1 cannot be "
                              "verified (")
    assert "pass its CA bundle with --ca-bundle PATH" in message
    assert "ingest.caBundle" in message and "\n" not in message
    # not retried: the same certificate fails the same way on every try
    assert waits == []
    assert server.count("/self-signed.zip") == before  # refused in the handshake
    assert leftovers(tmp_path / "raw") == []


def test_with_the_ca_bundle_the_source_is_ingested(tls, inep_zip: bytes, tmp_path: Path,
                                                   monkeypatch) -> None:
    server, ca_file = tls
    for variable in ("SSL_CERT_FILE", "SSL_CERT_DIR", "AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(variable, raising=False)
    url = server.serve("/trusted.zip", Served(inep_zip))
    result = ingest(url, str(tmp_path / "raw"), options(ca_bundle=str(ca_file)))
    assert result.status == "ingested"
    assert result.manifest["source"]["sha256"] == sha(inep_zip)
    # the bundle was added for this connection only, not to what the process (boto3) trusts
    import os
    import ssl
    assert not {"SSL_CERT_FILE", "SSL_CERT_DIR", "AWS_CA_BUNDLE"} & set(os.environ)
    default = ssl.create_default_context()
    assert ca_file.read_text().strip() not in {
        ssl.DER_cert_to_PEM_cert(der).strip() for der in default.get_ca_certs(binary_form=True)}


def test_the_container_and_the_cli_take_the_ca_bundle(tls, inep_zip: bytes, tmp_path: Path,
                                                      capsys) -> None:
    from typer.testing import CliRunner

    from lake.cli import app

    server, ca_file = tls
    url = server.serve("/cli.zip", Served(inep_zip))
    code = download.main(["--source", url, "--target", str(tmp_path / "container"),
                          "--ca-bundle", str(ca_file)])
    assert code == 0, capsys.readouterr().err
    refused = download.main(["--source", url, "--target", str(tmp_path / "refused")])
    assert refused == 1
    assert "the TLS certificate of 127.0.0.1 cannot be verified" in capsys.readouterr().err
    cli = CliRunner().invoke(app, ["ingest", "--source", url, "--root", str(tmp_path / "lake"),
                                   "--ca-bundle", str(ca_file)])
    assert cli.exit_code == 0, cli.output


def test_an_unreadable_ca_bundle_is_one_line(tls, tmp_path: Path) -> None:
    server, _ = tls
    url = server.serve("/any.zip", Served(b"PK"))
    with pytest.raises(IngestError, match=rf"^cannot ingest {url}: the CA bundle "
                                          rf"{tmp_path}/none\.pem cannot be used \("):
        ingest(url, str(tmp_path / "raw"), options(ca_bundle=str(tmp_path / "none.pem")))
