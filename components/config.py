"""The stack configuration: one typed, validated model read from `Pulumi.<stack>.yaml`.

`parse_config` takes the plain values of the stack file (no Pulumi needed), so tests and the
program validate the same way. Any invalid value stops the program before a resource is declared,
with one sentence that names the key and the values it accepts.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from jobs.contract import PART_SIZE_MB, UPLOAD_CONCURRENCY, Limit, source_url_problem

NAMESPACE = "datalake"

ENCRYPTIONS = ("s3", "kms")
WORKER_TYPES = ("G.1X", "G.2X", "G.4X", "G.8X")
FLEX_WORKER_TYPES = ("G.1X", "G.2X")
EXECUTION_CLASSES = ("STANDARD", "FLEX")
GOLD_MAX_CAPACITIES = (0.0625, 1.0)
STORAGE_CLASSES = ("STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE")
# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)
# Athena's smallest per-query cutoff is 10 MB.
MIN_BYTES_SCANNED_CUTOFF = 10 * 1024 * 1024
# Buckets whose lifecycle the stack may tune; athenaResults must expire.
LIFECYCLE_BUCKETS = ("raw", "processed", "rejected", "gold", "athenaResults", "artifacts",
                     "accessLogs")
# S3 keeps an object at least 30 days in STANDARD before a transition to STANDARD_IA
# (lifecycle-transition-general-considerations.html).
MIN_DAYS_BEFORE_STANDARD_IA = 30
# Objects in these classes cannot be read until restored (GetObject fails, Athena skips them):
# only buckets that the lake never reads may move there.
ARCHIVE_CLASSES = ("GLACIER", "DEEP_ARCHIVE")
ARCHIVABLE_BUCKETS = ("rejected", "accessLogs")
# Incomplete multipart uploads (a dropped 3 GB upload) are aborted after this many days, so an
# ingestion, whose uploads stay open until its last byte, must end sooner.
ABORT_MULTIPART_DAYS = 3
LIFECYCLE_FIELDS = ("transitionDays", "transitionStorageClass", "expireDays",
                    "noncurrentExpireDays")
INGEST_KEYS = ("sourceUrl", "allowedHosts", "instanceType", "volumeSizeGb", "maxRuntimeMinutes",
               "partSizeMb", "uploadConcurrency", "caBundle")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Extra certificate authorities for the source live here; the image copies the folder.
CA_BUNDLE_FOLDER = "images/ingest/certs"
# SageMaker processing instance types: ml.<family>.<size>, e.g. ml.t3.medium, ml.m5.xlarge.
INSTANCE_TYPE_PATTERN = r"ml\.[a-z][a-z0-9-]*\.[a-z0-9]+"
HOST_PATTERN = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+"


class ConfigError(pulumi.RunError):
    """A bad stack setting. Pulumi prints RunError's message alone, without a traceback."""


@dataclass(frozen=True)
class Lifecycle:
    """Per-bucket object lifecycle; None means "never"."""

    transition_days: int | None = None
    transition_storage_class: str = "STANDARD_IA"
    expire_days: int | None = None
    noncurrent_expire_days: int | None = None


@dataclass(frozen=True)
class GlueSettings:
    worker_type: str
    number_of_workers: int
    execution_class: str
    timeout_minutes: int = 120


@dataclass(frozen=True)
class QualitySettings:
    max_rejected_share: float = 0.01
    """A table whose rejected share exceeds this fails the processing run before it publishes."""


@dataclass(frozen=True)
class GoldSettings:
    max_capacity: float = 0.0625
    timeout_minutes: int = 30
    query_timeout_minutes: int = 20
    """One saved query may run this long before the gold job stops it (and fails it)."""


@dataclass(frozen=True)
class IngestSettings:
    """What the trigger Lambda starts: the source, and the SageMaker job that downloads it."""

    source_url: str = "https://download.inep.gov.br/microdados/microdados_enem_2019.zip"
    allowed_hosts: tuple[str, ...] = ("download.inep.gov.br",)
    """Hosts an event's `source` may name (the sourceUrl's host is always one of them)."""
    instance_type: str = "ml.t3.medium"
    volume_size_gb: int = 5
    max_runtime_minutes: int = 120
    part_size_mb: int = 16
    """Size of each part of the multipart upload to the raw zone (S3's minimum is 5 MiB)."""
    upload_concurrency: int = 4
    """Parts uploaded at once."""
    ca_bundle: str | None = None
    """A PEM file under images/ingest/certs/ (path from the project root): CAs the source may
    chain to besides the default trust store; the image carries it."""


