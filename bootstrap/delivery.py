"""GithubDelivery: what GitHub Actions needs in an AWS account to deliver the lake.

The GitHub OIDC provider; one role per thing a workflow does, each trusting exactly one subject
GitHub presents (no wildcards); per lake environment, the permissions boundary that caps every
role its stack creates; and, for Pulumi's S3 backend, the state bucket and the KMS key that
encrypts it and the stacks' secrets. Self-contained (pulumi, pulumi_aws and the standard
library only): Pulumi runs this project from bootstrap/, where the lake's components/ is not
importable.

The policy documents are built by plain functions of plain values, so the tests can read them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

NAMESPACE = "bootstrap"

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
AUDIENCE = "sts.amazonaws.com"
# IAM no longer checks thumbprints for GitHub (it trusts GitHub's CA itself), but older accounts
# and tools still require the list: these are the two GitHub has published.
GITHUB_THUMBPRINTS = ("6938fd4d98bab03faadb97b34396831e3780aea1",
                      "1c58a3a8518e8759bf075b76b750d4f2df264fcd")
MAX_SESSION_SECONDS = 3600
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

# What deploy roles may do to the state key: use it, never administer it (see ProtectStateKey).
STATE_KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:DeleteAlias",
    "kms:DeleteImportedKeyMaterial", "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey",
    "kms:EnableKeyRotation", "kms:ImportKeyMaterial", "kms:PutKeyPolicy", "kms:ReplicateKey",
    "kms:RetireGrant", "kms:RevokeGrant", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion",
    "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
    "kms:UpdatePrimaryRegion",
)

# The services the lake deploys, besides S3 and IAM (which are limited to its names below).
LAKE_SERVICES = ("athena", "cloudwatch", "ecr", "events", "glue", "kms", "lambda", "logs", "sns")

ROLE_ACTIONS = (
    "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateRoleDescription",
    "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags",
    "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
)
# What gives a role its powers: allowed to a deploy role only on roles that carry its
# environment's permissions boundary (the `iam:PermissionsBoundary` condition key).
BOUNDED_ROLE_ACTIONS = (
    "iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy",
    "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
)
POLICY_ACTIONS = (
    "iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:TagPolicy", "iam:UntagPolicy",
    "iam:ListPolicyTags", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion",
    "iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:SetDefaultPolicyVersion",
)
# Every change to a managed policy: denied to deploy roles on the permissions boundaries.
BOUNDARY_WRITE_ACTIONS = (
    "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion", "iam:TagPolicy", "iam:UntagPolicy",
)

# The ceiling of the lake's runtime roles (tests/test_iam.py CALLS: the SageMaker processing
# role, the trigger Lambda, the Glue process, crawler and gold jobs, the analyst): data in the
# environment's buckets, never their configuration.
BOUNDARY_S3_ACTIONS = (
    "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectAttributes",
    "s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject", "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts", "s3:ListBucket", "s3:ListBucketMultipartUploads",
    "s3:GetBucketLocation",
)
BOUNDARY_KMS_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                        "kms:DescribeKey")
BOUNDARY_SAGEMAKER_ACTIONS = (
    "sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob",
    "sagemaker:StopProcessingJob", "sagemaker:AddTags",
)
BOUNDARY_ECR_PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                             "ecr:BatchCheckLayerAvailability")
# Every IAM action but iam:PassRole, by the verb it starts with (a Deny cannot say "iam:* but
# PassRole"). The boundary allows no IAM action but PassRole anyway: this Deny keeps it so if an
# Allow there is ever widened. An action with a verb missing here is still denied implicitly.
BOUNDARY_DENIED_IAM_ACTIONS = tuple(f"iam:{verb}*" for verb in (
    "Add", "Attach", "Change", "Create", "Deactivate", "Delete", "Detach", "Disable", "Enable",
    "Generate", "Get", "List", "Put", "Remove", "Reset", "Resync", "Set", "Simulate", "Tag",
    "Untag", "Update", "Upload"))

Statement = dict[str, Any]


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


def parse_config(raw: Mapping[str, Any]) -> GithubDeliveryArgs:
    """Validate the stack's `bootstrap:*` values (keys without the namespace, plain values)."""
    if raw.get("repository") is None:
        raise BootstrapConfigError(
            f"Config key {_key('repository')} is required; set it to your GitHub `owner/name` in "
            f"Pulumi.<stack>.yaml (see Pulumi.example.yaml).")
    defaults = {"lakeProject": "datalake", "environments": ["dev", "prod"],
                "stateBackend": "s3", "createOidcProvider": True}
    value = {key: default if raw.get(key) is None else raw[key]
             for key, default in defaults.items()}
    return GithubDeliveryArgs(
        repository=raw["repository"], lake_project=value["lakeProject"],
        environments=value["environments"], state_backend=value["stateBackend"],
        create_oidc_provider=value["createOidcProvider"])


