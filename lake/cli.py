"""`lake`: the data lake's local command line (results on stdout, progress and errors on stderr).

    lake synth --rows 100000 --layout original --out enem.zip [--seed 7]
    lake ingest --source URL|ZIP [--target URI] [--root .lake --stack dev]
    lake upload DIR [--target URI] [--root .lake --stack dev]
    lake process | crawl | gold | tables [--root .lake --stack dev]
    lake query "SELECT …" [--format table|csv|json] [--root .lake --stack dev]
    lake run --source URL|ZIP [--root .lake --stack dev]
    lake demo [--rows 500000] [--root .lake --stack dev]
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
    from lake.synth import generator  # pyarrow loads only when this command runs

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
SourceOption = Annotated[str, typer.Option(
    "--source", help="INEP's zip: an http(s) URL or a local path.")]
PartSizeOption = Annotated[int, typer.Option(
    "--part-size-mb", help="S3 multipart part size in MiB (5..5120).")]
ConcurrencyOption = Annotated[int, typer.Option(
    "--concurrency", help="S3 parts uploaded at once, per file.")]
CaBundleOption = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--ca-bundle", help="PEM file of certificate authorities an https source may chain to, "
                        "added to the default ones for the download only.")]


def zone(root: str, stack: str, name: str) -> str:
    """A zone's URI on this machine: `<root>/<stack>/<name>`."""
    return str(Path(root) / stack / name)


def _logging() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="lake: %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)


@app.command()
def ingest(
    source: SourceOption,
    target: TargetOption = None,
    root: RootOption = DEFAULT_ROOT,
    stack: StackOption = DEFAULT_STACK,
    dataset: DatasetOption = None,
    docs: DocsOption = False,
    force: ForceOption = False,
    part_size_mb: PartSizeOption = 16,
    concurrency: ConcurrencyOption = 4,
    ca_bundle: CaBundleOption = None,
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
                                     upload=UploadSettings(part_size_mb, concurrency),
                                     ca_bundle=ca_bundle)
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
    from jobs.ingest.progress import Progress
    from jobs.ingest.publish import UploadSettings
    from lake import upload as uploader

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


def _zones(command: str, root: str, stack: str):
    from lake.local import lake

    try:
        return lake.zones(root, stack)
    except lake.LakeError as error:
        raise _fail(command, str(error)) from None


@app.command()
def process(
    root: RootOption = DEFAULT_ROOT,
    stack: StackOption = DEFAULT_STACK,
    max_rejected_share: Annotated[Optional[float], typer.Option(  # noqa: UP045
        "--max-rejected-share", help="Fail if a table rejects more than this share of its "
                                     "rows (default 0.01, the stack's quality.maxRejectedShare)."
    )] = None,
) -> None:
    """Raw CSVs -> typed, checked, partitioned Parquet: the Glue job's code, Spark local mode.

    Reads the newest complete ingestion per dataset in <root>/<stack>/raw; writes
    <root>/<stack>/processed (and rejected rows to <root>/<stack>/rejected). Prints the run
    summary (JSON) on stdout.
    """
    from lake.local import lake

    z = _zones("process", root, stack)
    _logging()
    try:
        summary = lake.process(z, max_rejected_share)
    except lake.LakeError as error:
        raise _fail("process", str(error), 1) from None
    typer.echo(summary.to_json())


@app.command()
def crawl(root: RootOption = DEFAULT_ROOT, stack: StackOption = DEFAULT_STACK) -> None:
    """Catalog the processed zone as the Glue crawler would: one table per folder, partitions
    discovered, in <root>/<stack>/catalog.duckdb. Prints the tables on stdout."""
    from lake.local import lake
    from lake.local.output import table

    z = _zones("crawl", root, stack)
    try:
        tables = lake.crawl(z)
    except lake.LakeError as error:
        raise _fail("crawl", str(error), 1) from None
    typer.echo(table(["table", "partitions", "files", "location"],
                     [(t.name, ",".join(t.partitions), t.files, t.location) for t in tables]))


@app.command()
def gold(root: RootOption = DEFAULT_ROOT, stack: StackOption = DEFAULT_STACK) -> None:
    """Run every queries/*.sql (Athena SQL, translated for DuckDB) into <root>/<stack>/gold and
    register each result as gold_<query> in the catalog. Exit code 1 if any query failed."""
    from lake.local import lake
    from lake.local.output import table

    z = _zones("gold", root, stack)

    def say(result) -> None:
        state = f"error: {result.error}" if result.error else f"{result.rows:,} rows"
        typer.echo(f"lake gold: {result.name}: {state} ({result.seconds:.1f} s)", err=True)

    try:
        results = lake.gold(z, on_result=say)
    except lake.LakeError as error:
        raise _fail("gold", str(error), 1) from None
    typer.echo(table(["table", "rows", "location"],
                     [(r.table, r.rows, r.location) for r in results if not r.error]))
    if any(r.error for r in results):
        raise typer.Exit(1)


