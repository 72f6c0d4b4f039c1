"""`lake`: the data lake's local command line (results on stdout, progress and errors on stderr).

    lake synth --rows 100000 --layout original --out enem.zip [--seed 7]
    lake ingest --source URL|ZIP [--target URI] [--root .lake --stack dev]
    lake upload DIR [--target URI] [--root .lake --stack dev]
    lake process | crawl | gold | tables [--root .lake --stack dev]
    lake query "SELECT …" [--format table|csv|json] [--root .lake --stack dev]
    lake report [--root .lake --stack dev] [--out FILE]
    lake report --gold s3://B/ --processed s3://B/ --database DB --out FILE
    lake run --source URL|ZIP [--root .lake --stack dev]
    lake demo [--rows 500000] [--root .lake --stack dev]

Each command parses its options, calls the lake on one machine (`lake.local.lake`, the
ingestion, the synthetic generator) and prints. An error a user can cause (`UserError`) becomes
one line, `lake <command>: error: <what to fix>`, and its exit code, here in `LakeCommands` only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer._click.exceptions import NoArgsIsHelpError  # Typer bundles its own Click
from typer._click.exceptions import UsageError as CommandLineError
from typer.core import TyperGroup

from jobs.contract import DEFAULT_MIN_GROUP_SIZE, DEFAULT_ROLE
from jobs.errors import UsageError, UserError
from lake.console import RowProgress, bytes_progress, log_to_stderr
from lake.failures import INTERRUPTED, one_line
from lake.options import (
    DEFAULT_ROOT,
    DEFAULT_STACK,
    DEMO_ROWS,
    CaBundleOption,
    ConcurrencyOption,
    DatabaseOption,
    DatasetOption,
    DocsOption,
    ForceOption,
    FormatOption,
    GoldUriOption,
    LangOption,
    LayoutOption,
    LimitOption,
    MaxRejectedShareOption,
    MinGroupSizeOption,
    PartSizeOption,
    ProcessedUriOption,
    ReportOutOption,
    RoleOption,
    RootOption,
    RowsOption,
    RunSourceOption,
    SourceOption,
    StackOption,
    TargetOption,
    VerboseOption,
)
from lake.report import DEFAULT_LANG


class LakeCommands(TyperGroup):
    """The commands, with every failure a user can cause mapped to one line and its exit code:
    UserError, Ctrl-C (130), a mistyped command or option (2), and what `lake.failures` knows
    (AWS sign-in, unwritable places). Anything else is a bug and keeps its traceback."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent, **extra)
        except CommandLineError as error:  # `lake --bogus`
            self.mistyped(error)

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except CommandLineError as error:
            self.mistyped(error)
        except UserError as error:
            self.fail(ctx, f"error: {error}", error.exit_code)
        except KeyboardInterrupt:
            self.fail(ctx, "interrupted; what it had half-written is gone", INTERRUPTED)
        except Exception as error:  # the CLI's edge: known failures become their one line
            line = one_line(error)
            if line is None:
                raise
            self.fail(ctx, f"error: {line}", 1)

    @staticmethod
    def mistyped(error: CommandLineError) -> None:
        """A mistyped command, option or value: one line, not click's usage block."""
        if isinstance(error, NoArgsIsHelpError):  # plain `lake`: the help is what was asked
            raise error
        # named as `fail` names it, however the program was started (`python -m lake.cli`)
        path = " ".join(["lake", *(error.ctx.command_path.split()[1:] if error.ctx else [])])
        message = error.format_message().rstrip(".")
        typer.echo(f"{path}: error: {message} (see {path} --help)", err=True)
        raise typer.Exit(error.exit_code) from None

    @staticmethod
    def fail(ctx: typer.Context, message: str, code: int) -> None:
        name = f"lake {ctx.invoked_subcommand}" if ctx.invoked_subcommand else "lake"
        typer.echo(f"{name}: {message}", err=True)
        raise typer.Exit(code) from None


app = typer.Typer(cls=LakeCommands, help="ENEM 2019 data lake on one machine.",
                  add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None)

def _zones(root: str, stack: str):
    from lake.local import lake

    return lake.zones(root, stack)


def _raw(target: str | None, root: str, stack: str) -> str:
    return target or str(Path(root) / stack / "raw")