def load_config() -> GithubDeliveryArgs:
    """Read and validate the current stack's `bootstrap:*` config."""
    config = pulumi.Config(NAMESPACE)
    raw: dict[str, Any] = {key: config.get(key)
                           for key in ("repository", "lakeProject", "stateBackend")}
    for key in ("environments", "createOidcProvider"):  # a list and a boolean arrive as JSON
        text = config.get(key)
        try:
            raw[key] = None if text is None else json.loads(text)
        except ValueError:
            raw[key] = text  # not JSON: the validation names the key
    return parse_config(raw)


# --- names and subjects -------------------------------------------------------------------

def role_name(lake_project: str, part: str) -> str:
    return f"{lake_project}-github-{part}"


def state_bucket_name(lake_project: str, account_id: str) -> str:
    return f"{lake_project}-pulumi-state-{account_id}"


def state_key_alias(lake_project: str) -> str:
    return f"alias/{lake_project}-pulumi"


def boundary_policy_name(lake_project: str, environment: str) -> str:
    """The permissions boundary of every role of the lake's `environment` stack. The lake
    (`datalake:permissionsBoundary`) names it the same way: `<project>-boundary-<stack>`. It lies
    outside the deploy role's `<project>-<env>-*` on purpose: the deploy role cannot change it."""
    return f"{lake_project}-boundary-{environment}"


def boundary_arn(lake_project: str, environment: str, account_id: str,
                 partition: str = "aws") -> str:
    """The boundary's ARN: the policy is created at path `/`, so its ARN is `policy/<name>`."""
    return (f"arn:{partition}:iam::{account_id}:policy/"
            f"{boundary_policy_name(lake_project, environment)}")


def subjects(repository: str, environments: Sequence[str]) -> dict[str, str]:
    """Role part -> the `sub` claim GitHub presents for it (GitHub's default subject format)."""
    result = {"preview": f"repo:{repository}:pull_request",
              "drift": f"repo:{repository}:ref:refs/heads/main"}
    for environment in environments:
        result[f"deploy-{environment}"] = f"repo:{repository}:environment:{environment}"
    return result


# --- policy documents ---------------------------------------------------------------------

def statement(sid: str, actions: Sequence[str], resources: Sequence[str], *,
              effect: str = "Allow", condition: dict[str, Any] | None = None) -> Statement:
    result: Statement = {"Sid": sid, "Effect": effect, "Action": list(actions),
                         "Resource": list(resources)}
    if condition:
        result["Condition"] = condition
    return result


def document(statements: Sequence[Statement]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def trust_policy(provider_arn: str, subject: str) -> dict[str, Any]:
    """Only GitHub's OIDC provider, only tokens for AWS STS, only exactly this subject."""
    return document([{
        "Sid": "GithubActions",
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{GITHUB_OIDC_HOST}:aud": AUDIENCE,
                                       f"{GITHUB_OIDC_HOST}:sub": subject}},
    }])


