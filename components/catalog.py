"""Catalog: the stack's Glue database and the crawler that makes one table per ingested file."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.naming import AwsContext, LakeLayer, Naming
from components.policies import (
    Statement,
    document,
    kms_use,
    logs_key,
    logs_write,
    s3_read,
    statement,
    trust,
)
from components.storage import SecureBucket, Storage, uri
from jobs.contract import ATHENA_RESULTS_PREFIX, NOT_DATA, restricted_database

# Run bookkeeping, tables being staged by a run, and Spark's marker files are not data.
CRAWLER_EXCLUSIONS = [*(f"{folder}/**" for folder in NOT_DATA), "**/_SUCCESS", "**/_temporary/**"]
# … nor, in the restricted zone, the researchers' query results.
RESTRICTED_CRAWLER_EXCLUSIONS = [*CRAWLER_EXCLUSIONS, f"{ATHENA_RESULTS_PREFIX}**"]
CRAWLER = "crawler"  # the crawlers' parts of the physical names: their roles, the crawlers
RESTRICTED_CRAWLER = "crawler-restricted"
CATALOG_WRITE_ACTIONS = ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable",
                         "glue:UpdateTable", "glue:GetPartition", "glue:GetPartitions",
                         "glue:BatchGetPartition", "glue:CreatePartition",
                         "glue:BatchCreatePartition", "glue:UpdatePartition",
                         "glue:BatchUpdatePartition"]
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
    """The crawlers read its processed and restricted zones."""
    security_configuration: pulumi.Input[str]
    log_retention_days: int


def crawler_log_group(role: str, configuration: pulumi.Input[str]) -> pulumi.Output[str]:
    """Where a crawler with a security configuration logs: `/aws-glue/crawlers-role/<role>-
    <configuration>`, one stream per crawler. No AWS page names it (CreateCrawler takes no log
    group); it is what GetCrawler's LastCrawl.LogGroup shows for such a crawler, e.g. in AWS's
    guidance "Connecting Data from Adobe Experience Platform to AWS Clean Rooms"."""
    return pulumi.Output.concat("/aws-glue/crawlers-role/", role, "-", configuration)


class Catalog(LakeLayer):
    """Two Glue databases, each with a crawler of its own: the public tables (processed zone) in
    `<database>`, the restricted tables (restricted zone) in `<database>_restricted`. Each
    crawler's role reads its zone only and writes only its database's tables and partitions."""

    def __init__(self, name: str, args: CatalogArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:catalog:Catalog", name, "catalog", opts)
        self._name, self._args = name, args
        naming, zones = args.naming, args.storage
        child = pulumi.ResourceOptions(parent=self)

        self.database = aws.glue.CatalogDatabase(
            f"{name}-database", name=naming.database,
            description=f"{naming.dataset} lake, stack {naming.stack}", opts=child)
        self.role, self.crawler = self._crawler(
            "crawler", CRAWLER, self.database, naming.database, zones.processed, "Processed",
            CRAWLER_EXCLUSIONS,
            # The lake key: the processed zone's objects (prod) are encrypted with it.
            kms_use(args.kms_key_arn, encrypt=False))

        self.restricted_database = aws.glue.CatalogDatabase(
            f"{name}-restricted-database", name=restricted_database(naming.database),
            description=f"{naming.dataset} lake, stack {naming.stack}: restricted tables "
                        f"(researchers only)", opts=child)
        restricted_key = zones.keys["restricted"]
        self.restricted_role, self.restricted_crawler = self._crawler(
            "restricted-crawler", RESTRICTED_CRAWLER, self.restricted_database,
            restricted_database(naming.database), zones.restricted, "Restricted",
            RESTRICTED_CRAWLER_EXCLUSIONS,
            None if restricted_key is None else kms_use(restricted_key[1], encrypt=False,
                                                        sid=restricted_key[0]))
        self.register_outputs({"database": self.database.name, "crawler": self.crawler.name,
                               "restricted_database": self.restricted_database.name,
                               "restricted_crawler": self.restricted_crawler.name})

    def _crawler(self, prefix: str, part: str, database: aws.glue.CatalogDatabase,
                 database_name: str, zone: SecureBucket, zone_sid: str, exclusions: list[str],
                 key: Statement | None) -> tuple[aws.iam.Role, aws.glue.Crawler]:
        """A crawler over `zone` into `database` (physical name `database_name`), with its role
        and its log group; the resources are named `<component>-<prefix>…`, the role and the
        crawler `<project>-<stack>-<dataset>-<part>`."""
        args, name = self._args, self._name
        ctx, naming = args.aws, args.naming
        child = pulumi.ResourceOptions(parent=self)
        arns = catalog_arns(ctx, database_name)

        role = aws.iam.Role(f"{name}-{prefix}-role", name=naming.name(part),
                            assume_role_policy=trust("glue.amazonaws.com"), opts=child)
        aws.iam.RolePolicy(f"{name}-{prefix}-policy", role=role.id, policy=document([
            *s3_read(zone_sid, zone.arn),
            statement(CATALOG_WRITE_ACTIONS,
                      [arns["catalog"], arns["database"], arns["tables"]], sid="ThisDatabase"),
            *([key] if key else []),
            logs_write([ctx.arn("logs", "log-group:/aws-glue/crawlers*"),
                        ctx.arn("logs", "log-group:/aws-glue/crawlers*:*")],
                       associate_key=True),
            logs_key(args.kms_key_arn, ctx.region),  # its logs are encrypted (security config)
        ]), opts=child)

        # Made before the first crawl, so that the crawler's log lines get the stack's retention
        # and key rather than a group of Glue's own that keeps them forever.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-{prefix}-logs",
            name=crawler_log_group(naming.name(part), args.security_configuration),
            retention_in_days=args.log_retention_days, kms_key_id=args.kms_key_arn, opts=child)
        crawler = aws.glue.Crawler(
            f"{name}-{prefix}", name=naming.name(part), role=role.arn,
            database_name=database.name,
            s3_targets=[{"path": uri(zone), "exclusions": exclusions}],
            schema_change_policy={"update_behavior": "UPDATE_IN_DATABASE",
                                  "delete_behavior": "LOG"},
            recrawl_policy={"recrawl_behavior": "CRAWL_EVERYTHING"},
            configuration=json.dumps(CRAWLER_CONFIGURATION),
            security_configuration=args.security_configuration,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]))
        return role, crawler