def _version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"lake {version('enem-datalake')}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """ENEM 2019 data lake on one machine."""


@app.command()
def synth(
    rows: RowsOption,
    layout: LayoutOption,
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
    from lake.synth import archive  # pyarrow loads only when this command runs

    result = archive.synthesize(out, rows, layout, seed, RowProgress("lake synth", rows))
    typer.echo(f"lake synth: {result.rows:,} rows ({layout}) in {result.seconds:.1f} s, "
               f"{result.rows_per_second:,.0f} rows/s; CSV {result.csv_bytes / 1e6:,.1f} MB, "
               f"zip {result.zip_bytes / 1e6:,.1f} MB", err=True)
    typer.echo(str(result.path))


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
    from jobs.ingest.publish import UploadSettings

    log_to_stderr()
    options = download.IngestOptions(dataset=dataset, keep_docs=docs, force=force,
                                     upload=UploadSettings(part_size_mb, concurrency),
                                     ca_bundle=ca_bundle)
    result = download.ingest(source, _raw(target, root, stack), options,
                             progress=bytes_progress("ingest"))
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
    from jobs.ingest.publish import UploadSettings
    from lake import upload as uploader

    log_to_stderr()
    result = uploader.upload_folder(
        folder, _raw(target, root, stack), dataset=dataset, keep_docs=docs, force=force,
        settings=UploadSettings(part_size_mb, concurrency), workers=workers,
        progress=bytes_progress("upload"))
    typer.echo(f"lake upload: {uploader.summary(result)}", err=True)
    for name, reason in result.failed.items():
        typer.echo(f"lake upload: failed: {name}: {reason}", err=True)
    if result.status == "failed":
        raise typer.Exit(1)
    typer.echo(result.folder)


@app.command()
def process(
    root: RootOption = DEFAULT_ROOT,
    stack: StackOption = DEFAULT_STACK,
    max_rejected_share: MaxRejectedShareOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Raw CSVs -> typed, checked, partitioned Parquet: the Glue job's code, Spark local mode.

    Reads the newest complete ingestion per dataset in <root>/<stack>/raw; writes
    <root>/<stack>/processed (and rejected rows to <root>/<stack>/rejected). Prints the run
    summary (JSON) on stdout.
    """
    from lake.local import lake

    z = _zones(root, stack)
    log_to_stderr()
    typer.echo(lake.process(z, max_rejected_share, verbose=verbose).to_json())


@app.command()
def crawl(root: RootOption = DEFAULT_ROOT, stack: StackOption = DEFAULT_STACK) -> None:
    """Catalog the processed zone as the Glue crawler would: one table per folder, partitions
    discovered, in <root>/<stack>/catalog.duckdb. Prints the tables on stdout."""
    from lake.local import lake
    from lake.local.output import table

    tables = lake.crawl(_zones(root, stack))
    typer.echo(table(["table", "partitions", "files", "location"],
                     [(t.name, ",".join(t.partitions), t.files, t.location) for t in tables]))


@app.command()
def gold(root: RootOption = DEFAULT_ROOT, stack: StackOption = DEFAULT_STACK,
         min_group_size: MinGroupSizeOption = DEFAULT_MIN_GROUP_SIZE) -> None:
    """Run every queries/*.sql (Athena SQL, translated for DuckDB) into <root>/<stack>/gold and
    register each result as gold_<query> in the catalog, withholding every row whose group has
    fewer than --min-group-size candidates. Exit code 1 if any query failed."""
    from lake.local import lake
    from lake.local.output import table

    def say(result) -> None:
        state = f"error: {result.error}" if result.error else (
            f"{result.rows:,} rows, {result.withholding.summary()}")
        typer.echo(f"lake gold: {result.name}: {state} ({result.seconds:.1f} s)", err=True)

    results = lake.gold(_zones(root, stack), on_result=say, min_group_size=min_group_size)
    typer.echo(table(["table", "rows", "withheld", "location"],
                     [(r.table, r.rows, r.withholding.withheld, r.location)
                      for r in results if not r.error]))
    if any(r.error for r in results):
        raise typer.Exit(1)


@app.command()
def tables(
    name: Annotated[Optional[str], typer.Argument(  # noqa: UP045
        metavar="[TABLE]", help="A table --role reads: list its columns instead.")] = None,
    root: RootOption = DEFAULT_ROOT,
    stack: StackOption = DEFAULT_STACK,
    role: RoleOption = DEFAULT_ROLE,
) -> None:
    """List the tables --role reads with their row and column counts; a researcher's restricted
    tables under the names Athena gives them (<database>_restricted.<table>).

    With a TABLE, its columns: Athena's type, whether the column is public or restricted (INEP's
    2022 re-release is the public layout; README: Who sees what) and INEP's description from
    its dictionary.
    """
    from lake.local import lake
    from lake.local.output import table

    z = _zones(root, stack)
    if name is None:
        found = lake.tables(z, role)
        typer.echo(table(["table", "rows", "columns"],
                         [(t.name, t.rows, t.columns) for t in found]))
        return
    columns = lake.table_columns(z, name, role)
    typer.echo(table(["column", "type", "access", "description"],
                     [(c.name, c.type, c.access, c.description) for c in columns]))


