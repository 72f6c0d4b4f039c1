"""Storage: the zone buckets, each with the same secure defaults (set once in SecureBucket)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.lifecycle import ABORT_MULTIPART_DAYS, Lifecycle
from components.naming import LakeArgs, LakeLayer
from components.policies import Statement, document, objects, statement
from jobs.contract import ATHENA_RESULTS_PREFIX

# part name -> (config lifecycle key, versioned). The access-log and audit buckets are made
# separately.
ZONES = {
    "raw": ("raw", True),
    "processed": ("processed", False),
    "restricted": ("restricted", False),
    "rejected": ("rejected", False),
    "gold": ("gold", True),
    "athena-results": ("athenaResults", False),
    "artifacts": ("artifacts", False),
}
AUDIT = "audit"  # the bucket the restricted zone's CloudTrail trail delivers to

# What the restricted zone's bucket policy denies to every principal but its readers: reading,
# writing and (where the stack cannot be destroyed) listing and deleting objects. Bucket
# configuration stays with IAM, so that the deploy role can still manage the bucket.
RESTRICTED_READ_WRITE = ("s3:GetObject*", "s3:PutObject*", "s3:RestoreObject",
                         "s3:ReplicateObject", "s3:AbortMultipartUpload")
RESTRICTED_LIST_DELETE = ("s3:ListBucket*", "s3:ListMultipartUploadParts", "s3:DeleteObject*")

PolicyStatements = Callable[[pulumi.Output[str]], list[Statement]]
"""More bucket-policy statements, given the bucket's ARN."""


def only_principals(readers: Sequence[pulumi.Input[str]], *,
                    keep_list_and_delete: bool) -> PolicyStatements:
    """Deny the bucket's data actions to every principal whose ARN is not one of `readers` (role
    ARNs): aws:PrincipalArn with an ARN operator, as IAM recommends over NotPrincipal
    (reference_policies_elements_notprincipal.html). `keep_list_and_delete` leaves listing and
    deleting to IAM alone, so that `pulumi destroy` can empty a forceDestroy bucket."""
    actions = [*RESTRICTED_READ_WRITE,
               *(() if keep_list_and_delete else RESTRICTED_LIST_DELETE)]

    def statements(arn: pulumi.Output[str]) -> list[Statement]:
        return [{**statement(actions, [arn, objects(arn)], sid="OnlyItsReaders", effect="Deny",
                             condition={"ArnNotEquals": {"aws:PrincipalArn": list(readers)}}),
                 "Principal": "*"}]

    return statements


def cloudtrail_delivery(trail_arn: pulumi.Input[str],
                        account_id: pulumi.Input[str]) -> PolicyStatements:
    """What CloudTrail needs to deliver one trail's log files: GetBucketAcl on the bucket and
    PutObject under AWSLogs/<account>/ with bucket-owner-full-control, both only for that trail
    (create-s3-bucket-policy-for-cloudtrail.html)."""
    service = {"Service": "cloudtrail.amazonaws.com"}

    def statements(arn: pulumi.Output[str]) -> list[Statement]:
        return [
            {**statement(["s3:GetBucketAcl"], [arn], sid="CloudTrailAclCheck",
                         condition={"StringEquals": {"aws:SourceArn": trail_arn}}),
             "Principal": service},
            {**statement(["s3:PutObject"],
                         [pulumi.Output.concat(arn, "/AWSLogs/", account_id, "/*")],
                         sid="CloudTrailWrite",
                         condition={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                                     "aws:SourceArn": trail_arn}}),
             "Principal": service},
        ]

    return statements


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
    policy_statements: PolicyStatements | None = None
    """More bucket-policy statements (after the TLS-only Deny), given the bucket's ARN."""
    expire_prefixes: Mapping[str, int] = field(default_factory=dict)
    """Prefix -> days after which the objects under it expire, beside the zone's lifecycle."""


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
        if args.policy_statements is not None:
            statements += args.policy_statements(self.arn)
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy", bucket=self.bucket.id, policy=document(statements),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_block, ownership]))
        if args.versioned:
            aws.s3.BucketVersioning(
                f"{name}-versioning", bucket=self.bucket.id,
                versioning_configuration={"status": "Enabled"}, opts=child)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle", bucket=self.bucket.id,
            rules=lifecycle_rules(args.lifecycle, args.versioned, args.expire_prefixes),
            opts=child)
        if args.log_bucket is not None:
            aws.s3.BucketLogging(
                f"{name}-access-logging", bucket=self.bucket.id, target_bucket=args.log_bucket,
                target_prefix=pulumi.Output.concat(self.bucket.bucket, "/"), opts=child)
        self.register_outputs({"name": self.name, "arn": self.arn})


