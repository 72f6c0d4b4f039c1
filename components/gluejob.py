"""GlueJob: one Glue job with everything it needs: its role and policy, its code in the artifacts
bucket (the entry script, and the modules it imports as a zip or, for Python shell, a wheel, both
under the hash of exactly those files), its log groups and its arguments."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.naming import AwsContext, Naming
from components.packaging import EntryPoint
from components.policies import Statement, document, kms_use, logs_write, metrics, trust
from components.storage import SecureBucket, uri

# Glue logs each job run to two groups, `error` and `output`. With a security configuration
# that encrypts its logs (every job here has one), Glue 5.0 names them
# `<prefix>/<configuration>-role/<role>/error|output`, <prefix> being the job's
# --custom-logGroup-prefix (https://docs.aws.amazon.com/glue/latest/dg/monitor-continuous-logging.html,
# "Security configuration with Amazon CloudWatch logging"). Python shell jobs log under
# /aws-glue/python-jobs/ (https://docs.aws.amazon.com/glue/latest/dg/add-job-python.html) and
# take no prefix; their groups are taken to follow the same pattern (README: Security notes).
GLUE_LOG_STREAMS = ("error", "output")
PYTHON_SHELL_LOG_ROOT = "/aws-glue/python-jobs"
PACKAGE_ZIP = "jobs.zip"  # a Spark job's --extra-py-files


def job_log_group(root: str, configuration: pulumi.Input[str], role: str,
                  stream: str) -> pulumi.Output[str]:
    """The group Glue writes a job's `stream` to, for a job with a security configuration."""
    return pulumi.Output.concat(root, "/", configuration, "-role/", role, "/", stream)


def glue_log_groups(ctx: AwsContext) -> list[pulumi.Output[str]]:
    """Glue writes driver/executor logs under /aws-glue/ (names depend on the security config)."""
    return [ctx.arn("logs", "log-group:/aws-glue/*"), ctx.arn("logs", "log-group:/aws-glue/*:*")]


@dataclass(frozen=True, kw_only=True)
class Previously:
    """Where a moved job's resources were declared, so that they keep their identity: their
    logical names were `<prefix>-<part>` under `parent`."""

    parent: pulumi.Resource
    prefix: str


@dataclass(kw_only=True)
class GlueJobArgs:
    naming: Naming
    aws: AwsContext
    part: str
    """The job's part of the physical names: `<project>-<stack>-<dataset>-<part>`."""
    code: EntryPoint
    wheel: str | None = None
    """Ship the imports as this wheel distribution (Python shell) instead of a zip (Spark)."""
    artifacts: SecureBucket
    kms_key_arn: pulumi.Input[str]
    statements: list[Statement]
    """What the job's code does, besides using the key and writing its logs."""
    metrics_namespace: str | None = None
    """The CloudWatch namespace the job may put metrics in (Spark jobs: `Glue`)."""
    job: dict[str, Any]
    """aws.glue.Job arguments beyond the name, role, code, security configuration and
    arguments: glue_version, command name/python_version, capacity, timeout, …"""
    security_configuration: pulumi.Input[str]
    arguments: dict[str, pulumi.Input[str]]
    """The entry point's own arguments (the Contracts' table in the README)."""
    glue_arguments: dict[str, str] = field(default_factory=dict)
    """Glue's special parameters (metrics, bookmarks, …)."""
    log_root: str
    """Where Glue puts the job's log groups (see GLUE_LOG_STREAMS); the stack creates them first,
    with its retention and key."""
    custom_log_prefix: bool = False
    """Pass `log_root` as --custom-logGroup-prefix (Glue 5.0 Spark jobs; not Python shell)."""
    log_retention_days: int
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    previously: Previously | None = None


class GlueJob(pulumi.ComponentResource):
    """A Glue job, its role, policy, code and log groups."""

    def __init__(self, name: str, args: GlueJobArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:glue:GlueJob", name, None, opts)
        self._name, self._previously = name, args.previously
        naming, ctx, code = args.naming, args.aws, args.code

        self.role = aws.iam.Role(self._child("role"), name=naming.name(args.part),
                                 assume_role_policy=trust("glue.amazonaws.com"),
                                 opts=self._opts("role"))
        self.policy = aws.iam.RolePolicy(self._child("policy"), role=self.role.id,
                                         policy=document([
                                             *args.statements,
                                             kms_use(args.kms_key_arn),
                                             logs_write(glue_log_groups(ctx), associate_key=True),
                                             *([metrics(args.metrics_namespace)]
                                               if args.metrics_namespace else []),
                                         ]), opts=self._opts("policy"))

        folder = f"glue/{args.part}/{code.digest()}"
        script_key = f"{folder}/{code.script.name}"
        script = aws.s3.BucketObjectv2(
            self._child("script"), bucket=args.artifacts.name, key=script_key,
            source=pulumi.FileAsset(str(code.script)), opts=self._opts("script"))
        if args.wheel:  # Python shell takes only .whl/.egg in --extra-py-files
            package_key = f"{folder}/{code.wheel_name(args.wheel)}"
            content = {"content_base64": base64.b64encode(code.wheel(args.wheel)).decode()}
        else:
            package_key, content = f"{folder}/{PACKAGE_ZIP}", {"source": code.archive()}
        package = aws.s3.BucketObjectv2(self._child("package"), bucket=args.artifacts.name,
                                        key=package_key, **content, opts=self._opts("package"))

        # Made before the job's first run, so that Glue writes into them rather than making
        # groups of its own that keep every line forever.
        self.log_groups = [aws.cloudwatch.LogGroup(
            self._child(f"{stream}-logs"),
            name=job_log_group(args.log_root, args.security_configuration,
                               naming.name(args.part), stream),
            retention_in_days=args.log_retention_days, kms_key_id=args.kms_key_arn,
            opts=self._opts(f"{stream}-logs")) for stream in GLUE_LOG_STREAMS]
        log_arguments = ({"--custom-logGroup-prefix": args.log_root}
                         if args.custom_log_prefix else {})

        self.arguments = args.arguments
        settings = {key: value for key, value in args.job.items() if key != "command"}
        self.job = aws.glue.Job(
            self._child("job"), name=naming.name(args.part), role_arn=self.role.arn,
            **settings,
            command={**args.job["command"], "script_location": uri(args.artifacts, script_key)},
            max_retries=0, execution_property={"max_concurrent_runs": 1},
            security_configuration=args.security_configuration,
            default_arguments={**args.arguments,
                               "--extra-py-files": uri(args.artifacts, package_key),
                               "--job-language": "python", **args.glue_arguments,
                               **log_arguments},
            opts=pulumi.ResourceOptions.merge(self._opts("job"), pulumi.ResourceOptions(
                depends_on=[script, package, *self.log_groups, *args.depends_on])))
        self.register_outputs({"job": self.job.name, "role": self.role.arn})

    def _child(self, part: str) -> str:
        return f"{self._name}-{part}"

    def _opts(self, part: str) -> pulumi.ResourceOptions:
        aliases = [] if self._previously is None else [pulumi.Alias(
            name=f"{self._previously.prefix}-{part}", parent=self._previously.parent)]
        return pulumi.ResourceOptions(parent=self, aliases=aliases)
