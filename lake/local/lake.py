"""The lake on one machine: the AWS workflow's steps, in order, on a stack's folders.

    ingest (jobs/ingest/download.py) -> process (the Glue job's code, Spark local mode)
    -> crawl (DuckDB catalog) -> gold (queries/*.sql into the gold zone)

Zones are `<root>/<stack>/{raw,processed,restricted,rejected,gold}` and the catalog is
`<root>/<stack>/catalog.duckdb` (the Contracts in the README).
"""

from __future__ import annotations

import re
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from jobs.contract import (
    CATALOG_FILE,
    DEFAULT_MIN_GROUP_SIZE,
    DEFAULT_ROLE,
    MIN_GROUP_SIZE,
    ROLE_ZONES,
    report_page,
)
from jobs.errors import UsageError, UserError
from lake.report import DEFAULT_LANG

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
QUERIES = PROJECT_ROOT / "queries"


class LakeError(UserError):
    """A step cannot run for a reason the user can fix; one line."""


@dataclass(frozen=True)
class Zones:
    root: Path
    stack: str

    @property
    def base(self) -> Path:
        return self.root / self.stack

    def zone(self, name: str) -> str:
        return str(self.base / name)

    @property
    def raw(self) -> str:
        return self.zone("raw")

    @property
    def processed(self) -> str:
        return self.zone("processed")

    @property
    def restricted(self) -> str:
        return self.zone("restricted")

    @property
    def rejected(self) -> str:
        return self.zone("rejected")

    @property
    def gold(self) -> str:
        return self.zone("gold")

    @property
    def catalog(self) -> Path:
        return self.base / CATALOG_FILE


def zones(root: str | Path, stack: str) -> Zones:
    """A stack's zones under `root`; UsageError for a stack or root that cannot hold them."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", stack):
        raise UsageError(f"--stack {stack!r}: use letters, digits, '-', '_' or '.'")
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise UsageError(f"--root {root} is a file; give a folder")
    return Zones(root, stack)


# --- the steps ----------------------------------------------------------------------------------

def process(z: Zones, max_rejected_share: float | None = None, verbose: bool = False):
    """Run the Glue job's code on this machine (Spark local mode); returns its RunSummary.
    Spark's own output shows only with `verbose`."""
    from jobs.process.csv_to_parquet import local_session, tune
    from jobs.process.pipeline import run as run_job
    from jobs.process.runs import Options

    options = Options(raw=z.raw, processed=z.processed, restricted=z.restricted,
                      rejected=z.rejected)
    if max_rejected_share is not None:
        options.max_rejected_share = max_rejected_share
    require_ingestion(z)
    spark = local_session(quiet=not verbose)
    interrupted = threading.Event()

    def on_ctrl_c(_signal, _frame) -> None:
        # PySpark's own handler calls into the JVM from inside a pending call, which fails
        # with a Py4J error of its own; this one only marks the run and stops Python here.
        interrupted.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        tune(spark)
        return run_job(spark, options)
    except Exception:
        if interrupted.is_set():  # what a call cut short by Ctrl-C raised: an interruption
            raise KeyboardInterrupt from None
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
        spark.stop()


def require_ingestion(z: Zones) -> None:
    """A stack with nothing ingested is a mistake (a mistyped --stack, a step skipped): say so
    before anything is written."""
    from jobs.process.inputs import newest_complete_ingestions
    from jobs.storage import LocalStorage

    if not newest_complete_ingestions(z.raw, LocalStorage()):
        raise LakeError(f"nothing is ingested in {z.raw}: run `lake ingest --source URL|ZIP` "
                        f"or `lake upload DIR` first (or `lake run --source …`)")


def latest_published(z: Zones):
    """The newest published run summary (what the processed zone holds now), or None."""
    from jobs.process.runs import run_summaries
    from jobs.storage import LocalStorage

    published = [s for s in run_summaries(z.processed, LocalStorage())
                 if s.status == "published"]
    return published[-1] if published else None


def crawl(z: Zones):
    """What the two crawlers do: the processed zone's tables into the analysts' and the
    researchers' catalogs, the restricted zone's into the researchers' only."""
    from lake.local.catalog import crawl_zones, discover

    if not discover(Path(z.processed)):  # checked first, so a mistyped --stack makes nothing
        raise LakeError(f"{z.processed} holds no table yet; run `lake process` first")
    return crawl_zones(z.base, z.stack)


def catalog(z: Zones, role: str = DEFAULT_ROLE) -> Path:
    from lake.local.access import catalog_file

    return catalog_file(z.base, role)


