"""Analytics: the three audiences (business, analyst, researcher), each with its own Athena
workgroup and role, and one named query per `queries/*.sql` in the analysts' workgroup."""

from __future__ import annotations

from collections.abc import Mapping
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
from components.policies import Statement, document, kms_use, s3_read, s3_write, statement
from components.storage import ZoneArgs
from jobs.contract import (
    ATHENA_RESULTS_PREFIX,
    GOLD_PREFIX,
    ROLE_ZONES,
    ROLES,
    query_description,
    query_name_problem,
    restricted_database,
)

# Athena actions that IAM authorizes on no resource ("*" is the only form), and those it
# authorizes on the data catalog (list_amazonathena.html, Service Authorization Reference).
ATHENA_LIST_ACTIONS = ["athena:ListWorkGroups", "athena:ListEngineVersions",
                       "athena:ListDataCatalogs"]
ATHENA_CATALOG_ACTIONS = ["athena:GetDataCatalog", "athena:ListDatabases", "athena:GetDatabase",
                          "athena:ListTableMetadata", "athena:GetTableMetadata"]
ATHENA_DATA_CATALOG = "AwsDataCatalog"  # the Glue Data Catalog, as Athena names it
AUDIENCE_ACTIONS = [*ATHENA_QUERY_ACTIONS, "athena:ListQueryExecutions", "athena:GetNamedQuery",
                    "athena:ListNamedQueries", "athena:BatchGetNamedQuery",
                    "athena:BatchGetQueryExecution", "athena:GetQueryResultsStream",
                    "athena:GetQueryRuntimeStatistics"]
ANALYST = "analyst"  # the audience the saved queries are written for


@dataclass(frozen=True)
class Results:
    """Where an audience's workgroup writes its query results: a prefix of a bucket that no
    lower audience reads."""

    part: str
    """The storage part of the bucket (`athena-results`, or `restricted`)."""
    prefix: str


# Each audience's query results. The researchers' stay inside the restricted zone, under its
# bucket policy and key; the analysts' keep the prefix they always had.
RESULTS = {
    "business": Results("athena-results", "business/"),
    "analyst": Results("athena-results", "results/"),
    "researcher": Results("restricted", ATHENA_RESULTS_PREFIX),
}
DESCRIPTIONS = {
    "business": ("Query the gold tables through the business workgroup",
                 "Assumed by this account's business users (who are allowed sts:AssumeRole)"),
    "analyst": ("Query the lake through its Athena workgroup",
                "Assumed by this account's analysts (who are allowed sts:AssumeRole)"),
    "researcher": ("Query every table, the restricted ones included, through the researchers' "
                   "workgroup",
                   "Assumed by this account's researchers (who are allowed sts:AssumeRole); "
                   "their reads of the restricted zone are recorded"),
}
MAX_SESSION_SECONDS = 4 * 3600


def query_files(queries: SourceTree) -> list[Path]:
    """The `*.sql` files of `queries`. Raises RunError (before anything is declared, when
    DataLake calls it) if a file's name cannot name its gold table `gold_<name>`."""
    files = [path for path in queries.files() if path.suffix == ".sql"]
    for path in files:
        problem = query_name_problem(path.stem)
        if problem:
            raise pulumi.RunError(problem)
    return files


def catalog_grants(zones: tuple[str, ...], database: str) -> dict[str, list[str]]:
    """Database -> the table names (patterns) an audience reading `zones` reads there: the gold
    tables, every table of the database (processed zone: the microdata and the label tables),
    the restricted database's tables."""
    grants: dict[str, list[str]] = {}
    if "processed" in zones:
        grants[database] = ["*"]
    elif "gold" in zones:
        grants[database] = [f"{GOLD_PREFIX}*"]
    if "restricted" in zones:
        grants[restricted_database(database)] = ["*"]
    return grants


@dataclass(kw_only=True)
class AnalyticsArgs(ZoneArgs):
    database: pulumi.Input[str]
    queries: list[Path]
    """The saved queries (`query_files`), each a named query."""


