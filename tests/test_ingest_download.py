"""`jobs.ingest.download`: an INEP zip from a misbehaving local HTTP server (or a file) into a
folder or S3 (moto), streamed, verified, published whole or not at all."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobs.ingest import download
from jobs.ingest.download import IngestError, ingest
from jobs.ingest.progress import Progress
from jobs.ingest.publish import MANIFEST
from tests.http_fixture import Served, Server
from tests.ingest_helpers import (
    CSV,
    ITENS,
    ingestions,
    leftovers,
    members,
    options,
    sha,
)
from tests.zip_builder import DEFLATE, DEFLATE64, Entry, build, seven_zip


@pytest.fixture(scope="module")
def server(http_server: Server) -> Server:
    return http_server


@pytest.fixture(scope="module")
def deflate64_zip(inep_zip: bytes) -> bytes:
    """The same members, Deflate64-compressed by 7-Zip, with data descriptors and ZIP64 on the
    big member: what a Windows-made INEP archive can look like."""
    if seven_zip() is None:
        pytest.skip("7-Zip is missing (apt-get install -y p7zip-full; .ci/run installs it)")
    return build([Entry(name, data, DEFLATE64 if len(data) > 1000 else DEFLATE,
                        descriptor=name.endswith(CSV), zip64=name.endswith(CSV))
                  for name, data in members(inep_zip).items()])


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


def test_the_same_bytes_under_a_new_etag_are_a_no_op_that_leaves_no_folder(
        server: Server, inep_zip: bytes, tmp_path: Path) -> None:
    """Known only once downloaded: the second ingestion is dropped, its folder with it."""
    raw = tmp_path / "raw"
    first = ingest(server.serve("/v1/microdados_enem_2019.zip", Served(inep_zip, etag='"1"')),
                   str(raw), options(), now=datetime(2026, 1, 1, tzinfo=UTC))
    before = leftovers(raw)
    again = ingest(server.serve("/v2/microdados_enem_2019.zip", Served(inep_zip, etag='"2"')),
                   str(raw), options(), now=datetime(2026, 1, 2, tzinfo=UTC))
    assert again.status == "unchanged" and again.folder == first.folder
    assert leftovers(raw) == before  # no empty ingest=20260102T000000Z/


class CtrlC(Progress):
    """A progress meter on which the user presses Ctrl-C as the second chunk arrives: the first
    one is already being written into the ingestion's folder."""

    chunks = 0

    def update(self, n: int) -> None:
        self.chunks += 1
        if self.chunks == 2:
            raise KeyboardInterrupt


def test_ctrl_c_mid_download_leaves_nothing(server: Server, inep_zip: bytes,
                                            tmp_path: Path) -> None:
    url = server.serve("/ctrl-c/microdados_enem_2019.zip", Served(inep_zip))
    raw = tmp_path / "raw"
    with pytest.raises(KeyboardInterrupt):
        ingest(url, str(raw), options(), progress=lambda label, total: CtrlC(label, total))
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
