"""The facts that the infrastructure (components/) and the runtime code (jobs/) share.

Standard library only and Python 3.9-clean: the Pulumi program, the Lambda, the container, the
Glue jobs (the gold job runs on Glue's Python shell, Python 3.9) and the CLI all import it. Each
limit is defined once here; the stack config refuses what the runtime would refuse, with the
same reason. A check returns the problem as a phrase (or None), and each side words the sentence
around it: the config names its key, the runtime names its argument.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Limit:
    """An inclusive range of whole numbers."""

    low: int
    high: int

    def problem(self, value: object) -> str | None:
        """None if `value` is a whole number in range, else what is wrong with it."""
        if isinstance(value, bool) or not isinstance(value, int) or not (
                self.low <= value <= self.high):
            return f"must be a whole number between {self.low} and {self.high}"
        return None


# --- the zones and what lies in them (README: Contracts) ---------------------------------------
# Every path is a URI: `s3://bucket/prefix` in AWS, a folder on one machine.

ZONES = ("raw", "processed", "restricted", "rejected", "gold")
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"  # UTC, 20261125T101253Z: an ingestion's stamp, a gold run's id
INGESTION_PREFIX = "ingest="
MANIFEST = "_manifest.json"  # written last: an ingestion without it is incomplete
DOCS = "docs"  # an ingestion's documents, on request
RUNS = "_runs"  # processed/_runs/<run id>.json: what a processing run did
STAGING = "_staging"  # processed/_staging/<run id>/<table>/: a run's tables before the swap
RUN_PREFIX = "run="  # rejected/<table>/run=<run id>/, gold/<query>/run=<run id>/
LABEL_PREFIX = "label_"  # label_<column>: a column's label table
GOLD_PREFIX = "gold_"  # gold_<query>: a saved query's catalog table
LABEL_FILE = "labels.parquet"  # processed/label_<column>/labels.parquet
CATALOG_FILE = "catalog.duckdb"  # the local lake's catalog: <root>/<stack>/catalog.duckdb
REPORT = "_report/index.html"  # gold/_report/index.html: the analysts' page (`lake report`)
NOT_DATA = (RUNS, STAGING)  # folders of the processed zone that hold no table

# --- who sees what (README: Who sees what) ----------------------------------------------------
# Each audience reads what the ones before it read, and more:
#   business    the gold tables (and the analysts' report)
#   analyst     + the public microdata tables (processed zone) and the label tables
#   researcher  + the restricted tables (restricted zone) and the rejected rows
# Nobody but the jobs reads the raw zone.
ROLES = ("business", "analyst", "researcher")
DEFAULT_ROLE = "analyst"
ROLE_ZONES = {"business": ("gold",), "analyst": ("gold", "processed"),
              "researcher": ("gold", "processed", "restricted", "rejected")}
RESTRICTED_DATABASE_SUFFIX = "_restricted"  # the restricted tables' Glue database: <db>_restricted
ATHENA_RESULTS_PREFIX = "athena-results/"  # researchers' query results, inside the restricted zone

# Gold never publishes a group smaller than this many candidates (`datalake:gold.minGroupSize`,
# `lake gold --min-group-size`); a query names its group-size column (queries/README.md).
DEFAULT_MIN_GROUP_SIZE = 10
MIN_GROUP_SIZE = Limit(1, 1000)
GROUP_SIZE_COLUMN = "candidates"  # the convention; a header comment may name others


def restricted_database(database: str) -> str:
    """The Glue database of the restricted tables beside `database`."""
    return database + RESTRICTED_DATABASE_SUFFIX


def join(uri: str, *parts: str) -> str:
    """`join("s3://b/raw/", "x", "y.csv")` -> `s3://b/raw/x/y.csv` (the same for folders)."""
    base = uri.rstrip("/")
    return "/".join([base, *(part.strip("/") for part in parts if part)])


def utc_stamp(now: datetime | None = None) -> str:
    """`now` (default: this moment) in UTC as STAMP_FORMAT."""
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime(STAMP_FORMAT)


def ingestion_folder(raw: str, dataset: str, stamp: str) -> str:
    """`raw/<dataset>/ingest=<stamp>`: one ingestion."""
    return join(raw, dataset, INGESTION_PREFIX + stamp)


def ingestion_stamp(folder_name: str) -> str | None:
    """The stamp of an `ingest=<stamp>` folder name, or None for any other name."""
    return folder_name[len(INGESTION_PREFIX):] if folder_name.startswith(INGESTION_PREFIX) \
        else None


def run_summary(processed: str, run_id: str) -> str:
    return join(processed, RUNS, f"{run_id}.json")


def staging_folder(processed: str, run_id: str) -> str:
    return join(processed, STAGING, run_id)


def rejected_rows(rejected: str, table: str, run_id: str) -> str:
    return join(rejected, table, RUN_PREFIX + run_id)


def label_table(column: str) -> str:
    """`label_<column>`: the label table of an ENEM column (lower case, as the catalog has it)."""
    return LABEL_PREFIX + column.lower()


def label_file(processed: str, table: str) -> str:
    return join(processed, table, LABEL_FILE)


def gold_folder(gold: str, query: str) -> str:
    """`gold/<query>`: every result of one saved query."""
    return join(gold, query)


def gold_result(gold: str, query: str, run_id: str) -> str:
    """`gold/<query>/run=<run id>`: one run's result of one saved query."""
    return join(gold, query, RUN_PREFIX + run_id)


