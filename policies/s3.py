"""S3: every bucket encrypted, private, owner-enforced, TLS-only, logged, versioned where it
holds data that must survive a bad write, and with a lifecycle that aborts stale uploads.

pulumi-aws 7 configures a bucket through separate resources (its encryption, public-access
block, ownership controls, policy, logging, versioning, lifecycle), each naming the bucket in its
`bucket` input. At a first preview that input is unknown when it comes from the bucket's id, so
the rules link each one to its bucket by property dependency (or by a plain bucket name).

Documented exemption (stated in `s3-encryption` and `s3-access-logging`): a bucket that
receives server access logs (another bucket's `targetBucket`) must use SSE-S3 ("Default
server-side encryption with AWS Key Management Service (AWS KMS) keys (SSE-KMS) is not supported
for server access logging destination buckets", troubleshooting-server-access-logging.html), and
it does not log to itself ("The target logging bucket does not need to have server access
logging enabled", Security Hub S3.9).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyResource, ResourceValidationArgs

from policies.resources import (
    described,
    document,
    items,
    known,
    linked,
    listed,
    of_type,
    statements,
    value,
)
from policies.rule import Rule, StackRule

BUCKET = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
ENCRYPTION = ("aws:s3/bucketServerSideEncryptionConfiguration:"
              "BucketServerSideEncryptionConfiguration",
              "aws:s3/bucketServerSideEncryptionConfigurationV2:"
              "BucketServerSideEncryptionConfigurationV2")
PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
OWNERSHIP = ("aws:s3/bucketOwnershipControls:BucketOwnershipControls",)
POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning",
              "aws:s3/bucketVersioningV2:BucketVersioningV2")
LIFECYCLE = ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
             "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")
BLOCKS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
CONTROLS = "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html"

Violations = Iterator[tuple[PolicyResource, str]]


def log_targets(resources: list[PolicyResource]) -> list[PolicyResource]:
    """Buckets that some bucket's server access logs are delivered to."""
    return [bucket for bucket in of_type(resources, *BUCKET)
            if linked(resources, bucket, LOGGING, prop="targetBucket")]


