"""The bootstrap's IAM: the names it gives, the subjects GitHub presents, and every policy
document (state access, permissions boundaries, deploy roles) as plain statements that tests
read; the GithubDelivery component (bootstrap/delivery.py) declares them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
AUDIENCE = "sts.amazonaws.com"

# IAM no longer checks thumbprints for GitHub (it trusts GitHub's CA itself), but older accounts
# and tools still require the list: these are the two GitHub has published.
GITHUB_THUMBPRINTS = ("6938fd4d98bab03faadb97b34396831e3780aea1",
                      "1c58a3a8518e8759bf075b76b750d4f2df264fcd")
MAX_SESSION_SECONDS = 3600

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
# The lake's CloudTrail trail (the restricted zone's data events): everything `pulumi up`,
# refresh and destroy do to it, on the stack's own trails only; listing has no resource.
TRAIL_ACTIONS = (
    "cloudtrail:CreateTrail", "cloudtrail:UpdateTrail", "cloudtrail:DeleteTrail",
    "cloudtrail:GetTrail", "cloudtrail:GetTrailStatus", "cloudtrail:StartLogging",
    "cloudtrail:StopLogging", "cloudtrail:PutEventSelectors", "cloudtrail:GetEventSelectors",
    "cloudtrail:GetInsightSelectors", "cloudtrail:AddTags", "cloudtrail:RemoveTags",
    "cloudtrail:ListTags",
)
TRAIL_LIST_ACTIONS = ("cloudtrail:DescribeTrails", "cloudtrail:ListTrails")
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
        # The trail that records reads of the restricted zone: the stack's own, by name (so one
        # environment's deploy role cannot stop another's audit, nor the account's trails).
        statement("LakeTrail", TRAIL_ACTIONS,
                  [f"arn:{partition}:cloudtrail:*:{account_id}:trail/{prefix}*"]),
        statement("ListTrails", TRAIL_LIST_ACTIONS, ["*"]),
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
