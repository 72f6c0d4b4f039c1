"""Analytics: the Athena workgroup, one named query per `queries/*.sql`, the gold job that runs
those same files into the gold zone (`jobs/gold/export.py`), and the analysts' role."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.catalog import catalog_arns
from components.config import LakeConfig
from components.naming import AwsContext, LakeLayer, Naming
from components.packaging import EntryPoint, SourceTree
from components.policies import (
    document,
    kms_use,
    logs_write,
    s3_read,
    s3_write,
    statement,
    trust,
)
from components.processing import glue_log_groups
from components.storage import SecureBucket, uri
from jobs.contract import GOLD_POLL_SECONDS, GOLD_PREFIX, query_description, query_name_problem

ATHENA_ENGINE = "Athena engine version 3"
GOLD_DISTRIBUTION = "datalake_gold"
# Glue Python shell runs Python 3.9 (Glue 5.0 Spark runs 3.11): export.py must stay 3.9-clean.
GOLD_PYTHON = "3.9"
GOLD_GLUE_VERSION = "3.0"

ATHENA_QUERY_ACTIONS = ["athena:StartQueryExecution", "athena:GetQueryExecution",
                        "athena:GetQueryResults", "athena:StopQueryExecution",
                        "athena:GetWorkGroup"]
CATALOG_READ_ACTIONS = ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable",
                        "glue:GetTables", "glue:GetPartition", "glue:GetPartitions",
                        "glue:BatchGetPartition"]


# Athena actions that IAM authorizes on no resource ("*" is the only form), and those it
# authorizes on the data catalog (list_amazonathena.html, Service Authorization Reference).
ATHENA_LIST_ACTIONS = ["athena:ListWorkGroups", "athena:ListEngineVersions",
                       "athena:ListDataCatalogs"]
ATHENA_CATALOG_ACTIONS = ["athena:GetDataCatalog", "athena:ListDatabases", "athena:GetDatabase",
                          "athena:ListTableMetadata", "athena:GetTableMetadata"]
ATHENA_DATA_CATALOG = "AwsDataCatalog"  # the Glue Data Catalog, as Athena names it


def athena_default_database(ctx: AwsContext) -> dict:
    """What Athena requires of anyone who queries: GetDatabase(s) and CreateDatabase on the
    catalog and the `default` database of the Region (fine-grained-access-to-glue-resources.html,
    "Mandatory: access to the default database and catalog per Region"). CreateDatabase on those
    two ARNs creates no other database."""
    return statement(["glue:GetDatabase", "glue:GetDatabases", "glue:CreateDatabase"],
                     [ctx.arn("glue", "catalog"), ctx.arn("glue", "database/default")],
                     sid="AthenaDefaultDatabase")


def query_files(queries: SourceTree) -> list[Path]:
    """The `*.sql` files of `queries`. Raises RunError (before anything is declared, when
    DataLake calls it) if a file's name cannot name its gold table `gold_<name>`."""
    files = [path for path in queries.files() if path.suffix == ".sql"]
    for path in files:
        problem = query_name_problem(path.stem)
        if problem:
            raise pulumi.RunError(problem)
    return files


@dataclass
class AnalyticsArgs:
    naming: Naming
    aws: AwsContext
    config: LakeConfig
    kms_key_arn: pulumi.Input[str]
    processed: SecureBucket
    gold: SecureBucket
    athena_results: SecureBucket
    artifacts: SecureBucket
    database: pulumi.Input[str]
    security_configuration: pulumi.Input[str]
    gold_job: EntryPoint
    queries: SourceTree


