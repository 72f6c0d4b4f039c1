"""Load a local folder of CSVs into the raw zone: `lake upload DIR [--target URI]`.

The data files are the `.csv` files at the folder's top or in its `DADOS/` sub-folder (INEP's
layout, e.g. an archive unpacked by hand), known by their header whatever their names (a CSV
of neither of INEP's files is refused in one line); they land directly in
`<target>/<dataset>/ingest=<UTC stamp>/` under INEP's names, which name the tables. Other
files are skipped, or kept under `docs/` with `--docs`. Files go up in parallel (S3: multipart,
part size and concurrency configurable), each whole or not at all; `_manifest.json` is written
last, only when every file is there.

A failed upload leaves whole files in an ingestion without a manifest, which processing ignores;
running the same upload again resumes it: files already there with the same size and sha256 are
skipped. Uploading exactly what the newest complete ingestion holds is a no-op unless `--force`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from jobs.contract import DOCS, MANIFEST, ingestion_folder, ingestion_stamp, join, utc_stamp
from jobs.errors import UserError
from jobs.ingest.download import dataset_name, is_data_csv
from jobs.ingest.progress import Progress
from jobs.ingest.publish import (
    FileRecord,
    Publication,
    UploadSettings,
    previous_manifests,
    records,
    zone_store,
)
from jobs.storage import S3Storage, Storage

log = logging.getLogger("lake.upload")

BLOCK = 1024 * 1024
SHA256_METADATA = "sha256"


class UploadError(UserError):
    """The upload cannot start (bad folder, nothing to upload); one sentence."""


@dataclass
class LocalFile:
    path: Path
    name: str
    """Its name in the ingestion folder."""
    relative: str
    csv: bool
    bytes: int = 0
    sha256: str = ""
    rows: int | None = None

    def record(self) -> FileRecord:
        return FileRecord(self.name, self.bytes, self.sha256, self.rows, self.relative)


@dataclass
class UploadResult:
    status: str
    """"ingested", "unchanged" or "failed"."""
    folder: str
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    bytes_uploaded: int = 0
    seconds: float = 0.0
    manifest: dict | None = None


def scan(folder: Path, keep_docs: bool) -> tuple[list[LocalFile], list[str]]:
    """(files to upload, relative paths left out), data files first."""
    if not folder.exists():
        raise UploadError(f"{folder} does not exist")
    if not folder.is_dir():
        raise UploadError(f"{folder} is not a folder; give the folder that holds the CSVs")
    chosen: list[LocalFile] = []
    left_out: list[str] = []
    names: dict[str, str] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if path.name.startswith("."):
            left_out.append(relative)
        elif is_data_csv(relative):
            name = inep_name(path, relative)
            if name in names:
                raise UploadError(f"{relative} and {names[name]} would both land as {name}; "
                                  f"keep one, or join them into one file with one header")
            names[name] = relative
            chosen.append(LocalFile(path, name, relative, csv=True))
        elif keep_docs:
            chosen.append(LocalFile(path, f"{DOCS}/{relative}", relative, csv=False))
        else:
            left_out.append(relative)
    if not any(f.csv for f in chosen):
        raise UploadError(f"{folder} holds no CSV data file (expected *.csv or DADOS/*.csv)")
    return chosen, left_out


def inep_name(path: Path, relative: str) -> str:
    """The name INEP gives the file whose header `path` has (`MICRODADOS_ENEM_2019.csv`,
    `ITENS_PROVA_2019.csv`), whatever it is called here: processing names the table after it.
    UploadError for a header of neither file."""
    from jobs.enem.schema import LAYOUTS, detect_layout

    with open(path, "rb") as handle:
        header = handle.readline().decode("iso-8859-1").rstrip("\r\n").split(";")
    layout = detect_layout(header)
    if layout is None:
        expected = sorted({f"{known.table.upper()}.csv" for known in LAYOUTS})
        raise UploadError(f"{relative} is not one of INEP's ENEM 2019 files: its header "
                          f"({len(header)} columns) matches neither release of "
                          f"{' nor '.join(expected)}; upload the files as INEP ships them")
    return f"{layout.table.upper()}.csv"


def measure(file: LocalFile) -> None:
    """sha256, size and data rows of a local file, in one read."""
    digest, size, newlines, last = hashlib.sha256(), 0, 0, b""
    with open(file.path, "rb") as handle:
        while block := handle.read(BLOCK):
            digest.update(block)
            size += len(block)
            newlines += block.count(b"\n")
            last = block[-1:]
    file.bytes, file.sha256 = size, digest.hexdigest()
    if file.csv:
        lines = newlines + (1 if size and last != b"\n" else 0)
        file.rows = max(lines - 1, 0)


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while block := handle.read(BLOCK):
            yield block


def already_there(store: Storage, uri: str, file: LocalFile) -> bool:
    """The same size and sha256 is already published at `uri`."""
    if isinstance(store, S3Storage):
        bucket, key = store.split(uri)
        try:
            head = store.client.head_object(Bucket=bucket, Key=key)
        except store.client.exceptions.ClientError:
            return False
        return (head["ContentLength"] == file.bytes
                and head.get("Metadata", {}).get(SHA256_METADATA) == file.sha256)
    path = Path(uri)
    if not path.is_file() or path.stat().st_size != file.bytes:
        return False
    digest = hashlib.sha256()
    for block in _file_chunks(path):
        digest.update(block)
    return digest.hexdigest() == file.sha256


def _incomplete_stamp(store: Storage, target: str, dataset: str) -> str | None:
    """The stamp of the dataset's newest ingestion if it has no manifest (a failed upload)."""
    stamps = sorted(filter(None, map(ingestion_stamp, store.children(join(target, dataset)))),
                    reverse=True)
    if stamps and not store.exists(join(ingestion_folder(target, dataset, stamps[0]), MANIFEST)):
        return stamps[0]
    return None


