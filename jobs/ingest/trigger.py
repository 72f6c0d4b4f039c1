"""The trigger Lambda (`jobs.ingest.trigger.handler`): start one SageMaker processing job that
runs `python -m jobs.ingest.download --source URL --target RAW_URI` in the ingestion image.

Its settings come from environment variables that `components/ingestion.py`
(`Ingestion.environment`) sets. The event may name another source:

    {"source": "https://download.inep.gov.br/microdados/microdados_enem_2019.zip"}

only an https URL on a host in ALLOWED_HOSTS. Any other event, or a missing setting, raises
TriggerError with one sentence naming what to fix (Lambda shows it as `errorMessage`).
The handler is thin: `Settings.from_environ`, `job_request` and `job_name` are plain functions
that tests call directly.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from jobs.contract import (
    JOB_STAMP_FORMAT,
    JOB_SUFFIX_BYTES,
    job_prefix_problem,
    source_url_problem,
)
from jobs.errors import UserError

ENTRYPOINT = ["python", "-m", "jobs.ingest.download"]
EVENT_KEYS = ("source",)
SOURCE_TAG = "datalake:source"

# Tag values allow letters, digits, spaces and _ . : / = + - @ only.
_TAG_UNSAFE = re.compile(r"[^\w .:/=+\-@]")


class TriggerError(UserError):
    """A bad event or setting; the message is one sentence naming what to fix."""


@dataclass(frozen=True)
class Settings:
    """The trigger's environment (names as set in `Ingestion.environment`)."""

    image_uri: str
    role_arn: str
    job_prefix: str
    raw_uri: str
    source_url: str
    allowed_hosts: tuple[str, ...]
    instance_type: str
    volume_size_gb: int
    max_runtime_seconds: int
    part_size_mb: int
    upload_concurrency: int
    ca_bundle: str = ""
    """Where the image holds the stack's extra CA bundle (`ingest.caBundle`); '' for none."""

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> Settings:
        def text(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise TriggerError(f"Environment variable {name} is not set; redeploy the stack "
                                   "(components/ingestion.py sets it).")
            return value

        def number(name: str) -> int:
            value = text(name)
            if not value.isdigit() or int(value) < 1:
                raise TriggerError(f"Environment variable {name} must be a whole number >= 1 "
                                   f"(got {value!r}); redeploy the stack.")
            return int(value)

        hosts = tuple(h.strip().lower() for h in text("ALLOWED_HOSTS").split(",") if h.strip())
        if not hosts:
            raise TriggerError("Environment variable ALLOWED_HOSTS must list host names "
                               "separated by commas; redeploy the stack.")
        return cls(
            image_uri=text("PROCESSING_IMAGE_URI"),
            role_arn=text("PROCESSING_ROLE_ARN"),
            job_prefix=check_job_prefix(text("PROCESSING_JOB_PREFIX")),
            raw_uri=text("RAW_URI"),
            source_url=text("SOURCE_URL"),
            allowed_hosts=hosts,
            instance_type=text("INSTANCE_TYPE"),
            volume_size_gb=number("VOLUME_SIZE_GB"),
            max_runtime_seconds=number("MAX_RUNTIME_SECONDS"),
            part_size_mb=number("PART_SIZE_MB"),
            upload_concurrency=number("UPLOAD_CONCURRENCY"),
            ca_bundle=env.get("CA_BUNDLE", "").strip(),
        )


def check_job_prefix(prefix: str) -> str:
    """`prefix` if `<prefix>-<UTC stamp>-<6 hex>` is always a valid SageMaker job name."""
    problem = job_prefix_problem(prefix)
    if problem:
        raise TriggerError(f"Processing job prefix {prefix!r} {problem}; shorten the project, "
                           f"stack or dataset name.")
    return prefix


def job_name(prefix: str, now: datetime, suffix: str | None = None) -> str:
    """`<prefix>-<UTC yyyymmddthhmmss>-<6 random hex>`, e.g. `…-ingest-20261125t101253-9f0c2a`."""
    suffix = secrets.token_hex(JOB_SUFFIX_BYTES) if suffix is None else suffix
    stamp = now.astimezone(timezone.utc).strftime(JOB_STAMP_FORMAT)
    return f"{check_job_prefix(prefix)}-{stamp}-{suffix}"


def source_of(event: Any, settings: Settings) -> str:
    """The URL to ingest: the event's `source` if it names one, else SOURCE_URL."""
    if event is None:
        event = {}
    if not isinstance(event, Mapping):
        raise TriggerError(f"The event must be a JSON object such as "
                           f'{{"source": "https://{settings.allowed_hosts[0]}/….zip"}} or {{}} '
                           f"(got {type(event).__name__} {event!r:.80}).")
    unknown = sorted(str(key) for key in event if key not in EVENT_KEYS)
    if unknown:
        raise TriggerError(f"The event has unknown key(s) {', '.join(unknown)}; the only "
                           f"accepted key is `source` (an https URL on "
                           f"{', '.join(settings.allowed_hosts)}).")
    source = event.get("source")
    if source is None:
        return check_source(settings.source_url, settings.allowed_hosts)
    if not isinstance(source, str):
        raise TriggerError(f"The event's `source` must be a string URL (got {source!r:.80}).")
    return check_source(source.strip(), settings.allowed_hosts)


def check_source(url: str, allowed_hosts: tuple[str, ...]) -> str:
    """`url` if the lake may ingest it (`jobs.contract.source_url_problem`)."""
    problem = source_url_problem(url, allowed_hosts)
    if problem:
        raise TriggerError(f"Source {url!r:.120} {problem}.")
    return url


def job_request(event: Any, settings: Settings, now: datetime,
                suffix: str | None = None) -> dict[str, Any]:
    """The CreateProcessingJob request for `event` (see `source_of`)."""
    source = source_of(event, settings)
    return {
        "ProcessingJobName": job_name(settings.job_prefix, now, suffix),
        "RoleArn": settings.role_arn,
        "AppSpecification": {
            "ImageUri": settings.image_uri,
            "ContainerEntrypoint": ENTRYPOINT,
            "ContainerArguments": [
                "--source", source,
                "--target", settings.raw_uri,
                "--part-size-mb", str(settings.part_size_mb),
                "--concurrency", str(settings.upload_concurrency),
                *(["--ca-bundle", settings.ca_bundle] if settings.ca_bundle else []),
            ],
        },
        "ProcessingResources": {"ClusterConfig": {
            "InstanceCount": 1,
            "InstanceType": settings.instance_type,
            "VolumeSizeInGB": settings.volume_size_gb,
        }},
        "StoppingCondition": {"MaxRuntimeInSeconds": settings.max_runtime_seconds},
        "Tags": [{"Key": SOURCE_TAG, "Value": _TAG_UNSAFE.sub("_", source)[:256]}],
    }


def handler(event: Any, context: Any = None) -> dict[str, str]:
    """Lambda entry point: start the job; return its name and source."""
    import boto3  # here, not at import: tests import the plain functions without AWS

    settings = Settings.from_environ(os.environ)
    request = job_request(event, settings, datetime.now(timezone.utc))
    boto3.client("sagemaker").create_processing_job(**request)
    name, arguments = request["ProcessingJobName"], request["AppSpecification"][
        "ContainerArguments"]
    source = arguments[arguments.index("--source") + 1]
    print(f"started processing job {name} ({settings.instance_type}) for {source}")
    return {"jobName": name, "source": source}
