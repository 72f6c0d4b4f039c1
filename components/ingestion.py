"""Ingestion: the processing image in ECR, the SageMaker role that runs it, and the trigger Lambda
that starts a SageMaker processing job (`jobs.ingest.trigger.handler`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePosixPath

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build

from components.config import CA_BUNDLE_FOLDER
from components.naming import LakeLayer
from components.packaging import EntryPoint, SourceTree, image_digest
from components.policies import (
    document,
    kms_use,
    logs_key,
    logs_write,
    metrics,
    s3_write,
    statement,
    trust,
)
from components.storage import ZoneArgs, uri

HANDLER_FUNCTION = "handler"
LAMBDA_RUNTIME = "python3.12"
IMAGE_CONTEXT = "."  # the project folder: the image copies jobs/ (.dockerignore trims it)
IMAGE_DOCKERFILE = "images/ingest/Dockerfile"
IMAGE_CERTS_PATH = "/opt/ingest/certs"  # where the Dockerfile copies images/ingest/certs/
# SageMaker processing jobs log here; the name is fixed by SageMaker.
SAGEMAKER_LOG_GROUP = "/aws/sagemaker/ProcessingJobs"


@dataclass(kw_only=True)
class IngestionArgs(ZoneArgs):
    trigger: EntryPoint
    """The Lambda's handler module: the function's code is it and what it imports."""
    container: EntryPoint
    """The container's entry module: the image copies it and what it imports."""
    image_context: SourceTree
    """images/ingest/: the Dockerfile, the image's pins, extra CA certificates."""