def check_min_group_size(value: object) -> int:
    """`--min-group-size` as a number, checked as the gold job checks it; UsageError (one
    line) otherwise."""
    text = str(value).strip()
    problem = MIN_GROUP_SIZE.problem(int(text) if re.fullmatch(r"-?[0-9]+", text) else text)
    if problem:
        raise UsageError(f"--min-group-size {text}: {problem} (the fewest candidates a "
                         f"published gold row may count)")
    return int(text)


def gold(z: Zones, queries: Path = QUERIES, on_result=None,
         min_group_size: int = DEFAULT_MIN_GROUP_SIZE):
    """Every saved query into the gold zone, groups of fewer than `min_group_size` candidates
    withheld."""
    from lake.local.gold import export

    threshold = check_min_group_size(min_group_size)
    require_data_tables(z)
    return export(z.catalog, queries, Path(z.gold), on_result=on_result,
                  min_group_size=threshold,
                  audiences=[catalog(z, "business"), catalog(z, "researcher")])


def require_data_tables(z: Zones) -> None:
    """What the gold queries read must be in the catalog: else one line naming the step that
    puts it there (process, crawl), before anything is written."""
    from lake.local.catalog import connect, discover, table_names

    def data(names: set[str]) -> set[str]:
        return {name for name in names if not name.startswith(("label_", "gold_"))}

    processed = {table.name for table in discover(Path(z.processed))}
    unprocessed = (f"{z.processed} holds no data table yet: run `lake process` and `lake crawl` "
                   f"first (or `lake run`)")
    if not z.catalog.exists():
        raise LakeError(unprocessed if not data(processed) else
                        f"no catalog at {z.catalog}; run `lake crawl` first")
    with connect(z.catalog, read_only=True) as con:
        cataloged = set(table_names(con))
    if processed - cataloged:
        raise LakeError(f"the catalog lacks {', '.join(sorted(processed - cataloged))} from "
                        f"{z.processed}: run `lake crawl` first")
    if not data(cataloged):
        raise LakeError(unprocessed)


def write_report(z: Zones, out: Path | None = None, queries: Path = QUERIES,
                 role: str = DEFAULT_ROLE, lang: str = DEFAULT_LANG) -> Path:
    """The analysts' page of the stack's gold tables (default: gold/_report/index.html), from
    what `role` reads, in `lang` (pt-BR or en): a business user's page has the gold tables
    alone (no label tables or run summary, which lie in the processed zone)."""
    from lake.local.access import check_role
    from lake.report.build import from_lake

    processed = z.processed if "processed" in ROLE_ZONES[check_role(role)] else None
    return from_lake(catalog(z, role), processed, out or Path(report_page(z.gold)), queries,
                     lang)


@dataclass(frozen=True)
class TableInfo:
    name: str
    rows: int
    columns: int


def tables(z: Zones, role: str = DEFAULT_ROLE) -> list[TableInfo]:
    """The tables `role` reads, with their row and column counts (the restricted ones under
    the name a researcher uses in Athena, `<database>_restricted.<table>`)."""
    from lake.local.catalog import describe

    return [TableInfo(*found) for found in describe(z.base, role)]


def table_columns(z: Zones, table: str, role: str = DEFAULT_ROLE) -> list:
    """The columns of `table` as `role` reads it: Athena's type, whether the column is public
    or restricted, and INEP's description (`lake.local.catalog.Column`)."""
    from lake.local.catalog import columns

    return columns(z.base, table, role)


def query(z: Zones, athena_sql: str, role: str = DEFAULT_ROLE):
    """One Athena SQL statement as `role` against the stack's catalogs: its whole `Result`
    (`stream` reads a large one as it arrives)."""
    from lake.local.catalog import run_query

    return run_query(z.base, athena_sql, role)


def stream(z: Zones, athena_sql: str, role: str = DEFAULT_ROLE):
    """One Athena SQL statement as `role`: a context manager of its `Rows`, in batches as
    DuckDB produces them."""
    from lake.local.catalog import open_rows

    return open_rows(z.base, athena_sql, role)


def demo_archive(root: str | Path, rows: int, progress=None, log=None) -> Path:
    """The synthetic archive `lake demo` runs on: written once per row count under
    `<root>/_synth/`, then reused."""
    from lake.synth import archive as synth

    if rows < 1:
        raise UsageError(f"--rows {rows}: give at least 1 row")
    path = Path(root) / "_synth" / f"{rows}-rows" / "microdados_enem_2019.zip"
    if not path.exists():
        made = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
        path.parent.mkdir(parents=True, exist_ok=True)
        (log or (lambda _: None))(f"writing {rows:,} synthetic rows to {path}")
        try:
            result = synth.synthesize(path, rows, "original", progress=progress)
        except BaseException:  # Ctrl-C too: the folders made for it go with the archive
            for folder in made:  # deepest first
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
            raise
        (log or (lambda _: None))(f"{result.rows:,} rows in {result.seconds:.1f} s")
    return path


