"""Write one ingestion into the raw zone so that nothing half-written is ever visible.

An ingestion is `<raw>/<dataset>/ingest=<UTC stamp>/`: the data CSVs directly in it, documents (on
request) under `docs/`, and `_manifest.json` written last, which marks it complete. Each file is
published whole or not at all: on S3 a multipart upload that is completed only after its last
part (and aborted on any failure), in a folder a hidden `.part` file renamed into place. If the
ingestion fails, everything it wrote is deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from jobs.contract import (
    MANIFEST,
    MAX_PARTS,
    PART_SIZE_MB,
    UPLOAD_CONCURRENCY,
    ingestion_folder,
    ingestion_stamp,
    join,
)
from jobs.storage import LocalStorage, S3Storage, Storage

MIB = 1024 * 1024
# S3 checks every part against this checksum, and the object keeps it (flexible checksums).
CHECKSUM_ALGORITHM = "CRC32"


@dataclass
class UploadSettings:
    part_size_mb: int = 16
    """S3 multipart part size. Memory is about part size x (concurrency + 1)."""
    concurrency: int = 4
    """Parts uploaded at once, per file."""

    def check(self) -> None:
        """The limits the stack config enforces too (`jobs.contract`)."""
        for option, limit, value in (("--part-size-mb", PART_SIZE_MB, self.part_size_mb),
                                     ("--concurrency", UPLOAD_CONCURRENCY, self.concurrency)):
            problem = limit.problem(value)
            if problem:
                raise ValueError(f"{option} {problem} (got {value})")


@dataclass
class FileRecord:
    """One published file, as the manifest lists it."""

    name: str
    bytes: int
    sha256: str
    rows: int | None = None
    """Data rows of a CSV (lines after the header)."""
    member: str | None = None
    """Where it came from: the archive member or the local path."""


class _Tally:
    """sha256, size and line count of bytes as they pass."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        self.newlines = 0
        self.last = b""

    def add(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
        self.newlines += data.count(b"\n")
        self.last = data[-1:]

    def rows(self) -> int:
        lines = self.newlines + (1 if self.size and self.last != b"\n" else 0)
        return max(lines - 1, 0)


class _Handoff:
    """Runs `consume` on a second thread, fed through a short queue.

    The producer (inflating the archive) holds the GIL; hashing, the file write and the S3 part
    upload release it, so the two overlap on two cores. A failure on either side stops both and
    is raised by the producer.
    """

    _END = object()

    def __init__(self, consume, depth: int = 8) -> None:
        self.consume = consume
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="publish", daemon=True)

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is self._END:
                return
            if self.error is None:
                try:
                    self.consume(item)
                except BaseException as error:  # noqa: BLE001 - handed to the producer
                    self.error = error

    def put(self, data: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(data)

    def __enter__(self) -> _Handoff:
        self.thread.start()
        return self

    def __exit__(self, kind, value, traceback) -> None:
        self.queue.put(self._END)
        self.thread.join()
        if kind is None and self.error is not None:
            raise self.error


class LocalWriter:
    """A file written as `.<name>.part` beside its target and renamed into place on commit."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.partial = self.path.with_name(f".{self.path.name}.part")
        self.handle = open(self.partial, "wb")  # noqa: SIM115 - closed in commit/abort

    def write(self, data: bytes) -> None:
        self.handle.write(data)

    def close(self) -> None:
        self.handle.close()

    def commit(self) -> None:
        os.replace(self.partial, self.path)

    def abort(self) -> None:
        self.handle.close()
        self.partial.unlink(missing_ok=True)


class S3Writer:
    """A multipart upload fed in order; parts go up `concurrency` at a time.

    Memory is bounded: `write` blocks while `concurrency` parts are in flight. The object exists
    only once `commit` completes the upload; `abort` (called on any failure) removes the parts.
    """

    def __init__(self, client, uri: str, settings: UploadSettings,
                 metadata: dict[str, str] | None = None) -> None:
        self.client = client
        self.bucket, self.key = S3Storage.split(uri)
        self.part_size = settings.part_size_mb * MIB
        self.metadata = metadata or {}
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[Future] = []
        self.uploaded: list[dict] = []
        self.pool = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="s3-part")
        self.slots = threading.BoundedSemaphore(settings.concurrency)

    def write(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= self.part_size:
            part = bytes(self.buffer[:self.part_size])
            del self.buffer[:self.part_size]
            self._submit(part)

    def _submit(self, body: bytes) -> None:
        if self.upload_id is None:
            self.upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, Metadata=self.metadata,
                ChecksumAlgorithm=CHECKSUM_ALGORITHM)["UploadId"]
        if len(self.parts) >= MAX_PARTS:
            raise ValueError(f"s3://{self.bucket}/{self.key} needs more than {MAX_PARTS} parts; "
                             "raise --part-size-mb")
        for done in self.parts:
            if done.done() and done.exception():
                raise done.exception()
        self.slots.acquire()
        number = len(self.parts) + 1
        future = self.pool.submit(self._upload_part, number, body)
        future.add_done_callback(lambda _: self.slots.release())
        self.parts.append(future)

    def _upload_part(self, number: int, body: bytes) -> dict:
        answer = self.client.upload_part(Bucket=self.bucket, Key=self.key, PartNumber=number,
                                         UploadId=self.upload_id, Body=body,
                                         ChecksumAlgorithm=CHECKSUM_ALGORITHM)
        # An upload created with a checksum algorithm completes only with each part's checksum
        # (API_CompleteMultipartUpload: CompletedPart.ChecksumCRC32).
        return {"PartNumber": number, "ETag": answer["ETag"],
                "ChecksumCRC32": answer["ChecksumCRC32"]}

    def close(self) -> None:
        """Upload the last part and wait for all parts; the object does not exist yet."""
        try:
            if self.buffer:  # the last part may be smaller than 5 MiB
                self._submit(bytes(self.buffer))
                self.buffer.clear()
            self.uploaded = [future.result() for future in self.parts]
        finally:
            self.pool.shutdown(wait=True)

    def commit(self) -> None:
        """Make the object appear, whole."""
        if self.upload_id is None:  # an empty file
            self.client.put_object(Bucket=self.bucket, Key=self.key, Body=b"",
                                   Metadata=self.metadata)
            return
        self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
            MultipartUpload={"Parts": self.uploaded})

    def abort(self) -> None:
        for future in self.parts:
            future.cancel()
        self.pool.shutdown(wait=True)
        if self.upload_id is not None:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key,
                                               UploadId=self.upload_id)


def zone_store(target: str, client=None) -> tuple[Any, Storage]:
    """(S3 client or None, storage) for a zone URI: S3 for `s3://…`, else a folder."""
    if target.startswith("s3://"):
        client = client or s3_client()
        return client, S3Storage(client)
    return None, LocalStorage()


def s3_client():
    """boto3's S3 client with standard retries (transient errors, throttling)."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", config=Config(retries={"max_attempts": 8, "mode": "standard"}))


class Publication:
    """The files of one ingestion folder, then its manifest.

    `deferred`: each file's bytes are stored as they come (S3 parts, a `.part` file) but no file
    appears until `finish`, so a failure anywhere before it (say a corrupt archive's last bytes)
    leaves nothing behind, and needs no delete permission to clean up: open multipart uploads
    are aborted, `.part` files removed. Otherwise each file appears as soon as it is written
    (`lake upload`, which resumes from the files already there).
    """

    def __init__(self, raw: str, dataset: str, stamp: str,
                 settings: UploadSettings | None = None, client=None,
                 deferred: bool = False) -> None:
        self.settings = settings or UploadSettings()
        self.settings.check()
        self.client, self.store = zone_store(raw, client)
        self.s3 = self.client is not None
        self.dataset = dataset
        self.stamp = stamp
        self.folder = ingestion_folder(raw, dataset, stamp)
        self.deferred = deferred
        self.pending: list[LocalWriter | S3Writer] = []

    def uri(self, name: str) -> str:
        return join(self.folder, name)

    def write(self, name: str, chunks: Iterable[bytes], csv: bool = False,
              member: str | None = None, metadata: dict[str, str] | None = None,
              on_bytes=None) -> FileRecord:
        """Publish one file from its chunks; returns what the manifest says of it."""
        uri = self.uri(name)
        writer = (S3Writer(self.client, uri, self.settings, metadata) if self.s3
                  else LocalWriter(uri))
        tally = _Tally()

        def consume(data: bytes) -> None:
            tally.add(data)
            writer.write(data)
            if on_bytes:
                on_bytes(len(data))

        try:
            with _Handoff(consume) as handoff:
                for data in chunks:
                    handoff.put(data)
            writer.close()
            if not self.deferred:
                writer.commit()
        except BaseException:
            writer.abort()
            raise
        if self.deferred:
            self.pending.append(writer)
        return FileRecord(name=name, bytes=tally.size, sha256=tally.digest.hexdigest(),
                          rows=tally.rows() if csv else None, member=member)

    def finish(self, manifest: dict) -> str:
        """Make the deferred files appear, then write `_manifest.json`: from now on the
        ingestion is complete."""
        while self.pending:
            self.pending[0].commit()
            self.pending.pop(0)
        uri = self.uri(MANIFEST)
        self.store.write_text(uri, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        return uri

    def discard(self) -> None:
        """Abort the files not yet published; remove any that were (its folder holds nothing
        else), and on a disk the folders made for them: a failed or unneeded ingestion leaves
        no trace, not even an empty `ingest=<stamp>/`."""
        while self.pending:
            self.pending.pop().abort()
        if self.store.files(self.folder):
            self.store.delete(self.folder)
        if not self.s3:
            for folder in (Path(self.folder), Path(self.folder).parent):
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()


def records(items: Iterable[FileRecord]) -> list[dict]:
    return [{k: v for k, v in asdict(item).items() if v is not None} for item in items]


def previous_manifests(raw: str, dataset: str, store: Storage) -> list[tuple[str, dict]]:
    """(folder, manifest) of the dataset's complete ingestions, newest first."""
    found = []
    base = join(raw, dataset)
    for child in sorted(store.children(base), reverse=True):
        if ingestion_stamp(child) is None:
            continue
        uri = join(base, child, MANIFEST)
        if store.exists(uri):
            try:
                found.append((join(base, child), json.loads(store.read_bytes(uri))))
            except ValueError:
                continue  # a hand-written or damaged manifest never matches
    return found
