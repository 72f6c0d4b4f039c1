"""Glue: jobs with a timeout, a capacity cap, a security configuration and the bookmark setting
the stack chose; security configurations that encrypt everything; crawlers that skip the
lake's bookkeeping folders and encrypt what they write."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs

from policies.resources import has, items, value
from policies.rule import Rule, requires

JOB = "aws:glue/job:Job"
CRAWLER = "aws:glue/crawler:Crawler"
SECURITY_CONFIGURATION = "aws:glue/securityConfiguration:SecurityConfiguration"
PYTHON_SHELL = "pythonshell"
BOOKMARK_DEFAULT = "job-bookmark-disable"  # what Glue does without --job-bookmark-option
GUIDE = "https://docs.aws.amazon.com/glue/latest/dg/"


def _timeout(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[str]:
    timeout = value(args.props, "timeout")
    if not timeout:
        yield "the job has no timeout (Glue's default lets a Spark job run 48 hours)"
    elif timeout > config["maxTimeoutMinutes"]:
        yield f"the timeout {timeout:.0f} min is over {config['maxTimeoutMinutes']} min"


def _capacity(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[str]:
    command = value(args.props, "command", "name", default="glueetl")
    if command == PYTHON_SHELL:
        capacity = value(args.props, "maxCapacity")
        if capacity is None or capacity > config["maxPythonShellDpus"]:
            yield (f"the Python shell job's max_capacity {capacity} is not set within "
                   f"{config['maxPythonShellDpus']} DPU")
        return
    workers = value(args.props, "numberOfWorkers")
    if workers is None or not has(args.props, "workerType"):
        yield "the job sets no worker_type and number_of_workers"
    elif workers > config["maxWorkers"]:
        yield f"the job asks for {workers:.0f} workers, over {config['maxWorkers']}"


def _bookmarks(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[str]:
    if value(args.props, "command", "name") == PYTHON_SHELL:
        return  # "You can't use job bookmarks with Python shell jobs" (add-job-python.html)
    option = value(args.props, "defaultArguments", "--job-bookmark-option",
                   default=BOOKMARK_DEFAULT)
    if option != config["bookmarkOption"]:
        yield f"--job-bookmark-option is {option}, the stack's setting is " \
              f"{config['bookmarkOption']}"


def _encrypts_everything(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[str]:
    encryption = value(args.props, "encryptionConfiguration", default={})
    s3 = [value(e, "s3EncryptionMode") for e in items(value(encryption, "s3Encryption"))]
    wanted = ("SSE-KMS",) if config["kms"] else ("SSE-KMS", "SSE-S3")
    if not s3 or any(mode not in wanted for mode in s3):
        yield f"S3 encryption is {s3 or 'not set'}, not {' or '.join(wanted)}"
    if value(encryption, "cloudwatchEncryption", "cloudwatchEncryptionMode") != "SSE-KMS":
        yield "CloudWatch logs are not encrypted with SSE-KMS"
    if value(encryption, "jobBookmarksEncryption", "jobBookmarksEncryptionMode") != "CSE-KMS":
        yield "job bookmarks are not encrypted with CSE-KMS"


def _crawler_excludes(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[str]:
    for target in items(value(args.props, "s3Targets")):
        exclusions = set(items(value(target, "exclusions")))
        missing = [p for p in config["excludedPaths"] if p not in exclusions]
        if missing:
            yield (f"the crawl of {value(target, 'path')} does not exclude "
                   f"{', '.join(missing)} (bookkeeping files would become tables)")


RULES = [
    Rule(
        id="glue-job-timeout",
        description="Every Glue job has a timeout within the stack's limit",
        remediation="set timeout (minutes; datalake:glue.timeoutMinutes, gold.timeoutMinutes)",
        url=GUIDE + "aws-glue-api-jobs-job.html",
        level=EnforcementLevel.ADVISORY,
        properties={"maxTimeoutMinutes": {"type": "number", "default": 2880}},
        types=(JOB,), check=_timeout),
    Rule(
        id="glue-job-capacity",
        description="Every Glue job caps its capacity: workers (Spark) or DPUs (Python shell)",
        remediation="set worker_type and number_of_workers (datalake:glue.*) or max_capacity "
                    "(datalake:gold.maxCapacity) within the stack's cap",
        url=GUIDE + "aws-glue-api-jobs-job.html",
        level=EnforcementLevel.ADVISORY,
        properties={"maxWorkers": {"type": "number", "default": 10},
                    "maxPythonShellDpus": {"type": "number", "default": 1}},
        types=(JOB,), check=_capacity),
    Rule(
        id="glue-job-security-configuration",
        description="Every Glue job runs with a security configuration",
        remediation="set security_configuration to the stack's Glue security configuration",
        url=GUIDE + "encryption-security-configuration.html",
        types=(JOB,), check=requires(
            "securityConfiguration", "the job has no security configuration (Glue does not "
                                     "encrypt its S3 writes, logs and bookmarks)")),
    Rule(
        id="glue-job-bookmarks",
        description="Glue (Spark) job bookmarks are as the stack configures them",
        remediation="set default_arguments['--job-bookmark-option'] to the configured value "
                    "(this lake: job-bookmark-disable; its manifests are the bookkeeping)",
        url=GUIDE + "aws-glue-programming-etl-glue-arguments.html",
        properties={"bookmarkOption": {"type": "string", "default": BOOKMARK_DEFAULT,
                                       "enum": ["job-bookmark-enable", "job-bookmark-disable",
                                                "job-bookmark-pause"]}},
        types=(JOB,), check=_bookmarks),
    Rule(
        id="glue-security-configuration-encrypted",
        description="Every Glue security configuration encrypts S3 output, logs and bookmarks",
        remediation="set s3_encryption (SSE-KMS where the stack asks for KMS), "
                    "cloudwatch_encryption SSE-KMS and job_bookmarks_encryption CSE-KMS",
        url=GUIDE + "encryption-security-configuration.html",
        properties={"kms": {"type": "boolean", "default": False,
                            "description": "Require SSE-KMS for what jobs write to S3."}},
        types=(SECURITY_CONFIGURATION,), check=_encrypts_everything),
    Rule(
        id="glue-crawler-exclusions",
        description="Crawlers exclude the lake's bookkeeping folders",
        remediation="add the paths to each s3_targets[].exclusions",
        url=GUIDE + "define-crawler-choose-data-sources.html",
        properties={"excludedPaths": {"type": "array", "items": {"type": "string"},
                                      "default": ["_runs/**", "_staging/**"]}},
        types=(CRAWLER,), check=_crawler_excludes),
    Rule(
        id="glue-crawler-security-configuration",
        description="Every Glue crawler runs with a security configuration",
        remediation="set security_configuration to the stack's Glue security configuration",
        url=GUIDE + "encryption-security-configuration.html",
        types=(CRAWLER,), check=requires(
            "securityConfiguration", "the crawler has no security configuration (its logs "
                                     "are not encrypted)")),
]
