"""A local HTTP server (127.0.0.1 only) that serves archives and misbehaves on demand."""

from __future__ import annotations

import contextlib
import re
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Served:
    body: bytes
    content_type: str = "application/zip"
    etag: str | None = '"v1"'
    last_modified: str | None = "Tue, 10 May 2022 12:00:00 GMT"
    ranges: bool = True
    """Honour `Range` with 206; when False the whole body comes back with 200."""
    fail_first: int = 0
    """Answer this many requests with `fail_status` before serving."""
    fail_status: int = 500
    drop_after: list[int] = field(default_factory=list)
    """Per request, in order: close the connection after sending this many body bytes."""
    etag_after_first: str | None = None
    """From the second request on, announce this ETag (the file changed)."""
    status: int = 200


class Server:
    """`server.serve("/a.zip", Served(...))`, then `server.url("/a.zip")`.

    With `tls` (an ssl.SSLContext holding the server's certificate) it speaks https."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.files: dict[str, Served] = {}
        self.requests: list[tuple[str, str | None, int]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                owner._answer(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, path: str, served: Served) -> str:
        self.files[path] = served
        return self.url(path)

    def url(self, path: str) -> str:
        host, port = self.httpd.server_address[:2]
        return f"{self.scheme}://{host}:{port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def count(self, path: str) -> int:
        return sum(1 for p, _, _ in self.requests if p == path)

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        served = self.files.get(handler.path)
        asked = handler.headers.get("Range")
        number = self.count(handler.path)
        if served is None:
            self.requests.append((handler.path, asked, 404))
            self._send(handler, 404, b"<html><body>Not Found</body></html>", "text/html")
            return
        if number < served.fail_first:
            self.requests.append((handler.path, asked, served.fail_status))
            self._send(handler, served.fail_status, b"<html>busy</html>", "text/html")
            return
        body, status, start = served.body, served.status, 0
        match = re.fullmatch(r"bytes=(\d+)-", asked or "")
        if match and served.ranges:
            start = int(match.group(1))
            status = 206
        self.requests.append((handler.path, asked, status))
        handler.send_response(status)
        handler.send_header("Content-Type", served.content_type)
        handler.send_header("Content-Length", str(len(body) - start))
        etag = served.etag_after_first if served.etag_after_first and number else served.etag
        if etag:
            handler.send_header("ETag", etag)
        if served.last_modified:
            handler.send_header("Last-Modified", served.last_modified)
        if served.ranges:
            handler.send_header("Accept-Ranges", "bytes")
        if status == 206:
            handler.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        handler.end_headers()
        drops = [d for d in served.drop_after]
        attempt = number - served.fail_first
        limit = drops[attempt] if attempt < len(drops) else None
        payload = body[start:] if limit is None else body[start:start + limit]
        try:
            handler.wfile.write(payload)
            handler.wfile.flush()
        except OSError:
            return
        if limit is not None:
            handler.close_connection = True
            with contextlib.suppress(OSError):
                handler.connection.shutdown(2)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, kind: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) PEM files of a self-signed authority that is also the server
    certificate of 127.0.0.1 and localhost, valid for a day."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test INEP mirror")])
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, False, False,
                                     False), critical=True)
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public),
                       critical=False)
        .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "ca.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def tls_server(folder: Path) -> tuple[Server, Path]:
    """An https Server with a self-signed certificate, and that certificate's PEM file."""
    cert_file, key_file = self_signed_certificate(folder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return Server(tls=context), cert_file
