"""Storage: the zone buckets, each with the same secure defaults (set once in SecureBucket)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.lifecycle import ABORT_MULTIPART_DAYS, Lifecycle
from components.naming import LakeArgs, LakeLayer
from components.policies import document, objects, statement

# part name -> (config lifecycle key, versioned). The access-log bucket is made separately.
ZONES = {
    "raw": ("raw", True),
    "processed": ("processed", False),
    "rejected": ("rejected", False),
    "gold": ("gold", True),
    "athena-results": ("athenaResults", False),
    "artifacts": ("artifacts", False),
}


@dataclass(kw_only=True)
class SecureBucketArgs:
    bucket: pulumi.Input[str]
    zone: str
    lifecycle: Lifecycle
    kms_key_arn: pulumi.Input[str] | None
    """None: SSE-S3. The access-log bucket must use SSE-S3 (S3 log delivery cannot use KMS)."""
    versioned: bool
    force_destroy: bool
    protect: bool
    log_bucket: pulumi.Input[str] | None
    """Where server access logs go; None for the log bucket itself, which accepts S3's log
    delivery from this account instead."""
    account_id: pulumi.Input[str]
    source_buckets: pulumi.Input[str] | None = None
    """For the log bucket: an ARN pattern of the buckets whose logs it accepts."""


class SecureBucket(pulumi.ComponentResource):
    """A bucket with encryption, all public-access blocks, BucketOwnerEnforced, a TLS-only
    policy, aborted multipart uploads, access logging and the zone's lifecycle."""

    def __init__(self, name: str, args: SecureBucketArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:storage:SecureBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket", bucket=args.bucket, force_destroy=args.force_destroy,
            tags={"zone": args.zone},
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect,
                                        retain_on_delete=args.protect))
        self.arn = self.bucket.arn
        self.name = self.bucket.bucket

        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership", bucket=self.bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"}, opts=child)
        public_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block", bucket=self.bucket.id, block_public_acls=True,
            block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
            opts=child)
        if args.kms_key_arn is None:
            default = {"sse_algorithm": "AES256"}
        else:
            default = {"sse_algorithm": "aws:kms", "kms_master_key_id": args.kms_key_arn}
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption", bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": default,
                    "bucket_key_enabled": args.kms_key_arn is not None}],
            opts=child)
        deny_insecure = {
            **statement(["s3:*"], [self.arn, objects(self.arn)], sid="DenyInsecureTransport",
                        effect="Deny", condition={"Bool": {"aws:SecureTransport": "false"}}),
            "Principal": "*",
        }
        statements = [deny_insecure]
        if args.log_bucket is None:
            statements.append({
                **statement(["s3:PutObject"], [objects(self.arn)], sid="S3ServerAccessLogs",
                            condition={"StringEquals": {"aws:SourceAccount": args.account_id},
                                       "ArnLike": {"aws:SourceArn": args.source_buckets}}),
                "Principal": {"Service": "logging.s3.amazonaws.com"},
            })
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy", bucket=self.bucket.id, policy=document(statements),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_block, ownership]))
        if args.versioned:
            aws.s3.BucketVersioning(
                f"{name}-versioning", bucket=self.bucket.id,
                versioning_configuration={"status": "Enabled"}, opts=child)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle", bucket=self.bucket.id,
            rules=lifecycle_rules(args.lifecycle, args.versioned), opts=child)
        if args.log_bucket is not None:
            aws.s3.BucketLogging(
                f"{name}-access-logging", bucket=self.bucket.id, target_bucket=args.log_bucket,
                target_prefix=pulumi.Output.concat(self.bucket.bucket, "/"), opts=child)
        self.register_outputs({"name": self.name, "arn": self.arn})


def lifecycle_rules(rule: Lifecycle, versioned: bool = False) -> list[dict]:
    """One rule for the whole bucket: abort stale uploads, plus the zone's transitions/expiry.

    A versioned bucket whose current objects never expire leaves a delete marker for every
    object the lake deletes; once their noncurrent versions expire, the markers are removed too
    (ExpiredObjectDeleteMarker, which S3 takes only in a rule without an expiry in days)."""
    result: dict = {
        "id": "zone-lifecycle",
        "status": "Enabled",
        "filter": {},
        "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_MULTIPART_DAYS},
    }
    if rule.transition_days is not None:
        result["transitions"] = [{"days": rule.transition_days,
                                  "storage_class": rule.transition_storage_class}]
    if rule.expire_days is not None:
        result["expiration"] = {"days": rule.expire_days}
    elif versioned:
        result["expiration"] = {"expired_object_delete_marker": True}
    if rule.noncurrent_expire_days is not None:
        result["noncurrent_version_expiration"] = {"noncurrent_days": rule.noncurrent_expire_days}
    return [result]


@dataclass(kw_only=True)
class StorageArgs(LakeArgs):
    pass


class Storage(LakeLayer):
    """The zone buckets (raw, processed, rejected, gold), Athena results, artifacts and the
    server-access-log bucket that all of them log to."""

    def __init__(self, name: str, args: StorageArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:storage:Storage", name, "storage", opts)
        cfg = args.config

        def bucket_name(part: str) -> pulumi.Output[str]:
            return args.naming.bucket(part, args.aws.account_id)

        self.access_logs = SecureBucket(f"{name}-access-logs", SecureBucketArgs(
            bucket=bucket_name("access-logs"), zone="access-logs",
            lifecycle=cfg.lifecycle["accessLogs"], kms_key_arn=None, versioned=False,
            force_destroy=cfg.force_destroy, protect=cfg.protect, log_bucket=None,
            account_id=args.aws.account_id,
            source_buckets=pulumi.Output.concat("arn:", args.aws.partition, ":s3:::",
                                                args.naming.prefix, "-*")),
            opts=pulumi.ResourceOptions(parent=self))
        # Log delivery needs the log bucket's policy before any bucket points its logs there.
        after_logs = pulumi.ResourceOptions(parent=self, depends_on=[self.access_logs.policy])
        self.zones: dict[str, SecureBucket] = {}
        for part, (lifecycle_key, versioned) in ZONES.items():
            self.zones[part] = SecureBucket(f"{name}-{part}", SecureBucketArgs(
                bucket=bucket_name(part), zone=part, lifecycle=cfg.lifecycle[lifecycle_key],
                kms_key_arn=args.kms_key_arn if cfg.bucket_kms else None, versioned=versioned,
                force_destroy=cfg.force_destroy, protect=cfg.protect,
                log_bucket=self.access_logs.name, account_id=args.aws.account_id),
                opts=after_logs)

        self.raw = self.zones["raw"]
        self.processed = self.zones["processed"]
        self.rejected = self.zones["rejected"]
        self.gold = self.zones["gold"]
        self.athena_results = self.zones["athena-results"]
        self.artifacts = self.zones["artifacts"]
        self.register_outputs({part: bucket.name for part, bucket in self.zones.items()}
                              | {"access-logs": self.access_logs.name})


def uri(bucket: SecureBucket, prefix: str = "") -> pulumi.Output[str]:
    """`s3://<bucket>/<prefix>`: how runtime code is told where a zone is."""
    return pulumi.Output.concat("s3://", bucket.name, "/", prefix)



@dataclass(kw_only=True)
class ZoneArgs(LakeArgs):
    """A layer that works on the lake's zones."""

    storage: Storage
