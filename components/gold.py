"""GoldJob: the gold Glue job (Python shell, `jobs/gold/export.py`) that runs the saved queries
into the gold zone, the queries it runs (uploaded under their hash), and the Athena workgroup
its CTAS runs in."""

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
from components.gluejob import PYTHON_SHELL_LOG_ROOT, GlueJob, GlueJobArgs, Previously
from components.naming import LakeLayer
from components.packaging import EntryPoint
from components.policies import s3_read, s3_write, statement
from components.storage import ZoneArgs, uri
from jobs.contract import GOLD_POLL_SECONDS, GOLD_PREFIX

GOLD_DISTRIBUTION = "datalake_gold"  # the wheel the job gets in --extra-py-files
# Glue Python shell runs Python 3.9 (Glue 5.0 Spark runs 3.11): the gold job stays 3.9-clean.
GOLD_PYTHON = "3.9"
GOLD_GLUE_VERSION = "3.0"
GOLD_RESULTS = "gold/"  # the gold workgroup's query results, in the Athena results bucket


@dataclass(kw_only=True)
class GoldJobArgs(ZoneArgs):
    database: pulumi.Input[str]
    security_configuration: pulumi.Input[str]
    code: EntryPoint
    queries: list[Path]
    queries_digest: str
    """The hash of the queries folder: where they are uploaded (`queries/<hash>/`)."""
    previously: pulumi.Resource | None = None
    """The component the gold job's resources were declared under before (Analytics): they keep
    their logical names (`resource_prefix`) and answer to their URNs there (aliases)."""
    resource_prefix: str = ""
    """The logical names' prefix of this component's resources (default: its name)."""


class GoldJob(LakeLayer):
    """The gold job, its workgroup and its queries."""

    def __init__(self, name: str, args: GoldJobArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:gold:GoldJob", name, "analytics", opts)
        cfg, ctx, naming, zones = args.config, args.aws, args.naming, args.storage
        prefix = args.resource_prefix or name

        moved = pulumi.ResourceOptions(parent=self, aliases=[] if args.previously is None
                                       else [pulumi.Alias(parent=args.previously)])

        # The CTAS names an external_location, which Athena refuses in a workgroup that enforces
        # its settings (create-table-as.html): a workgroup of its own, with the same scan limit,
        # engine, encryption and result bucket, that only the gold role may use.
        self.workgroup = workgroup(f"{prefix}-workgroup", naming.name("gold"), config=cfg,
                                   key_arn=args.kms_key_arn, results=zones.athena_results,
                                   prefix=GOLD_RESULTS, enforce=False, ctx=ctx, opts=moved)
        query_key = f"queries/{args.queries_digest}"
        uploads = [aws.s3.BucketObjectv2(
            f"{prefix}-sql-{path.stem}", bucket=zones.artifacts.name,
            key=f"{query_key}/{path.name}", source=pulumi.FileAsset(str(path)),
            opts=moved) for path in args.queries]

        arns = catalog_arns(ctx, naming.database)
        self.glue = GlueJob(prefix, GlueJobArgs(
            naming=naming, aws=ctx, part="gold", code=args.code, wheel=GOLD_DISTRIBUTION,
            artifacts=zones.artifacts, kms_key_arn=args.kms_key_arn,
            statements=[
                statement(ATHENA_QUERY_ACTIONS, [workgroup_arn(ctx, self.workgroup)],
                          sid="Workgroup"),
                statement(CATALOG_READ_ACTIONS, [arns["catalog"], arns["database"],
                                                 arns["tables"]], sid="ThisDatabase"),
                athena_default_database(ctx),
                # Athena's CTAS creates gold_<name>__<run>; the job repoints gold_<name> and
                # drops the temporary one. Tables the crawler makes are out of its reach.
                statement(["glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable"],
                          [arns["catalog"], arns["database"],
                           ctx.arn("glue", f"table/{naming.database}/{GOLD_PREFIX}*")],
                          sid="GoldTables"),
                *s3_read("Processed", zones.processed.arn),
                *s3_read("Artifacts", zones.artifacts.arn),
                *s3_write("Gold", zones.gold.arn),
                # its workgroup's results only, not the audiences'
                *s3_write("AthenaResults", zones.athena_results.arn, prefix=GOLD_RESULTS),
            ],
            job={"glue_version": GOLD_GLUE_VERSION, "max_capacity": cfg.gold.max_capacity,
                 "timeout": cfg.gold.timeout_minutes,
                 "command": {"name": "pythonshell", "python_version": GOLD_PYTHON}},
            security_configuration=args.security_configuration,
            log_root=PYTHON_SHELL_LOG_ROOT, log_retention_days=cfg.log_retention_days,
            arguments={
                "--workgroup": self.workgroup.name,
                "--database": args.database,
                "--gold": uri(zones.gold),
                "--queries": uri(zones.artifacts, f"{query_key}/"),
                "--poll-seconds": f"{GOLD_POLL_SECONDS:g}",
                "--query-timeout-minutes": str(cfg.gold.query_timeout_minutes),
                "--min-group-size": str(cfg.gold.min_group_size),
            },
            depends_on=uploads,
            previously=None if args.previously is None else Previously(
                parent=args.previously, prefix=prefix)),
            opts=pulumi.ResourceOptions(parent=self))
        self.job = self.glue.job
        self.arguments = self.glue.arguments
        """The arguments of jobs/gold/export.py (listed in the README)."""
        self.register_outputs({"job": self.job.name, "workgroup": self.workgroup.name})
