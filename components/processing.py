"""Processing: the Glue Spark job that turns raw CSV into typed Parquet
(`jobs/process/csv_to_parquet.py`), and the Glue security configuration shared by every Glue job
and crawler of the lake."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.gluejob import GlueJob, GlueJobArgs, Previously
from components.naming import LakeLayer
from components.packaging import EntryPoint
from components.policies import kms_use, s3_read, s3_write
from components.storage import ZoneArgs, uri

GLUE_VERSION = "5.0"
PROCESS = "process"  # the job's part of the physical names: its role, the job


@dataclass(kw_only=True)
class ProcessingArgs(ZoneArgs):
    code: EntryPoint


class Processing(LakeLayer):
    """The Glue security configuration and the Spark job (a GlueJob)."""

    def __init__(self, name: str, args: ProcessingArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:processing:Processing", name, "processing", opts)
        cfg, naming, zones = args.config, args.naming, args.storage

        s3_encryption = ({"s3_encryption_mode": "SSE-KMS", "kms_key_arn": args.kms_key_arn}
                         if cfg.bucket_kms else {"s3_encryption_mode": "SSE-S3"})
        self.security_configuration = aws.glue.SecurityConfiguration(
            f"{name}-security-configuration", name=naming.name("glue"),
            encryption_configuration={
                "s3_encryption": s3_encryption,
                "cloudwatch_encryption": {"cloudwatch_encryption_mode": "SSE-KMS",
                                          "kms_key_arn": args.kms_key_arn},
                "job_bookmarks_encryption": {"job_bookmarks_encryption_mode": "CSE-KMS",
                                             "kms_key_arn": args.kms_key_arn},
            }, opts=pulumi.ResourceOptions(parent=self))

        job = f"{name}-process"
        restricted_key = zones.keys["restricted"]
        self.glue = GlueJob(job, GlueJobArgs(
            naming=naming, aws=args.aws, part=PROCESS, code=args.code,
            artifacts=zones.artifacts, kms_key_arn=args.kms_key_arn,
            statements=[
                *s3_read("Raw", zones.raw.arn),
                *s3_read("Artifacts", zones.artifacts.arn),
                *s3_write("Processed", zones.processed.arn),
                *s3_write("Restricted", zones.restricted.arn),
                *s3_write("Rejected", zones.rejected.arn),
                *([] if restricted_key is None else [
                    kms_use(restricted_key[1], sid=restricted_key[0])]),
            ],
            metrics_namespace="Glue",
            job={"glue_version": GLUE_VERSION, "worker_type": cfg.glue.worker_type,
                 "number_of_workers": cfg.glue.number_of_workers,
                 "timeout": cfg.glue.timeout_minutes,
                 "execution_class": cfg.glue.execution_class,
                 "command": {"name": "glueetl", "python_version": "3"}},
            security_configuration=self.security_configuration.name,
            arguments={
                "--raw": uri(zones.raw),
                "--processed": uri(zones.processed),
                "--restricted": uri(zones.restricted),
                "--rejected": uri(zones.rejected),
                "--max-rejected-share": str(cfg.quality.max_rejected_share),
            },
            glue_arguments={
                "--job-bookmark-option": "job-bookmark-disable",
                "--enable-metrics": "true",
                "--enable-observability-metrics": "true",
            },
            log_root=f"/aws-glue/jobs/{naming.name(PROCESS)}", custom_log_prefix=True,
            log_retention_days=cfg.log_retention_days,
            previously=Previously(parent=self, prefix=job)),
            opts=pulumi.ResourceOptions(parent=self))
        self.job = self.glue.job
        self.arguments = self.glue.arguments
        """The Contracts' arguments of jobs/process/csv_to_parquet.py (listed in the README)."""
        self.register_outputs({"job": self.job.name,
                               "security_configuration": self.security_configuration.name})
