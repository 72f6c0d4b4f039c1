"""Stream an INEP zip from a URL or a local file into the raw zone.

    python -m jobs.ingest.download --source URL|PATH --target URI [--dataset NAME] [--docs]
        [--force] [--part-size-mb 16] [--concurrency 4] [--ca-bundle PATH]

The processing container's entrypoint (the trigger Lambda passes the arguments) and the core of
`lake ingest`. Download -> unzip -> upload is one stream: the archive is never held in memory and
the CSVs are never written to local disk, so memory stays flat whatever the archive's size.
Writes `<target>/<dataset>/ingest=<UTC stamp>/<FILE>.csv` for each `DADOS/*.csv` member (or CSV at
the archive's root), other members under `docs/` only with `--docs`, then `_manifest.json`.
Ingesting a source already ingested (same ETag, or same sha256) is a no-op unless `--force`.
Exit codes: 0 ingested or unchanged, 1 the source or target is bad (one line on stderr), 2 usage.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

from botocore.exceptions import BotoCoreError, ClientError

from jobs.contract import DOCS, utc_stamp
from jobs.errors import UserError
from jobs.ingest.progress import Progress
from jobs.ingest.publish import (
    FileRecord,
    Publication,
    UploadSettings,
    previous_manifests,
    records,
    zone_store,
)
from jobs.ingest.source import (
    FileSource,
    RetryPolicy,
    Source,
    SourceError,
    SourceInfo,
    is_url,
    open_source,
)
from jobs.ingest.zipstream import METHODS, Member, ZipError, ZipReader

log = logging.getLogger("jobs.ingest.download")

DATA_FOLDER = "DADOS"


class IngestError(UserError):
    """The ingestion failed for a reason the user can fix; the message is one sentence."""


@dataclass
class IngestOptions:
    dataset: str | None = None
    """Defaults to the lower-case stem of the archive's name (`microdados_enem_2019`)."""
    keep_docs: bool = False
    force: bool = False
    upload: UploadSettings = field(default_factory=UploadSettings)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    ca_bundle: str | None = None
    """PEM certificate authorities an https source may chain to, beside the default ones."""


@dataclass
class IngestResult:
    status: str
    """"ingested", or "unchanged" when the same source was already ingested."""
    folder: str
    manifest: dict


def dataset_name(source: str) -> str:
    """`https://…/microdados_enem_2019.zip` -> `microdados_enem_2019`."""
    path = unquote(urlparse(source).path) if is_url(source) else source
    stem = PurePosixPath(path.replace("\\", "/")).name
    stem = re.sub(r"\.zip$", "", stem, flags=re.IGNORECASE)
    name = re.sub(r"[^a-z0-9_]+", "_", stem.lower()).strip("_")
    if not name:
        raise IngestError(f"cannot name the dataset after {source!r}; pass --dataset")
    return name


def is_data_csv(name: str) -> bool:
    """A data file: a `.csv` in `DADOS/` (INEP's layout) or at the archive's root."""
    path = PurePosixPath(name)
    return path.suffix.lower() == ".csv" and (
        len(path.parts) == 1 or (len(path.parts) == 2 and path.parts[0].upper() == DATA_FOLDER))


def same_source(info: SourceInfo, manifest: dict) -> bool:
    """Whether a previous manifest ingested these very bytes."""
    before = manifest.get("source") or {}
    if info.sha256 and before.get("sha256") == info.sha256:
        return True
    return bool(info.etag) and before.get("uri") == info.source and before.get("etag") == info.etag


def _counted(chunks: Iterator[bytes], progress: Progress | None) -> Iterator[bytes]:
    for chunk in chunks:
        if progress:
            progress.update(len(chunk))
        yield chunk


def ingest(source: str, target: str, options: IngestOptions | None = None,
           progress: Callable[[str, int | None], Progress] | None = None,
           client=None, now: datetime | None = None) -> IngestResult:
    """Stream `source` into `target` (the raw zone's URI). See the module's docstring."""
    options = options or IngestOptions()
    dataset = options.dataset or dataset_name(source)
    try:
        options.upload.check()
    except ValueError as error:
        raise IngestError(str(error)) from None
    started, clock = utc_stamp(now), time.monotonic()
    opened = _open(source, options.retry, options.ca_bundle)
    client, store = zone_store(target, client)
    try:
        earlier = [] if options.force else previous_manifests(target, dataset, store)
    except (OSError, BotoCoreError, ClientError) as error:
        raise IngestError(f"cannot read the target {target}: {error}") from None
    if isinstance(opened, FileSource) and earlier:
        opened.sha256()  # a local file: know its hash before writing anything
    for folder, manifest in earlier:
        if same_source(opened.info, manifest):
            opened.close()
            log.info("%s is already ingested in %s; nothing to do (use --force to ingest "
                     "it again)", source, folder)
            return IngestResult("unchanged", folder, manifest)

    publication = Publication(target, dataset, started, options.upload, client, deferred=True)
    if store.exists(publication.folder):
        raise IngestError(f"{publication.folder} already exists; wait a second and retry")
    meter = progress("download" if is_url(source) else "read", opened.info.size) if progress \
        else None
    try:
        manifest = _publish(opened, publication, options, meter)
        for folder, earlier_manifest in earlier:  # a URL's sha256 is known only now
            if same_source(opened.info, earlier_manifest):
                publication.discard()
                log.info("%s has the same bytes as %s; nothing kept", source, folder)
                return IngestResult("unchanged", folder, earlier_manifest)
        manifest["source"] = _source_record(opened.info)
        manifest.update(started=started, finished=utc_stamp(),
                        seconds=round(time.monotonic() - clock, 3))
        publication.finish(manifest)
    except BaseException as error:
        _discard(publication)
        if isinstance(error, (SourceError, ZipError)):
            raise IngestError(f"cannot ingest {source}: {error}") from None
        if isinstance(error, (OSError, BotoCoreError, ClientError)):
            raise IngestError(f"cannot write {publication.folder}: {error}") from None
        raise
    finally:
        if meter:
            meter.done()
    return IngestResult("ingested", publication.folder, manifest)


