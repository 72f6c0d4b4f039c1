"""GithubDelivery: what GitHub Actions needs in an AWS account to deliver the lake.

The GitHub OIDC provider; one role per thing a workflow does, each trusting exactly one subject
GitHub presents (no wildcards); per lake environment, the permissions boundary that caps every
role its stack creates; the account's SageMaker processing log group, with a retention; and, for
Pulumi's S3 backend, the state bucket and the KMS key that encrypts it and the stacks' secrets.
It needs pulumi, pulumi_aws and the standard library only,
not the lake's components/.

The policy documents are built by plain functions of plain values in bootstrap/policies.py, so
the tests can read them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from bootstrap.policies import (
    AUDIENCE,
    GITHUB_OIDC_URL,
    GITHUB_THUMBPRINTS,
    MAX_SESSION_SECONDS,
    _json,
    boundary_policy_name,
    boundary_statements,
    deploy_statements,
    role_name,
    state_bucket_name,
    state_key_alias,
    state_statements,
    statement,
    subjects,
    trust_policy,
)

NAMESPACE = "bootstrap"
# SageMaker writes every processing job's logs in the account and region to this group; the lake
# cannot choose another (CreateProcessingJob takes no log setting), and two stacks cannot both
# own it, so the account's bootstrap does (https://docs.aws.amazon.com/sagemaker/latest/dg/logging-cloudwatch.html).
PROCESSING_LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy); the lake's own
# list is components/config.py's, and tests/test_bootstrap.py checks that both are the same.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)
STATE_BACKENDS = ("s3", "cloud")
NONCURRENT_STATE_DAYS = 90
ABORT_MULTIPART_DAYS = 3

# GitHub: owners are letters, digits and hyphens (at most 39, no hyphen at either end);
# repository names are letters, digits, `.`, `_` and `-` (at most 100, never `.` or `..`).
OWNER_PATTERN = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?"
REPOSITORY_NAME_PATTERN = r"[A-Za-z0-9._-]{1,100}"

# The lake's project and stack names start its S3 bucket names: lower case, digits, hyphens.
NAME_PATTERN = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"

# `<lakeProject>-pulumi-state-<12-digit account>` must fit S3's 63 characters.
MAX_LAKE_PROJECT = 63 - len("-pulumi-state-") - 12
MAX_ROLE_NAME = 64

# The deploy role of environment <env> manages `<lakeProject>-<env>-*`: these environment names
# (alone or as the start of a name, e.g. `github-deploy`) would reach the bootstrap's own roles
# (`-github-*`), state bucket (`-pulumi-state-*`) and permissions boundaries (`-boundary-*`).
RESERVED_ENVIRONMENTS = ("github", "pulumi", "boundary")


class BootstrapConfigError(pulumi.RunError):
    """A bad `bootstrap:*` setting. Pulumi prints RunError's message alone, without a traceback."""


def _key(name: str) -> str:
    return f"`{NAMESPACE}:{name}`"


