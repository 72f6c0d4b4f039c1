"""Stack config: every bad value stops the program with one sentence naming the key."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.config import (
    AuditSettings,
    ConfigError,
    GoldSettings,
    IngestSettings,
    parse_config,
    validate_cron,
)
from jobs.contract import DEFAULT_MIN_GROUP_SIZE, MIN_GROUP_SIZE
from policies.mocks import RecordingMocks, raw_config, run_main, stack_config


def with_value(path: str, value: Any, stack: str = "dev") -> dict[str, Any]:
    """The stack's config with `path` (dotted) set to `value`; `...` deletes it."""
    raw = copy.deepcopy(raw_config(stack))
    *parents, last = path.split(".")
    node = raw
    for part in parents:
        node = node[part]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return raw


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_both_stack_files_are_valid(stack: str) -> None:
    config = parse_config(raw_config(stack))
    assert config.schedule.startswith("cron(")


@pytest.mark.parametrize("expression", [
    "cron(0 6 * * ? *)", "cron(0 6 ? * MON-FRI *)", "cron(15 3 1 * ? 2026)",
    "cron(0/15 * * * ? *)", "cron(0 12 ? * 2 *)", "cron(0 0 L * ? *)", "cron(0/5 * * * ? *)",
    "cron(0,30 8-18 ? * MON-FRI *)",
])
def test_valid_aws_crons_pass(expression: str) -> None:
    assert validate_cron(expression) == expression


