"""`lake`: the data lake's local command line (results on stdout, progress and errors on stderr).

    lake synth --rows 100000 --layout original --out enem.zip [--seed 7]
    lake ingest --source URL|ZIP [--target URI] [--root .lake --stack dev]
    lake upload DIR [--target URI] [--root .lake --stack dev]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(
    help="ENEM 2019 data lake on one machine.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class UsageError(Exception):
    """A bad argument: reported as one line on stderr, exit code 2."""


def _fail(command: str, message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"lake {command}: error: {message}", err=True)
    return typer.Exit(code)


def _check_out(out: Path) -> None:
    """The zip can be written: its folder exists and is writable, and it is not a folder."""
    folder = out.parent
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder; give a file name such as {out}/enem.zip")
    if not folder.is_dir():
        raise UsageError(f"--out {out}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: folder {folder} is not writable")


@app.callback()
def _root() -> None:
    """ENEM 2019 data lake on one machine."""


@app.command()
def synth(
    rows: Annotated[int, typer.Option(
        "--rows", help="How many candidate rows (the full file has 5,095,270).")],
    layout: Annotated[str, typer.Option(
        "--layout", help="original: the 2020 release, 136 columns; lgpd: the 2022 "
                         "re-release, 76 columns.")],
    out: Annotated[Path, typer.Option(
        "--out", help="The zip to write (replaced if it exists).")],
    seed: Annotated[int, typer.Option(
        "--seed", help="Same seed and rows, same bytes.")] = 2019,
) -> None:
    """Write realistic synthetic ENEM 2019 microdata as INEP's zip.

    The zip holds DADOS/MICRODADOS_ENEM_2019.csv, DADOS/ITENS_PROVA_2019.csv, a dictionary and a
    read-me, in INEP's format (latin-1, ';', code page 850 member names). Values follow the
    frequencies of the real rows; every row passes the schema's domains and rules. Prints the
    zip's path on stdout.
    """
    from jobs.enem import synth as generator  # pyarrow loads only when this command runs

    try:
        if layout not in generator.LAYOUTS:
            raise UsageError(f"--layout {layout!r} is unknown: use "
                             f"{' or '.join(generator.LAYOUTS)}")
        if rows < 1:
            raise UsageError(f"--rows {rows}: give at least 1 row")
        _check_out(out)
    except UsageError as error:
        raise _fail("synth", str(error)) from None

    reporter = _Progress(rows)
    try:
        result = generator.write_zip(out, rows, layout, seed, progress=reporter)
    except OSError as error:
        raise _fail("synth", f"cannot write {out}: {error.strerror or error}", 1) from None
    typer.echo(f"lake synth: {result.rows:,} rows ({layout}) in {result.seconds:.1f} s, "
               f"{result.rows_per_second:,.0f} rows/s; CSV {result.csv_bytes / 1e6:,.1f} MB, "
               f"zip {result.zip_bytes / 1e6:,.1f} MB", err=True)
    typer.echo(str(result.path))


class _Progress:
    """Reports rows done on stderr at most every few seconds."""

    def __init__(self, total: int, every: float = 5.0) -> None:
        self.total = total
        self.every = every
        self.started = time.perf_counter()
        self.last = self.started

    def __call__(self, done: int) -> None:
        now = time.perf_counter()
        if now - self.last < self.every or done >= self.total:
            return
        self.last = now
        rate = done / (now - self.started)
        print(f"lake synth: {done:,}/{self.total:,} rows, {rate:,.0f} rows/s", file=sys.stderr,
              flush=True)


DEFAULT_ROOT, DEFAULT_STACK = ".lake", "dev"

RootOption = Annotated[str, typer.Option(
    "--root", help="The local lake's folder; a stack's zones are <root>/<stack>/<zone>.")]
StackOption = Annotated[str, typer.Option("--stack", help="The stack whose zones to use.")]
TargetOption = Annotated[Optional[str], typer.Option(  # noqa: UP045 - typer reads the annotation
    "--target", help="The raw zone: s3://bucket[/prefix] or a folder. Default: "
                     "<root>/<stack>/raw.")]
DatasetOption = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--dataset", help="Dataset name. Default: the lower-case stem of the archive or folder.")]
DocsOption = Annotated[bool, typer.Option(
    "--docs", help="Also keep the documents (dictionary, PDFs) under docs/.")]
ForceOption = Annotated[bool, typer.Option(
    "--force", help="Ingest even if the same source is already ingested.")]
PartSizeOption = Annotated[int, typer.Option(
    "--part-size-mb", help="S3 multipart part size in MiB (5..5120).")]
ConcurrencyOption = Annotated[int, typer.Option(
    "--concurrency", help="S3 parts uploaded at once, per file.")]


def zone(root: str, stack: str, name: str) -> str:
    """A zone's URI on this machine: `<root>/<stack>/<name>`."""
    return str(Path(root) / stack / name)


