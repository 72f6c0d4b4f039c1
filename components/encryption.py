"""The lake's customer-managed KMS keys: the lake key (logs, alerts, Glue encryption and, when
the stack asks, every zone bucket) and the restricted zone's own key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.naming import AwsContext, LakeLayer, Naming
from components.policies import document, statement

# What a service needs of the key to publish to the encrypted alert topic.
ALERT_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey*"]
# What the account's key administration may do to the restricted zone's key: AWS's "key
# administrators" statement (key-policy-default.html) without kms:Create* beyond aliases, so it
# creates no grant; using the key is not among it.
KEY_ADMINISTRATION = ["kms:CreateAlias", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*",
                      "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*",
                      "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
                      "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand"]
# Using a key for S3 objects, Athena results and (bucket keys) re-encryption.
KEY_USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
           "kms:DescribeKey"]


def account_root(ctx: AwsContext) -> pulumi.Output[str]:
    return pulumi.Output.concat("arn:", ctx.partition, ":iam::", ctx.account_id, ":root")


def rotating_key(parent: pulumi.Resource, name: str, description: str,
                 policy: pulumi.Input[str], alias: str,
                 protect: bool) -> tuple[aws.kms.Key, aws.kms.Alias]:
    """A symmetric key that rotates, with its alias; protected and retained (with a 30-day
    deletion window) where the stack protects its data."""
    key = aws.kms.Key(
        f"{name}-key", description=description, enable_key_rotation=True,
        deletion_window_in_days=30 if protect else 7, policy=policy,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect))
    return key, aws.kms.Alias(f"{name}-alias", name=alias, target_key_id=key.key_id,
                              opts=pulumi.ResourceOptions(parent=parent))


@dataclass(kw_only=True)
class LakeKeyArgs:
    naming: Naming
    aws: AwsContext
    protect: bool
    audit_trail_arn: pulumi.Input[str] | None = None
    """The trail whose log files the key encrypts (create-kms-key-policy-for-cloudtrail.html)."""


class LakeKey(LakeLayer):
    """A rotating KMS key whose policy lets CloudWatch Logs, EventBridge and CloudWatch alarms use
    it (encrypted log groups and SNS topic); IAM policies grant the lake's roles the rest."""

    def __init__(self, name: str, args: LakeKeyArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:encryption:LakeKey", name, "security", opts)
        ctx = args.aws
        root = account_root(ctx)
        logs_principal = pulumi.Output.concat("logs.", ctx.region, ".amazonaws.com")
        trail = args.audit_trail_arn
        cloudtrail = [] if trail is None else [
            # Only for the lake's own trail: its ARN is the log files' encryption context.
            {**statement(["kms:GenerateDataKey*"], ["*"], sid="CloudTrailLogs", condition={
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trail},
                "StringEquals": {"aws:SourceArn": trail}}),
             "Principal": {"Service": "cloudtrail.amazonaws.com"}},
            {**statement(["kms:DescribeKey"], ["*"], sid="CloudTrailDescribeKey",
                         condition={"StringEquals": {"aws:SourceArn": trail}}),
             "Principal": {"Service": "cloudtrail.amazonaws.com"}},
        ]
        key_policy = document([
            {**statement(["kms:*"], ["*"], sid="AccountAdministers"),
             "Principal": {"AWS": root}},
            {**statement(["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                          "kms:DescribeKey"], ["*"], sid="CloudWatchLogs",
                         condition={"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                                ctx.arn("logs", "log-group:*")}}),
             "Principal": {"Service": logs_principal}},
            # EventBridge's KMS calls when it delivers to an encrypted topic cannot be narrowed
            # by aws:Source* keys: SNS documents them as not supported for EventBridge, so a
            # condition here would drop every alert (sns-key-management.html).
            {**statement(ALERT_KEY_ACTIONS, ["*"], sid="EventBridgeAlerts"),
             "Principal": {"Service": "events.amazonaws.com"}},
            {**statement(ALERT_KEY_ACTIONS, ["*"], sid="AlarmAlerts", condition={
                "StringEquals": {"aws:SourceAccount": ctx.account_id},
                "ArnLike": {"aws:SourceArn": ctx.arn("cloudwatch",
                                                     f"alarm:{args.naming.prefix}-*")}}),
             "Principal": {"Service": "cloudwatch.amazonaws.com"}},
            *cloudtrail,
        ])
        self.key, self.alias = rotating_key(
            self, name, f"{args.naming.prefix}: data lake encryption key", key_policy,
            f"alias/{args.naming.prefix}", args.protect)
        self.arn = self.key.arn
        self.register_outputs({"arn": self.arn, "alias": self.alias.name})


@dataclass(kw_only=True)
class RestrictedKeyArgs:
    naming: Naming
    aws: AwsContext
    protect: bool
    users: Sequence[pulumi.Input[str]]
    """The ARNs of the only roles that may use the key (encrypt, decrypt)."""


class RestrictedKey(LakeLayer):
    """The restricted zone's rotating KMS key. The account administers it (as it does the lake
    key) but no IAM policy can make anyone else a user of it: its key policy lets the account's
    principals use it only when aws:PrincipalArn is one of `users`. The users are named by
    condition rather than as principals because KMS refuses a principal that does not exist yet,
    and the roles are declared after the key (API_CreateKey.html, Policy)."""

    def __init__(self, name: str, args: RestrictedKeyArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:encryption:RestrictedKey", name, "security", opts)
        root = account_root(args.aws)
        key_policy = document([
            {**statement(KEY_ADMINISTRATION, ["*"], sid="AccountAdministers"),
             "Principal": {"AWS": root}},
            {**statement(KEY_USE, ["*"], sid="OnlyItsUsers",
                         condition={"ArnEquals": {"aws:PrincipalArn": list(args.users)}}),
             "Principal": {"AWS": root}},
        ])
        self.key, self.alias = rotating_key(
            self, name, f"{args.naming.prefix}: restricted zone encryption key", key_policy,
            f"alias/{args.naming.name('restricted')}", args.protect)
        self.arn = self.key.arn
        self.register_outputs({"arn": self.arn, "alias": self.alias.name})