@app.command()
def query(
    sql: Annotated[Optional[str], typer.Argument(  # noqa: UP045
        help="One Athena (Trino) SQL statement; '-' reads it from stdin.")] = None,
    sql_file: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--file", "-f", help="Read the statement from a file, e.g. queries/essay_status.sql.")
    ] = None,
    output_format: FormatOption = "table",
    limit: LimitOption = None,
    root: RootOption = DEFAULT_ROOT,
    stack: StackOption = DEFAULT_STACK,
    role: RoleOption = DEFAULT_ROLE,
) -> None:
    """Query the local catalog in Athena's SQL (translated to DuckDB with sqlglot), with what
    --role reads: a statement that reaches beyond it is refused in one line. SHOW TABLES, SHOW
    COLUMNS FROM t, SHOW DATABASES and DESCRIBE t answer as Athena does.

    Only the result goes to stdout, written as its rows come (`lake query "…" --format csv >
    out.csv` holds a batch of rows in memory, not the result); how many rows were left out goes
    to stderr. A statement that starts with a `--` comment must come after `--` on the command
    line, or from --file or stdin.
    """
    from lake.local import lake
    from lake.local.output import TABLE_ROWS, write

    if sql is None and sql_file is None:
        raise UsageError('give the SQL: lake query "SELECT …", --file FILE, or - for stdin')
    if sql is not None and sql_file is not None:
        raise UsageError("give the SQL as an argument or with --file, not both")
    if sql_file is not None:
        try:
            sql = sql_file.read_text(encoding="utf-8")
        except OSError as error:
            raise UsageError(f"--file {sql_file}: {error.strerror or error}") from None
    elif sql == "-":
        sql = sys.stdin.read()
    default = TABLE_ROWS if output_format == "table" else None
    shown = default if limit is None else (limit or None)  # --limit 0: every row
    with lake.stream(_zones(root, stack), sql, role) as rows:
        try:
            printed = write(rows, output_format, sys.stdout, shown)
            sys.stdout.flush()
        except BrokenPipeError:  # `lake query … | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return
        total = rows.total() if shown is not None and printed == shown else printed
    if total > printed:
        more = ("--limit N shows more, --format csv writes them all" if output_format == "table"
                else "without --limit, every row")
        typer.echo(f"lake query: {printed:,} of {total:,} rows shown ({more})", err=True)


@app.command()
def report(
    root: RootOption = DEFAULT_ROOT,
    stack: StackOption = DEFAULT_STACK,
    out: ReportOutOption = None,
    gold_uri: GoldUriOption = None,
    processed_uri: ProcessedUriOption = None,
    database: DatabaseOption = None,
    role: RoleOption = DEFAULT_ROLE,
    lang: LangOption = DEFAULT_LANG,
) -> None:
    """One self-contained HTML page of the gold answers (charts, a tile map of Brazil, the
    numbers), from this machine's lake or, with --gold, a stack in AWS, in Brazilian
    Portuguese or, with --lang en, English. Prints its path."""
    from lake.local import lake
    from lake.report.build import from_stack

    if gold_uri or processed_uri or database:
        if not (gold_uri and processed_uri and database and out):
            raise UsageError("a stack in AWS needs --gold, --processed, --database and --out")
        path = from_stack(gold_uri, processed_uri, database, Path(out), lake.QUERIES,
                          lang=lang)
    else:
        path = lake.write_report(_zones(root, stack), Path(out) if out else None, role=role,
                                 lang=lang)
    typer.echo(str(path))


def _run_lake(command: str, source: str | None, z, docs: bool = False, force: bool = False,
              ca_bundle: str | None = None,
              min_group_size: int = DEFAULT_MIN_GROUP_SIZE, verbose: bool = False) -> None:
    from jobs.ingest.download import IngestOptions
    from lake.local import lake

    log_to_stderr()
    report = lake.run(source, z, IngestOptions(keep_docs=docs, force=force, ca_bundle=ca_bundle),
                      progress=bytes_progress(command),
                      log=lambda message: typer.echo(f"lake {command}: {message}", err=True),
                      min_group_size=min_group_size, verbose=verbose)
    typer.echo(lake.render(report))


@app.command(name="run")
def run_command(
    source: RunSourceOption = None,
    root: RootOption = DEFAULT_ROOT,
    stack: StackOption = DEFAULT_STACK,
    docs: DocsOption = False,
    force: ForceOption = False,
    ca_bundle: CaBundleOption = None,
    min_group_size: MinGroupSizeOption = DEFAULT_MIN_GROUP_SIZE,
    verbose: VerboseOption = False,
) -> None:
    """The whole lake on this machine, as the AWS workflow runs it: ingest -> process ->
    crawl -> gold. Ends with a report on stdout (rows per table, time per step, outputs, the
    small groups each gold query withheld, the first lines of each gold table)."""
    _run_lake("run", source, _zones(root, stack), docs, force, ca_bundle, min_group_size,
              verbose)


@app.command()
def demo(
    rows: RowsOption = DEMO_ROWS,
    root: RootOption = DEFAULT_ROOT,
    stack: StackOption = DEFAULT_STACK,
    min_group_size: MinGroupSizeOption = DEFAULT_MIN_GROUP_SIZE,
    verbose: VerboseOption = False,
) -> None:
    """`lake synth` + `lake run` on a generated ENEM 2019 archive: the whole lake in about a
    minute, no AWS account needed. The archive is kept under <root>/_synth/ and reused."""
    from lake.local import lake

    z = _zones(root, stack)
    archive = lake.demo_archive(root, rows, RowProgress("lake demo", rows),
                                log=lambda message: typer.echo(f"lake demo: {message}", err=True))
    _run_lake("demo", str(archive), z, min_group_size=min_group_size, verbose=verbose)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
