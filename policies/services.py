"""KMS keys rotate; log groups expire and are encrypted; Lambda functions have their own log
group and a timeout; SNS topics are encrypted."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyResource, ResourceValidationArgs

from policies.resources import depends_on, known, of_type, value
from policies.rule import Rule, StackRule, requires

KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
FUNCTION = "aws:lambda/function:Function"
TOPIC = "aws:sns/topic:Topic"
SYMMETRIC = ("SYMMETRIC_DEFAULT", None)
LAMBDA_MAX_TIMEOUT = 900  # seconds


def _rotates(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    spec = value(args.props, "customerMasterKeySpec") or value(args.props, "keySpec")
    if spec in SYMMETRIC and value(args.props, "enableKeyRotation") is not True:
        yield "the symmetric key does not rotate (enable_key_rotation is not True)"


def _expires(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    if not value(args.props, "retentionInDays"):
        yield "the log group keeps its events forever (no retention_in_days)"


def _function_log_group(resources: list[PolicyResource],
                        _: Mapping[str, Any]) -> Iterator[tuple[PolicyResource, str]]:
    groups = of_type(resources, LOG_GROUP)
    for function in of_type(resources, FUNCTION):
        name = known(function.props, "name")
        configured = [g for g in groups if depends_on(function, g, "loggingConfig")]
        by_name = [g for g in groups
                   if name is not None and known(g.props, "name") == f"/aws/lambda/{name}"]
        if not configured and not by_name:
            yield function, ("writes to a log group the stack does not declare (so it has no "
                             "retention and no key)")


def _timeout(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    timeout = value(args.props, "timeout")
    if not timeout:
        yield "the function has no explicit timeout (Lambda's default is 3 seconds)"
    elif timeout > LAMBDA_MAX_TIMEOUT:
        yield f"the timeout {timeout:.0f} s is over Lambda's {LAMBDA_MAX_TIMEOUT} s"


RULES = [
    Rule(
        id="kms-key-rotation",
        description="Every symmetric KMS key rotates its key material",
        remediation="set enable_key_rotation=True on the key",
        url="https://docs.aws.amazon.com/securityhub/latest/userguide/kms-controls.html#kms-4",
        types=(KEY,), check=_rotates),
    Rule(
        id="logs-retention",
        description="Every CloudWatch log group has a retention period",
        remediation="set retention_in_days (datalake:logRetentionDays)",
        url=("https://docs.aws.amazon.com/securityhub/latest/userguide/"
             "cloudwatch-controls.html#cloudwatch-16"),
        types=(LOG_GROUP,), check=_expires),
    Rule(
        id="logs-encrypted",
        description="Every CloudWatch log group is encrypted with a customer KMS key",
        remediation="set kms_key_id to the lake key's ARN (its policy must let "
                    "logs.<region>.amazonaws.com use it)",
        url=("https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/"
             "encrypt-log-data-kms.html"),
        types=(LOG_GROUP,), check=requires(
            "kmsKeyId", "the log group is not encrypted with a KMS key (no kms_key_id)")),
    StackRule(
        id="lambda-log-group",
        description="Every Lambda function logs to a log group the stack declares",
        remediation="declare an aws.cloudwatch.LogGroup (retention, key) and pass it as the "
                    "function's logging_config.log_group, or name it /aws/lambda/<function>",
        url="https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html",
        check=_function_log_group),
    Rule(
        id="lambda-timeout",
        description="Every Lambda function sets its timeout",
        remediation="set timeout (seconds, at most 900) to what the handler needs",
        url="https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html",
        level=EnforcementLevel.ADVISORY, types=(FUNCTION,), check=_timeout),
    Rule(
        id="sns-encrypted",
        description="Every SNS topic is encrypted at rest with KMS",
        remediation="set kms_master_key_id to the lake key",
        url="https://docs.aws.amazon.com/securityhub/latest/userguide/sns-controls.html#sns-1",
        types=(TOPIC,), check=requires(
            "kmsMasterKeyId", "the topic is not encrypted (no kms_master_key_id)")),
]
