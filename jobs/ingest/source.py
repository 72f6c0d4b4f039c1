"""Where an archive comes from: an http(s) URL or a local file, read as a stream of chunks.

An HTTP download survives the network: connection errors, timeouts, cut-off bodies and 5xx
answers are retried with exponential backoff, resuming with `Range` from the byte where it
stopped. A resumed answer must carry the same ETag / Last-Modified as the first one (the file must
not have changed underneath); a server that ignores `Range` answers 200 and the download skips the
bytes it already has. 4xx answers and certificates that fail verification are not retried.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
USER_AGENT = "enem-datalake-ingest/1"


class SourceError(Exception):
    """The source cannot be read. The message is one sentence naming the source."""


@dataclass
class RetryPolicy:
    attempts: int = 6
    """Tries per stretch of the download; a try that makes progress resets the count."""
    backoff_seconds: float = 1.0
    """The first wait; each further wait doubles, up to `max_backoff_seconds`."""
    max_backoff_seconds: float = 30.0
    timeout_seconds: float = 60.0
    """Connect and read timeout of one request."""


@dataclass
class SourceInfo:
    """What the source said about itself; recorded in the manifest."""

    source: str
    size: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None
    """Of the archive's bytes; for a URL known only once the download ends."""
    bytes_read: int = 0
    retries: int = 0
    resumed_with_range: int = 0
    restarted_without_range: int = 0
    events: list[str] = field(default_factory=list)


class Source:
    """A readable archive: `info` first, then `chunks()` once."""

    info: SourceInfo

    def chunks(self) -> Iterator[bytes]:
        raise NotImplementedError

    def close(self) -> None:
        """Let go of the source without reading it (e.g. it is already ingested)."""


def is_url(source: str) -> bool:
    return urlparse(source).scheme in ("http", "https")


def open_source(source: str, retry: RetryPolicy | None = None,
                sleep: Callable[[float], None] = time.sleep,
                ca_bundle: str | None = None) -> Source:
    """The source behind a URL or a path; raises SourceError if it cannot be opened.

    `ca_bundle`: a PEM file of certificate authorities that an https source may chain to, on
    top of the default trust store. It applies to this connection only: the process's trust
    (SSL_CERT_FILE, AWS_CA_BUNDLE, what boto3 trusts for S3) stays as it is."""
    if is_url(source):
        return HttpSource(source, retry or RetryPolicy(), sleep, tls_context(ca_bundle))
    return FileSource(source)


