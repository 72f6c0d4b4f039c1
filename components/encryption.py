"""The lake's customer-managed KMS key: logs, alerts, Glue encryption and (when the stack asks)
every zone bucket."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.naming import AwsContext, LakeLayer, Naming
from components.policies import document, statement

# What a service needs of the key to publish to the encrypted alert topic.
ALERT_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey*"]


@dataclass(kw_only=True)
class LakeKeyArgs:
    naming: Naming
    aws: AwsContext
    protect: bool


class LakeKey(LakeLayer):
    """A rotating KMS key whose policy lets CloudWatch Logs, EventBridge and CloudWatch alarms use
    it (encrypted log groups and SNS topic); IAM policies grant the lake's roles the rest."""

    def __init__(self, name: str, args: LakeKeyArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:encryption:LakeKey", name, "security", opts)
        ctx = args.aws
        root = pulumi.Output.concat("arn:", ctx.partition, ":iam::", ctx.account_id, ":root")
        logs_principal = pulumi.Output.concat("logs.", ctx.region, ".amazonaws.com")
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
        ])
        keep = pulumi.ResourceOptions(parent=self, protect=args.protect,
                                      retain_on_delete=args.protect)
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"{args.naming.prefix}: data lake encryption key",
            enable_key_rotation=True,
            deletion_window_in_days=30 if args.protect else 7,
            policy=key_policy,
            opts=keep,
        )
        self.alias = aws.kms.Alias(
            f"{name}-alias", name=f"alias/{args.naming.prefix}", target_key_id=self.key.key_id,
            opts=pulumi.ResourceOptions(parent=self))
        self.arn = self.key.arn
        self.register_outputs({"arn": self.arn, "alias": self.alias.name})