@dataclass(frozen=True)
class LakeConfig:
    """Everything that differs between stacks. See the README's config table."""

    schedule: str
    encryption: str
    log_retention_days: int
    glue: GlueSettings
    bytes_scanned_cutoff_per_query: int
    lifecycle: Mapping[str, Lifecycle]
    protect: bool = False
    force_destroy: bool = False
    permissions_boundary: bool = False
    """Every role gets `<project>-boundary-<stack>` (made by bootstrap/) as its boundary."""
    gold: GoldSettings = field(default_factory=GoldSettings)
    quality: QualitySettings = field(default_factory=QualitySettings)
    ecr_keep_images: int = 10
    alert_email: str | None = None
    ingest: IngestSettings = field(default_factory=IngestSettings)

    @property
    def bucket_kms(self) -> bool:
        """Whether zone buckets use the lake's customer KMS key (else SSE-S3)."""
        return self.encryption == "kms"


# --- validation helpers: each raises one sentence naming the key -------------------------------

def _key(path: str) -> str:
    return f"`{NAMESPACE}:{path}`"


def _require(raw: Mapping[str, Any], name: str, path: str) -> Any:
    if raw.get(name) is None:
        raise ConfigError(f"Config key {_key(path)} is required; set it in Pulumi.<stack>.yaml "
                          "(see the README's config table).")
    return raw[name]


def _object(value: Any, path: str, known: tuple[str, ...]) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"Config key {_key(path)} must be an object with keys "
                          f"{', '.join(known)} (got {value!r}).")
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ConfigError(f"Config key {_key(path)} has unknown key(s) {', '.join(unknown)}; "
                          f"accepted keys are {', '.join(known)}.")
    return value


def _choice(value: Any, path: str, choices: tuple) -> Any:
    if value not in choices:
        shown = ", ".join(str(c) for c in choices)
        raise ConfigError(f"Config key {_key(path)} must be one of {shown} (got {value!r}).")
    return value


def _int(value: Any, path: str, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
            maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ConfigError(f"Config key {_key(path)} must be a whole number {bounds} "
                          f"(got {value!r}).")
    return value


def _limited(value: Any, path: str, limit: Limit) -> int:
    """A whole number within one of the limits the runtime enforces too (`jobs.contract`)."""
    problem = limit.problem(value)
    if problem:
        raise ConfigError(f"Config key {_key(path)} {problem} (got {value!r}).")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"Config key {_key(path)} must be true or false (got {value!r}).")
    return value


# AWS cron: cron(minutes hours day-of-month month day-of-week year), one of the two days "?".
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"
_CRON_FIELDS = (
    ("minutes", 0, 59, "", r"[,\-*/]"),
    ("hours", 0, 23, "", r"[,\-*/]"),
    ("day-of-month", 1, 31, "", r"[,\-*?/LW]"),
    ("month", 1, 12, _MONTHS, r"[,\-*/]"),
    ("day-of-week", 1, 7, _DAYS, r"[,\-*?/L]"),  # Glue takes no `#` (unlike EventBridge)
    ("year", 1970, 2199, "", r"[,\-*/]"),
)
# Glue runs a schedule at most every 5 minutes (monitor-data-warehouse-schedule.html).
MIN_SCHEDULE_MINUTES = 5
CRON_HINT = ("an AWS cron expression `cron(minutes hours day-of-month month day-of-week year)` "
             "with `?` in exactly one of the two day fields, e.g. `cron(0 6 * * ? *)`")