@dataclass(frozen=True)
class GithubDeliveryArgs:
    """Validated on construction: each bad value raises BootstrapConfigError, one sentence."""

    repository: str
    """`owner/name` exactly as GitHub spells it: the subjects GitHub presents are compared
    case-sensitively."""
    lake_project: str = "datalake"
    """The lake's Pulumi project name: it names its resources and buckets `<project>-<stack>-…`."""
    environments: Sequence[str] = ("dev", "prod")
    """The lake's stacks, one GitHub environment (and deploy role) each."""
    state_backend: str = "s3"
    """`s3`: create the state bucket and KMS key; `cloud`: the state lives in Pulumi Cloud."""
    create_oidc_provider: bool = True
    """False: use the account's existing GitHub provider (IAM allows one per URL)."""
    processing_log_retention_days: int = 365
    """How long `/aws/sagemaker/ProcessingJobs` keeps the ingestion container's logs."""

    def __post_init__(self) -> None:
        repository = self.repository
        owner, _, name = repository.partition("/") if isinstance(repository, str) else ("", "", "")
        if not (re.fullmatch(OWNER_PATTERN, owner) and re.fullmatch(REPOSITORY_NAME_PATTERN, name)
                and name not in (".", "..")):
            raise BootstrapConfigError(
                f"Config key {_key('repository')} must be a GitHub repository `owner/name` "
                f"(owner: letters, digits and inner hyphens; name: letters, digits, `.`, `_`, "
                f"`-`), e.g. my-org/enem-datalake (got {repository!r}).")

        project = self.lake_project
        if (not isinstance(project, str) or not re.fullmatch(NAME_PATTERN, project)
                or len(project) > MAX_LAKE_PROJECT):
            raise BootstrapConfigError(
                f"Config key {_key('lakeProject')} must be the lake's Pulumi project name in "
                f"lower-case letters, digits and inner hyphens, at most {MAX_LAKE_PROJECT} "
                f"characters (got {project!r}).")

        environments = self.environments
        if (isinstance(environments, str) or not isinstance(environments, Sequence)
                or not environments
                or not all(isinstance(e, str) and re.fullmatch(NAME_PATTERN, e)
                           for e in environments)
                or len(set(environments)) != len(environments)):
            raise BootstrapConfigError(
                f"Config key {_key('environments')} must be a non-empty list of distinct stack "
                f"names in lower-case letters, digits and inner hyphens, e.g. [dev, prod] "
                f"(got {environments!r}).")
        too_long = [e for e in environments
                    if len(role_name(project, f"deploy-{e}")) > MAX_ROLE_NAME]
        if too_long:
            raise BootstrapConfigError(
                f"Config key {_key('environments')} has {too_long[0]!r}, whose deploy role "
                f"{role_name(project, f'deploy-{too_long[0]}')!r} exceeds IAM's "
                f"{MAX_ROLE_NAME} characters.")
        reserved = [e for e in environments for r in RESERVED_ENVIRONMENTS
                    if e == r or e.startswith(f"{r}-")]
        if reserved:
            raise BootstrapConfigError(
                f"Config key {_key('environments')} cannot use {reserved[0]!r}: its deploy role "
                f"would manage `{project}-{reserved[0]}-*`, the bootstrap's own resources.")
        # `dev` manages `<project>-dev-*`, which would include every `dev-eu` name.
        overlap = [(a, b) for a in environments for b in environments if b.startswith(f"{a}-")]
        if overlap:
            a, b = overlap[0]
            raise BootstrapConfigError(
                f"Config key {_key('environments')} cannot hold both {a!r} and {b!r}: the "
                f"deploy role of {a!r} manages `{project}-{a}-*`, which includes {b!r}'s names.")
        object.__setattr__(self, "environments", tuple(environments))

        if self.state_backend not in STATE_BACKENDS:
            raise BootstrapConfigError(
                f"Config key {_key('stateBackend')} must be one of {', '.join(STATE_BACKENDS)} "
                f"(got {self.state_backend!r}).")
        if not isinstance(self.create_oidc_provider, bool):
            raise BootstrapConfigError(
                f"Config key {_key('createOidcProvider')} must be true or false "
                f"(got {self.create_oidc_provider!r}).")
        if (isinstance(self.processing_log_retention_days, bool)
                or self.processing_log_retention_days not in LOG_RETENTION_DAYS):
            raise BootstrapConfigError(
                f"Config key {_key('processingLogRetentionDays')} must be one of CloudWatch's "
                f"periods, {', '.join(map(str, LOG_RETENTION_DAYS))} "
                f"(got {self.processing_log_retention_days!r}).")


def parse_config(raw: Mapping[str, Any]) -> GithubDeliveryArgs:
    """Validate the stack's `bootstrap:*` values (keys without the namespace, plain values)."""
    if raw.get("repository") is None:
        raise BootstrapConfigError(
            f"Config key {_key('repository')} is required; set it to your GitHub `owner/name` in "
            f"Pulumi.<stack>.yaml (see Pulumi.example.yaml).")
    defaults = {"lakeProject": "datalake", "environments": ["dev", "prod"],
                "stateBackend": "s3", "createOidcProvider": True,
                "processingLogRetentionDays": 365}
    value = {key: default if raw.get(key) is None else raw[key]
             for key, default in defaults.items()}
    return GithubDeliveryArgs(
        repository=raw["repository"], lake_project=value["lakeProject"],
        environments=value["environments"], state_backend=value["stateBackend"],
        create_oidc_provider=value["createOidcProvider"],
        processing_log_retention_days=value["processingLogRetentionDays"])


def load_config() -> GithubDeliveryArgs:
    """Read and validate the current stack's `bootstrap:*` config."""
    config = pulumi.Config(NAMESPACE)
    raw: dict[str, Any] = {key: config.get(key)
                           for key in ("repository", "lakeProject", "stateBackend")}
    for key in ("environments", "createOidcProvider", "processingLogRetentionDays"):  # JSON
        text = config.get(key)
        try:
            raw[key] = None if text is None else json.loads(text)
        except ValueError:
            raw[key] = text  # not JSON: the validation names the key
    return parse_config(raw)


