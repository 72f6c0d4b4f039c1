"""The trigger Lambda: its plain functions (job names, the source allow-list, every bad event's
message, the request) and the handler against SageMaker in moto's server."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from jobs import contract
from jobs.ingest import trigger
from jobs.ingest.trigger import Settings, TriggerError, check_job_prefix, job_name, job_request

INEP = "https://download.inep.gov.br/microdados/microdados_enem_2019.zip"
ROLE = "arn:aws:iam::123456789012:role/datalake-dev-enem-ingest-processing"
IMAGE = "123456789012.dkr.ecr.sa-east-1.amazonaws.com/datalake-dev-enem-ingest:0123456789abcdef"
ENV = {  # as components/ingestion.py (Ingestion.environment) sets it for the dev stack
    "PROCESSING_IMAGE_URI": IMAGE,
    "PROCESSING_ROLE_ARN": ROLE,
    "PROCESSING_JOB_PREFIX": "datalake-dev-enem-ingest",
    "RAW_URI": "s3://datalake-dev-enem-raw-123456789012/",
    "SOURCE_URL": INEP,
    "ALLOWED_HOSTS": "download.inep.gov.br, dados.example.org",
    "INSTANCE_TYPE": "ml.t3.medium",
    "VOLUME_SIZE_GB": "5",
    "MAX_RUNTIME_SECONDS": "7200",
    "PART_SIZE_MB": "16",
    "UPLOAD_CONCURRENCY": "4",
}
NOW = datetime(2026, 11, 25, 10, 12, 53, tzinfo=UTC)
JOB_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")  # SageMaker's rule for job names


@pytest.fixture
def settings() -> Settings:
    return Settings.from_environ(ENV)


# --- settings -------------------------------------------------------------------------------

def test_settings_read_every_variable_the_component_sets(settings: Settings) -> None:
    assert settings == Settings(
        image_uri=IMAGE, role_arn=ROLE, job_prefix="datalake-dev-enem-ingest",
        raw_uri="s3://datalake-dev-enem-raw-123456789012/", source_url=INEP,
        allowed_hosts=("download.inep.gov.br", "dados.example.org"),
        instance_type="ml.t3.medium", volume_size_gb=5, max_runtime_seconds=7200,
        part_size_mb=16, upload_concurrency=4)


@pytest.mark.parametrize("name", sorted(ENV))
def test_a_missing_setting_names_the_variable(name: str) -> None:
    env = {key: value for key, value in ENV.items() if key != name}
    with pytest.raises(TriggerError) as error:
        Settings.from_environ(env)
    assert str(error.value) == (f"Environment variable {name} is not set; redeploy the stack "
                                "(components/ingestion.py sets it).")


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("VOLUME_SIZE_GB", "five",
     "Environment variable VOLUME_SIZE_GB must be a whole number >= 1 (got 'five'); redeploy "
     "the stack."),
    ("PART_SIZE_MB", "0",
     "Environment variable PART_SIZE_MB must be a whole number >= 1 (got '0'); redeploy the "
     "stack."),
    ("ALLOWED_HOSTS", " , ",
     "Environment variable ALLOWED_HOSTS must list host names separated by commas; redeploy "
     "the stack."),
])
def test_a_bad_setting_names_the_variable(name: str, value: str, expected: str) -> None:
    with pytest.raises(TriggerError) as error:
        Settings.from_environ({**ENV, name: value})
    assert str(error.value) == expected


# --- job names ------------------------------------------------------------------------------

def test_job_name_is_prefix_utc_stamp_and_a_random_suffix() -> None:
    name = job_name("datalake-dev-enem-ingest", NOW)
    assert re.fullmatch(r"datalake-dev-enem-ingest-20261125t101253-[0-9a-f]{6}", name), name
    assert JOB_NAME.fullmatch(name)
    assert job_name("p", NOW, suffix="9f0c2a") == "p-20261125t101253-9f0c2a"


def test_job_name_stamp_is_utc_whatever_the_clock_zone() -> None:
    brasilia = NOW.astimezone(timezone(timedelta(hours=-3)))
    assert job_name("p", brasilia, suffix="000000") == "p-20261125t101253-000000"


def test_jobs_started_in_the_same_second_get_distinct_names() -> None:
    names = {job_name("datalake-prod-enem-ingest", NOW) for _ in range(200)}
    assert len(names) == 200


def test_the_longest_accepted_prefix_still_makes_a_valid_63_character_name() -> None:
    prefix = "p" * contract.MAX_JOB_PREFIX
    name = job_name(check_job_prefix(prefix), NOW)
    assert len(name) == 63 and JOB_NAME.fullmatch(name)
    # The stack prefixes leave room (the IAM policy allows processing-job/<prefix>-*).
    assert len(job_name("datalake-prod-enem-ingest", NOW)) == 48


@pytest.mark.parametrize("prefix", ["p" * 41, "datalake-dev-enem_2019-ingest", "ingest-",
                                    "-ingest", "datalake.dev"])
def test_a_prefix_that_cannot_make_valid_job_names_is_refused(prefix: str) -> None:
    with pytest.raises(TriggerError) as error:
        check_job_prefix(prefix)
    assert str(error.value) == (
        f"Processing job prefix {prefix!r} must be at most 40 letters, digits and hyphens "
        "(starting and ending with a letter or digit) so that job names "
        "`<prefix>-<yyyymmddthhmmss>-<6 hex>` fit SageMaker's 63 characters; shorten the "
        "project, stack or dataset name.")
    with pytest.raises(TriggerError):
        Settings.from_environ({**ENV, "PROCESSING_JOB_PREFIX": prefix})


# --- the request ----------------------------------------------------------------------------

def test_request_runs_the_download_module_on_the_configured_instance(settings: Settings) -> None:
    assert job_request({}, settings, NOW, suffix="9f0c2a") == {
        "ProcessingJobName": "datalake-dev-enem-ingest-20261125t101253-9f0c2a",
        "RoleArn": ROLE,
        "AppSpecification": {
            "ImageUri": IMAGE,
            "ContainerEntrypoint": ["python", "-m", "jobs.ingest.download"],
            "ContainerArguments": ["--source", INEP,
                                   "--target", "s3://datalake-dev-enem-raw-123456789012/",
                                   "--part-size-mb", "16", "--concurrency", "4"],
        },
        "ProcessingResources": {"ClusterConfig": {
            "InstanceCount": 1, "InstanceType": "ml.t3.medium", "VolumeSizeInGB": 5}},
        "StoppingCondition": {"MaxRuntimeInSeconds": 7200},
        "Tags": [{"Key": "datalake:source", "Value": INEP}],
    }


def test_the_container_understands_the_arguments_it_is_given(settings: Settings) -> None:
    from jobs.ingest import download  # the other half of the contract

    request = job_request({}, settings, NOW)
    args = download.parser().parse_args(request["AppSpecification"]["ContainerArguments"])
    assert (args.source, args.target) == (INEP, settings.raw_uri)
    assert (args.part_size_mb, args.concurrency) == (16, 4)
    assert args.ca_bundle is None


def test_the_stacks_ca_bundle_is_passed_to_the_container() -> None:
    from jobs.ingest import download

    settings = Settings.from_environ({**ENV, "CA_BUNDLE": "/opt/ingest/certs/inep-chain.pem"})
    arguments = job_request({}, settings, NOW)["AppSpecification"]["ContainerArguments"]
    assert arguments[-2:] == ["--ca-bundle", "/opt/ingest/certs/inep-chain.pem"]
    assert download.parser().parse_args(arguments).ca_bundle == "/opt/ingest/certs/inep-chain.pem"


def source(request: dict[str, Any]) -> str:
    arguments = request["AppSpecification"]["ContainerArguments"]
    return arguments[arguments.index("--source") + 1]


@pytest.mark.parametrize("event", [{}, None, {"source": None}])
def test_no_source_in_the_event_ingests_the_stacks_source(settings: Settings, event) -> None:
    assert source(job_request(event, settings, NOW)) == INEP


@pytest.mark.parametrize("url", [
    "https://download.inep.gov.br/microdados/microdados_enem_2020.zip",
    "https://dados.example.org/enem/2019.zip",
    "https://DOWNLOAD.inep.gov.br/microdados/microdados_enem_2019.zip",  # hosts ignore case
])
def test_event_may_name_an_https_source_on_an_allowed_host(settings: Settings, url: str) -> None:
    request = job_request({"source": url}, settings, NOW)
    assert source(request) == url
    assert request["Tags"] == [{"Key": "datalake:source", "Value": url}]


def test_source_tag_keeps_only_characters_tags_allow(settings: Settings) -> None:
    url = "https://download.inep.gov.br/a%20b.zip?x=1&y=~2"
    request = job_request({"source": url}, settings, NOW)
    assert source(request) == url
    assert request["Tags"][0]["Value"] == "https://download.inep.gov.br/a_20b.zip_x=1_y=_2"


@pytest.mark.parametrize(("event", "expected"), [
    (["https://download.inep.gov.br/x.zip"],
     "The event must be a JSON object such as {\"source\": \"https://download.inep.gov.br/….zip\"}"
     " or {} (got list ['https://download.inep.gov.br/x.zip'])."),
    ("https://download.inep.gov.br/x.zip",
     "The event must be a JSON object such as {\"source\": \"https://download.inep.gov.br/….zip\"}"
     " or {} (got str 'https://download.inep.gov.br/x.zip')."),
    ({"key1": "value1", "source": INEP},
     "The event has unknown key(s) key1; the only accepted key is `source` (an https URL on "
     "download.inep.gov.br, dados.example.org)."),
    ({"url": INEP},
     "The event has unknown key(s) url; the only accepted key is `source` (an https URL on "
     "download.inep.gov.br, dados.example.org)."),
    ({"source": 2019},
     "The event's `source` must be a string URL (got 2019)."),
    ({"source": "http://download.inep.gov.br/x.zip"},
     "Source 'http://download.inep.gov.br/x.zip' must be an https:// URL such as "
     "https://download.inep.gov.br/….zip."),
    ({"source": "s3://bucket/x.zip"},
     "Source 's3://bucket/x.zip' must be an https:// URL such as "
     "https://download.inep.gov.br/….zip."),
    ({"source": "download.inep.gov.br/x.zip"},
     "Source 'download.inep.gov.br/x.zip' must be an https:// URL such as "
     "https://download.inep.gov.br/….zip."),
    ({"source": "https://[::1/x.zip"},
     "Source 'https://[::1/x.zip' must be an https:// URL such as "
     "https://download.inep.gov.br/….zip."),
    ({"source": "https://evil.example.com/x.zip"},
     "Source 'https://evil.example.com/x.zip' is on host evil.example.com, which is not "
     "allowed; use a URL on download.inep.gov.br, dados.example.org or add the host to the "
     "stack's ingest.allowedHosts."),
    ({"source": "https://download.inep.gov.br.evil.com/x.zip"},
     "Source 'https://download.inep.gov.br.evil.com/x.zip' is on host "
     "download.inep.gov.br.evil.com, which is not allowed; use a URL on download.inep.gov.br, "
     "dados.example.org or add the host to the stack's ingest.allowedHosts."),
    ({"source": "https://user:secret@download.inep.gov.br/x.zip"},
     "Source 'https://user:secret@download.inep.gov.br/x.zip' must not carry a user name or "
     "password."),
    ({"source": "https://download.inep.gov.br/" + "x" * 250 + ".zip"},
     f"Source {'https://download.inep.gov.br/' + 'x' * 250 + '.zip'!r:.120} is 283 "
     "characters; SageMaker passes at most 256 per container argument, so use a shorter URL."),
])
def test_a_bad_event_says_what_to_fix(settings: Settings, event: Any, expected: str) -> None:
    with pytest.raises(TriggerError) as error:
        job_request(event, settings, NOW)
    assert str(error.value) == expected
    assert "\n" not in expected


def test_the_stacks_own_source_is_checked_too(settings: Settings) -> None:
    with pytest.raises(TriggerError, match="is on host example.com, which is not allowed"):
        job_request({}, replace(settings, source_url="https://example.com/x.zip"), NOW)


# --- the handler against SageMaker in moto's server ------------------------------------------

@pytest.fixture
def lambda_env(moto_env: str, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The Lambda's environment over moto; returns the CreateProcessingJob bodies sent."""
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    session = boto3.Session()
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)  # what boto3.client() uses
    sent: list[dict[str, Any]] = []

    def record(request, **_) -> None:
        sent.append(json.loads(request.body))

    session.events.register("before-send.sagemaker.CreateProcessingJob", record)
    return sent