# --- a whole run and its report ---------------------------------------------------------------

@dataclass
class Step:
    name: str
    seconds: float
    detail: str


@dataclass
class RunReport:
    zones: Zones
    steps: list[Step] = field(default_factory=list)
    summary: object = None
    """The processing RunSummary that produced the processed zone's tables."""
    gold: list = field(default_factory=list)
    page: Path | None = None
    """The analysts' report the run ended with."""
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE
    """The gold step withheld the groups smaller than this."""


def timed(report: RunReport, name: str, action, describe):
    started = time.monotonic()
    result = action()
    report.steps.append(Step(name, time.monotonic() - started, describe(result)))
    return result


def run(source: str | None, z: Zones, ingest_options=None, progress=None, log=None,
        min_group_size: int = DEFAULT_MIN_GROUP_SIZE, verbose: bool = False) -> RunReport:
    """ingest -> process -> crawl -> gold -> report; raises a UserError on the first failing
    step. Without a `source`, the raw zone's newest ingestion is processed."""
    from jobs.ingest import download

    threshold = check_min_group_size(min_group_size)  # before any step runs
    report = RunReport(z, min_group_size=threshold)
    say = log or (lambda message: None)

    def ingest():
        return download.ingest(source, z.raw, ingest_options, progress=progress)

    if source is None:  # what `lake ingest` or `lake upload` put in the raw zone
        require_ingestion(z)
        say(f"no --source: processing what {z.raw} holds")
    else:
        say(f"ingest {source} -> {z.raw}")
        timed(report, "ingest", ingest, lambda r: (
            f"{r.status}: {r.folder}" if r.status == "ingested" else f"unchanged: {r.folder}"))
    say(f"process {z.raw} -> {z.processed} (Spark, local mode)")
    summary = timed(report, "process", lambda: process(z, verbose=verbose), lambda s: (
        f"run {s.run_id}: {s.status}" if s.status != "noop"
        else "no-op: the newest ingestion is already processed"))
    report.summary = summary if summary.status == "published" else latest_published(z)
    say(f"crawl {z.processed} -> {z.catalog}")
    timed(report, "crawl", lambda: crawl(z), lambda tables: f"{len(tables)} tables")
    say(f"gold queries/*.sql -> {z.gold}")
    report.gold = timed(report, "gold", lambda: gold(z, min_group_size=threshold), lambda rs: (
        f"{sum(1 for r in rs if not r.error)} of {len(rs)} queries"))
    failed = [r for r in report.gold if r.error]
    if failed:
        raise LakeError("gold: " + "; ".join(f"{r.name}: {r.error}" for r in failed))
    say(f"report gold tables -> {report_page(z.gold)}")
    report.page = timed(report, "report", lambda: write_report(z), str)
    return report


def withheld_table(results: list) -> str:
    """Per gold query: its rows, the groups the small-group rule withheld, and why."""
    from lake.local.output import table

    rows = [(r.name, r.rows, r.withholding.withheld, r.withholding.reason() or "—")
            for r in results if r.withholding is not None and not r.error]
    return table(["query", "rows", "withheld", "why"], rows, indent="  ")


def render(report: RunReport, preview_rows: int = 3) -> str:
    """The short report a run ends with (stdout)."""
    from lake.local.catalog import run_query
    from lake.local.output import table

    z = report.zones
    lines = [f"lake run: stack {z.stack!r} in {z.base}", "", "steps:"]
    lines += [f"  {s.name:<8} {s.seconds:6.1f} s  {s.detail}" for s in report.steps]
    lines.append(f"  {'total':<8} {sum(s.seconds for s in report.steps):6.1f} s")
    if report.summary is not None:
        lines += ["", f"tables (processing run {report.summary.run_id}):"]
        rows = [(name, t.rows_read, t.rows_written, t.rows_rejected)
                for name, t in sorted(report.summary.tables.items())]
        lines.append(table(["table", "rows in", "written", "rejected"], rows, indent="  "))
    lines += ["", "outputs:",
              f"  raw        {z.raw}", f"  processed  {z.processed}",
              f"  rejected   {z.rejected}", f"  gold       {z.gold}",
              f"  catalog    {z.catalog}  (lake tables; lake query \"SELECT …\")"]
    if report.page is not None:
        lines.append(f"  report     {report.page}  (open it in a browser)")
    if report.gold:
        lines += ["", f"small groups withheld (fewer than {report.min_group_size} candidates; "
                      f"never published):", withheld_table(report.gold)]
    for result in report.gold:
        preview = run_query(z.base, f"SELECT * FROM {result.table} LIMIT {preview_rows}")
        lines += ["", f"{result.table} ({result.rows:,} rows; first {len(preview.rows)}):",
                  table(preview.columns, preview.rows, indent="  ")]
    return "\n".join(lines)