def _discard(publication: Publication) -> None:
    try:
        publication.discard()
    except Exception as error:  # noqa: BLE001 - report, but keep the original failure
        log.error("could not remove the partial ingestion %s: %s", publication.folder, error)


def _open(source: str, retry: RetryPolicy, ca_bundle: str | None) -> Source:
    try:
        return open_source(source, retry, ca_bundle=ca_bundle)
    except SourceError as error:
        raise IngestError(f"cannot ingest {source}: {error}") from None


def _publish(opened: Source, publication: Publication, options: IngestOptions,
             meter: Progress | None) -> dict:
    data: list[FileRecord] = []
    docs: list[FileRecord] = []
    skipped: list[str] = []
    members: dict[str, dict] = {}
    for member in ZipReader(_counted(opened.chunks(), meter)):
        if member.is_dir:
            continue
        if is_data_csv(member.name):
            name = PurePosixPath(member.name).name
            if any(record.name == name for record in data):
                raise ZipError(f"two data files are named {name}")
            data.append(publication.write(name, member.chunks(), csv=True, member=member.name))
            members[name] = _member_record(member)
        elif options.keep_docs:
            docs.append(publication.write(f"{DOCS}/{member.name}", member.chunks(),
                                          member=member.name))
        else:
            skipped.append(member.name)
    if not data:
        raise ZipError("the archive holds no CSV data file (expected DADOS/*.csv)")
    files = records(data)
    for item in files:
        item.update(members[item["name"]])
    return {"dataset": publication.dataset, "ingestion": publication.stamp, "files": files,
            "docs": records(docs), "skipped_members": skipped}


def _member_record(member: Member) -> dict:
    return {"compression": METHODS[member.method], "compressed_bytes": member.compressed_size}


def _source_record(info: SourceInfo) -> dict:
    record = {"uri": info.source, "bytes": info.bytes_read, "sha256": info.sha256,
              "etag": info.etag, "last_modified": info.last_modified}
    if info.retries:
        record.update(retries=info.retries, resumed_with_range=info.resumed_with_range,
                      restarted_without_range=info.restarted_without_range)
    return {k: v for k, v in record.items() if v is not None}


# --- the container's command line -----------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="python -m jobs.ingest.download",
        description="Stream an INEP zip (URL or file) into the raw zone (s3://… or a folder).")
    cli.add_argument("--source", required=True, help="https URL or path of the zip")
    cli.add_argument("--target", required=True, help="the raw zone: s3://bucket[/prefix] or a "
                                                     "folder")
    cli.add_argument("--dataset", help="dataset name (default: the archive's lower-case stem)")
    cli.add_argument("--docs", action="store_true",
                     help="also keep the documents (dictionary, PDFs) under docs/")
    cli.add_argument("--force", action="store_true",
                     help="ingest even if the same source was ingested already")
    cli.add_argument("--part-size-mb", type=int, default=UploadSettings.part_size_mb,
                     help="S3 multipart part size in MiB (5..5120)")
    cli.add_argument("--concurrency", type=int, default=UploadSettings.concurrency,
                     help="S3 parts uploaded at once")
    cli.add_argument("--ca-bundle", metavar="PATH",
                     help="PEM file of certificate authorities the source may chain to, added "
                          "to the default ones for the download only")
    return cli


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    options = IngestOptions(dataset=args.dataset, keep_docs=args.docs, force=args.force,
                            upload=UploadSettings(args.part_size_mb, args.concurrency),
                            ca_bundle=args.ca_bundle)
    try:
        result = ingest(args.source, args.target, options,
                        progress=lambda label, total: Progress(label, total))
    except IngestError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(summary(result))
    return 0


def summary(result: IngestResult) -> str:
    if result.status == "unchanged":
        return f"unchanged: already ingested in {result.folder}"
    files = ", ".join(f"{f['name']} ({f['rows']:,} rows, {f['bytes'] / 1e6:,.1f} MB)"
                      for f in result.manifest["files"])
    return f"ingested {result.folder}: {files} in {result.manifest['seconds']:.1f} s"


if __name__ == "__main__":
    sys.exit(main())