def state_statements(bucket_arn: str, key_arn: str, alias_arn: str, region: str, *,
                     write: bool) -> list[Statement]:
    """Access to Pulumi's S3 backend and the key that encrypts it (and the stacks' secrets).

    Readers (preview, drift) read everything and write only lock files; writers (deploy) read,
    write and delete any state object and use the key, but may never administer it.
    """
    objects = f"{bucket_arn}/*"
    result = [statement("StateList", ["s3:ListBucket"], [bucket_arn])]
    if write:
        return result + [
            statement("StateReadWrite", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                      [objects]),
            statement("StateKey", ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*",
                                   "kms:DescribeKey"], [key_arn]),
            # Deploy roles hold kms:* for the lake's own keys (see deploy_statements); this
            # keeps them from disabling, deleting, re-policying or re-pointing the key that
            # every stack's state and secrets depend on.
            statement("ProtectStateKey", STATE_KEY_ADMIN_ACTIONS, [key_arn, alias_arn],
                      effect="Deny"),
        ]
    return result + [
        statement("StateRead", ["s3:GetObject"], [objects]),
        statement("StateLocks", ["s3:PutObject", "s3:DeleteObject"],
                  [f"{bucket_arn}/.pulumi/locks/*"]),
        statement("StateKey", ["kms:Decrypt", "kms:DescribeKey"], [key_arn]),
        # A lock file is written SSE-KMS like every object in the bucket, so S3 asks the key
        # for a data key on the reader's behalf; only S3 may ask (kms:ViaService).
        statement("StateKeyViaS3", ["kms:GenerateDataKey"], [key_arn],
                  condition={"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}),
    ]


def boundary_statements(lake_project: str, environment: str, account_id: str,
                        partition: str = "aws") -> list[Statement]:
    """The permissions boundary of the lake's `environment` stack: the most any role it creates
    may ever do, whatever policies a deploy gives the role (a role may do only what both its
    policies and its boundary allow)."""
    prefix = f"{lake_project}-{environment}-"
    region_account = f"*:{account_id}"  # any region, this account
    return [
        statement("LakeData", BOUNDARY_S3_ACTIONS,
                  [f"arn:{partition}:s3:::{prefix}*", f"arn:{partition}:s3:::{prefix}*/*"]),
        # The catalog and the queries: Glue and Athena keep their own names per stack (the
        # lake's database is `<project>_<stack>_…`), and several of their calls have no
        # resource-level form; the data they reach is limited by LakeData.
        statement("Catalog", ["glue:*", "athena:*", "lakeformation:GetDataAccess"], ["*"]),
        statement("LakeKeys", BOUNDARY_KMS_ACTIONS,
                  [f"arn:{partition}:kms:{region_account}:key/*"]),
        statement("Logs", ["logs:*"], [f"arn:{partition}:logs:{region_account}:*"]),
        # No resource-level form: the lake's roles pin it to their namespace themselves.
        statement("Metrics", ["cloudwatch:PutMetricData"], ["*"]),
        statement("Ingestion", BOUNDARY_SAGEMAKER_ACTIONS,
                  [f"arn:{partition}:sagemaker:{region_account}:processing-job/{prefix}*"]),
        statement("PullImages", BOUNDARY_ECR_PULL_ACTIONS,
                  [f"arn:{partition}:ecr:{region_account}:repository/{prefix}*"]),
        statement("RegistryLogin", ["ecr:GetAuthorizationToken"], ["*"]),
        statement("Alerts", ["sns:Publish"], [f"arn:{partition}:sns:{region_account}:{prefix}*"]),
        # The trigger hands the processing role to SageMaker: only the stack's own roles, which
        # carry this same boundary.
        statement("PassLakeRoles", ["iam:PassRole"],
                  [f"arn:{partition}:iam::{account_id}:role/{prefix}*"]),
        statement("Identity", ["sts:GetCallerIdentity"], ["*"]),
        statement("NoIam", BOUNDARY_DENIED_IAM_ACTIONS, ["*"], effect="Deny"),
    ]


def deploy_statements(lake_project: str, environment: str, account_id: str,
                      partition: str = "aws") -> list[Statement]:
    """`pulumi up` of one lake stack: its services, its buckets, IAM only under its prefix, and
    roles only within its environment's permissions boundary."""
    prefix = f"{lake_project}-{environment}-"
    iam = f"arn:{partition}:iam::{account_id}"
    roles = f"{iam}:role/{prefix}*"
    policies = f"{iam}:policy/{prefix}*"
    boundaries = f"{iam}:policy/{boundary_policy_name(lake_project, '*')}"
    within_boundary = {"StringEquals": {"iam:PermissionsBoundary": boundary_arn(
        lake_project, environment, account_id, partition)}}
    return [
        statement("LakeBuckets", ["s3:*"],
                  [f"arn:{partition}:s3:::{prefix}*", f"arn:{partition}:s3:::{prefix}*/*"]),
        # Service-wide: the lake names these resources `<project>-<stack>-…` too, but several of
        # these APIs have no resource-level form for create or list (kms:CreateKey,
        # glue:CreateSecurityConfiguration, ecr:GetAuthorizationToken, logs:DescribeLogGroups,
        # …), and KMS keys have no name in their ARN. The boundary between stacks is kept where
        # it grants power: IAM (below) and S3; the state key is protected by ProtectStateKey.
        statement("LakeServices", [f"{service}:*" for service in LAKE_SERVICES], ["*"]),
        # … but never on what another stack owns: every taggable lake resource carries its
        # stack's `stack` tag, and these services authorize on aws:ResourceTag (a resource
        # without the tag, such as a create, is not matched by the Deny).
        statement("NotOtherStacks", [f"{service}:*" for service in LAKE_SERVICES], ["*"],
                  effect="Deny",
                  condition={"StringNotEquals": {"aws:ResourceTag/stack": environment},
                             "Null": {"aws:ResourceTag/stack": "false"}}),
        statement("Identity", ["sts:GetCallerIdentity"], ["*"]),
        statement("LakeRoles", ROLE_ACTIONS, [roles]),
        # AWS's documented pattern for delegating IAM with a permissions boundary: without it,
        # a deploy role could write any inline policy into a `<prefix>*` role and pass that role
        # to Lambda, Glue or SageMaker, i.e. grant itself anything. So it may create a role, or
        # give one policies, only if the role carries this environment's boundary; it may never
        # remove a boundary, nor change any boundary policy (they are the bootstrap's).
        statement("LakeRolesWithinBoundary", BOUNDED_ROLE_ACTIONS, [roles],
                  condition=within_boundary),
        statement("LakePolicies", POLICY_ACTIONS, [policies]),
        statement("PassLakeRoles", ["iam:PassRole"], [roles]),
        statement("KeepLakeRolesBounded", ["iam:DeleteRolePermissionsBoundary"], [roles],
                  effect="Deny"),
        statement("ProtectBoundaries", BOUNDARY_WRITE_ACTIONS, [boundaries], effect="Deny"),
    ]


def _json(statements: pulumi.Input[list[Statement]]) -> pulumi.Output[str]:
    return pulumi.Output.from_input(statements).apply(
        lambda found: json.dumps(document(found)))


# --- the component --------------------------------------------------------------------------

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