def validate_cron(expression: Any, path: str = "schedule") -> str:
    """Return `expression` if it is AWS's 6-field cron form, else raise ConfigError."""
    def fail(why: str) -> ConfigError:
        return ConfigError(f"Config key {_key(path)} must be {CRON_HINT}; "
                           f"{expression!r} {why}.")

    if not isinstance(expression, str):
        raise fail("is not a string")
    match = re.fullmatch(r"cron\((.*)\)", expression.strip())
    if not match:
        raise fail("is not wrapped in cron(...)")
    parts = match.group(1).split()
    if len(parts) != 6:
        raise fail(f"has {len(parts)} fields, not 6")
    for text, (name, low, high, names, symbols) in zip(parts, _CRON_FIELDS, strict=True):
        token = rf"(\d+|{names})" if names else r"(\d+)"
        if not re.fullmatch(rf"({token}|{symbols})+", text):
            raise fail(f"has an invalid {name} field {text!r}")
        for number in re.findall(r"\d+", text.split("#")[0]):
            # Step values after "/" are counts, not field values.
            if f"/{number}" in text:
                continue
            if not low <= int(number) <= high:
                raise fail(f"has {name} {number} outside {low}-{high}")
    if (parts[2] == "?") == (parts[4] == "?"):
        raise fail("must use `?` in exactly one of day-of-month and day-of-week")
    gap = _shortest_gap(parts[0])
    if gap < MIN_SCHEDULE_MINUTES:
        raise fail(f"runs {gap} minute(s) apart; Glue schedules run at most every "
                   f"{MIN_SCHEDULE_MINUTES} minutes")
    return expression.strip()


def _shortest_gap(minutes: str) -> int:
    """The fewest minutes between two runs that the minutes field allows (60 for one run an
    hour), counting the step from the last minute of an hour to the first of the next."""
    chosen: set[int] = set()
    for item in minutes.split(","):
        base, _, step = item.partition("/")
        start, _, end = base.partition("-")
        first = 0 if start in ("*", "") else int(start)
        last = 59 if start in ("*", "") or (step and not end) else int(end or start)
        chosen.update(range(first, last + 1, int(step) if step else 1))
    ordered = sorted(chosen)
    gaps = [b - a for a, b in itertools.pairwise(ordered)] + [60 - ordered[-1] + ordered[0]]
    return min(gaps)


def _lifecycle(value: Any, bucket: str) -> Lifecycle:
    path = f"lifecycle.{bucket}"
    raw = _object(value, path, LIFECYCLE_FIELDS)

    def days(name: str) -> int | None:
        return None if raw.get(name) is None else _int(raw[name], f"{path}.{name}", 1)

    rule = Lifecycle(
        transition_days=days("transitionDays"),
        transition_storage_class=_choice(raw.get("transitionStorageClass", "STANDARD_IA"),
                                         f"{path}.transitionStorageClass", STORAGE_CLASSES),
        expire_days=days("expireDays"),
        noncurrent_expire_days=days("noncurrentExpireDays"),
    )
    if bucket == "artifacts" and rule.expire_days is not None:
        raise ConfigError(f"Config key {_key(path + '.expireDays')} cannot be set: the artifacts "
                          "bucket holds the deployed code (Glue scripts, packages, queries), "
                          "which Pulumi uploads once and replaces itself; an expiry would delete "
                          "code the jobs still run. Remove it.")
    if (rule.transition_days is not None and rule.transition_storage_class == "STANDARD_IA"
            and rule.transition_days < MIN_DAYS_BEFORE_STANDARD_IA):
        raise ConfigError(f"Config key {_key(path + '.transitionDays')} must be at least "
                          f"{MIN_DAYS_BEFORE_STANDARD_IA} for STANDARD_IA (S3 keeps objects "
                          f"that long in STANDARD first), got {rule.transition_days}.")
    if (rule.transition_days is not None and rule.transition_storage_class in ARCHIVE_CLASSES
            and bucket not in ARCHIVABLE_BUCKETS):
        raise ConfigError(f"Config key {_key(path + '.transitionStorageClass')} cannot be "
                          f"{rule.transition_storage_class}: the lake reads this bucket, and "
                          f"archived objects cannot be read until restored; use GLACIER_IR, "
                          f"STANDARD_IA or INTELLIGENT_TIERING.")
    if (rule.transition_days is not None and rule.expire_days is not None
            and rule.expire_days <= rule.transition_days):
        raise ConfigError(f"Config key {_key(path + '.expireDays')} must be greater than "
                          f"transitionDays ({rule.transition_days}), got {rule.expire_days}.")
    return rule


