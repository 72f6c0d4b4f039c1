"""Audit: a CloudTrail trail that records every object-level request to the restricted zone
(who read which restricted object, and when), delivered to the audit bucket."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.naming import AwsContext, LakeLayer, Naming
from components.storage import AUDIT, SecureBucket

S3_OBJECT = "AWS::S3::Object"


def trail_name(naming: Naming) -> str:
    return naming.name(AUDIT)


def trail_arn(naming: Naming, ctx: AwsContext) -> pulumi.Output[str]:
    """The trail's ARN, known before the trail exists: the audit bucket's policy and the key's
    name it (CloudTrail checks both when the trail is created)."""
    return ctx.arn("cloudtrail", f"trail/{trail_name(naming)}")


def object_events(bucket: SecureBucket) -> list[dict]:
    """Advanced event selectors for the data events (reads and writes) on `bucket`'s objects
    only; no management events (logging-data-events-with-cloudtrail.html)."""
    return [{"name": "restricted zone objects",
             "field_selectors": [
                 {"field": "eventCategory", "equals": ["Data"]},
                 {"field": "resources.type", "equals": [S3_OBJECT]},
                 {"field": "resources.ARN",
                  "starts_withs": [pulumi.Output.concat(bucket.arn, "/")]},
             ]}]


@dataclass(kw_only=True)
class AuditArgs:
    naming: Naming
    aws: AwsContext
    watched: SecureBucket
    """The bucket whose object-level requests are recorded (the restricted zone)."""
    logs: SecureBucket
    """Where the trail delivers its log files (its policy lets CloudTrail write)."""
    kms_key_arn: pulumi.Input[str] | None
    """The key that encrypts the log files (its policy lets CloudTrail use it); None: SSE-S3."""
    protect: bool


class Audit(LakeLayer):
    """A single-Region trail of the restricted zone's data events, with log file validation."""

    def __init__(self, name: str, args: AuditArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:audit:Audit", name, "security", opts)
        self.trail = aws.cloudtrail.Trail(
            f"{name}-trail", name=trail_name(args.naming), s3_bucket_name=args.logs.name,
            kms_key_id=args.kms_key_arn, enable_log_file_validation=True,
            enable_logging=True, is_multi_region_trail=False,
            include_global_service_events=False,
            advanced_event_selectors=object_events(args.watched),
            # CloudTrail refuses a bucket whose policy does not let it write yet.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.logs.policy],
                                        protect=args.protect))
        self.register_outputs({"trail": self.trail.arn})