class GithubDelivery(pulumi.ComponentResource):
    """The GitHub OIDC provider, the preview/drift/deploy roles, each environment's permissions
    boundary and (S3 backend) the state bucket and key. `outputs` holds what the GitHub
    repository's variables are set to."""

    def __init__(self, name: str, args: GithubDeliveryArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:bootstrap:GithubDelivery", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        account_id = aws.get_caller_identity_output(opts=invoke).account_id
        region = aws.get_region_output(opts=invoke).region
        partition = aws.get_partition_output(opts=invoke).partition
        project = args.lake_project
        tags = {"project": project, "purpose": "github-delivery", "managed-by": "pulumi"}

        if args.create_oidc_provider:
            self.oidc_provider: aws.iam.OpenIdConnectProvider | None = (
                aws.iam.OpenIdConnectProvider(
                    f"{name}-oidc-provider", url=GITHUB_OIDC_URL, client_id_lists=[AUDIENCE],
                    thumbprint_lists=list(GITHUB_THUMBPRINTS), tags=tags, opts=child))
            self.oidc_provider_arn = self.oidc_provider.arn
        else:
            self.oidc_provider = None
            # A plain (blocking) lookup: a provider without AWS's audience stops the program
            # here, before any role is declared.
            existing = aws.iam.get_open_id_connect_provider(url=GITHUB_OIDC_URL, opts=invoke)
            self.oidc_provider_arn = pulumi.Output.from_input(_with_audience(existing))

        self.state_key: aws.kms.Key | None = None
        self.state_key_alias: aws.kms.Alias | None = None
        self.state_bucket: aws.s3.Bucket | None = None
        self.backend_url: pulumi.Output[str] | None = None
        self.secrets_provider: pulumi.Output[str] | None = None
        state: pulumi.Output[dict[str, str]] | None = None
        if args.state_backend == "s3":
            key, alias, bucket = self._state_backend(name, project, account_id, partition, tags)
            self.state_key, self.state_key_alias, self.state_bucket = key, alias, bucket
            # The region in both URLs: Pulumi then reaches the bucket and key from anywhere.
            self.backend_url = pulumi.Output.concat("s3://", bucket.bucket, "?region=", region)
            self.secrets_provider = pulumi.Output.concat("awskms://", alias.name, "?region=",
                                                         region)
            state = pulumi.Output.all(bucket_arn=bucket.arn, key_arn=key.arn,
                                      alias_arn=alias.arn, region=region)

        def role(part: str, subject: str) -> aws.iam.Role:
            return aws.iam.Role(
                f"{name}-{part}-role", name=role_name(project, part),
                description=f"GitHub Actions of {args.repository}: {subject}",
                assume_role_policy=self.oidc_provider_arn.apply(
                    lambda arn: json.dumps(trust_policy(arn, subject))),
                max_session_duration=MAX_SESSION_SECONDS, tags=tags, opts=child)

        def state_policy(part: str, target: aws.iam.Role, *, write: bool) -> None:
            if state is None:
                return
            aws.iam.RolePolicy(
                f"{name}-{part}-state-policy", name="pulumi-state", role=target.id,
                policy=_json(state.apply(lambda s: state_statements(**s, write=write))),
                opts=child)

        claims = subjects(args.repository, args.environments)
        read_only = pulumi.Output.concat("arn:", partition, ":iam::aws:policy/ReadOnlyAccess")
        self.read_roles: dict[str, aws.iam.Role] = {}
        for part in ("preview", "drift"):
            self.read_roles[part] = read_role = role(part, claims[part])
            aws.iam.RolePolicyAttachment(
                f"{name}-{part}-read-only", role=read_role.name,
                policy_arn=read_only, opts=child)
            state_policy(part, read_role, write=False)

        self.boundaries: dict[str, aws.iam.Policy] = {}
        self.deploy_roles: dict[str, aws.iam.Role] = {}
        for environment in args.environments:
            self.boundaries[environment] = boundary = aws.iam.Policy(
                f"{name}-boundary-{environment}",
                name=boundary_policy_name(project, environment), path="/",
                description=(f"Permissions boundary: caps every role the lake's {environment} "
                             f"stack creates ({project}-{environment}-*)"),
                policy=_json(pulumi.Output.all(account_id, partition).apply(
                    lambda values, env=environment: boundary_statements(project, env, *values))),
                tags=tags, opts=child)
            part = f"deploy-{environment}"
            self.deploy_roles[environment] = deploy_role = role(part, claims[part])
            # After the boundary: the role may create roles only once the boundary exists.
            aws.iam.RolePolicy(
                f"{name}-{part}-policy", name="deploy-lake", role=deploy_role.id,
                policy=_json(pulumi.Output.all(account_id, partition).apply(
                    lambda values, env=environment: deploy_statements(project, env, *values))),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[boundary]))
            state_policy(part, deploy_role, write=True)

        # Retained if the bootstrap is ever destroyed: every team's processing jobs log here.
        self.processing_logs = aws.cloudwatch.LogGroup(
            f"{name}-sagemaker-processing-logs", name=PROCESSING_LOG_GROUP,
            retention_in_days=args.processing_log_retention_days, tags=tags,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True))

        self.outputs: dict[str, Any] = {
            "oidcProviderArn": self.oidc_provider_arn,
            "previewRoleArn": self.read_roles["preview"].arn,
            "driftRoleArn": self.read_roles["drift"].arn,
            "deployRoleArns": {env: r.arn for env, r in self.deploy_roles.items()},
            "permissionsBoundaryArns": {env: p.arn for env, p in self.boundaries.items()},
            "backendUrl": self.backend_url,
            "secretsProvider": self.secrets_provider,
        }
        self.register_outputs(self.outputs)

    def _state_backend(self, name: str, project: str, account_id: pulumi.Output[str],
                       partition: pulumi.Output[str], tags: dict[str, str],
                       ) -> tuple[aws.kms.Key, aws.kms.Alias, aws.s3.Bucket]:
        """The KMS key (state encryption and the stacks' secrets provider) and the bucket."""
        child = pulumi.ResourceOptions(parent=self)
        # Protected (and retained if ever deleted): losing the bucket or the key loses every
        # lake stack's state and its secrets; `pulumi destroy` here must not be able to.
        keep = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        root = pulumi.Output.concat("arn:", partition, ":iam::", account_id, ":root")
        key = aws.kms.Key(
            f"{name}-state-key",
            description=f"{project}: Pulumi state bucket and stack secrets",
            enable_key_rotation=True, deletion_window_in_days=30, tags=tags,
            # AWS's default key policy, stated: the account's IAM policies decide who uses it.
            policy=_json([{**statement("AccountAdministers", ["kms:*"], ["*"]),
                           "Principal": {"AWS": root}}]),
            opts=keep)
        alias = aws.kms.Alias(
            f"{name}-state-key-alias", name=state_key_alias(project), target_key_id=key.key_id,
            opts=child)

        bucket = aws.s3.Bucket(
            f"{name}-state-bucket", bucket=account_id.apply(
                lambda account: state_bucket_name(project, account)),
            force_destroy=False, tags=tags, opts=keep)
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-state-ownership", bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"}, opts=child)
        public_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-state-public-access-block", bucket=bucket.id, block_public_acls=True,
            block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
            opts=child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-state-encryption", bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms", "kms_master_key_id": key.arn},
                    "bucket_key_enabled": True}],
            opts=child)
        versioning = aws.s3.BucketVersioning(
            f"{name}-state-versioning", bucket=bucket.id,
            versioning_configuration={"status": "Enabled"}, opts=child)
        aws.s3.BucketPolicy(
            f"{name}-state-policy", bucket=bucket.id,
            policy=_json(bucket.arn.apply(lambda arn: [{
                **statement("DenyInsecureTransport", ["s3:*"], [arn, f"{arn}/*"], effect="Deny",
                            condition={"Bool": {"aws:SecureTransport": "false"}}),
                "Principal": "*"}])),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_block, ownership]))
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-state-lifecycle", bucket=bucket.id,
            rules=[{"id": "state-history", "status": "Enabled", "filter": {},
                    "noncurrent_version_expiration": {"noncurrent_days": NONCURRENT_STATE_DAYS},
                    "abort_incomplete_multipart_upload": {
                        "days_after_initiation": ABORT_MULTIPART_DAYS}}],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]))
        return key, alias, bucket


def _with_audience(provider: Any) -> str:
    """The existing provider's ARN, once it is known to accept tokens meant for AWS STS."""
    if AUDIENCE not in (provider.client_id_lists or []):
        raise BootstrapConfigError(
            f"The account's GitHub OIDC provider {provider.arn} does not list the audience "
            f"{AUDIENCE}; add that audience to it in IAM and run again.")
    return provider.arn
