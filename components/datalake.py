"""DataLake: one dataset's complete lake, composed from the layer components."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from components.alerts import Alerts, AlertsArgs
from components.analytics import Analytics, AnalyticsArgs, query_files
from components.audit import Audit, AuditArgs, trail_arn
from components.catalog import RESTRICTED_CRAWLER, Catalog, CatalogArgs
from components.config import LakeConfig
from components.encryption import LakeKey, LakeKeyArgs, RestrictedKey, RestrictedKeyArgs
from components.gold import GoldJob, GoldJobArgs
from components.ingestion import Ingestion, IngestionArgs
from components.naming import AwsContext, Naming, role_boundary, tagging
from components.orchestration import Orchestration, OrchestrationArgs
from components.packaging import EntryPoint, SourceTree
from components.processing import PROCESS, Processing, ProcessingArgs
from components.storage import Storage, StorageArgs

# The only roles that use the restricted zone's objects and key: the job that writes it, the
# crawler that catalogs it, and the researchers (jobs.contract.ROLE_ZONES).
RESTRICTED_ZONE_ROLES = (PROCESS, RESTRICTED_CRAWLER, "researcher")


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
    """Raw/processed/restricted/rejected/gold zones, ingestion, the Glue chain, catalogs, the
    audiences' Athena workgroups and roles, the restricted zone's audit trail, alerts."""

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
        # Policies declared before these roles name them by ARN (the roles come later).
        restricted_readers = [ctx.role_arn(naming.name(part)) for part in RESTRICTED_ZONE_ROLES]
        audit_trail = trail_arn(naming, ctx) if cfg.audit.restricted_data_events else None
        self.key = LakeKey(child("key"), LakeKeyArgs(
            **common, protect=cfg.protect,
            audit_trail_arn=audit_trail if cfg.bucket_kms else None), parent)
        self.restricted_key: RestrictedKey | None = None
        if cfg.bucket_kms:
            self.restricted_key = RestrictedKey(child("restricted"), RestrictedKeyArgs(
                **common, protect=cfg.protect, users=restricted_readers), parent)
        lake = {**common, "config": cfg, "kms_key_arn": self.key.arn}
        self.storage = Storage(child("storage"), StorageArgs(
            **lake, restricted_key_arn=self.restricted_key.arn if self.restricted_key else None,
            restricted_readers=restricted_readers, audit_trail_arn=audit_trail), parent)
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
            crawler=self.catalog.crawler.name,
            restricted_crawler=self.catalog.restricted_crawler.name,
            gold_job=self.gold.job.name), parent)
        self.alerts = Alerts(child("alerts"), AlertsArgs(
            **common, kms_key_arn=self.key.arn,
            glue_jobs=[self.processing.job.name, self.gold.job.name],
            crawlers=[self.catalog.crawler.name, self.catalog.restricted_crawler.name],
            processing_job_prefix=self.ingestion.job_name_prefix,
            trigger_function=self.ingestion.trigger.name, email=cfg.alert_email), parent)
        self.audit: Audit | None = None
        if self.storage.audit is not None:
            self.audit = Audit(child("audit"), AuditArgs(
                **common, watched=self.storage.restricted, logs=self.storage.audit,
                kms_key_arn=self.key.arn if cfg.bucket_kms else None, protect=cfg.protect),
                parent)

        zones = self.storage
        self.outputs = {
            "buckets": {part: bucket.name for part, bucket in zones.zones.items()},
            "access_log_bucket": zones.access_logs.name,
            "kms_key_arn": self.key.arn,
            "database": database,
            "restricted_database": self.catalog.restricted_database.name,
            "crawler": self.catalog.crawler.name,
            "restricted_crawler": self.catalog.restricted_crawler.name,
            "workgroup": self.analytics.workgroup.name,
            "workgroups": {a: w.name for a, w in self.analytics.workgroups.items()},
            "gold_workgroup": self.gold.workgroup.name,
            "workflow": self.orchestration.workflow.name,
            "process_job": self.processing.job.name,
            "gold_job": self.gold.job.name,
            "trigger_function": self.ingestion.trigger.name,
            "ecr_repository_url": self.ingestion.repository.repository_url,
            "analyst_role_arn": self.analytics.analyst_role.arn,
            "role_arns": {a: r.arn for a, r in self.analytics.roles.items()},
            "restricted_key_arn": self.restricted_key.arn if self.restricted_key else None,
            "audit_trail_arn": self.audit.trail.arn if self.audit else None,
            "audit_bucket": zones.audit.name if zones.audit else None,
            "alerts_topic_arn": self.alerts.topic.arn,
        }
        self.register_outputs(self.outputs)
