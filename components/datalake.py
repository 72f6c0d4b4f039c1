"""DataLake: one dataset's complete lake, composed from the layer components."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pulumi

from components.alerts import Alerts, AlertsArgs
from components.analytics import Analytics, AnalyticsArgs, query_files
from components.catalog import Catalog, CatalogArgs
from components.config import LakeConfig
from components.encryption import LakeKey, LakeKeyArgs
from components.ingestion import Ingestion, IngestionArgs, job_name_prefix
from components.naming import AwsContext, Naming, role_boundary, tagging
from components.orchestration import Orchestration, OrchestrationArgs
from components.packaging import EntryPoint, SourceTree
from components.processing import Processing, ProcessingArgs
from components.storage import Storage, StorageArgs

# ECR repository names (API_CreateRepository: repositoryName).
ECR_NAME_PATTERN = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*"


@dataclass
class DataLakeArgs:
    dataset: str
    """Short lower-case name of the dataset (`enem`); part of every physical name, so two lakes
    can live in one stack."""
    config: LakeConfig
    jobs: SourceTree = field(default_factory=lambda: SourceTree("jobs"))
    gold_job: EntryPoint = field(default_factory=lambda: EntryPoint("jobs.gold.export"))
    """The gold job's script and what it imports (its wheel)."""
    queries: SourceTree = field(default_factory=lambda: SourceTree("queries"))
    image_context: SourceTree = field(default_factory=lambda: SourceTree("images/ingest"))
    image_requirements: SourceTree = field(default_factory=lambda: SourceTree("requirements.txt"))
    """The pins the image installs: a changed pin is a new image tag."""


class DataLake(pulumi.ComponentResource):
    """Raw/processed/rejected/gold zones, ingestion, the Glue chain, catalog, Athena, alerts."""

    def __init__(self, name: str, args: DataLakeArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if not args.dataset.isidentifier() or args.dataset != args.dataset.lower():
            raise ValueError(f"DataLake dataset must be a lower-case identifier such as 'enem' "
                             f"(got {args.dataset!r}).")
        naming = Naming(pulumi.get_project(), pulumi.get_stack(), args.dataset)
        if not re.fullmatch(ECR_NAME_PATTERN, naming.name("ingest")):
            raise pulumi.RunError(f"Project and stack names must be lower-case letters, digits and "
                                  f"hyphens: they name the ECR repository {naming.name('ingest')}, "
                                  f"which ECR refuses otherwise; rename the stack.")
        job_name_prefix(naming)  # these fail now, not after half the lake is declared
        query_files(args.queries)
        self.permissions_boundary: pulumi.Output[str] | None = None
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transformations=[
            tagging(naming.tags()), role_boundary(lambda: self.permissions_boundary)]))
        super().__init__("datalake:index:DataLake", name, None, opts)
        cfg = args.config
        ctx = AwsContext.current(pulumi.InvokeOptions(parent=self))
        if cfg.permissions_boundary:
            self.permissions_boundary = ctx.arn(
                "iam", f"policy/{naming.boundary_policy}", regional=False)

        def child(layer: str) -> str:
            return f"{name}-{layer}"

        parent = pulumi.ResourceOptions(parent=self)
        self.key = LakeKey(child("key"), LakeKeyArgs(naming, ctx, cfg.protect), parent)
        key_arn = self.key.arn
        self.storage = Storage(child("storage"), StorageArgs(naming, ctx, cfg, key_arn), parent)
        zones = self.storage
        self.ingestion = Ingestion(child("ingestion"), IngestionArgs(
            naming, ctx, cfg, key_arn, zones.raw, args.jobs, args.image_context,
            args.image_requirements), parent)
        self.processing = Processing(child("processing"), ProcessingArgs(
            naming, ctx, cfg, key_arn, zones.raw, zones.processed, zones.rejected,
            zones.artifacts, args.jobs), parent)
        security = self.processing.security_configuration.name
        self.catalog = Catalog(child("catalog"), CatalogArgs(
            naming, ctx, key_arn, zones.processed, security), parent)
        self.analytics = Analytics(child("analytics"), AnalyticsArgs(
            naming, ctx, cfg, key_arn, zones.processed, zones.gold, zones.athena_results,
            zones.artifacts, self.catalog.database.name, security, args.gold_job, args.queries),
            parent)
        self.orchestration = Orchestration(child("orchestration"), OrchestrationArgs(
            naming, cfg.schedule, self.processing.job.name, self.catalog.crawler.name,
            self.analytics.gold_job.name), parent)
        self.alerts = Alerts(child("alerts"), AlertsArgs(
            naming, ctx, key_arn,
            [self.processing.job.name, self.analytics.gold_job.name],
            self.catalog.crawler.name, self.ingestion.job_name_prefix,
            self.ingestion.trigger.name, cfg.alert_email), parent)

        self.outputs = {
            "buckets": {part: bucket.name for part, bucket in zones.zones.items()},
            "access_log_bucket": zones.access_logs.name,
            "kms_key_arn": key_arn,
            "database": self.catalog.database.name,
            "crawler": self.catalog.crawler.name,
            "workgroup": self.analytics.workgroup.name,
            "gold_workgroup": self.analytics.gold_workgroup.name,
            "workflow": self.orchestration.workflow.name,
            "process_job": self.processing.job.name,
            "gold_job": self.analytics.gold_job.name,
            "trigger_function": self.ingestion.trigger.name,
            "ecr_repository_url": self.ingestion.repository.repository_url,
            "analyst_role_arn": self.analytics.analyst_role.arn,
            "alerts_topic_arn": self.alerts.topic.arn,
        }
        self.register_outputs(self.outputs)