def _ingest(value: Any, root: Path) -> IngestSettings:
    raw = _object(value, "ingest", INGEST_KEYS)
    default = IngestSettings()

    hosts = raw.get("allowedHosts", list(default.allowed_hosts))
    if (not isinstance(hosts, list) or not hosts
            or not all(isinstance(h, str) and re.fullmatch(HOST_PATTERN, h) for h in hosts)):
        raise ConfigError(f"Config key {_key('ingest.allowedHosts')} must be a non-empty list of "
                          f"lower-case host names such as download.inep.gov.br (got {hosts!r}).")

    source_url = raw.get("sourceUrl", default.source_url)
    problem = source_url_problem(source_url, hosts)
    if problem:
        raise ConfigError(f"Config key {_key('ingest.sourceUrl')} {problem} "
                          f"(got {source_url!r}).")

    instance_type = raw.get("instanceType", default.instance_type)
    if not isinstance(instance_type, str) or not re.fullmatch(INSTANCE_TYPE_PATTERN,
                                                               instance_type):
        raise ConfigError(f"Config key {_key('ingest.instanceType')} must be a SageMaker "
                          f"processing instance type ml.<family>.<size>, e.g. ml.t3.medium or "
                          f"ml.m5.large (got {instance_type!r}).")

    def number(key: str, default_value: int, low: int, high: int) -> int:
        return _int(raw.get(key, default_value), f"ingest.{key}", low, high)

    return IngestSettings(
        ca_bundle=_ca_bundle(raw.get("caBundle"), root),
        source_url=source_url,
        allowed_hosts=tuple(hosts),
        instance_type=instance_type,
        volume_size_gb=number("volumeSizeGb", default.volume_size_gb, 1, 16384),
        # Shorter than the buckets' multipart abort, which would cut a running ingestion.
        max_runtime_minutes=number("maxRuntimeMinutes", default.max_runtime_minutes, 1,
                                   ABORT_MULTIPART_DAYS * 24 * 60),
        part_size_mb=_limited(raw.get("partSizeMb", default.part_size_mb), "ingest.partSizeMb",
                              PART_SIZE_MB),
        upload_concurrency=_limited(raw.get("uploadConcurrency", default.upload_concurrency),
                                    "ingest.uploadConcurrency", UPLOAD_CONCURRENCY),
    )


def _ca_bundle(value: Any, root: Path) -> str | None:
    """A PEM file of the repository (`root`) under images/ingest/certs/, or None."""
    if value in (None, ""):
        return None
    where = _key("ingest.caBundle")
    folder = (root / CA_BUNDLE_FOLDER).resolve()
    path = (root / str(value)).resolve()
    if not isinstance(value, str) or folder not in path.parents:
        raise ConfigError(f"Config key {where} must name a file under {CA_BUNDLE_FOLDER}/ (the "
                          f"image copies that folder), e.g. {CA_BUNDLE_FOLDER}/inep-chain.pem "
                          f"(got {value!r}).")
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"Config key {where} names {value}, which cannot be read as a PEM "
                          f"file ({getattr(error, 'strerror', None) or error}).") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ConfigError(f"Config key {where} names {value}, which holds no PEM certificate "
                          f"(-----BEGIN CERTIFICATE-----).")
    return path.relative_to(root.resolve()).as_posix()


