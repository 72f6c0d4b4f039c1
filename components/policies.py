"""IAM policy documents, written per resource ARN.

Each helper returns statements (plain dicts whose values may be Outputs); `document` turns a list
of them into JSON. Keeping the grants here lets the tests read what each role may do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

Statement = dict[str, Any]


def statement(actions: Sequence[str], resources: Sequence[pulumi.Input[str]], *,
              sid: str | None = None, effect: str = "Allow",
              condition: dict[str, Any] | None = None) -> Statement:
    result: Statement = {"Effect": effect, "Action": list(actions), "Resource": list(resources)}
    if sid:
        result["Sid"] = sid
    if condition:
        result["Condition"] = condition
    return result


def document(statements: Sequence[Statement]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def objects(bucket_arn: pulumi.Input[str], prefix: str = "") -> pulumi.Output[str]:
    return pulumi.Output.concat(bucket_arn, "/", prefix, "*")


def s3_read(sid: str, bucket_arn: pulumi.Input[str]) -> list[Statement]:
    return [
        statement(["s3:ListBucket", "s3:GetBucketLocation"], [bucket_arn], sid=f"{sid}List"),
        statement(["s3:GetObject", "s3:GetObjectVersion"], [objects(bucket_arn)],
                  sid=f"{sid}Read"),
    ]


def s3_write(sid: str, bucket_arn: pulumi.Input[str], *, delete: bool = True,
             prefix: str = "") -> list[Statement]:
    """Read, write and (optionally) delete objects (those under `prefix` only, if given);
    multipart uploads included."""
    actions = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload",
               "s3:ListMultipartUploadParts"]
    if delete:
        actions.append("s3:DeleteObject")
    return [
        statement(["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
                  [bucket_arn], sid=f"{sid}List"),
        statement(actions, [objects(bucket_arn, prefix)], sid=f"{sid}Write"),
    ]


def kms_use(key_arn: pulumi.Input[str], *, encrypt: bool = True,
            sid: str = "LakeKey") -> Statement:
    actions = ["kms:Decrypt", "kms:DescribeKey"]
    if encrypt:
        actions += ["kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
    return statement(actions, [key_arn], sid=sid)


def logs_write(log_group_arns: Sequence[pulumi.Input[str]], *,
               associate_key: bool = False) -> Statement:
    """Write to the given log groups (ARNs ending in `:*` cover their streams)."""
    actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
               "logs:DescribeLogStreams"]
    if associate_key:  # Glue's CloudWatch encryption attaches the lake key to its log groups
        actions.append("logs:AssociateKmsKey")
    return statement(actions, list(log_group_arns), sid="Logs")


def logs_key(key_arn: pulumi.Input[str], region: pulumi.Input[str]) -> Statement:
    """Use the lake key through CloudWatch Logs only: what a role that writes to an encrypted
    log group should have (encrypt-log-data-kms.html, `kms:ViaService`)."""
    return statement(["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                      "kms:DescribeKey"], [key_arn], sid="LogsKey",
                     condition={"StringEquals": {"kms:ViaService": pulumi.Output.concat(
                         "logs.", region, ".amazonaws.com")}})


def metrics(namespace: str) -> Statement:
    """cloudwatch:PutMetricData has no resource-level form; pin it to one namespace instead."""
    return statement(["cloudwatch:PutMetricData"], ["*"], sid="Metrics",
                     condition={"StringEquals": {"cloudwatch:namespace": namespace}})


def trust(service: str, account_id: pulumi.Input[str] | None = None) -> pulumi.Output[str]:
    """A role trust policy for one AWS service.

    With `account_id`, only requests made on behalf of this account may assume the role
    (confused-deputy protection); use it only for services documented to send
    `aws:SourceAccount` when they assume a role (SageMaker does; Lambda and Glue do not).
    """
    grant: Statement = {"Effect": "Allow", "Principal": {"Service": service},
                        "Action": "sts:AssumeRole"}
    if account_id is not None:
        grant["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
    return document([grant])
