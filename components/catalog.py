"""Catalog: the stack's Glue database and the crawler that makes one table per ingested file."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.naming import AwsContext, LakeLayer, Naming
from components.policies import (
    document,
    kms_use,
    logs_key,
    logs_write,
    s3_read,
    statement,
    trust,
)
from components.storage import Storage, uri
from jobs.contract import NOT_DATA

# Run bookkeeping, tables being staged by a run, and Spark's marker files are not data.
CRAWLER_EXCLUSIONS = [*(f"{folder}/**" for folder in NOT_DATA), "**/_SUCCESS", "**/_temporary/**"]
# processed/<table>/<partitions…>: the table is the first folder under the bucket (level 2).
CRAWLER_CONFIGURATION = {
    "Version": 1.0,
    "Grouping": {"TableLevelConfiguration": 2},
    "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}},
}


def catalog_arns(ctx: AwsContext, database: str) -> dict[str, pulumi.Output[str]]:
    return {
        "catalog": ctx.arn("glue", "catalog"),
        "database": ctx.arn("glue", f"database/{database}"),
        "tables": ctx.arn("glue", f"table/{database}/*"),
    }


@dataclass(kw_only=True)
class CatalogArgs:
    naming: Naming
    aws: AwsContext
    kms_key_arn: pulumi.Input[str]
    storage: Storage
    """The crawler reads its processed zone."""
    security_configuration: pulumi.Input[str]
    log_retention_days: int


def crawler_log_group(role: str, configuration: pulumi.Input[str]) -> pulumi.Output[str]:
    """Where a crawler with a security configuration logs: `/aws-glue/crawlers-role/<role>-
    <configuration>`, one stream per crawler. No AWS page names it (CreateCrawler takes no log
    group); it is what GetCrawler's LastCrawl.LogGroup shows for such a crawler, e.g. in AWS's
    guidance "Connecting Data from Adobe Experience Platform to AWS Clean Rooms"."""
    return pulumi.Output.concat("/aws-glue/crawlers-role/", role, "-", configuration)


class Catalog(LakeLayer):
    """Glue database + crawler over the processed zone, with a role that reads S3 and writes
    only this database's tables and partitions."""

    def __init__(self, name: str, args: CatalogArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:catalog:Catalog", name, "catalog", opts)
        ctx, naming = args.aws, args.naming
        child = pulumi.ResourceOptions(parent=self)

        self.database = aws.glue.CatalogDatabase(
            f"{name}-database", name=naming.database,
            description=f"{naming.dataset} lake, stack {naming.stack}", opts=child)
        arns = catalog_arns(ctx, naming.database)

        self.role = aws.iam.Role(f"{name}-crawler-role", name=naming.name("crawler"),
                                 assume_role_policy=trust("glue.amazonaws.com"), opts=child)
        aws.iam.RolePolicy(f"{name}-crawler-policy", role=self.role.id, policy=document([
            *s3_read("Processed", args.storage.processed.arn),
            statement(["glue:GetDatabase", "glue:GetTable", "glue:GetTables",
                       "glue:CreateTable", "glue:UpdateTable", "glue:GetPartition",
                       "glue:GetPartitions", "glue:BatchGetPartition", "glue:CreatePartition",
                       "glue:BatchCreatePartition", "glue:UpdatePartition",
                       "glue:BatchUpdatePartition"],
                      [arns["catalog"], arns["database"], arns["tables"]], sid="ThisDatabase"),
            kms_use(args.kms_key_arn, encrypt=False),
            logs_write([ctx.arn("logs", "log-group:/aws-glue/crawlers*"),
                        ctx.arn("logs", "log-group:/aws-glue/crawlers*:*")],
                       associate_key=True),
            logs_key(args.kms_key_arn, ctx.region),  # its logs are encrypted (security config)
        ]), opts=child)

        # Made before the first crawl, so that the crawler's log lines get the stack's retention
        # and key rather than a group of Glue's own that keeps them forever.
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-crawler-logs",
            name=crawler_log_group(naming.name("crawler"), args.security_configuration),
            retention_in_days=args.log_retention_days, kms_key_id=args.kms_key_arn, opts=child)
        self.crawler = aws.glue.Crawler(
            f"{name}-crawler", name=naming.name("crawler"), role=self.role.arn,
            database_name=self.database.name,
            s3_targets=[{"path": uri(args.storage.processed), "exclusions": CRAWLER_EXCLUSIONS}],
            schema_change_policy={"update_behavior": "UPDATE_IN_DATABASE",
                                  "delete_behavior": "LOG"},
            recrawl_policy={"recrawl_behavior": "CRAWL_EVERYTHING"},
            configuration=json.dumps(CRAWLER_CONFIGURATION),
            security_configuration=args.security_configuration,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group]))
        self.register_outputs({"database": self.database.name, "crawler": self.crawler.name})