class Analytics(LakeLayer):
    """Athena workgroup + named queries, the gold Glue job, the analyst role."""

    def __init__(self, name: str, args: AnalyticsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:analytics:Analytics", name, "analytics", opts)
        cfg, ctx, naming = args.config, args.aws, args.naming
        child = pulumi.ResourceOptions(parent=self)

        # Analysts query here: the workgroup's result location and encryption are enforced.
        self.workgroup = self._workgroup(f"{name}-workgroup", naming.prefix, args, enforce=True,
                                         results="results/")
        # The gold job's CTAS names an external_location, which Athena refuses in a workgroup
        # that enforces its settings (create-table-as.html): it runs in a workgroup of its own,
        # with the same scan limit, engine, encryption and result bucket, used by nothing else.
        self.gold_workgroup = self._workgroup(f"{name}-gold-workgroup", naming.name("gold"), args,
                                              enforce=False, results="gold/")
        workgroup_arn = ctx.arn("athena", pulumi.Output.concat("workgroup/", self.workgroup.name))
        gold_workgroup_arn = ctx.arn("athena", pulumi.Output.concat(
            "workgroup/", self.gold_workgroup.name))

        self.named_queries: dict[str, aws.athena.NamedQuery] = {}
        query_digest = args.queries.digest()
        query_objects = []
        for path in query_files(args.queries):
            sql = path.read_text(encoding="utf-8")
            self.named_queries[path.stem] = aws.athena.NamedQuery(
                f"{name}-query-{path.stem}", name=path.stem, query=sql,
                description=query_description(sql, path.stem),
                database=args.database, workgroup=self.workgroup.name, opts=child)
            query_objects.append(aws.s3.BucketObjectv2(
                f"{name}-gold-sql-{path.stem}", bucket=args.artifacts.name,
                key=f"queries/{query_digest}/{path.name}", source=pulumi.FileAsset(str(path)),
                opts=child))
        arns = catalog_arns(ctx, naming.database)

        # The gold job: runs the packaged queries in the workgroup, writes the gold zone and
        # registers one gold table per query in this database.
        self.gold_role = aws.iam.Role(f"{name}-gold-role", name=naming.name("gold"),
                                      assume_role_policy=trust("glue.amazonaws.com"), opts=child)
        aws.iam.RolePolicy(f"{name}-gold-policy", role=self.gold_role.id, policy=document([
            statement(ATHENA_QUERY_ACTIONS, [gold_workgroup_arn], sid="Workgroup"),
            statement(CATALOG_READ_ACTIONS, [arns["catalog"], arns["database"], arns["tables"]],
                      sid="ThisDatabase"),
            athena_default_database(ctx),
            # Athena's CTAS creates gold_<name>__<run>; the job repoints gold_<name> and drops
            # the temporary one. Tables the crawler makes are out of its reach.
            statement(["glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable"],
                      [arns["catalog"], arns["database"],
                       ctx.arn("glue", f"table/{naming.database}/{GOLD_PREFIX}*")],
                      sid="GoldTables"),
            *s3_read("Processed", args.processed.arn),
            *s3_read("Artifacts", args.artifacts.arn),
            *s3_write("Gold", args.gold.arn),
            *s3_write("AthenaResults", args.athena_results.arn),
            kms_use(args.kms_key_arn),
            logs_write(glue_log_groups(ctx), associate_key=True),
        ]), opts=child)
        # Python shell takes only .whl/.egg in --extra-py-files: the job's own imports, as one
        # wheel, beside its script, both under the hash of exactly those files.
        gold = args.gold_job
        code_key = f"glue/gold/{gold.digest()}"
        wheel_name = gold.wheel_name(GOLD_DISTRIBUTION)
        script = aws.s3.BucketObjectv2(
            f"{name}-gold-script", bucket=args.artifacts.name,
            key=f"{code_key}/{gold.script.name}", source=pulumi.FileAsset(str(gold.script)),
            opts=child)
        package = aws.s3.BucketObjectv2(
            f"{name}-gold-package", bucket=args.artifacts.name, key=f"{code_key}/{wheel_name}",
            content_base64=base64.b64encode(gold.wheel(GOLD_DISTRIBUTION)).decode(),
            opts=child)
        self.gold_arguments = {
            "--workgroup": self.gold_workgroup.name,
            "--database": args.database,
            "--gold": uri(args.gold),
            "--queries": uri(args.artifacts, f"queries/{query_digest}/"),
            "--poll-seconds": f"{GOLD_POLL_SECONDS:g}",
            "--query-timeout-minutes": str(cfg.gold.query_timeout_minutes),
        }
        """The arguments of jobs/gold/export.py (listed in the README)."""
        self.gold_job = aws.glue.Job(
            f"{name}-gold-job", name=naming.name("gold"), role_arn=self.gold_role.arn,
            glue_version=GOLD_GLUE_VERSION, max_capacity=cfg.gold.max_capacity,
            command={"name": "pythonshell",
                     "script_location": uri(args.artifacts, f"{code_key}/{gold.script.name}"),
                     "python_version": GOLD_PYTHON},
            timeout=cfg.gold.timeout_minutes, max_retries=0,
            execution_property={"max_concurrent_runs": 1},
            security_configuration=args.security_configuration,
            default_arguments={
                **self.gold_arguments,
                "--extra-py-files": uri(args.artifacts, f"{code_key}/{wheel_name}"),
                "--job-language": "python"},
            opts=pulumi.ResourceOptions(parent=self,
                                        depends_on=[script, package, *query_objects]))

        # Analysts: query through the workgroup, read catalog/processed/gold, write results.
        self.analyst_policy = aws.iam.Policy(
            f"{name}-analyst-policy", name=naming.name("analyst"),
            description="Query the lake through its Athena workgroup", policy=document([
                statement([*ATHENA_QUERY_ACTIONS, "athena:ListQueryExecutions",
                           "athena:GetNamedQuery", "athena:ListNamedQueries",
                           "athena:BatchGetNamedQuery", "athena:BatchGetQueryExecution",
                           "athena:GetQueryResultsStream", "athena:GetQueryRuntimeStatistics"],
                          [workgroup_arn], sid="Workgroup"),
                # The console and JDBC/ODBC drivers list workgroups and browse the catalog.
                statement(ATHENA_LIST_ACTIONS, ["*"], sid="AthenaConsoleList"),
                statement(ATHENA_CATALOG_ACTIONS,
                          [ctx.arn("athena", f"datacatalog/{ATHENA_DATA_CATALOG}")],
                          sid="AthenaConsoleCatalog"),
                statement(CATALOG_READ_ACTIONS, [arns["catalog"], arns["database"],
                                                 arns["tables"]], sid="CatalogRead"),
                athena_default_database(ctx),
                *s3_read("Processed", args.processed.arn),
                *s3_read("Gold", args.gold.arn),
                *s3_write("AthenaResults", args.athena_results.arn, delete=False),
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
                               "gold_workgroup": self.gold_workgroup.name,
                               "gold_job": self.gold_job.name,
                               "analyst_role": self.analyst_role.arn})

    def _workgroup(self, resource_name: str, workgroup_name: str, args: AnalyticsArgs, *,
                   enforce: bool, results: str) -> aws.athena.Workgroup:
        """A workgroup with the stack's scan limit and engine; results (encrypted like the
        zones) under `results` in the Athena results bucket."""
        cfg = args.config
        encryption = ({"encryption_option": "SSE_KMS", "kms_key_arn": args.kms_key_arn}
                      if cfg.bucket_kms else {"encryption_option": "SSE_S3"})
        return aws.athena.Workgroup(
            resource_name, name=workgroup_name, state="ENABLED", force_destroy=cfg.force_destroy,
            configuration={
                "enforce_workgroup_configuration": enforce,
                "publish_cloudwatch_metrics_enabled": True,
                "bytes_scanned_cutoff_per_query": cfg.bytes_scanned_cutoff_per_query,
                "engine_version": {"selected_engine_version": ATHENA_ENGINE},
                "result_configuration": {
                    "output_location": uri(args.athena_results, results),
                    "encryption_configuration": encryption,
                    "expected_bucket_owner": args.aws.account_id,
                },
            }, opts=pulumi.ResourceOptions(parent=self))
