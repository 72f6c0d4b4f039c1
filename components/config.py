"""The stack configuration: one typed, validated model read from `Pulumi.<stack>.yaml`.

`parse_config` takes the plain values of the stack file (no Pulumi needed), so tests and the
program validate the same way. Any invalid value stops the program before a resource is declared,
with one sentence that names the key and the values it accepts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from components.lifecycle import ABORT_MULTIPART_DAYS, LIFECYCLE_BUCKETS, Lifecycle, _lifecycle
from components.validate import (
    NAMESPACE,
    ConfigError,
    UnknownKeyError,
    _bool,
    _choice,
    _int,
    _key,
    _limited,
    _object,
    _require,
    unknown_keys,
    validate_cron,
)
from jobs.contract import (
    DEFAULT_MIN_GROUP_SIZE,
    MIN_GROUP_SIZE,
    PART_SIZE_MB,
    UPLOAD_CONCURRENCY,
    source_url_problem,
)

ENCRYPTIONS = ("s3", "kms")
WORKER_TYPES = ("G.1X", "G.2X", "G.4X", "G.8X")
FLEX_WORKER_TYPES = ("G.1X", "G.2X")
EXECUTION_CLASSES = ("STANDARD", "FLEX")
GOLD_MAX_CAPACITIES = (0.0625, 1.0)

# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)

# Athena's smallest per-query cutoff is 10 MB.
MIN_BYTES_SCANNED_CUTOFF = 10 * 1024 * 1024
INGEST_KEYS = ("sourceUrl", "allowedHosts", "instanceType", "volumeSizeGb", "maxRuntimeMinutes",
               "partSizeMb", "uploadConcurrency", "caBundle")
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Extra certificate authorities for the source live here; the image copies the folder.
CA_BUNDLE_FOLDER = "images/ingest/certs"

# SageMaker processing instance types: ml.<family>.<size>, e.g. ml.t3.medium, ml.m5.xlarge.
INSTANCE_TYPE_PATTERN = r"ml\.[a-z][a-z0-9-]*\.[a-z0-9]+"
HOST_PATTERN = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+"


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
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE
    """Gold publishes no group of fewer candidates than this (`--min-group-size`)."""


@dataclass(frozen=True)
class AuditSettings:
    restricted_data_events: bool = True
    """A CloudTrail trail records every object-level request (GetObject, PutObject, …) to the
    restricted zone, in a bucket of its own."""


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
    audit: AuditSettings = field(default_factory=AuditSettings)

    @property
    def bucket_kms(self) -> bool:
        """Whether zone buckets use the lake's customer KMS key (else SSE-S3)."""
        return self.encryption == "kms"


CONFIG_KEYS = ("schedule", "encryption", "logRetentionDays", "glue", "athena", "lifecycle",
               "protect", "forceDestroy", "permissionsBoundary", "gold", "quality", "ecr",
               "alerts", "ingest", "audit")


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


def parse_config(raw: Mapping[str, Any], root: Path = PROJECT_ROOT,
                 source: str = "Pulumi.<stack>.yaml") -> LakeConfig:
    """Validate the stack's `datalake:*` values (keys without the namespace); files the config
    names are read under `root`, the project folder; `source` names the stack file in errors.
    A key the program does not know, at any depth, stops it too."""
    try:
        return _parse(raw, root)
    except UnknownKeyError as error:
        raise error.in_file(source) from None


def _parse(raw: Mapping[str, Any], root: Path) -> LakeConfig:
    unknown_keys(raw, "", CONFIG_KEYS)
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
                       ("maxCapacity", "timeoutMinutes", "queryTimeoutMinutes", "minGroupSize"))
    timeout_minutes = _int(gold_raw.get("timeoutMinutes", 30), "gold.timeoutMinutes", 1, 2880)
    gold = GoldSettings(
        max_capacity=_choice(gold_raw.get("maxCapacity", 0.0625), "gold.maxCapacity",
                             GOLD_MAX_CAPACITIES),
        timeout_minutes=timeout_minutes,
        query_timeout_minutes=_int(
            gold_raw.get("queryTimeoutMinutes", min(20, timeout_minutes)),
            "gold.queryTimeoutMinutes", 1, timeout_minutes),
        # the same limit the gold job enforces on --min-group-size (jobs.contract)
        min_group_size=_limited(gold_raw.get("minGroupSize", DEFAULT_MIN_GROUP_SIZE),
                                "gold.minGroupSize", MIN_GROUP_SIZE),
    )

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
    audit = _object(raw.get("audit"), "audit", ("restrictedDataEvents",))

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
        audit=AuditSettings(restricted_data_events=_bool(
            audit.get("restrictedDataEvents", AuditSettings.restricted_data_events),
            "audit.restrictedDataEvents")),
    )


def _value(text: Any) -> Any:
    try:  # objects, numbers and booleans arrive as JSON text
        return json.loads(text) if isinstance(text, str) else text
    except ValueError:  # plain strings such as the cron expression
        return text


def stack_values() -> dict[str, Any]:
    """Every `datalake:*` value the engine passed to the program (keys without the namespace),
    known or not: the CLI passes the stack's config in PULUMI_CONFIG, tests and the mocks set
    it directly; a known key may also come alone from its PULUMI_CONFIG_<KEY> variable."""
    passed = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    raw = {name.partition(":")[2]: _value(text) for name, text in passed.items()
           if name.partition(":")[0] == NAMESPACE}
    config = pulumi.Config(NAMESPACE)
    for key in CONFIG_KEYS:
        if key not in raw and config.get(key) is not None:
            raw[key] = _value(config.get(key))
    return raw


def load_config() -> LakeConfig:
    """Read and validate the current stack's `datalake:*` config."""
    return parse_config(stack_values(), source=f"Pulumi.{pulumi.get_stack()}.yaml")