@pytest.mark.parametrize(("expression", "why"), [
    ("0 6 * * *", "is not wrapped in cron(...)"),
    ("cron(0 6 * * *)", "has 5 fields, not 6"),
    ("cron(0 6 * * * *)", "must use `?` in exactly one of day-of-month and day-of-week"),
    ("cron(0 6 ? * ? *)", "must use `?` in exactly one of day-of-month and day-of-week"),
    ("cron(61 6 * * ? *)", "has minutes 61 outside 0-59"),
    ("cron(0 24 * * ? *)", "has hours 24 outside 0-23"),
    ("cron(0 6 * FOO ? *)", "has an invalid month field 'FOO'"),
    ("rate(1 day)", "is not wrapped in cron(...)"),
    # Glue's own cron: no `#` in day-of-week, and at most one run every 5 minutes
    # (https://docs.aws.amazon.com/glue/latest/dg/monitor-data-warehouse-schedule.html).
    ("cron(0 12 ? * 2#1 *)", "has an invalid day-of-week field '2#1'"),
    ("cron(* * * * ? *)", "runs 1 minute(s) apart; Glue schedules run at most every 5 minutes"),
    ("cron(0/2 6 * * ? *)", "runs 2 minute(s) apart"),
    ("cron(58,1 * * * ? *)", "runs 3 minute(s) apart"),
])
def test_cron_that_is_not_aws_6_field_form_is_refused(expression: str, why: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(with_value("schedule", expression))
    message = str(error.value)
    assert message.startswith("Config key `datalake:schedule` must be an AWS cron expression")
    assert why in message
    assert "\n" not in message


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("glue.workerType", "G.9X",
     "Config key `datalake:glue.workerType` must be one of G.1X, G.2X, G.4X, G.8X "
     "(got 'G.9X')."),
    ("glue.executionClass", "CHEAP",
     "Config key `datalake:glue.executionClass` must be one of STANDARD, FLEX (got 'CHEAP')."),
    ("glue.numberOfWorkers", 1,
     "Config key `datalake:glue.numberOfWorkers` must be a whole number between 2 and 299 "
     "(got 1)."),
    ("logRetentionDays", -1,
     "Config key `datalake:logRetentionDays` must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, "
     "180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (got -1)."),
    ("lifecycle.raw.expireDays", -5,
     "Config key `datalake:lifecycle.raw.expireDays` must be a whole number >= 1 (got -5)."),
    ("lifecycle.athenaResults.expireDays", ...,
     "Config key `datalake:lifecycle.athenaResults.expireDays` is required: Athena query "
     "results must expire (e.g. 7)."),
    ("encryption", "aes",
     "Config key `datalake:encryption` must be one of s3, kms (got 'aes')."),
    ("schedule", ...,
     "Config key `datalake:schedule` is required; set it in Pulumi.<stack>.yaml (see the "
     "README's config table)."),
    ("glue.workerType", ...,
     "Config key `datalake:glue.workerType` is required; set it in Pulumi.<stack>.yaml (see the "
     "README's config table)."),
    ("athena.bytesScannedCutoffPerQuery", 1000,
     "Config key `datalake:athena.bytesScannedCutoffPerQuery` must be a whole number >= "
     "10485760 (got 1000)."),
    ("forceDestroy", "yes",
     "Config key `datalake:forceDestroy` must be true or false (got 'yes')."),
    ("permissionsBoundary", "datalake-boundary-dev",
     "Config key `datalake:permissionsBoundary` must be true or false "
     "(got 'datalake-boundary-dev')."),
    ("glue.workers", 3,
     "Config key `datalake:glue.workers` in Pulumi.<stack>.yaml is not a setting of this "
     "program; did you mean `datalake:glue.workerType`?"),
    ("lifecycle.raw.transitionStorageClass", "COLD",
     "Config key `datalake:lifecycle.raw.transitionStorageClass` must be one of STANDARD_IA, "
     "INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE (got 'COLD')."),
    ("alerts", {"email": "not-an-address"},
     "Config key `datalake:alerts.email` must be an e-mail address or empty "
     "(got 'not-an-address')."),
    ("quality", {"maxRejectedShare": 5},
     "Config key `datalake:quality.maxRejectedShare` must be a number between 0 and 1, e.g. 0.01 "
     "for 1% (got 5)."),
    ("gold", {"timeoutMinutes": 30, "queryTimeoutMinutes": 45},
     "Config key `datalake:gold.queryTimeoutMinutes` must be a whole number between 1 and 30 "
     "(got 45)."),
    ("ecr", {"keepImages": 0},
     "Config key `datalake:ecr.keepImages` must be a whole number between 1 and 1000 (got 0)."),
    ("ingest.sourceUrl", "http://download.inep.gov.br/x.zip",
     "Config key `datalake:ingest.sourceUrl` must be an https:// URL such as "
     "https://download.inep.gov.br/….zip (got 'http://download.inep.gov.br/x.zip')."),
    ("ingest.sourceUrl", "https://example.com/x.zip",
     "Config key `datalake:ingest.sourceUrl` is on host example.com, which is not allowed; use "
     "a URL on download.inep.gov.br or add the host to the stack's ingest.allowedHosts "
     "(got 'https://example.com/x.zip')."),
    # What the trigger would refuse at run time, the config refuses at preview time.
    ("ingest.sourceUrl", "https://user:secret@download.inep.gov.br/x.zip",
     "Config key `datalake:ingest.sourceUrl` must not carry a user name or password "
     "(got 'https://user:secret@download.inep.gov.br/x.zip')."),
    ("ingest.allowedHosts", [],
     "Config key `datalake:ingest.allowedHosts` must be a non-empty list of lower-case host "
     "names such as download.inep.gov.br (got [])."),
    ("ingest.allowedHosts", "download.inep.gov.br",
     "Config key `datalake:ingest.allowedHosts` must be a non-empty list of lower-case host "
     "names such as download.inep.gov.br (got 'download.inep.gov.br')."),
    ("ingest.allowedHosts", ["download.inep.gov.br", "https://x.org"],
     "Config key `datalake:ingest.allowedHosts` must be a non-empty list of lower-case host "
     "names such as download.inep.gov.br (got ['download.inep.gov.br', 'https://x.org'])."),
    ("ingest.instanceType", "m5.large",
     "Config key `datalake:ingest.instanceType` must be a SageMaker processing instance type "
     "ml.<family>.<size>, e.g. ml.t3.medium or ml.m5.large (got 'm5.large')."),
    ("ingest.volumeSizeGb", 0,
     "Config key `datalake:ingest.volumeSizeGb` must be a whole number between 1 and 16384 "
     "(got 0)."),
    # Ingestion keeps its uploads open to the end; the buckets abort those older than 3 days.
    ("ingest.maxRuntimeMinutes", 4321,
     "Config key `datalake:ingest.maxRuntimeMinutes` must be a whole number between 1 and 4320 "
     "(got 4321)."),
    ("ingest.partSizeMb", 4,
     "Config key `datalake:ingest.partSizeMb` must be a whole number between 5 and 5120 "
     "(got 4)."),
    ("ingest.uploadConcurrency", 33,
     "Config key `datalake:ingest.uploadConcurrency` must be a whole number between 1 and 32 "
     "(got 33)."),
    ("ingest.uploadConcurrency", "4",
     "Config key `datalake:ingest.uploadConcurrency` must be a whole number between 1 and 32 "
     "(got '4')."),
    ("ingest.bucket", "x",
     "Config key `datalake:ingest.bucket` in Pulumi.<stack>.yaml is not a setting of this "
     "program; the keys it knows there are sourceUrl, allowedHosts, instanceType, "
     "volumeSizeGb, maxRuntimeMinutes, partSizeMb, uploadConcurrency, caBundle."),
    ("ingest.caBundle", "/etc/ssl/certs/ca-certificates.crt",
     "Config key `datalake:ingest.caBundle` must name a file under images/ingest/certs/ (the "
     "image copies that folder), e.g. images/ingest/certs/inep-chain.pem "
     "(got '/etc/ssl/certs/ca-certificates.crt')."),
    ("ingest.caBundle", "images/ingest/certs/missing.pem",
     "Config key `datalake:ingest.caBundle` names images/ingest/certs/missing.pem, which cannot "
     "be read as a PEM file (No such file or directory)."),
    ("ingest.caBundle", "images/ingest/certs/README.md",
     "Config key `datalake:ingest.caBundle` names images/ingest/certs/README.md, which holds no "
     "PEM certificate (-----BEGIN CERTIFICATE-----)."),
    # The artifacts bucket holds the deployed code, which Pulumi never uploads again while it is
    # unchanged: no expiry may reach it.
    ("lifecycle.artifacts", {"expireDays": 30},
     "Config key `datalake:lifecycle.artifacts.expireDays` cannot be set: the artifacts bucket "
     "holds the deployed code (Glue scripts, packages, queries), which Pulumi uploads once and "
     "replaces itself; an expiry would delete code the jobs still run. Remove it."),
    # The catalog points at processed and gold: an expiry would empty its tables, and the next
    # gold run would publish answers over nothing (dev did, 30 days after its last ingestion).
    ("lifecycle.processed", {"expireDays": 30},
     "Config key `datalake:lifecycle.processed.expireDays` cannot be set: the catalog points at "
     "the processed bucket's current objects, and an expiry would leave its tables empty while "
     "the catalog still lists them. Remove it (each run replaces the previous data itself); "
     "noncurrentExpireDays may stay."),
    ("lifecycle.gold", {"expireDays": 30, "noncurrentExpireDays": 7},
     "Config key `datalake:lifecycle.gold.expireDays` cannot be set: the catalog points at "
     "the gold bucket's current objects, and an expiry would leave its tables empty while "
     "the catalog still lists them. Remove it (each run replaces the previous data itself); "
     "noncurrentExpireDays may stay."),
    # S3: at least 30 days in STANDARD before STANDARD_IA
    # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html).
    ("lifecycle.processed", {"transitionDays": 7, "transitionStorageClass": "STANDARD_IA"},
     "Config key `datalake:lifecycle.processed.transitionDays` must be at least 30 for "
     "STANDARD_IA (S3 keeps objects that long in STANDARD first), got 7."),
    ("lifecycle.gold", {"transitionDays": 90, "transitionStorageClass": "DEEP_ARCHIVE"},
     "Config key `datalake:lifecycle.gold.transitionStorageClass` cannot be DEEP_ARCHIVE: the "
     "lake reads this bucket, and archived objects cannot be read until restored; use "
     "GLACIER_IR, STANDARD_IA or INTELLIGENT_TIERING."),
    # The restricted catalog points at the restricted zone as the public one at processed.
    ("lifecycle.restricted", {"expireDays": 30},
     "Config key `datalake:lifecycle.restricted.expireDays` cannot be set: the catalog points "
     "at the restricted bucket's current objects, and an expiry would leave its tables empty "
     "while the catalog still lists them. Remove it (each run replaces the previous data "
     "itself); noncurrentExpireDays may stay."),
    ("lifecycle.restricted", {"transitionDays": 90, "transitionStorageClass": "GLACIER"},
     "Config key `datalake:lifecycle.restricted.transitionStorageClass` cannot be GLACIER: the "
     "lake reads this bucket, and archived objects cannot be read until restored; use "
     "GLACIER_IR, STANDARD_IA or INTELLIGENT_TIERING."),
    # The gold job refuses what the stack refuses (jobs.contract.MIN_GROUP_SIZE).
    ("gold.minGroupSize", 0,
     "Config key `datalake:gold.minGroupSize` must be a whole number between 1 and 1000 "
     "(got 0)."),
    ("gold.minGroupSize", 1001,
     "Config key `datalake:gold.minGroupSize` must be a whole number between 1 and 1000 "
     "(got 1001)."),
    ("gold.minGroupSize", "10",
     "Config key `datalake:gold.minGroupSize` must be a whole number between 1 and 1000 "
     "(got '10')."),
    ("audit", {"restrictedDataEvents": "yes"},
     "Config key `datalake:audit.restrictedDataEvents` must be true or false (got 'yes')."),
    ("audit", {"restrictedReads": True},
     "Config key `datalake:audit.restrictedReads` in Pulumi.<stack>.yaml is not a setting of "
     "this program; did you mean `datalake:audit.restrictedDataEvents`?"),
])
def test_bad_value_names_the_key_and_accepted_values(path: str, value: Any,
                                                     expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(with_value(path, value))
    assert str(error.value) == expected


def test_ingest_settings_come_from_the_stack_file_with_defaults_for_the_rest() -> None:
    dev, prod = parse_config(raw_config("dev")).ingest, parse_config(raw_config("prod")).ingest
    assert dev == IngestSettings()  # dev states the defaults explicitly
    assert prod.instance_type == "ml.m5.large"
    assert prod.allowed_hosts == ("download.inep.gov.br",)
    assert prod.source_url == IngestSettings.source_url
    raw = with_value("ingest", {"sourceUrl": "https://dados.example.org/enem/2020.zip",
                                "allowedHosts": ["download.inep.gov.br", "dados.example.org"],
                                "instanceType": "ml.g4dn.xlarge", "volumeSizeGb": 16384,
                                "maxRuntimeMinutes": 4320, "partSizeMb": 5,
                                "uploadConcurrency": 32})
    assert parse_config(raw).ingest == IngestSettings(
        source_url="https://dados.example.org/enem/2020.zip",
        allowed_hosts=("download.inep.gov.br", "dados.example.org"),
        instance_type="ml.g4dn.xlarge", volume_size_gb=16384, max_runtime_minutes=4320,
        part_size_mb=5, upload_concurrency=32)
    assert parse_config(with_value("ingest", ...)).ingest == IngestSettings()


def test_the_small_group_threshold_is_stated_in_both_stacks_and_defaults_to_the_contracts(
        ) -> None:
    for stack in ("dev", "prod"):
        assert raw_config(stack)["gold"]["minGroupSize"] == 10
        assert parse_config(raw_config(stack)).gold.min_group_size == 10
    without = with_value("gold.minGroupSize", ...)
    assert parse_config(without).gold.min_group_size == DEFAULT_MIN_GROUP_SIZE
    assert GoldSettings().min_group_size == DEFAULT_MIN_GROUP_SIZE
    for edge in (MIN_GROUP_SIZE.low, MIN_GROUP_SIZE.high):
        assert parse_config(with_value("gold.minGroupSize", edge)).gold.min_group_size == edge


def test_restricted_reads_are_recorded_by_default_and_in_prod() -> None:
    assert parse_config(raw_config("prod")).audit.restricted_data_events is True
    assert parse_config(raw_config("dev")).audit.restricted_data_events is False
    assert parse_config(with_value("audit", ...)).audit == AuditSettings(True)


def test_both_stacks_set_the_restricted_zones_lifecycle() -> None:
    for stack in ("dev", "prod"):
        assert "restricted" in raw_config(stack)["lifecycle"]
        assert parse_config(raw_config(stack)).lifecycle["restricted"].expire_days is None


def test_flex_needs_a_small_worker_type() -> None:
    raw = with_value("glue.workerType", "G.4X")
    assert raw["glue"]["executionClass"] == "FLEX"
    with pytest.raises(ConfigError, match=r"must be one of G\.1X, G\.2X when executionClass is "
                                          r"FLEX \(got 'G\.4X'\)"):
        parse_config(raw)


def test_expiry_must_come_after_transition() -> None:
    raw = with_value("lifecycle.raw", {"transitionDays": 30, "expireDays": 10})
    with pytest.raises(ConfigError, match="expireDays` must be greater than transitionDays"):
        parse_config(raw)


def test_bad_config_fails_before_any_resource_is_declared() -> None:
    config = stack_config("dev")
    config["datalake:schedule"] = "cron(0 6 * * *)"
    mocks = RecordingMocks()
    with pytest.raises(ConfigError, match="datalake:schedule"):
        run_main("dev", config=config, mocks=mocks)
    assert mocks.resources == []


@pytest.mark.parametrize(("key", "hint"), [
    ("protected", "did you mean `datalake:protect`?"),
    ("forcedestroy", "did you mean `datalake:forceDestroy`?"),
    ("logRetention", "did you mean `datalake:logRetentionDays`?"),
    ("qualty", "did you mean `datalake:quality`?"),
])
def test_a_misspelt_top_level_key_stops_the_program_naming_the_file_and_the_key_meant(
        key: str, hint: str) -> None:
    """`datalake:protected: true` used to be read as nothing at all: prod left unprotected."""
    config = stack_config("prod")
    config[f"datalake:{key}"] = True
    mocks = RecordingMocks()
    with pytest.raises(ConfigError) as error:
        run_main("prod", config=config, mocks=mocks)
    assert str(error.value) == (f"Config key `datalake:{key}` in Pulumi.prod.yaml is not a "
                                f"setting of this program; {hint}")
    assert mocks.resources == []


def test_keys_of_other_namespaces_are_not_the_programs_business() -> None:
    config = stack_config("dev")
    config["aws:profile"] = "lake"
    config["bootstrap:repository"] = "o/r"
    assert run_main("dev", config=config).resources


def test_config_errors_print_without_a_traceback() -> None:
    import pulumi
    assert issubclass(ConfigError, pulumi.RunError)


def test_a_ca_bundle_in_the_certs_folder_is_taken(tmp_path) -> None:
    folder = tmp_path / "images" / "ingest" / "certs"
    folder.mkdir(parents=True)
    (folder / "inep-chain.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n"
                                           "-----END CERTIFICATE-----\n")
    config = parse_config(with_value("ingest.caBundle", "images/ingest/certs/inep-chain.pem"),
                          root=tmp_path)
    assert config.ingest.ca_bundle == "images/ingest/certs/inep-chain.pem"
    with pytest.raises(ConfigError, match="must name a file under images/ingest/certs/"):
        parse_config(with_value("ingest.caBundle", "images/ingest/certs/../../../x.pem"),
                     root=tmp_path)


def test_archive_classes_are_for_buckets_the_lake_never_reads() -> None:
    config = parse_config(with_value("lifecycle.accessLogs", {
        "transitionDays": 30, "transitionStorageClass": "DEEP_ARCHIVE"}))
    assert config.lifecycle["accessLogs"].transition_storage_class == "DEEP_ARCHIVE"