def _encrypted(resources: list[PolicyResource], config: Mapping[str, Any]) -> Violations:
    targets = log_targets(resources)
    for bucket in of_type(resources, *BUCKET):
        configurations = linked(resources, bucket, ENCRYPTION)
        if not configurations:
            yield bucket, "has no server-side encryption configuration"
            continue
        for configuration in configurations:
            for rule in items(known(configuration.props, "rules")):
                algorithm = known(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
                if bucket in targets:
                    if algorithm not in (None, "AES256"):
                        yield bucket, ("receives server access logs, which S3 delivers only to "
                                       f"an SSE-S3 (AES256) bucket, but uses {algorithm}")
                elif config["kms"] and algorithm not in KMS_ALGORITHMS + (None,):
                    yield bucket, f"uses {algorithm}, not SSE-KMS with the lake's key"
                elif algorithm in KMS_ALGORITHMS and known(rule, "bucketKeyEnabled") is False:
                    yield bucket, "uses SSE-KMS without an S3 Bucket Key"


def _public_access_blocked(resources: list[PolicyResource], _: Mapping[str, Any]) -> Violations:
    for bucket in of_type(resources, *BUCKET):
        blocks = linked(resources, bucket, PUBLIC_ACCESS_BLOCK)
        if not blocks:
            yield bucket, "has no public access block"
        for block in blocks:
            off = [flag for flag in BLOCKS if known(block.props, flag) is not True]
            if off:
                yield bucket, f"public access block leaves {', '.join(off)} off"


def _owner_enforced(resources: list[PolicyResource], _: Mapping[str, Any]) -> Violations:
    for bucket in of_type(resources, *BUCKET):
        controls = linked(resources, bucket, OWNERSHIP)
        ownership = [known(c.props, "rule", "objectOwnership") for c in controls]
        if "BucketOwnerEnforced" not in ownership:
            yield bucket, "does not enforce bucket-owner ownership (ACLs stay enabled)"


def _has_policy(resources: list[PolicyResource], _: Mapping[str, Any]) -> Violations:
    for bucket in of_type(resources, *BUCKET):
        if not linked(resources, bucket, POLICY):
            yield bucket, "has no bucket policy (nothing denies requests without TLS)"


def _logged(resources: list[PolicyResource], _: Mapping[str, Any]) -> Violations:
    for bucket in of_type(resources, *BUCKET):
        loggings = linked(resources, bucket, LOGGING)
        delivered_here = linked(resources, bucket, LOGGING, prop="targetBucket")
        if any(logging in delivered_here for logging in loggings):
            yield bucket, "logs to itself (each delivery would log another request)"
        elif not loggings and not delivered_here:
            yield bucket, "has no server access logging"


def _versioned(resources: list[PolicyResource], config: Mapping[str, Any]) -> Violations:
    for bucket in of_type(resources, *BUCKET):
        zone = known(bucket.props, "tags", config["zoneTag"])
        if zone not in config["versionedZones"]:
            continue
        statuses = [known(v.props, "versioningConfiguration", "status")
                    for v in linked(resources, bucket, VERSIONING)]
        if "Enabled" not in statuses:
            yield bucket, f"holds the {zone} zone but versioning is not enabled"


def _aborts_uploads(resources: list[PolicyResource], _: Mapping[str, Any]) -> Violations:
    for bucket in of_type(resources, *BUCKET):
        rules = [rule for lifecycle in linked(resources, bucket, LIFECYCLE)
                 for rule in items(known(lifecycle.props, "rules"))]
        if not any(known(rule, "status") == "Enabled"
                   and known(rule, "abortIncompleteMultipartUpload", "daysAfterInitiation")
                   for rule in rules):
            yield bucket, "has no enabled lifecycle rule that aborts incomplete multipart uploads"


def _denies_plain_http(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    for statement in statements(document(value(args.props, "policy"))):
        secure = statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
        actions = listed(statement.get("Action"))
        if (statement.get("Effect") == "Deny" and str(secure).lower() == "false"
                and ("s3:*" in actions or "*" in actions)):
            return
    yield "the bucket policy has no Deny of s3:* when aws:SecureTransport is false"


def _no_public_grant(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    for statement in statements(document(value(args.props, "policy"))):
        principal = statement.get("Principal")
        aws = listed(principal.get("AWS")) if isinstance(principal, dict) else []
        everyone = principal == "*" or "*" in aws
        if statement.get("Effect") == "Allow" and everyone and not statement.get("Condition"):
            yield f"{described(statement)} allows everyone (Principal \"*\")"


RULES = [
    StackRule(
        id="s3-encryption",
        description="Every S3 bucket has default encryption: SSE-KMS where the stack asks for "
                    "KMS (with a Bucket Key); SSE-S3 for a bucket that receives access logs",
        remediation="declare an aws.s3.BucketServerSideEncryptionConfiguration for the bucket "
                    "(sse_algorithm aws:kms, bucket_key_enabled, the lake key), or AES256 for "
                    "the access-log bucket",
        url=CONTROLS + "#s3-17",
        properties={"kms": {"type": "boolean", "default": False,
                            "description": "Require SSE-KMS (the log bucket excepted)."}},
        check=_encrypted),
    StackRule(
        id="s3-public-access-block",
        description="Every S3 bucket blocks all four kinds of public access",
        remediation="declare an aws.s3.BucketPublicAccessBlock for the bucket with "
                    "block_public_acls, block_public_policy, ignore_public_acls and "
                    "restrict_public_buckets all True",
        url=CONTROLS + "#s3-8", check=_public_access_blocked),
    StackRule(
        id="s3-ownership-enforced",
        description="Every S3 bucket enforces bucket-owner ownership (ACLs disabled)",
        remediation="declare an aws.s3.BucketOwnershipControls for the bucket with "
                    "object_ownership BucketOwnerEnforced",
        url=CONTROLS + "#s3-12", check=_owner_enforced),
    StackRule(
        id="s3-bucket-policy",
        description="Every S3 bucket has a bucket policy (which s3-tls-only checks)",
        remediation="declare an aws.s3.BucketPolicy for the bucket that denies s3:* when "
                    "aws:SecureTransport is false",
        url=CONTROLS + "#s3-5", check=_has_policy),
    Rule(
        id="s3-tls-only",
        description="Every S3 bucket policy denies requests that do not use TLS",
        remediation="add a statement: Effect Deny, Principal *, Action s3:*, the bucket and "
                    "its objects, Condition Bool aws:SecureTransport false",
        url=CONTROLS + "#s3-5", types=POLICY, check=_denies_plain_http),
    Rule(
        id="s3-no-public-policy",
        description="No S3 bucket policy allows everyone without a condition",
        remediation="name the principals (account or role ARNs) or add a condition that "
                    "limits the statement",
        url=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
             "access-control-block-public-access.html"), types=POLICY, check=_no_public_grant),
    StackRule(
        id="s3-access-logging",
        description="Every S3 bucket logs server access to a log bucket; the log bucket does "
                    "not log to itself",
        remediation="declare an aws.s3.BucketLogging for the bucket whose target_bucket is "
                    "the access-log bucket",
        url=CONTROLS + "#s3-9", check=_logged),
    StackRule(
        id="s3-versioning",
        description="Buckets of the zones that must survive a bad write (raw, gold) are "
                    "versioned",
        remediation="declare an aws.s3.BucketVersioning for the bucket with status Enabled",
        url=CONTROLS + "#s3-14",
        properties={
            "versionedZones": {"type": "array", "items": {"type": "string"},
                               "default": ["raw", "gold"],
                               "description": "Zone tag values whose buckets must be versioned."},
            "zoneTag": {"type": "string", "default": "zone",
                        "description": "The tag that names a bucket's zone."}},
        check=_versioned),
    StackRule(
        id="s3-lifecycle",
        description="Every S3 bucket has a lifecycle rule that aborts incomplete multipart "
                    "uploads",
        remediation="declare an aws.s3.BucketLifecycleConfiguration for the bucket with an "
                    "Enabled rule whose abort_incomplete_multipart_upload sets "
                    "days_after_initiation",
        url=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
             "mpu-abort-incomplete-mpu-lifecycle-config.html"),
        level=EnforcementLevel.ADVISORY, check=_aborts_uploads),
]