@app.command()
def tables(root: RootOption = DEFAULT_ROOT, stack: StackOption = DEFAULT_STACK) -> None:
    """List the catalog's tables with their row and column counts."""
    from lake.local.catalog import connect, quote, table_names
    from lake.local.output import table
    from lake.local.sql import QueryError

    z = _zones("tables", root, stack)
    try:
        with connect(z.catalog, read_only=True) as con:
            rows = []
            for name in table_names(con):
                count = con.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0]
                columns = len(con.execute(f"DESCRIBE {quote(name)}").fetchall())
                rows.append((name, count, columns))
    except QueryError as error:
        raise _fail("tables", str(error), 1) from None
    typer.echo(table(["table", "rows", "columns"], rows))


@app.command()
def query(
    sql: Annotated[Optional[str], typer.Argument(  # noqa: UP045
        help="One Athena (Trino) SQL statement; '-' reads it from stdin.")] = None,
    sql_file: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--file", "-f", help="Read the statement from a file, e.g. queries/essay_status.sql.")
    ] = None,
    output_format: Annotated[str, typer.Option(
        "--format", help="table (aligned text), csv or json.")] = "table",
    root: RootOption = DEFAULT_ROOT,
    stack: StackOption = DEFAULT_STACK,
) -> None:
    """Query the local catalog in Athena's SQL (translated to DuckDB with sqlglot).

    Only the result goes to stdout, so `lake query "…" --format csv > out.csv` is clean. A
    statement that starts with a `--` comment must come after `--` on the command line, or from
    --file or stdin.
    """
    from lake.local.catalog import run_query
    from lake.local.output import FORMATS, render
    from lake.local.sql import QueryError

    if output_format not in FORMATS:
        raise _fail("query", f"--format {output_format!r}: use {', '.join(FORMATS)}")
    if sql is None and sql_file is None:
        raise _fail("query", 'give the SQL: lake query "SELECT …", --file FILE, or - for stdin')
    if sql is not None and sql_file is not None:
        raise _fail("query", "give the SQL as an argument or with --file, not both")
    if sql_file is not None:
        try:
            sql = sql_file.read_text(encoding="utf-8")
        except OSError as error:
            raise _fail("query", f"--file {sql_file}: {error.strerror or error}") from None
    elif sql == "-":
        sql = sys.stdin.read()
    z = _zones("query", root, stack)
    try:
        result = run_query(z.catalog, sql)
    except QueryError as error:
        raise _fail("query", str(error), 1) from None
    typer.echo(render(result.columns, result.rows, output_format))


def _run_lake(command: str, source: str, z, docs: bool = False, force: bool = False,
              ca_bundle: str | None = None) -> None:
    from jobs.ingest.download import IngestOptions
    from jobs.ingest.progress import Progress
    from lake.local import lake

    _logging()
    try:
        report = lake.run(
            source, z, IngestOptions(keep_docs=docs, force=force, ca_bundle=ca_bundle),
            progress=lambda label, total: Progress(f"lake {command}: {label}", total),
            log=lambda message: typer.echo(f"lake {command}: {message}", err=True))
        typer.echo(lake.render(report))
    except lake.LakeError as error:
        raise _fail(command, str(error), 1) from None


@app.command(name="run")
def run_command(
    source: SourceOption,
    root: RootOption = DEFAULT_ROOT,
    stack: StackOption = DEFAULT_STACK,
    docs: DocsOption = False,
    force: ForceOption = False,
    ca_bundle: CaBundleOption = None,
) -> None:
    """The whole lake on this machine, as the AWS workflow runs it: ingest -> process ->
    crawl -> gold. Ends with a report on stdout (rows per table, time per step, outputs, the
    first lines of each gold table)."""
    _run_lake("run", source, _zones("run", root, stack), docs, force, ca_bundle)


# About a minute on the reference machine (2 cores) on its slow days too (bench/README.md).
DEMO_ROWS = 500_000


@app.command()
def demo(
    rows: Annotated[int, typer.Option(
        "--rows", help="Synthetic candidates to generate (the real file has 5,095,270).")
    ] = DEMO_ROWS,
    root: RootOption = DEFAULT_ROOT,
    stack: StackOption = DEFAULT_STACK,
) -> None:
    """`lake synth` + `lake run` on a generated ENEM 2019 archive: the whole lake in about a
    minute, no AWS account needed. The archive is kept under <root>/_synth/ and reused."""
    from lake.synth import generator

    z = _zones("demo", root, stack)
    if rows < 1:
        raise _fail("demo", f"--rows {rows}: give at least 1 row")
    archive = Path(root) / "_synth" / f"{rows}-rows" / "microdados_enem_2019.zip"
    if not archive.exists():
        archive.parent.mkdir(parents=True, exist_ok=True)
        typer.echo(f"lake demo: writing {rows:,} synthetic rows to {archive}", err=True)
        result = generator.write_zip(archive, rows, "original", progress=_Progress(rows))
        typer.echo(f"lake demo: {result.rows:,} rows in {result.seconds:.1f} s", err=True)
    _run_lake("demo", str(archive), z)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
