"""Small Pulumi programs for the policy pack's tests: for each rule, a resource that keeps it and
one that breaks it (`FIXTURES`), and `insecure`, what a careless change would add to the lake.
Each builder declares plain pulumi_aws resources, as another team's stack would."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

TAGS = {"project": "datalake", "stack": "dev", "managed-by": "pulumi"}
BOUNDARY = "arn:aws:iam::123456789012:policy/datalake-boundary-dev"
GLUE_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})


def tls_only(arn: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})


def public_read(arn: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"{arn}/*"}]})


@dataclass
class BucketSpec:
    """A bucket and the resources that configure it; each field left at its default keeps
    every S3 rule (SSE-KMS, as prod asks)."""

    name: str = "data"
    zone: str = "raw"
    sse: str | None = "aws:kms"
    bucket_key: bool = True
    blocks: tuple[bool, bool, bool, bool] = (True, True, True, True)
    ownership: str | None = "BucketOwnerEnforced"
    policy: Callable[[str], str] | None = tls_only
    logs_to: str | None = "logs"
    """The log bucket's logical name; "self" logs to itself; None: no logging."""
    versioned: bool = True
    aborts_uploads: bool = True
    tags: dict[str, str] = field(default_factory=lambda: dict(TAGS))


def declare_bucket(spec: BucketSpec,
                   buckets: dict[str, aws.s3.Bucket] | None = None) -> aws.s3.Bucket:
    buckets = buckets if buckets is not None else {}
    bucket = aws.s3.Bucket(spec.name, bucket=f"{spec.name}-123456789012",
                           tags={**spec.tags, "zone": spec.zone})
    buckets[spec.name] = bucket
    if spec.sse is not None:
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{spec.name}-encryption", bucket=bucket.id, rules=[{
                "apply_server_side_encryption_by_default": {"sse_algorithm": spec.sse},
                "bucket_key_enabled": spec.bucket_key}])
    a, b, c, d = spec.blocks
    aws.s3.BucketPublicAccessBlock(f"{spec.name}-public-access", bucket=bucket.id,
                                   block_public_acls=a, block_public_policy=b,
                                   ignore_public_acls=c, restrict_public_buckets=d)
    if spec.ownership is not None:
        aws.s3.BucketOwnershipControls(f"{spec.name}-ownership", bucket=bucket.id,
                                       rule={"object_ownership": spec.ownership})
    if spec.policy is not None:
        aws.s3.BucketPolicy(f"{spec.name}-policy", bucket=bucket.id,
                            policy=bucket.arn.apply(spec.policy))
    if spec.logs_to is not None:
        target = bucket if spec.logs_to == "self" else buckets[spec.logs_to]
        aws.s3.BucketLogging(f"{spec.name}-logging", bucket=bucket.id,
                             target_bucket=target.bucket, target_prefix=f"{spec.name}/")
    if spec.versioned:
        aws.s3.BucketVersioning(f"{spec.name}-versioning", bucket=bucket.id,
                                versioning_configuration={"status": "Enabled"})
    if spec.aborts_uploads:
        aws.s3.BucketLifecycleConfiguration(f"{spec.name}-lifecycle", bucket=bucket.id, rules=[{
            "id": "abort-uploads", "status": "Enabled", "filter": {},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 3}}])
    return bucket


def lake_buckets(log_sse: str = "AES256", **changes: Any) -> Callable[[], None]:
    """A log bucket (SSE-S3, not logged) and one data bucket with `changes`."""
    def program() -> None:
        buckets: dict[str, aws.s3.Bucket] = {}
        declare_bucket(BucketSpec(name="logs", zone="access-logs", sse=log_sse, logs_to=None,
                                  versioned=False), buckets)
        declare_bucket(BucketSpec(**changes), buckets)
    return program


def identity_policy(*statements: dict[str, Any]) -> Callable[[], None]:
    def program() -> None:
        aws.iam.Policy("grants", tags=TAGS, policy=json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}))
    return program


def role(trust: str = GLUE_TRUST, boundary: str | None = BOUNDARY) -> Callable[[], None]:
    def program() -> None:
        aws.iam.Role("job-role", assume_role_policy=trust, permissions_boundary=boundary,
                     tags=TAGS)
    return program