def _same_files(manifest: dict, files: list[LocalFile]) -> bool:
    listed = {f.get("name"): f.get("sha256") for f in [*manifest.get("files", []),
                                                     *manifest.get("docs", [])]}
    return listed == {f.name: f.sha256 for f in files}


class _SharedProgress:
    def __init__(self, meter: Progress | None) -> None:
        self.meter = meter
        self.lock = threading.Lock()

    def __call__(self, n: int) -> None:
        if self.meter:
            with self.lock:
                self.meter.update(n)


def upload_folder(folder: str | Path, target: str, dataset: str | None = None,
                  keep_docs: bool = False, force: bool = False,
                  settings: UploadSettings | None = None, workers: int = 4,
                  progress=None, client=None, now: datetime | None = None) -> UploadResult:
    """Upload `folder` into `target` (the raw zone's URI). See the module's docstring."""
    started, clock = utc_stamp(now), time.monotonic()
    folder = Path(folder)
    settings = settings or UploadSettings()
    try:
        settings.check()
    except ValueError as error:
        raise UploadError(str(error)) from None
    if workers < 1:
        raise UploadError(f"--workers must be at least 1 (got {workers})")
    dataset = dataset or dataset_name(folder.resolve().name)
    files, left_out = scan(folder, keep_docs)
    for file in files:
        measure(file)

    client, store = zone_store(target, client)
    if not force:
        for earlier, manifest in previous_manifests(target, dataset, store)[:1]:
            if _same_files(manifest, files):
                return UploadResult("unchanged", earlier, skipped=[f.name for f in files],
                                    manifest=manifest)
    stamp = _incomplete_stamp(store, target, dataset) or started
    if stamp != started:
        log.info("resuming the incomplete ingestion ingest=%s", stamp)
    publication = Publication(target, dataset, stamp, settings, client)
    result = UploadResult("ingested", publication.folder)

    to_send = []
    for file in files:
        if already_there(store, publication.uri(file.name), file):
            result.skipped.append(file.name)
        else:
            to_send.append(file)
    meter = progress("upload", sum(f.bytes for f in to_send)) if progress and to_send else None
    shared = _SharedProgress(meter)

    def send(file: LocalFile) -> None:
        publication.write(file.name, _file_chunks(file.path), csv=file.csv, member=file.relative,
                          metadata={SHA256_METADATA: file.sha256}, on_bytes=shared)

    with ThreadPoolExecutor(max(1, min(workers, len(to_send) or 1)),
                            thread_name_prefix="upload") as pool:
        futures = {pool.submit(send, file): file for file in to_send}
        for future in as_completed(futures):
            file = futures[future]
            error = future.exception()
            if error is None:
                result.uploaded.append(file.name)
                result.bytes_uploaded += file.bytes
            else:
                result.failed[file.name] = _reason(error)
                log.error("%s: %s", file.relative, result.failed[file.name])
    if meter:
        meter.done()
    result.seconds = round(time.monotonic() - clock, 3)
    if result.failed:
        result.status = "failed"
        return result
    result.manifest = {
        "dataset": dataset, "ingestion": stamp,
        "files": records(f.record() for f in files if f.csv),
        "docs": records(f.record() for f in files if not f.csv),
        "skipped_members": left_out,
        "source": {"uri": str(folder.resolve()), "bytes": sum(f.bytes for f in files)},
        "started": started, "finished": utc_stamp(), "seconds": result.seconds,
    }
    publication.finish(result.manifest)
    return result


def _reason(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if isinstance(error, OSError) else f"{type(error).__name__}: {text}"


def summary(result: UploadResult) -> str:
    if result.status == "unchanged":
        return f"unchanged: the same files are already ingested in {result.folder}"
    text = (f"{len(result.uploaded)} uploaded ({result.bytes_uploaded / 1e6:,.1f} MB), "
            f"{len(result.skipped)} already there, {len(result.failed)} failed in "
            f"{result.seconds:.1f} s")
    if result.status == "failed":
        return f"incomplete {result.folder}: {text}; run the same command again to resume"
    return f"ingested {result.folder}: {text}"

