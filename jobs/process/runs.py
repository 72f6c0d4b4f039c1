"""The processing runs' bookkeeping: options, what each run read, wrote and rejected
(`processed/_runs/<run id>.json`), and the publish that swaps staged tables in whole."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from jobs.contract import RUNS, STAGING, join, run_summary, staging_folder
from jobs.errors import UserError
from jobs.storage import Storage

log = logging.getLogger("lake.process")

DEFAULT_MAX_REJECTED_SHARE = 0.01


class ProcessingError(UserError):
    """A problem with the input a user can fix; the message names it."""


class QualityGateError(ProcessingError):
    pass


@dataclass
class Options:
    raw: str
    processed: str
    rejected: str
    restricted: str = ""
    """Where the restricted tables go (the columns INEP withdrew in 2022); required for a file
    of the original release."""
    max_rejected_share: float = DEFAULT_MAX_REJECTED_SHARE
    run_id: str = field(default_factory=lambda: new_run_id())


@dataclass
class TableReport:
    file: str
    layout: str
    rows_read: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    public_columns: int = 0
    """Columns of the table analysts read, in the processed zone (0: none written there)."""
    restricted_columns: int = 0
    """Columns of the table in the restricted zone (0: none written there)."""
    restricted: str = ""
    """What the restricted zone got from this file, or why nothing."""

    @property
    def rejected_share(self) -> float:
        return self.rows_rejected / self.rows_read if self.rows_read else 0.0


@dataclass
class RunSummary:
    run_id: str
    status: str  # "publishing" | "published" | "failed" | "noop"
    started_at: str
    inputs: dict[str, str] = field(default_factory=dict)  # dataset -> ingestion URI
    tables: dict[str, TableReport] = field(default_factory=dict)
    finished_at: str | None = None
    seconds: float = 0.0
    error: str | None = None

    def to_json(self) -> str:
        data = asdict(self)
        for name, report in self.tables.items():
            data["tables"][name]["rejected_share"] = round(report.rejected_share, 6)
        return json.dumps(data, indent=2, ensure_ascii=False)

    @staticmethod
    def from_json(text: str) -> RunSummary:
        data = json.loads(text)
        tables = {name: TableReport(**{k: v for k, v in report.items()
                                       if k != "rejected_share"})
                  for name, report in data.pop("tables", {}).items()}
        return RunSummary(**data, tables=tables)


def new_run_id() -> str:
    """UTC time to the microsecond (so ids sort in run order), plus a random suffix."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run_summaries(processed: str, store: Storage) -> list[RunSummary]:
    summaries = []
    for uri in store.files(join(processed, RUNS)):
        if uri.endswith(".json"):
            summaries.append(RunSummary.from_json(store.read_bytes(uri).decode("utf-8")))
    return sorted(summaries, key=lambda s: s.run_id)


def summary_uri(options: Options, run_id: str) -> str:
    return run_summary(options.processed, run_id)


def staged_zones(options: Options) -> list[str]:
    """The zones a run stages tables in: processed, and restricted where there is one."""
    return [options.processed] + ([options.restricted] if options.restricted else [])


def discard_staging(options: Options, run_id: str, store: Storage) -> None:
    """Delete what a run staged, in every zone (`store` reaches all of them: the zones of a
    lake are all S3 buckets, or all folders)."""
    for zone in staged_zones(options):
        store.delete(staging_folder(zone, run_id))


def publish(summary: RunSummary, options: Options, store: Storage) -> None:
    """Replace each table, in each zone, by its staged copy. The summary is written first with
    status "publishing", so that a run killed half-way is finished by the next one (`recover`)."""
    summary.status = "publishing"
    store.write_text(summary_uri(options, summary.run_id), summary.to_json())
    for zone in staged_zones(options):
        staging_root = staging_folder(zone, summary.run_id)
        for table in store.children(staging_root):
            store.replace(join(staging_root, table), join(zone, table))
        store.delete(staging_root)
    summary.status = "published"


def recover(options: Options, store: Storage, summaries: list[RunSummary]) -> None:
    """Finish publishes that a killed run left half-done; drop other runs' staging."""
    for summary in summaries:
        if summary.status == "publishing":
            log.warning("finishing the publish of run %s, which stopped half-way",
                        summary.run_id)
            publish(summary, options, store)
            store.write_text(summary_uri(options, summary.run_id), summary.to_json())
    for zone in staged_zones(options):
        for run_id in store.children(join(zone, STAGING)):
            if run_id != options.run_id:
                store.delete(staging_folder(zone, run_id))