def resource(factory: Callable[..., pulumi.CustomResource], logical_name: str,
             **inputs: Any) -> Callable[[], None]:
    def program() -> None:
        factory(logical_name, **inputs)
    return program


def function(log_group: bool = True, timeout: int | None = 60) -> Callable[[], None]:
    def program() -> None:
        role_arn = "arn:aws:iam::123456789012:role/trigger"
        logs = aws.cloudwatch.LogGroup("trigger-logs", name="/aws/lambda/other-name",
                                       retention_in_days=14, kms_key_id="key", tags=TAGS)
        aws.lambda_.Function(
            "trigger", name="trigger", role=role_arn, runtime="python3.12", handler="h.handler",
            code=pulumi.AssetArchive({"h.py": pulumi.StringAsset("def handler(e, c): pass")}),
            timeout=timeout, tags=TAGS,
            logging_config={"log_format": "Text", "log_group": logs.name} if log_group else None)
    return program


def glue_job(**changes: Any) -> Callable[[], None]:
    inputs = {"role_arn": "arn:aws:iam::123456789012:role/job", "glue_version": "5.0",
              "command": {"name": "glueetl", "script_location": "s3://code/job.py"},
              "worker_type": "G.1X", "number_of_workers": 2, "timeout": 60,
              "security_configuration": "lake-glue", "tags": TAGS,
              "default_arguments": {"--job-bookmark-option": "job-bookmark-disable"}}
    return resource(aws.glue.Job, "job", **{**inputs, **changes})


def security_configuration(s3: str = "SSE-KMS", logs: str = "SSE-KMS",
                           bookmarks: str = "CSE-KMS") -> Callable[[], None]:
    key = "arn:aws:kms:sa-east-1:123456789012:key/k"
    return resource(aws.glue.SecurityConfiguration, "glue-security", name="lake-glue",
                    encryption_configuration={
                        "s3_encryption": {"s3_encryption_mode": s3, "kms_key_arn": key},
                        "cloudwatch_encryption": {"cloudwatch_encryption_mode": logs,
                                                  "kms_key_arn": key},
                        "job_bookmarks_encryption": {"job_bookmarks_encryption_mode": bookmarks,
                                                     "kms_key_arn": key}})


def crawler(exclusions: tuple[str, ...] = ("_runs/**", "_staging/**"),
            security: str | None = "lake-glue") -> Callable[[], None]:
    return resource(aws.glue.Crawler, "crawler", role="arn:aws:iam::123456789012:role/crawler",
                    database_name="lake", security_configuration=security, tags=TAGS,
                    s3_targets=[{"path": "s3://processed/", "exclusions": list(exclusions)}])


def workgroup(used_by_job: bool = False, **configuration: Any) -> Callable[[], None]:
    settings = {"enforce_workgroup_configuration": True,
                "bytes_scanned_cutoff_per_query": 1 << 30,
                "engine_version": {"selected_engine_version": "Athena engine version 3"},
                "result_configuration": {"output_location": "s3://results/",
                                         "encryption_configuration": {
                                             "encryption_option": "SSE_KMS",
                                             "kms_key_arn": "arn:aws:kms:sa-east-1:1:key/k"}}}

    def program() -> None:
        group = aws.athena.Workgroup("queries", name="queries", tags=TAGS,
                                     configuration={**settings, **configuration})
        if used_by_job:
            aws.glue.Job("gold-job", role_arn="arn:aws:iam::123456789012:role/gold",
                         command={"name": "pythonshell", "script_location": "s3://code/g.py"},
                         max_capacity=0.0625, timeout=30, security_configuration="lake-glue",
                         default_arguments={"--workgroup": group.name}, tags=TAGS)
    return program


def insecure() -> None:
    """What a careless change would add to the lake: a public, unencrypted bucket and an
    identity policy that allows everything."""
    bucket = aws.s3.Bucket("careless-bucket", bucket="careless-open-data")
    aws.s3.BucketPolicy("careless-bucket-policy", bucket=bucket.id,
                        policy=bucket.arn.apply(public_read))
    aws.iam.Policy("careless-admin", policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