def test_handler_starts_the_processing_job(lambda_env: list[dict[str, Any]], capsys) -> None:
    url = "https://download.inep.gov.br/microdados/microdados_enem_2020.zip"
    result = trigger.handler({"source": url}, None)

    assert result == {"jobName": result["jobName"], "source": url}
    assert re.fullmatch(r"datalake-dev-enem-ingest-\d{8}t\d{6}-[0-9a-f]{6}", result["jobName"])
    sagemaker = boto3.client("sagemaker")
    job = sagemaker.describe_processing_job(ProcessingJobName=result["jobName"])
    assert job["RoleArn"] == ROLE
    assert job["AppSpecification"] == {
        "ImageUri": IMAGE,
        "ContainerEntrypoint": ["python", "-m", "jobs.ingest.download"],
        "ContainerArguments": ["--source", url,
                               "--target", "s3://datalake-dev-enem-raw-123456789012/",
                               "--part-size-mb", "16", "--concurrency", "4"]}
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200}
    tags = sagemaker.list_tags(ResourceArn=job["ProcessingJobArn"])["Tags"]
    assert tags == [{"Key": "datalake:source", "Value": url}]
    # moto does not keep ProcessingResources; what went over the wire has them.
    [body] = lambda_env
    assert body["ProcessingResources"] == {"ClusterConfig": {
        "InstanceCount": 1, "InstanceType": "ml.t3.medium", "VolumeSizeInGB": 5}}
    assert body["ProcessingJobName"] == result["jobName"]
    out = capsys.readouterr().out
    assert out == f"started processing job {result['jobName']} (ml.t3.medium) for {url}\n"


def test_handler_defaults_to_the_stacks_source(lambda_env: list[dict[str, Any]]) -> None:
    result = trigger.handler({}, None)
    assert result["source"] == INEP
    job = boto3.client("sagemaker").describe_processing_job(ProcessingJobName=result["jobName"])
    assert job["AppSpecification"]["ContainerArguments"][:2] == ["--source", INEP]


def test_handler_starts_nothing_for_a_bad_event(lambda_env: list[dict[str, Any]]) -> None:
    with pytest.raises(TriggerError, match="is on host example.com, which is not allowed"):
        trigger.handler({"source": "https://example.com/x.zip"}, None)
    assert lambda_env == []