def tls_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """The default trust store (verification on, always), plus `ca_bundle` if given."""
    context = ssl.create_default_context()
    if ca_bundle:
        try:
            context.load_verify_locations(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise SourceError(f"the CA bundle {ca_bundle} cannot be used ({reason}); give a "
                              f"PEM file of certificates") from None
    return context


class FileSource(Source):
    def __init__(self, path: str) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise SourceError("the file does not exist")
        if not self.path.is_file():
            raise SourceError("it is not a file; give the .zip archive")
        self.info = SourceInfo(source=str(self.path.resolve()), size=self.path.stat().st_size)

    def sha256(self) -> str:
        """Hash the file before ingesting it, so a re-ingestion is known before any upload."""
        digest = hashlib.sha256()
        with open(self.path, "rb") as handle:
            while block := handle.read(CHUNK):
                digest.update(block)
        self.info.sha256 = digest.hexdigest()
        return self.info.sha256

    def chunks(self) -> Iterator[bytes]:
        digest = hashlib.sha256()
        with open(self.path, "rb") as handle:
            while block := handle.read(CHUNK):
                digest.update(block)
                self.info.bytes_read += len(block)
                yield block
        self.info.sha256 = digest.hexdigest()


def certificate_problem(host: str | None, error: ssl.SSLCertVerificationError) -> str:
    why = error.verify_message or error.reason or "verification failed"
    return (f"the TLS certificate of {host} cannot be verified ({why}); if {host} chains to a "
            f"certificate authority missing from the default trust store, pass its CA bundle "
            f"with --ca-bundle PATH (in AWS: the stack setting ingest.caBundle)")


class _RetryableError(Exception):
    """A failure worth another try."""


class HttpSource(Source):
    def __init__(self, url: str, retry: RetryPolicy, sleep: Callable[[float], None],
                 context: ssl.SSLContext | None = None) -> None:
        self.url = url
        self.retry = retry
        self.sleep = sleep
        self.context = context or tls_context()
        self.info = SourceInfo(source=url)
        self._response = self._open(0, first=True)

    # --- requests --------------------------------------------------------------------------

    def _request(self, offset: int) -> http.client.HTTPResponse:
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        request = urllib.request.Request(self.url, headers=headers)
        try:
            return urllib.request.urlopen(request, timeout=self.retry.timeout_seconds,
                                          context=self.context)
        except urllib.error.HTTPError as error:
            error.close()
            if error.code >= 500 or error.code == 429:
                raise _RetryableError(f"HTTP {error.code} {error.reason}") from None
            if error.code == 404:
                raise SourceError("it was not found (HTTP 404); check the URL") from None
            if error.code == 416:
                raise SourceError("it shrank during the download (HTTP 416)") from None
            raise SourceError(f"the server answered HTTP {error.code} {error.reason}") from None
        except urllib.error.URLError as error:
            reason = error.reason
            host = urlparse(self.url).hostname
            if isinstance(reason, socket.gaierror):
                raise SourceError(f"host {host} cannot be resolved") from None
            if isinstance(reason, ssl.SSLCertVerificationError):  # the same on every try
                raise SourceError(certificate_problem(host, reason)) from None
            raise _RetryableError(f"cannot connect ({reason})") from None
        except ssl.SSLCertVerificationError as error:
            raise SourceError(certificate_problem(urlparse(self.url).hostname, error)) from None
        except (OSError, http.client.HTTPException) as error:
            raise _RetryableError(f"connection failed ({error})") from None

    def _open(self, offset: int, first: bool = False) -> http.client.HTTPResponse:
        """A response whose body starts at `offset`, retrying what is worth retrying."""
        tries = 0
        while True:
            try:
                response = self._request(offset)
                if first:
                    self._remember(response)
                else:
                    self._check_unchanged(response)
                    if response.status == 200 and offset:
                        self.info.restarted_without_range += 1
                        self._skip(response, offset)
                    elif response.status == 206:
                        self.info.resumed_with_range += 1
                return response
            except _RetryableError as problem:
                tries += 1
                self._wait(tries, str(problem))

    def _wait(self, tries: int, problem: str) -> None:
        if tries >= self.retry.attempts:
            raise SourceError(f"the download failed after {tries} tries ({problem})")
        delay = min(self.retry.backoff_seconds * 2 ** (tries - 1),
                    self.retry.max_backoff_seconds)
        self.info.retries += 1
        message = (f"{problem} at byte {self.info.bytes_read:,}; retry {tries} of "
                   f"{self.retry.attempts - 1} in {delay:.1f} s")
        self.info.events.append(message)
        log.warning("%s", message)
        self.sleep(delay)

    def _remember(self, response: http.client.HTTPResponse) -> None:
        length = response.headers.get("Content-Length")
        self.info.size = int(length) if length and length.isdigit() else None
        self.info.etag = response.headers.get("ETag")
        self.info.last_modified = response.headers.get("Last-Modified")

    def _check_unchanged(self, response: http.client.HTTPResponse) -> None:
        for header, known in (("ETag", self.info.etag), ("Last-Modified",
                                                         self.info.last_modified)):
            now = response.headers.get(header)
            if known and now and now != known:
                response.close()
                raise SourceError(f"it changed during the download ({header} was "
                                  f"{known}, now {now}); start the ingestion again")

    def _skip(self, response: http.client.HTTPResponse, offset: int) -> None:
        """The server ignored Range: read past the bytes already taken."""
        left = offset
        try:
            while left:
                block = response.read(min(CHUNK, left))
                if not block:
                    raise _RetryableError("connection closed while skipping to the resume point")
                left -= len(block)
        except (OSError, http.client.HTTPException) as error:
            raise _RetryableError(f"connection failed ({error})") from None

    def close(self) -> None:
        self._response.close()

    # --- body ------------------------------------------------------------------------------

    def chunks(self) -> Iterator[bytes]:
        digest = hashlib.sha256()
        response, tries = self._response, 0
        while True:
            try:
                block = response.read(CHUNK)
            except (OSError, http.client.HTTPException) as error:
                block, problem = None, f"connection failed ({error})"
            else:
                problem = "connection closed early"
            if block:
                tries = 0
                digest.update(block)
                self.info.bytes_read += len(block)
                yield block
                continue
            if block is not None and (self.info.size is None
                                      or self.info.bytes_read >= self.info.size):
                break  # the whole body
            response.close()
            tries += 1
            self._wait(tries, problem)
            response = self._open(self.info.bytes_read)
        response.close()
        self.info.sha256 = digest.hexdigest()
