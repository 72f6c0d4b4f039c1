"""DataLake: one dataset's complete lake, composed from the layer components."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from components.alerts import Alerts, AlertsArgs
from components.analytics import Analytics, AnalyticsArgs, query_files
from components.catalog import Catalog, CatalogArgs
from components.config import LakeConfig
from components.encryption import LakeKey, LakeKeyArgs
from components.gold import GoldJob, GoldJobArgs
from components.ingestion import Ingestion, IngestionArgs
from components.naming import AwsContext, Naming, role_boundary, tagging
from components.orchestration import Orchestration, OrchestrationArgs
from components.packaging import EntryPoint, SourceTree
from components.processing import Processing, ProcessingArgs
from components.storage import Storage, StorageArgs


def _entry(module: str):
    return field(default_factory=lambda: EntryPoint(module))


@dataclass(kw_only=True)
class DataLakeArgs:
    dataset: str
    """Short lower-case name of the dataset (`enem`); part of every physical name, so two lakes
    can live in one stack."""
    config: LakeConfig
    trigger: EntryPoint = _entry("jobs.ingest.trigger")
    """The Lambda's handler module; it and what it imports are the function's code."""
    container: EntryPoint = _entry("jobs.ingest.download")
    """The container's entry module; the image copies it and what it imports."""
    process_job: EntryPoint = _entry("jobs.process.csv_to_parquet")
    gold_job: EntryPoint = _entry("jobs.gold.export")
    queries: SourceTree = field(default_factory=lambda: SourceTree("queries"))
    image_context: SourceTree = field(default_factory=lambda: SourceTree("images/ingest"))
    """The Dockerfile, the image's pins and extra CA certificates."""


class DataLake(pulumi.ComponentResource):
    """Raw/processed/rejected/gold zones, ingestion, the Glue chain, catalog, Athena, alerts."""

    def __init__(self, name: str, args: DataLakeArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        # What can be refused is refused now, not after half the lake is declared.
        naming = Naming.checked(pulumi.get_project(), pulumi.get_stack(), args.dataset)
        queries = query_files(args.queries)
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
        common = {"naming": naming, "aws": ctx}
        self.key = LakeKey(child("key"), LakeKeyArgs(**common, protect=cfg.protect), parent)
        lake = {**common, "config": cfg, "kms_key_arn": self.key.arn}
        self.storage = Storage(child("storage"), StorageArgs(**lake), parent)
        lake["storage"] = self.storage
        self.ingestion = Ingestion(child("ingestion"), IngestionArgs(
            **lake, trigger=args.trigger, container=args.container,
            image_context=args.image_context), parent)
        self.processing = Processing(child("processing"), ProcessingArgs(
            **lake, code=args.process_job), parent)
        security = self.processing.security_configuration.name
        self.catalog = Catalog(child("catalog"), CatalogArgs(
            **common, kms_key_arn=self.key.arn, storage=self.storage,
            security_configuration=security, log_retention_days=cfg.log_retention_days), parent)
        database = self.catalog.database.name
        self.analytics = Analytics(child("analytics"), AnalyticsArgs(
            **lake, database=database, queries=queries), parent)
        self.gold = GoldJob(child("gold"), GoldJobArgs(
            **lake, database=database, security_configuration=security, code=args.gold_job,
            queries=queries, queries_digest=args.queries.digest(),
            # declared in Analytics until the gold job got a component of its own
            previously=self.analytics, resource_prefix=f"{child('analytics')}-gold"), parent)
        self.orchestration = Orchestration(child("orchestration"), OrchestrationArgs(
            naming=naming, schedule=cfg.schedule, process_job=self.processing.job.name,
            crawler=self.catalog.crawler.name, gold_job=self.gold.job.name), parent)
        self.alerts = Alerts(child("alerts"), AlertsArgs(
            **common, kms_key_arn=self.key.arn,
            glue_jobs=[self.processing.job.name, self.gold.job.name],
            crawler=self.catalog.crawler.name,
            processing_job_prefix=self.ingestion.job_name_prefix,
            trigger_function=self.ingestion.trigger.name, email=cfg.alert_email), parent)

        zones = self.storage
        self.outputs = {
            "buckets": {part: bucket.name for part, bucket in zones.zones.items()},
            "access_log_bucket": zones.access_logs.name,
            "kms_key_arn": self.key.arn,
            "database": database,
            "crawler": self.catalog.crawler.name,
            "workgroup": self.analytics.workgroup.name,
            "gold_workgroup": self.gold.workgroup.name,
            "workflow": self.orchestration.workflow.name,
            "process_job": self.processing.job.name,
            "gold_job": self.gold.job.name,
            "trigger_function": self.ingestion.trigger.name,
            "ecr_repository_url": self.ingestion.repository.repository_url,
            "analyst_role_arn": self.analytics.analyst_role.arn,
            "alerts_topic_arn": self.alerts.topic.arn,
        }
        self.register_outputs(self.outputs)