class Ingestion(LakeLayer):
    """ECR repository + image, SageMaker execution role, trigger Lambda and its logs."""

    def __init__(self, name: str, args: IngestionArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:ingestion:Ingestion", name, "ingestion", opts)
        cfg, ctx, naming = args.config, args.aws, args.naming
        ingest, raw = cfg.ingest, args.storage.raw
        child = pulumi.ResourceOptions(parent=self)

        self.repository = aws.ecr.Repository(
            f"{name}-repository", name=naming.name("ingest"), image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "KMS",
                                        "kms_key": args.kms_key_arn}] if cfg.bucket_kms
            else [{"encryption_type": "AES256"}],
            force_delete=cfg.force_destroy,
            opts=pulumi.ResourceOptions(parent=self, protect=cfg.protect))
        aws.ecr.LifecyclePolicy(
            f"{name}-repository-lifecycle", repository=self.repository.name,
            policy=json.dumps({"rules": [{
                "rulePriority": 1,
                "description": f"keep the last {cfg.ecr_keep_images} images",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                              "countNumber": cfg.ecr_keep_images},
                "action": {"type": "expire"},
            }]}), opts=child)

        # The tag is the content hash of what goes into the image, so an unchanged image is never
        # rebuilt and a changed one always gets a new, immutable tag.
        self.image_tag = image_digest(args.image_context.root / IMAGE_DOCKERFILE,
                                      args.image_context, args.container)
        token = aws.ecr.get_authorization_token_output(registry_id=self.repository.registry_id)
        self.image = docker_build.Image(
            f"{name}-image",
            # Relative to the project folder, where Pulumi runs the program and its providers:
            # an absolute path would differ on the next machine, and docker-build rebuilds and
            # pushes again on any change of these strings.
            context={"location": IMAGE_CONTEXT},
            dockerfile={"location": IMAGE_DOCKERFILE},
            platforms=["linux/amd64"],
            tags=[pulumi.Output.concat(self.repository.repository_url, ":", self.image_tag)],
            push=True,
            build_on_preview=False,
            registries=[{"address": self.repository.repository_url,
                         "username": token.user_name, "password": token.password}],
            opts=child)
        # The pushed image, by digest (`<repository>:<tag>@sha256:…`): an output of the push, so
        # the Lambda (and each SageMaker job it starts) changes only after the push succeeded.
        self.image_uri = self.image.ref

        # SageMaker processing role: pull this image, write the raw zone, its own logs.
        sagemaker_statements = [
            *s3_write("Raw", raw.arn, delete=False),
            statement(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                       "ecr:BatchCheckLayerAvailability"], [self.repository.arn], sid="PullImage"),
            # GetAuthorizationToken has no resource-level form.
            statement(["ecr:GetAuthorizationToken"], ["*"], sid="RegistryLogin"),
            logs_write([ctx.arn("logs", f"log-group:{SAGEMAKER_LOG_GROUP}"),
                        ctx.arn("logs", f"log-group:{SAGEMAKER_LOG_GROUP}:*")]),
            metrics("/aws/sagemaker/ProcessingJobs"),
        ]
        if cfg.bucket_kms:
            sagemaker_statements.append(kms_use(args.kms_key_arn))
        self.processing_role = aws.iam.Role(
            f"{name}-processing-role", name=naming.name("ingest-processing"),
            assume_role_policy=trust("sagemaker.amazonaws.com", ctx.account_id), opts=child)
        aws.iam.RolePolicy(f"{name}-processing-policy", role=self.processing_role.id,
                           policy=document(sagemaker_statements), opts=child)

        # Trigger Lambda: may only start/describe processing jobs named after this lake and pass
        # exactly the processing role, to SageMaker only.
        self.job_name_prefix = naming.job_prefix  # checked by Naming.checked
        function_name = naming.name("ingest-trigger")
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-trigger-logs", name=f"/aws/lambda/{function_name}",
            retention_in_days=cfg.log_retention_days, kms_key_id=args.kms_key_arn, opts=child)
        self.trigger_role = aws.iam.Role(
            f"{name}-trigger-role", name=naming.name("ingest-trigger"),
            assume_role_policy=trust("lambda.amazonaws.com"), opts=child)
        aws.iam.RolePolicy(f"{name}-trigger-policy", role=self.trigger_role.id, policy=document([
            statement(["sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob",
                       "sagemaker:AddTags"],
                      [ctx.arn("sagemaker", f"processing-job/{self.job_name_prefix}-*")],
                      sid="ProcessingJobs"),
            statement(["iam:PassRole"], [self.processing_role.arn], sid="PassProcessingRole",
                      condition={"StringEquals": {"iam:PassedToService":
                                                  "sagemaker.amazonaws.com"}}),
            statement(["logs:CreateLogStream", "logs:PutLogEvents"],
                      [pulumi.Output.concat(self.log_group.arn, ":*")], sid="Logs"),
            logs_key(args.kms_key_arn, ctx.region),
        ]), opts=child)

        self.environment = {
            "PROCESSING_IMAGE_URI": self.image_uri,
            "PROCESSING_ROLE_ARN": self.processing_role.arn,
            "PROCESSING_JOB_PREFIX": self.job_name_prefix,
            "RAW_URI": uri(raw),
            "SOURCE_URL": ingest.source_url,
            "ALLOWED_HOSTS": ",".join(ingest.allowed_hosts),
            "INSTANCE_TYPE": ingest.instance_type,
            "VOLUME_SIZE_GB": str(ingest.volume_size_gb),
            "MAX_RUNTIME_SECONDS": str(ingest.max_runtime_minutes * 60),
            "PART_SIZE_MB": str(ingest.part_size_mb),
            "UPLOAD_CONCURRENCY": str(ingest.upload_concurrency),
        }
        if ingest.ca_bundle:  # the image copies images/ingest/certs/ to /opt/ingest/certs/
            self.environment["CA_BUNDLE"] = (
                f"{IMAGE_CERTS_PATH}/{PurePosixPath(ingest.ca_bundle).relative_to(CA_BUNDLE_FOLDER)}")
        """The trigger's settings (read by jobs/ingest/trigger.py; listed in the README)."""
        self.trigger = aws.lambda_.Function(
            f"{name}-trigger", name=function_name, runtime=LAMBDA_RUNTIME,
            handler=f"{args.trigger.module}.{HANDLER_FUNCTION}",
            role=self.trigger_role.arn, code=args.trigger.archive(), timeout=60, memory_size=256,
            environment={"variables": self.environment},
            logging_config={"log_format": "Text", "log_group": self.log_group.name},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group]))

        self.register_outputs({
            "repository_url": self.repository.repository_url,
            "image_uri": self.image_uri,
            "trigger": self.trigger.name,
            "processing_role": self.processing_role.arn,
        })
