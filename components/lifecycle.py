"""The stack config's `lifecycle.<bucket>` settings: which buckets, which transitions and
expiries S3 takes, and those the lake refuses because they would delete or lock away what it
runs on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.validate import (
    ConfigError,
    _choice,
    _int,
    _key,
    _object,
)

STORAGE_CLASSES = ("STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE")

# Buckets whose lifecycle the stack may tune; athenaResults must expire.
LIFECYCLE_BUCKETS = ("raw", "processed", "restricted", "rejected", "gold", "athenaResults",
                     "artifacts", "accessLogs")

# S3 keeps an object at least 30 days in STANDARD before a transition to STANDARD_IA
# (lifecycle-transition-general-considerations.html).
MIN_DAYS_BEFORE_STANDARD_IA = 30

# Objects in these classes cannot be read until restored (GetObject fails, Athena skips them):
# only buckets that the lake never reads may move there.
ARCHIVE_CLASSES = ("GLACIER", "DEEP_ARCHIVE")
ARCHIVABLE_BUCKETS = ("rejected", "accessLogs")

# The catalog points at the current objects of these buckets (the crawlers' tables, gold_*):
# an expiry would empty tables that stay in the catalog, and the next gold run would publish
# answers over nothing. Older versions may expire (noncurrentExpireDays).
CATALOGED_BUCKETS = ("processed", "restricted", "gold")

# Incomplete multipart uploads (a dropped 3 GB upload) are aborted after this many days, so an
# ingestion, whose uploads stay open until its last byte, must end sooner.
ABORT_MULTIPART_DAYS = 3
LIFECYCLE_FIELDS = ("transitionDays", "transitionStorageClass", "expireDays",
                    "noncurrentExpireDays")


@dataclass(frozen=True)
class Lifecycle:
    """Per-bucket object lifecycle; None means "never"."""

    transition_days: int | None = None
    transition_storage_class: str = "STANDARD_IA"
    expire_days: int | None = None
    noncurrent_expire_days: int | None = None


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
    if bucket in CATALOGED_BUCKETS and rule.expire_days is not None:
        raise ConfigError(f"Config key {_key(path + '.expireDays')} cannot be set: the catalog "
                          f"points at the {bucket} bucket's current objects, and an expiry "
                          "would leave its tables empty while the catalog still lists them. "
                          "Remove it (each run replaces the previous data itself); "
                          "noncurrentExpireDays may stay.")
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