class Analytics(LakeLayer):
    """One workgroup (its settings enforced), managed policy and role per audience of
    jobs.contract.ROLES, each reading exactly its zones (ROLE_ZONES); the named queries."""

    def __init__(self, name: str, args: AnalyticsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:analytics:Analytics", name, "analytics", opts)
        self._name, self._args = name, args
        child = pulumi.ResourceOptions(parent=self)

        self.workgroups: dict[str, aws.athena.Workgroup] = {}
        self.policies: dict[str, aws.iam.Policy] = {}
        self.roles: dict[str, aws.iam.Role] = {}
        for audience in ROLES:
            self._audience(audience)
        # The analysts' resources keep the names they had when they were the only audience.
        self.workgroup = self.workgroups[ANALYST]
        self.analyst_policy = self.policies[ANALYST]
        self.analyst_role = self.roles[ANALYST]

        self.named_queries: dict[str, aws.athena.NamedQuery] = {}
        for path in args.queries:
            sql = path.read_text(encoding="utf-8")
            self.named_queries[path.stem] = aws.athena.NamedQuery(
                f"{name}-query-{path.stem}", name=path.stem, query=sql,
                description=query_description(sql, path.stem),
                database=args.database, workgroup=self.workgroup.name, opts=child)
        self.register_outputs({"workgroups": {a: w.name for a, w in self.workgroups.items()},
                               "roles": {a: r.arn for a, r in self.roles.items()},
                               "workgroup": self.workgroup.name,
                               "analyst_role": self.analyst_role.arn})

    def _audience(self, audience: str) -> None:
        args, name = self._args, self._name
        ctx, naming, zones = args.aws, args.naming, args.storage
        child = pulumi.ResourceOptions(parent=self)
        results = RESULTS[audience]
        results_bucket = zones.zones[results.part]
        results_key = zones.keys[results.part]
        # The analysts' resources are named as before there were audiences.
        logical = name if audience == ANALYST else f"{name}-{audience}"
        self.workgroups[audience] = group = workgroup(
            f"{logical}-workgroup",
            naming.prefix if audience == ANALYST else naming.name(audience),
            config=args.config, key_arn=results_key[1] if results_key else args.kms_key_arn,
            results=results_bucket, prefix=results.prefix, enforce=True, ctx=ctx, opts=child)

        read = ROLE_ZONES[audience]
        self.policies[audience] = policy = aws.iam.Policy(
            f"{name}-{audience}-policy", name=naming.name(audience),
            description=DESCRIPTIONS[audience][0], policy=document([
                statement(AUDIENCE_ACTIONS, [workgroup_arn(ctx, group)], sid="Workgroup"),
                # The console and JDBC/ODBC drivers list workgroups and browse the catalog.
                statement(ATHENA_LIST_ACTIONS, ["*"], sid="AthenaConsoleList"),
                statement(ATHENA_CATALOG_ACTIONS,
                          [ctx.arn("athena", f"datacatalog/{ATHENA_DATA_CATALOG}")],
                          sid="AthenaConsoleCatalog"),
                *self._catalog_read(catalog_grants(read, naming.database)),
                athena_default_database(ctx),
                *(grant for zone in read for grant in s3_read(zone.title(),
                                                              zones.zones[zone].arn)),
                *s3_write("QueryResults", results_bucket.arn, delete=False,
                          prefix=results.prefix),
                *self._keys([*read, results.part]),
            ]), opts=child)
        account_root = pulumi.Output.concat("arn:", ctx.partition, ":iam::", ctx.account_id,
                                            ":root")
        self.roles[audience] = role = aws.iam.Role(
            f"{name}-{audience}-role", name=naming.name(audience),
            description=DESCRIPTIONS[audience][1],
            assume_role_policy=document([{"Effect": "Allow", "Action": "sts:AssumeRole",
                                          "Principal": {"AWS": account_root}}]),
            max_session_duration=MAX_SESSION_SECONDS, opts=child)
        aws.iam.RolePolicyAttachment(f"{name}-{audience}-attachment", role=role.name,
                                     policy_arn=policy.arn, opts=child)

    def _catalog_read(self, grants: Mapping[str, list[str]]) -> list[Statement]:
        """Read the tables of `grants`: Athena needs the catalog, the database and the table
        (fine-grained-access-to-glue-resources.html)."""
        ctx, naming = self._args.aws, self._args.naming
        found = []
        for database, tables in grants.items():
            arns = catalog_arns(ctx, database)
            sid = "CatalogRead" if database == naming.database else "RestrictedCatalogRead"
            found.append(statement(CATALOG_READ_ACTIONS, [
                arns["catalog"], arns["database"],
                *(ctx.arn("glue", f"table/{database}/{table}") for table in tables)], sid=sid))
        return found

    def _keys(self, parts: list[str]) -> list[Statement]:
        """Use of the keys the objects of `parts` are encrypted with (none: SSE-S3)."""
        keys = {found[0]: found[1] for part in parts
                if (found := self._args.storage.keys[part]) is not None}
        return [kms_use(arn, sid=sid) for sid, arn in keys.items()]