def _logging() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="lake: %(message)s")


@app.command()
def ingest(
    source: Annotated[str, typer.Option(
        "--source", help="INEP's zip: an http(s) URL or a local path.")],
    target: TargetOption = None,
    root: RootOption = DEFAULT_ROOT,
    stack: StackOption = DEFAULT_STACK,
    dataset: DatasetOption = None,
    docs: DocsOption = False,
    force: ForceOption = False,
    part_size_mb: PartSizeOption = 16,
    concurrency: ConcurrencyOption = 4,
) -> None:
    """Stream a zip into the raw zone: download, unzip and upload in one pass.

    Writes <raw>/<dataset>/ingest=<UTC stamp>/<FILE>.csv for each DADOS/*.csv member, then
    _manifest.json. Prints the ingestion's folder on stdout.
    """
    from jobs.ingest import download
    from jobs.ingest.progress import Progress
    from jobs.ingest.publish import UploadSettings

    _logging()
    options = download.IngestOptions(dataset=dataset, keep_docs=docs, force=force,
                                     upload=UploadSettings(part_size_mb, concurrency))
    try:
        result = download.ingest(source, target or zone(root, stack, "raw"), options,
                                 progress=lambda label, total: Progress(f"lake ingest: {label}",
                                                                        total))
    except download.IngestError as error:
        raise _fail("ingest", str(error), 1) from None
    typer.echo(f"lake ingest: {download.summary(result)}", err=True)
    typer.echo(result.folder)


@app.command()
def upload(
    folder: Annotated[Path, typer.Argument(
        help="The folder with the CSVs (at its top or in DADOS/).")],
    target: TargetOption = None,
    root: RootOption = DEFAULT_ROOT,
    stack: StackOption = DEFAULT_STACK,
    dataset: DatasetOption = None,
    docs: DocsOption = False,
    force: ForceOption = False,
    workers: Annotated[int, typer.Option("--workers", help="Files uploaded at once.")] = 4,
    part_size_mb: PartSizeOption = 16,
    concurrency: ConcurrencyOption = 4,
) -> None:
    """Load a local folder of CSVs into the raw zone, the manifest last.

    Re-running after a failure resumes: files already there with the same size and sha256 are
    skipped. Prints the ingestion's folder on stdout; exit code 1 if any file failed.
    """
    from jobs.ingest import upload as uploader
    from jobs.ingest.progress import Progress
    from jobs.ingest.publish import UploadSettings

    _logging()
    try:
        result = uploader.upload_folder(
            folder, target or zone(root, stack, "raw"), dataset=dataset, keep_docs=docs,
            force=force, settings=UploadSettings(part_size_mb, concurrency), workers=workers,
            progress=lambda label, total: Progress(f"lake upload: {label}", total))
    except uploader.UploadError as error:
        raise _fail("upload", str(error), 1) from None
    typer.echo(f"lake upload: {uploader.summary(result)}", err=True)
    for name, reason in result.failed.items():
        typer.echo(f"lake upload: failed: {name}: {reason}", err=True)
    if result.status == "failed":
        raise typer.Exit(1)
    typer.echo(result.folder)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
