"""Processing: the Glue Spark job that turns raw CSV into typed Parquet
(`jobs/process/csv_to_parquet.py`), its code in the artifacts bucket, and the Glue security
configuration shared by every Glue job and crawler of the lake."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import LakeConfig
from components.naming import AwsContext, LakeLayer, Naming
from components.packaging import SourceTree
from components.policies import (
    document,
    kms_use,
    logs_write,
    metrics,
    s3_read,
    s3_write,
    trust,
)
from components.storage import SecureBucket, uri

GLUE_VERSION = "5.0"
GLUE_LOG_STREAMS = ("error", "output")  # monitor-continuous-logging.html, Glue 5.0
PROCESS_SCRIPT = "jobs/process/csv_to_parquet.py"


@dataclass
class GlueCode:
    """A job's entry script and the packaged `jobs` code, uploaded under their content hash."""

    script: aws.s3.BucketObjectv2
    package: aws.s3.BucketObjectv2
    script_uri: pulumi.Output[str]
    package_uri: pulumi.Output[str]


def upload_glue_code(parent_name: str, prefix: str, entry: str, jobs: SourceTree,
                     artifacts: SecureBucket, parent: pulumi.Resource) -> GlueCode:
    """Upload `entry` and a zip of jobs/ to `artifacts/glue/<prefix>/<hash>/`; a code change
    changes the hash, hence the keys, hence the job definition: it redeploys."""
    digest = jobs.digest()
    key = f"glue/{prefix}/{digest}"
    filename = entry.rsplit("/", 1)[-1]
    child = pulumi.ResourceOptions(parent=parent)
    script = aws.s3.BucketObjectv2(
        f"{parent_name}-{prefix}-script", bucket=artifacts.name, key=f"{key}/{filename}",
        source=pulumi.FileAsset(str(jobs.root / entry)), opts=child)
    package = aws.s3.BucketObjectv2(
        f"{parent_name}-{prefix}-package", bucket=artifacts.name, key=f"{key}/jobs.zip",
        source=jobs.archive(), opts=child)
    return GlueCode(script=script, package=package,
                    script_uri=uri(artifacts, f"{key}/{filename}"),
                    package_uri=uri(artifacts, f"{key}/jobs.zip"))


def glue_log_groups(ctx: AwsContext) -> list[pulumi.Output[str]]:
    """Glue writes driver/executor logs under /aws-glue/ (names depend on the security config)."""
    return [ctx.arn("logs", "log-group:/aws-glue/*"), ctx.arn("logs", "log-group:/aws-glue/*:*")]


@dataclass
class ProcessingArgs:
    naming: Naming
    aws: AwsContext
    config: LakeConfig
    kms_key_arn: pulumi.Input[str]
    raw: SecureBucket
    processed: SecureBucket
    rejected: SecureBucket
    artifacts: SecureBucket
    jobs: SourceTree


class Processing(LakeLayer):
    """Glue security configuration, the Spark job, its role, code and continuous-log group."""

    def __init__(self, name: str, args: ProcessingArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:processing:Processing", name, "processing", opts)
        cfg, ctx, naming = args.config, args.aws, args.naming
        child = pulumi.ResourceOptions(parent=self)

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
            }, opts=child)

        job_name = naming.name("process")
        # Glue 5.0 logs in real time to `<prefix>/error` and `<prefix>/output` (the 4.0
        # continuous-logging arguments are gone); the stack owns both, with retention and key.
        self.log_prefix = f"/aws-glue/jobs/{job_name}"
        self.log_groups = [aws.cloudwatch.LogGroup(
            f"{name}-process-{stream}-logs", name=f"{self.log_prefix}/{stream}",
            retention_in_days=cfg.log_retention_days, kms_key_id=args.kms_key_arn, opts=child)
            for stream in GLUE_LOG_STREAMS]

        self.role = aws.iam.Role(f"{name}-process-role", name=naming.name("process"),
                                 assume_role_policy=trust("glue.amazonaws.com"), opts=child)
        aws.iam.RolePolicy(f"{name}-process-policy", role=self.role.id, policy=document([
            *s3_read("Raw", args.raw.arn),
            *s3_read("Artifacts", args.artifacts.arn),
            *s3_write("Processed", args.processed.arn),
            *s3_write("Rejected", args.rejected.arn),
            kms_use(args.kms_key_arn),
            logs_write(glue_log_groups(ctx), associate_key=True),
            metrics("Glue"),
        ]), opts=child)

        code = upload_glue_code(name, "process", PROCESS_SCRIPT, args.jobs, args.artifacts, self)
        self.arguments = {
            "--raw": uri(args.raw),
            "--processed": uri(args.processed),
            "--rejected": uri(args.rejected),
            "--max-rejected-share": str(cfg.quality.max_rejected_share),
        }
        """The Contracts' arguments of jobs/process/csv_to_parquet.py (listed in the README)."""
        self.job = aws.glue.Job(
            f"{name}-process-job", name=job_name, role_arn=self.role.arn, glue_version=GLUE_VERSION,
            command={"name": "glueetl", "script_location": code.script_uri,
                     "python_version": "3"},
            worker_type=cfg.glue.worker_type, number_of_workers=cfg.glue.number_of_workers,
            timeout=cfg.glue.timeout_minutes, execution_class=cfg.glue.execution_class,
            max_retries=0, execution_property={"max_concurrent_runs": 1},
            security_configuration=self.security_configuration.name,
            default_arguments={
                **self.arguments,
                "--extra-py-files": code.package_uri,
                "--job-language": "python",
                "--job-bookmark-option": "job-bookmark-disable",
                "--enable-metrics": "true",
                "--enable-observability-metrics": "true",
                "--custom-logGroup-prefix": self.log_prefix,
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[code.script, code.package,
                                                                 *self.log_groups]))
        self.register_outputs({"job": self.job.name,
                               "security_configuration": self.security_configuration.name})

