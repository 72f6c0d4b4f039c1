"""Physical names, the account context they depend on, and the tags every resource carries."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import LakeConfig
from jobs.contract import job_prefix_problem


@dataclass(frozen=True)
class AwsContext:
    """The account, region and partition the stack deploys into (resolved by the provider)."""

    account_id: pulumi.Output[str]
    region: pulumi.Output[str]
    partition: pulumi.Output[str]

    @staticmethod
    def current(opts: pulumi.InvokeOptions | None = None) -> AwsContext:
        return AwsContext(
            account_id=aws.get_caller_identity_output(opts=opts).account_id,
            region=aws.get_region_output(opts=opts).region,
            partition=aws.get_partition_output(opts=opts).partition,
        )

    def arn(self, service: str, resource: str, *, regional: bool = True,
            account: bool = True) -> pulumi.Output[str]:
        """`arn:<partition>:<service>:<region>:<account>:<resource>`."""
        return pulumi.Output.concat(
            "arn:", self.partition, ":", service, ":",
            self.region if regional else "", ":",
            self.account_id if account else "", ":", resource)

    def role_arn(self, name: str) -> pulumi.Output[str]:
        """The ARN of the IAM role `name` (at path `/`), known before the role exists: for
        policies that name roles declared later in the program."""
        return self.arn("iam", f"role/{name}", regional=False)


# ECR repository names (API_CreateRepository: repositoryName).
ECR_NAME_PATTERN = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*"


@dataclass(frozen=True)
class Naming:
    """`<project>-<stack>-<dataset>-<part>` for everything physical.

    The dataset is part of every name so that two DataLakes can share one stack.
    """

    project: str
    stack: str
    dataset: str

    @classmethod
    def checked(cls, project: str, stack: str, dataset: str) -> Naming:
        """The names of one lake, or RunError naming what AWS would refuse in them."""
        if not dataset.isidentifier() or dataset != dataset.lower():
            raise ValueError(f"DataLake dataset must be a lower-case identifier such as 'enem' "
                             f"(got {dataset!r}).")
        naming = cls(project, stack, dataset)
        if not re.fullmatch(ECR_NAME_PATTERN, naming.name("ingest")):
            raise pulumi.RunError(f"Project and stack names must be lower-case letters, digits and "
                                  f"hyphens: they name the ECR repository {naming.name('ingest')}, "
                                  f"which ECR refuses otherwise; rename the stack.")
        problem = job_prefix_problem(naming.job_prefix)
        if problem:
            raise pulumi.RunError(f"Processing job prefix {naming.job_prefix!r} {problem}; "
                                  f"shorten the project, stack or dataset name.")
        return naming

    @property
    def job_prefix(self) -> str:
        """What the lake's SageMaker processing job names start with
        (`<prefix>-<UTC stamp>-<random>`)."""
        return self.name("ingest")

    @property
    def prefix(self) -> str:
        return f"{self.project}-{self.stack}-{self.dataset}"

    def name(self, part: str) -> str:
        return f"{self.prefix}-{part}"

    def bucket(self, part: str, account_id: pulumi.Input[str]) -> pulumi.Output[str]:
        """S3 names are global: suffix the account id."""
        return pulumi.Output.concat(self.name(part), "-", account_id)

    @property
    def boundary_policy(self) -> str:
        """The permissions boundary of every role of this stack, made by `bootstrap/` (one per
        stack, outside `<project>-<stack>-*` so that the deploy role cannot edit it)."""
        return f"{self.project}-boundary-{self.stack}"

    @property
    def database(self) -> str:
        """Glue/Athena identifiers allow no hyphens."""
        return self.prefix.replace("-", "_")

    def tags(self) -> dict[str, str]:
        return {"project": self.project, "stack": self.stack, "dataset": self.dataset,
                "managed-by": "pulumi"}


Transformation = Callable[[pulumi.ResourceTransformationArgs],
                          pulumi.ResourceTransformationResult | None]


def tagging(tags: Mapping[str, str]) -> Transformation:
    """A transformation that adds `tags` to every taggable resource below a component.

    Tags set on the resource itself win. Only AWS resources whose inputs have `tags` are touched
    (other providers use `tags` for other things, e.g. docker-build's image tags).
    """
    def add_tags(args: pulumi.ResourceTransformationArgs):
        if not args.type_.startswith("aws:") or "tags" not in args.props:
            return None
        props = dict(args.props)
        props["tags"] = pulumi.Output.from_input(props.get("tags") or {}).apply(
            lambda own: {**tags, **own})
        return pulumi.ResourceTransformationResult(props=props, opts=args.opts)

    return add_tags


def role_boundary(boundary_arn: Callable[[], pulumi.Input[str] | None]) -> Transformation:
    """A transformation that gives every IAM role below a component `boundary_arn()` as its
    permissions boundary (read when the role is declared, so it may be set after the component
    starts); None leaves roles unbounded."""
    def add_boundary(args: pulumi.ResourceTransformationArgs):
        arn = boundary_arn()
        if arn is None or args.type_ != "aws:iam/role:Role" or args.props.get(
                "permissions_boundary"):
            return None
        props = {**args.props, "permissions_boundary": arn}
        return pulumi.ResourceTransformationResult(props=props, opts=args.opts)

    return add_boundary


@dataclass(kw_only=True)
class LakeArgs:
    """What every layer of one lake is given: its names, the account, the stack's config and
    the lake's KMS key."""

    naming: Naming
    aws: AwsContext
    config: LakeConfig
    kms_key_arn: pulumi.Input[str]


class LakeLayer(pulumi.ComponentResource):
    """Base of the layer components: tags every resource below it with its `layer`."""

    def __init__(self, type_: str, name: str, layer: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(transformations=[tagging({"layer": layer})]))
        super().__init__(type_, name, None, opts)