def parse_config(raw: Mapping[str, Any], root: Path = PROJECT_ROOT) -> LakeConfig:
    """Validate the stack's `datalake:*` values (keys without the namespace); files the config
    names are read under `root`, the project folder."""
    glue_raw = _object(_require(raw, "glue", "glue"), "glue",
                       ("workerType", "numberOfWorkers", "executionClass", "timeoutMinutes"))
    glue = GlueSettings(
        worker_type=_choice(_require(glue_raw, "workerType", "glue.workerType"),
                            "glue.workerType", WORKER_TYPES),
        number_of_workers=_int(_require(glue_raw, "numberOfWorkers", "glue.numberOfWorkers"),
                               "glue.numberOfWorkers", 2, 299),
        execution_class=_choice(_require(glue_raw, "executionClass", "glue.executionClass"),
                                "glue.executionClass", EXECUTION_CLASSES),
        timeout_minutes=_int(glue_raw.get("timeoutMinutes", 120), "glue.timeoutMinutes", 1, 2880),
    )
    if glue.execution_class == "FLEX" and glue.worker_type not in FLEX_WORKER_TYPES:
        raise ConfigError(f"Config key {_key('glue.workerType')} must be one of "
                          f"{', '.join(FLEX_WORKER_TYPES)} when executionClass is FLEX "
                          f"(got {glue.worker_type!r}).")

    gold_raw = _object(raw.get("gold"), "gold",
                       ("maxCapacity", "timeoutMinutes", "queryTimeoutMinutes"))
    gold = GoldSettings(
        max_capacity=_choice(gold_raw.get("maxCapacity", 0.0625), "gold.maxCapacity",
                             GOLD_MAX_CAPACITIES),
        timeout_minutes=_int(gold_raw.get("timeoutMinutes", 30), "gold.timeoutMinutes", 1, 2880),
    )
    gold = GoldSettings(gold.max_capacity, gold.timeout_minutes, _int(
        gold_raw.get("queryTimeoutMinutes", min(20, gold.timeout_minutes)),
        "gold.queryTimeoutMinutes", 1, gold.timeout_minutes))

    lifecycle_raw = _object(_require(raw, "lifecycle", "lifecycle"), "lifecycle",
                            LIFECYCLE_BUCKETS)
    lifecycle = {bucket: _lifecycle(lifecycle_raw.get(bucket), bucket)
                 for bucket in LIFECYCLE_BUCKETS}
    if lifecycle["athenaResults"].expire_days is None:
        raise ConfigError(f"Config key {_key('lifecycle.athenaResults.expireDays')} is required: "
                          "Athena query results must expire (e.g. 7).")

    quality_raw = _object(raw.get("quality"), "quality", ("maxRejectedShare",))
    share = quality_raw.get("maxRejectedShare", QualitySettings.max_rejected_share)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
        raise ConfigError(f"Config key {_key('quality.maxRejectedShare')} must be a number "
                          f"between 0 and 1, e.g. 0.01 for 1% (got {share!r}).")
    quality = QualitySettings(max_rejected_share=float(share))

    alerts = _object(raw.get("alerts"), "alerts", ("email",))
    email = alerts.get("email") or None
    if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", str(email)):
        raise ConfigError(f"Config key {_key('alerts.email')} must be an e-mail address "
                          f"or empty (got {email!r}).")

    ecr = _object(raw.get("ecr"), "ecr", ("keepImages",))
    ingest = _ingest(raw.get("ingest"), root)
    athena = _object(_require(raw, "athena", "athena"), "athena", ("bytesScannedCutoffPerQuery",))

    return LakeConfig(
        schedule=validate_cron(_require(raw, "schedule", "schedule")),
        encryption=_choice(_require(raw, "encryption", "encryption"), "encryption", ENCRYPTIONS),
        log_retention_days=_choice(_require(raw, "logRetentionDays", "logRetentionDays"),
                                   "logRetentionDays", LOG_RETENTION_DAYS),
        glue=glue,
        bytes_scanned_cutoff_per_query=_int(
            _require(athena, "bytesScannedCutoffPerQuery", "athena.bytesScannedCutoffPerQuery"),
            "athena.bytesScannedCutoffPerQuery", MIN_BYTES_SCANNED_CUTOFF),
        lifecycle=lifecycle,
        protect=_bool(raw.get("protect", False), "protect"),
        force_destroy=_bool(raw.get("forceDestroy", False), "forceDestroy"),
        permissions_boundary=_bool(raw.get("permissionsBoundary", False),
                                   "permissionsBoundary"),
        gold=gold,
        quality=quality,
        ecr_keep_images=_int(ecr.get("keepImages", 10), "ecr.keepImages", 1, 1000),
        alert_email=email,
        ingest=ingest,
    )


CONFIG_KEYS = ("schedule", "encryption", "logRetentionDays", "glue", "athena", "lifecycle",
               "protect", "forceDestroy", "permissionsBoundary", "gold", "quality", "ecr",
               "alerts", "ingest")


def load_config() -> LakeConfig:
    """Read and validate the current stack's `datalake:*` config."""
    config = pulumi.Config(NAMESPACE)
    raw: dict[str, Any] = {}
    for key in CONFIG_KEYS:
        text = config.get(key)
        if text is None:
            continue
        try:  # objects, numbers and booleans arrive as JSON text
            raw[key] = json.loads(text)
        except ValueError:  # plain strings such as the cron expression
            raw[key] = text
    return parse_config(raw)
