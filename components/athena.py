"""What the lake's Athena users share: the workgroup settings, and the IAM that Athena requires
of anyone who queries."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.config import LakeConfig
from components.naming import AwsContext
from components.policies import Statement, statement
from components.storage import SecureBucket, uri

ATHENA_ENGINE = "Athena engine version 3"
ATHENA_QUERY_ACTIONS = ["athena:StartQueryExecution", "athena:GetQueryExecution",
                        "athena:GetQueryResults", "athena:StopQueryExecution",
                        "athena:GetWorkGroup"]
CATALOG_READ_ACTIONS = ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable",
                        "glue:GetTables", "glue:GetPartition", "glue:GetPartitions",
                        "glue:BatchGetPartition"]


def workgroup(resource_name: str, name: str, *, config: LakeConfig, key_arn: pulumi.Input[str],
              results: SecureBucket, prefix: str, enforce: bool, ctx: AwsContext,
              opts: pulumi.ResourceOptions) -> aws.athena.Workgroup:
    """A workgroup with the stack's scan limit and engine; results (encrypted like the zones)
    under `prefix` in the Athena results bucket."""
    encryption = ({"encryption_option": "SSE_KMS", "kms_key_arn": key_arn}
                  if config.bucket_kms else {"encryption_option": "SSE_S3"})
    return aws.athena.Workgroup(
        resource_name, name=name, state="ENABLED", force_destroy=config.force_destroy,
        configuration={
            "enforce_workgroup_configuration": enforce,
            "publish_cloudwatch_metrics_enabled": True,
            "bytes_scanned_cutoff_per_query": config.bytes_scanned_cutoff_per_query,
            "engine_version": {"selected_engine_version": ATHENA_ENGINE},
            "result_configuration": {
                "output_location": uri(results, prefix),
                "encryption_configuration": encryption,
                "expected_bucket_owner": ctx.account_id,
            },
        }, opts=opts)


def workgroup_arn(ctx: AwsContext, group: aws.athena.Workgroup) -> pulumi.Output[str]:
    return ctx.arn("athena", pulumi.Output.concat("workgroup/", group.name))


def athena_default_database(ctx: AwsContext) -> Statement:
    """What Athena requires of anyone who queries: GetDatabase(s) and CreateDatabase on the
    catalog and the `default` database of the Region (fine-grained-access-to-glue-resources.html,
    "Mandatory: access to the default database and catalog per Region"). CreateDatabase on those
    two ARNs creates no other database."""
    return statement(["glue:GetDatabase", "glue:GetDatabases", "glue:CreateDatabase"],
                     [ctx.arn("glue", "catalog"), ctx.arn("glue", "database/default")],
                     sid="AthenaDefaultDatabase")