def lifecycle_rules(rule: Lifecycle, versioned: bool = False,
                    expire_prefixes: Mapping[str, int] | None = None) -> list[dict]:
    """One rule for the whole bucket: abort stale uploads, plus the zone's transitions/expiry;
    then one expiry rule per prefix of `expire_prefixes`.

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
    return [result, *({"id": f"expire-{prefix.strip('/')}", "status": "Enabled",
                       "filter": {"prefix": prefix}, "expiration": {"days": days}}
                      for prefix, days in (expire_prefixes or {}).items())]


@dataclass(kw_only=True)
class StorageArgs(LakeArgs):
    restricted_key_arn: pulumi.Input[str] | None = None
    """The restricted zone's own key (stacks with `encryption: kms`); None: SSE-S3."""
    restricted_readers: Sequence[pulumi.Input[str]] = ()
    """The ARNs of the only roles the restricted zone's bucket policy lets use its objects."""
    audit_trail_arn: pulumi.Input[str] | None = None
    """The trail that records the restricted zone's data events: a bucket for its logs."""


class Storage(LakeLayer):
    """The zone buckets (raw, processed, restricted, rejected, gold), Athena results, artifacts,
    the audit bucket (when the restricted zone's reads are recorded) and the server-access-log
    bucket that all of them log to."""

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
        lake_key = args.kms_key_arn if cfg.bucket_kms else None
        self.keys: dict[str, tuple[str, pulumi.Input[str]] | None] = {}
        """Part -> (name, ARN) of the KMS key its objects are encrypted with; None: SSE-S3."""
        self.zones: dict[str, SecureBucket] = {}
        for part, (lifecycle_key, versioned) in ZONES.items():
            extra: dict = {}
            key = lake_key
            if part == "restricted":
                # Its own key, a policy that names its only readers, and the researchers'
                # query results (Athena writes no expiry of its own) under athenaResults' expiry.
                key = args.restricted_key_arn
                extra = {"policy_statements": only_principals(
                             args.restricted_readers, keep_list_and_delete=cfg.force_destroy),
                         "expire_prefixes": {ATHENA_RESULTS_PREFIX:
                                             cfg.lifecycle["athenaResults"].expire_days}}
            self.keys[part] = None if key is None else (
                "RestrictedKey" if part == "restricted" else "LakeKey", key)
            self.zones[part] = SecureBucket(f"{name}-{part}", SecureBucketArgs(
                bucket=bucket_name(part), zone=part, lifecycle=cfg.lifecycle[lifecycle_key],
                kms_key_arn=key, versioned=versioned,
                force_destroy=cfg.force_destroy, protect=cfg.protect,
                log_bucket=self.access_logs.name, account_id=args.aws.account_id, **extra),
                opts=after_logs)

        self.audit: SecureBucket | None = None
        if args.audit_trail_arn is not None:
            # Audit logs age like the server access logs (lifecycle.accessLogs).
            self.audit = SecureBucket(f"{name}-{AUDIT}", SecureBucketArgs(
                bucket=bucket_name(AUDIT), zone=AUDIT, lifecycle=cfg.lifecycle["accessLogs"],
                kms_key_arn=lake_key, versioned=False, force_destroy=cfg.force_destroy,
                protect=cfg.protect, log_bucket=self.access_logs.name,
                account_id=args.aws.account_id,
                policy_statements=cloudtrail_delivery(args.audit_trail_arn,
                                                      args.aws.account_id)),
                opts=after_logs)

        self.raw = self.zones["raw"]
        self.processed = self.zones["processed"]
        self.restricted = self.zones["restricted"]
        self.restricted_key_arn = args.restricted_key_arn
        self.rejected = self.zones["rejected"]
        self.gold = self.zones["gold"]
        self.athena_results = self.zones["athena-results"]
        self.artifacts = self.zones["artifacts"]
        self.register_outputs({part: bucket.name for part, bucket in self.zones.items()}
                              | {"access-logs": self.access_logs.name}
                              | ({AUDIT: self.audit.name} if self.audit else {}))


def uri(bucket: SecureBucket, prefix: str = "") -> pulumi.Output[str]:
    """`s3://<bucket>/<prefix>`: how runtime code is told where a zone is."""
    return pulumi.Output.concat("s3://", bucket.name, "/", prefix)



@dataclass(kw_only=True)
class ZoneArgs(LakeArgs):
    """A layer that works on the lake's zones."""

    storage: Storage