def report_page(gold: str) -> str:
    """`gold/_report/index.html`: where `lake run` leaves the analysts' report (no query may be
    named `_report`: names start with a letter)."""
    return join(gold, REPORT)


def gold_table(query: str) -> str:
    """`gold_<query>`: the catalog table of a saved query's current result."""
    return GOLD_PREFIX + query


# --- uploads into the raw zone ----------------------------------------------------------------

PART_SIZE_MB = Limit(5, 5 * 1024)  # S3's multipart part sizes: 5 MiB to 5 GiB
MAX_PARTS = 10_000  # S3's most parts per multipart upload
# Parts uploaded at once; memory is about part size x (concurrency + 1).
UPLOAD_CONCURRENCY = Limit(1, 32)

# --- the source an ingestion may fetch ---------------------------------------------------------

MAX_CONTAINER_ARGUMENT = 256  # SageMaker passes at most 256 characters per container argument


def source_url_problem(url: object, allowed_hosts: tuple[str, ...] | list[str]) -> str | None:
    """None if the lake may ingest `url`, else what is wrong with it, as a phrase that follows
    the URL: it must be https, carry no user name or password, fit one container argument and
    be on one of `allowed_hosts`."""
    example = f"https://{allowed_hosts[0]}/….zip" if allowed_hosts else "https://host/….zip"
    not_https = f"must be an https:// URL such as {example}"
    if not isinstance(url, str):
        return not_https
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed [ in the host
        return not_https
    if parts.scheme != "https" or not host:
        return not_https
    if parts.username is not None or parts.password is not None:
        return "must not carry a user name or password"
    if len(url) > MAX_CONTAINER_ARGUMENT:
        return (f"is {len(url)} characters; SageMaker passes at most {MAX_CONTAINER_ARGUMENT} "
                f"per container argument, so use a shorter URL")
    if host not in allowed_hosts:
        return (f"is on host {host}, which is not allowed; use a URL on "
                f"{', '.join(allowed_hosts)} or add the host to the stack's ingest.allowedHosts")
    return None


# --- SageMaker processing job names ------------------------------------------------------------

MAX_JOB_NAME = 63
JOB_NAME_PATTERN = r"[a-zA-Z0-9](-*[a-zA-Z0-9])*"
JOB_STAMP_FORMAT = "%Y%m%dt%H%M%S"  # UTC, lower-case t: 20261125t101253
JOB_SUFFIX_BYTES = 3  # six hex digits tell apart jobs started in the same second
MAX_JOB_PREFIX = MAX_JOB_NAME - len("-20261125t101253-") - 2 * JOB_SUFFIX_BYTES


def job_prefix_problem(prefix: str) -> str | None:
    """None if `<prefix>-<yyyymmddthhmmss>-<6 hex>` is always a valid SageMaker job name."""
    if len(prefix) > MAX_JOB_PREFIX or not re.fullmatch(JOB_NAME_PATTERN, prefix):
        return (f"must be at most {MAX_JOB_PREFIX} letters, digits and hyphens (starting and "
                f"ending with a letter or digit) so that job names "
                f"`<prefix>-<yyyymmddthhmmss>-<6 hex>` fit SageMaker's {MAX_JOB_NAME} characters")
    return None


# --- saved queries and their gold tables -------------------------------------------------------

QUERY_SUFFIX = ".sql"
# Query names become Glue table names: lower case (Glue lower-cases names anyway), no `__`
# (which separates a temporary table's run id), short enough for any suffix.
QUERY_NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
MAX_QUERY_NAME = 128
MAX_QUERY_DESCRIPTION = 1024  # Athena's named-query description
GOLD_POLL_SECONDS = 2.0  # how often the gold job looks at a running query (`--poll-seconds`)


def suggested_query_name(name: str) -> str:
    """A valid query name close to `name` (`Média-por UF` -> `media_por_uf`), or ''."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    candidate = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")
    if candidate[:1].isdigit():
        candidate = f"q_{candidate}"
    candidate = candidate[:MAX_QUERY_NAME].rstrip("_")
    return candidate if QUERY_NAME_PATTERN.fullmatch(candidate) else ""


def query_name_problem(name: str) -> str | None:
    """None if `name` can name the gold table `gold_<name>`, else the sentence that says how to
    rename the file."""
    if len(name) <= MAX_QUERY_NAME and QUERY_NAME_PATTERN.fullmatch(name):
        return None
    suggestion = suggested_query_name(name)
    hint = f", e.g. to {suggestion}{QUERY_SUFFIX}" if suggestion and suggestion != name else ""
    return (f"Query file {name}{QUERY_SUFFIX} must be named with lower-case letters, digits and "
            f"single underscores, starting with a letter, at most {MAX_QUERY_NAME} characters "
            f"(the name becomes the Glue table {GOLD_PREFIX}<name>); rename it{hint}.")


def query_description(sql: str, name: str) -> str:
    """The first comment line of a query (its business question), else its name."""
    for line in sql.splitlines():
        stripped = line.strip()
        if stripped.startswith("--") and stripped.strip("- "):
            return stripped.lstrip("- ").strip()[:MAX_QUERY_DESCRIPTION]
        if stripped:
            break
    return name
