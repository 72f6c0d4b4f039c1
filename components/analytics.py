"""Analytics: the analysts' Athena workgroup, one named query per `queries/*.sql`, and the
analysts' role."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.athena import (
    ATHENA_QUERY_ACTIONS,
    CATALOG_READ_ACTIONS,
    athena_default_database,
    workgroup,
    workgroup_arn,
)
from components.catalog import catalog_arns
from components.naming import LakeLayer
from components.packaging import SourceTree
from components.policies import document, kms_use, s3_read, s3_write, statement
from components.storage import ZoneArgs
from jobs.contract import query_description, query_name_problem

# Athena actions that IAM authorizes on no resource ("*" is the only form), and those it
# authorizes on the data catalog (list_amazonathena.html, Service Authorization Reference).
ATHENA_LIST_ACTIONS = ["athena:ListWorkGroups", "athena:ListEngineVersions",
                       "athena:ListDataCatalogs"]
ATHENA_CATALOG_ACTIONS = ["athena:GetDataCatalog", "athena:ListDatabases", "athena:GetDatabase",
                          "athena:ListTableMetadata", "athena:GetTableMetadata"]
ATHENA_DATA_CATALOG = "AwsDataCatalog"  # the Glue Data Catalog, as Athena names it
ANALYST_ACTIONS = [*ATHENA_QUERY_ACTIONS, "athena:ListQueryExecutions", "athena:GetNamedQuery",
                   "athena:ListNamedQueries", "athena:BatchGetNamedQuery",
                   "athena:BatchGetQueryExecution", "athena:GetQueryResultsStream",
                   "athena:GetQueryRuntimeStatistics"]


def query_files(queries: SourceTree) -> list[Path]:
    """The `*.sql` files of `queries`. Raises RunError (before anything is declared, when
    DataLake calls it) if a file's name cannot name its gold table `gold_<name>`."""
    files = [path for path in queries.files() if path.suffix == ".sql"]
    for path in files:
        problem = query_name_problem(path.stem)
        if problem:
            raise pulumi.RunError(problem)
    return files


@dataclass(kw_only=True)
class AnalyticsArgs(ZoneArgs):
    database: pulumi.Input[str]
    queries: list[Path]
    """The saved queries (`query_files`), each a named query."""


class Analytics(LakeLayer):
    """The analysts' workgroup (its settings enforced), the named queries, the analyst role."""

    def __init__(self, name: str, args: AnalyticsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:analytics:Analytics", name, "analytics", opts)
        ctx, naming, zones = args.aws, args.naming, args.storage
        child = pulumi.ResourceOptions(parent=self)

        self.workgroup = workgroup(f"{name}-workgroup", naming.prefix, config=args.config,
                                   key_arn=args.kms_key_arn, results=zones.athena_results,
                                   prefix="results/", enforce=True, ctx=ctx, opts=child)
        self.named_queries: dict[str, aws.athena.NamedQuery] = {}
        for path in args.queries:
            sql = path.read_text(encoding="utf-8")
            self.named_queries[path.stem] = aws.athena.NamedQuery(
                f"{name}-query-{path.stem}", name=path.stem, query=sql,
                description=query_description(sql, path.stem),
                database=args.database, workgroup=self.workgroup.name, opts=child)

        # Analysts: query through the workgroup, read catalog/processed/gold, write results.
        arns = catalog_arns(ctx, naming.database)
        self.analyst_policy = aws.iam.Policy(
            f"{name}-analyst-policy", name=naming.name("analyst"),
            description="Query the lake through its Athena workgroup", policy=document([
                statement(ANALYST_ACTIONS, [workgroup_arn(ctx, self.workgroup)], sid="Workgroup"),
                # The console and JDBC/ODBC drivers list workgroups and browse the catalog.
                statement(ATHENA_LIST_ACTIONS, ["*"], sid="AthenaConsoleList"),
                statement(ATHENA_CATALOG_ACTIONS,
                          [ctx.arn("athena", f"datacatalog/{ATHENA_DATA_CATALOG}")],
                          sid="AthenaConsoleCatalog"),
                statement(CATALOG_READ_ACTIONS, [arns["catalog"], arns["database"],
                                                 arns["tables"]], sid="CatalogRead"),
                athena_default_database(ctx),
                *s3_read("Processed", zones.processed.arn),
                *s3_read("Gold", zones.gold.arn),
                *s3_write("AthenaResults", zones.athena_results.arn, delete=False),
                kms_use(args.kms_key_arn),
            ]), opts=child)
        account_root = pulumi.Output.concat("arn:", ctx.partition, ":iam::", ctx.account_id,
                                            ":root")
        self.analyst_role = aws.iam.Role(
            f"{name}-analyst-role", name=naming.name("analyst"),
            description="Assumed by this account's analysts (who are allowed sts:AssumeRole)",
            assume_role_policy=document([{"Effect": "Allow", "Action": "sts:AssumeRole",
                                          "Principal": {"AWS": account_root}}]),
            max_session_duration=4 * 3600, opts=child)
        aws.iam.RolePolicyAttachment(f"{name}-analyst-attachment", role=self.analyst_role.name,
                                     policy_arn=self.analyst_policy.arn, opts=child)
        self.register_outputs({"workgroup": self.workgroup.name,
                               "analyst_role": self.analyst_role.arn})
