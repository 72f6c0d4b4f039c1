"""The source's TLS certificate: always verified; a failure ends at once naming the host and how to
give a CA bundle; with the bundle (--ca-bundle, for this connection only) the source is ingested.
Against a local HTTPS server whose certificate is self-signed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs.ingest import download, source
from jobs.ingest.download import IngestError, ingest
from jobs.ingest.source import RetryPolicy
from tests.http_fixture import Served, Server, tls_server
from tests.ingest_helpers import (
    leftovers,
    options,
    sha,
)


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
