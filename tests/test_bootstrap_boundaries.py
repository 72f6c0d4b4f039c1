"""bootstrap/: the permissions boundaries, one per lake environment: the most any role of that
lake may do, outside the deploy roles' reach, and what the deploy roles may give a role."""

from __future__ import annotations

import json

import pytest

from bootstrap.delivery import (
    boundary_statements,
)
from policies.mocks import (
    ACCOUNT,
    REGION,
    Deployment,
)
from tests.bootstrap_harness import (
    BOUNDARY_WRITES,
    BOUNDED,
    ENVIRONMENT_PAIRS,
    IAM,
    POLICY,
    ROLE,
    ROLE_POLICY,
    STATE,
    boundary_arn,
    boundary_documents,
    boundary_policy,
    denying,
    deploy_documents,
    role,
)
from tests.iam_calls import AUDIENCE_CALLS, CALLS, KMS_CALLS, S3
from tests.iam_eval import allows, granting, statements
from tests.lake_resources import kms_stack, resource_names


def test_one_boundary_per_environment_outside_the_deploy_roles_reach(
        bootstrap_s3: Deployment) -> None:
    assert {p.get("name") for p in bootstrap_s3.of_type(POLICY)} == {"datalake-boundary-dev",
                                                           "datalake-boundary-prod"}
    for environment in ("dev", "prod"):
        policy = boundary_policy(bootstrap_s3, environment)
        assert policy.get("path") == "/"
        assert policy.arn == boundary_arn(environment) == \
            bootstrap_s3.outputs["permissionsBoundaryArns"][environment]
        assert f"caps every role the lake's {environment} stack creates" in \
            policy.get("description")
        assert policy.get("tags")["purpose"] == "github-delivery"
        # No deploy role's IAM scope (`datalake-<env>-*`) reaches any boundary.
        for env in ("dev", "prod"):
            for action in BOUNDARY_WRITES:
                documents = deploy_documents(bootstrap_s3, env)
                assert not allows(documents, action, policy.arn), (env, action)


def test_boundaries_cap_the_lakes_roles(bootstrap_s3: Deployment, deployment: Deployment) -> None:
    """The lake (tests/conftest.py, `datalake:permissionsBoundary: true`) names the very policies
    the bootstrap creates."""
    expected = bootstrap_s3.outputs["permissionsBoundaryArns"][deployment.stack]
    roles = deployment.of_type(ROLE)
    assert roles and {r.get("permissionsBoundary") for r in roles} == {expected}


def test_boundary_allows_every_call_the_lakes_roles_make(bootstrap_s3: Deployment,
                                                         deployment: Deployment) -> None:
    """Each row of tests/test_iam.py's CALLS (and the audiences', and the keys' where the stack
    encrypts with KMS), for that stack's lake."""
    boundary = boundary_documents(bootstrap_s3, deployment.stack)
    names = resource_names(deployment)
    audiences = [(audience, *call) for audience, calls in AUDIENCE_CALLS.items()
                 for call in calls]
    keys = KMS_CALLS if kms_stack(deployment) else []
    for _role, action, resource in [*CALLS, *audiences, *keys]:
        arn = resource.format(**names)
        assert allows(boundary, action, arn), (_role, action, arn)


def test_boundary_covers_every_grant_of_the_lakes_roles(bootstrap_s3: Deployment,
                                                        deployment: Deployment) -> None:
    """Beyond CALLS: whatever a lake policy allows, the boundary does not take away (a grant the
    boundary cuts would fail only in AWS)."""
    boundary = boundary_documents(bootstrap_s3, deployment.stack)
    lake = [p.json("policy") for typ in (ROLE_POLICY, POLICY) for p in deployment.of_type(typ)]
    granted = [(a, r) for s in statements(lake) if s["Effect"] == "Allow"
               for a in s["Action"] for r in s["Resource"]]
    assert len(granted) > 50
    for action, resource in granted:
        assert allows(boundary, action, resource), (action, resource)


@pytest.mark.parametrize(("environment", "other"), ENVIRONMENT_PAIRS)
def test_boundary_denies_iam_other_environments_and_administration(
        bootstrap_s3: Deployment, deployments: dict[str, Deployment], environment: str,
        other: str) -> None:
    boundary = boundary_documents(bootstrap_s3, environment)
    own, theirs = deployments[environment], deployments[other]
    own_names, their_names = resource_names(own), resource_names(theirs)
    own_role = own.one(ROLE, "-processing-role").arn
    # IAM: only iam:PassRole, on the stack's own roles; everything else explicitly denied.
    for action, resource in [
            ("iam:CreateUser", f"{IAM}:user/x"), ("iam:CreateAccessKey", f"{IAM}:user/x"),
            ("iam:PutUserPolicy", f"{IAM}:user/x"), ("iam:CreateRole", own_role),
            ("iam:PutRolePolicy", own_role), ("iam:AttachRolePolicy", own_role),
            ("iam:UpdateAssumeRolePolicy", own_role),
            ("iam:DeleteRolePermissionsBoundary", own_role),
            ("iam:PutRolePermissionsBoundary", own_role),
            ("iam:CreatePolicyVersion", boundary_arn(environment)),
            ("iam:SetDefaultPolicyVersion", boundary_arn(environment)),
            ("iam:CreateServiceLinkedRole", "*"), ("iam:GetAccountAuthorizationDetails", "*"),
            ("iam:ListRoles", "*"), ("iam:ChangePassword", f"{IAM}:user/x"),
            ("iam:UploadSSHPublicKey", f"{IAM}:user/x"),
            ("iam:AddUserToGroup", f"{IAM}:group/admins")]:
        assert not allows(boundary, action, resource), (action, resource)
        assert denying(boundary, action, resource), (action, resource)
    assert allows(boundary, "iam:PassRole", own_role)
    assert not denying(boundary, "iam:PassRole", own_role)
    # … and the Deny is a second line: no Allow names another IAM action, or every action.
    allowed = [a for stmt in statements(boundary) if stmt["Effect"] == "Allow"
               for a in stmt["Action"]]
    assert "*" not in allowed
    assert [a for a in allowed if a.lower().startswith("iam:")] == ["iam:PassRole"]
    for foreign in (theirs.one(ROLE, "-processing-role").arn,
                    f"{IAM}:role/datalake-github-deploy-{environment}", f"{IAM}:role/admin"):
        assert not allows(boundary, "iam:PassRole", foreign), foreign
    # The other environment's data, jobs, images and topics.
    for action, resource in [
            ("s3:GetObject", f"{S3}{their_names['processed']}/microdados_enem_2019/x.parquet"),
            ("s3:GetObject", f"{S3}{their_names['restricted']}/microdados_enem_2019/x.parquet"),
            ("s3:PutObject", f"{S3}{their_names['raw']}/x"),
            ("s3:ListBucket", f"{S3}{their_names['gold']}"),
            ("sagemaker:CreateProcessingJob", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:"
             f"processing-job/{their_names['prefix']}-ingest-1"),
            ("ecr:BatchGetImage", theirs.one("aws:ecr/repository:Repository").arn),
            ("sns:Publish", theirs.one("aws:sns/topic:Topic").arn)]:
        assert not allows(boundary, action, resource), (action, resource)
    # The state, and anything outside the lake's names.
    for action, resource in [("s3:GetObject", f"{STATE}/.pulumi/stacks/datalake/dev.json"),
                             ("s3:GetObject", "arn:aws:s3:::someone-elses-bucket/x")]:
        assert not allows(boundary, action, resource), (action, resource)
    # Administration of the stack's own resources: the deploy role's, never a runtime role's.
    bucket, key = f"{S3}{own_names['raw']}", own_names["key"]
    for action, resource in [
            ("s3:PutBucketPolicy", bucket), ("s3:DeleteBucket", bucket),
            ("s3:PutEncryptionConfiguration", bucket), ("s3:DeleteObjectVersion", f"{bucket}/x"),
            ("s3:PutBucketVersioning", bucket),
            ("kms:ScheduleKeyDeletion", key), ("kms:PutKeyPolicy", key),
            ("kms:CreateGrant", key), ("kms:DisableKey", key),
            ("ecr:PutImage", own.one("aws:ecr/repository:Repository").arn),
            ("sagemaker:CreateTrainingJob", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:"
             f"training-job/{own_names['prefix']}-ingest-1"),
            ("lambda:UpdateFunctionCode", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
             f"{own_names['prefix']}-ingest-trigger"),
            ("sts:AssumeRole", f"{IAM}:role/admin"), ("ec2:RunInstances", "*"),
            ("secretsmanager:GetSecretValue", "*"), ("organizations:LeaveOrganization", "*")]:
        assert not allows(boundary, action, resource), (action, resource)


def test_boundary_statements_follow_project_environment_and_partition() -> None:
    found = boundary_statements("enem-lake", "qa", "210987654321", partition="aws-us-gov")
    documents = [{"Statement": found}]
    for stmt in found:
        for resource in stmt["Resource"]:
            assert resource == "*" or resource.startswith("arn:aws-us-gov:"), resource
            assert "123456789012" not in resource and "datalake" not in resource
    assert allows(documents, "s3:PutObject", "arn:aws-us-gov:s3:::enem-lake-qa-enem-raw-1/x")
    assert not allows(documents, "s3:PutObject", "arn:aws:s3:::enem-lake-qa-enem-raw-1/x")
    assert allows(documents, "iam:PassRole", "arn:aws-us-gov:iam::210987654321:role/enem-lake-qa-x")
    assert not allows(documents, "iam:PassRole",
                      "arn:aws-us-gov:iam::123456789012:role/enem-lake-qa-x")
    assert not allows(documents, "kms:Decrypt",
                      "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/k")


@pytest.mark.parametrize(("environment", "other"), ENVIRONMENT_PAIRS)
def test_deploy_roles_give_roles_powers_only_within_their_boundary(
        bootstrap_s3: Deployment, environment: str, other: str) -> None:
    """tests/iam_eval.py ignores conditions: the condition blocks are checked here, directly."""
    documents = deploy_documents(bootstrap_s3, environment)
    own_role = f"{IAM}:role/datalake-{environment}-enem-process"
    expected = {"StringEquals": {"iam:PermissionsBoundary":
                                 bootstrap_s3.outputs["permissionsBoundaryArns"][environment]}}
    assert expected["StringEquals"]["iam:PermissionsBoundary"] == boundary_arn(environment)
    for action in BOUNDED:
        grants = granting(documents, action, own_role)
        assert grants, action
        # Every Allow that reaches these calls, wildcards included, carries exactly the
        # environment's own boundary: no unconditioned grant, and never the other's.
        assert all(g.get("Condition") == expected for g in grants), (action, grants)
    for stmt in statements(documents):
        granted = [a for a in stmt["Action"] if any(
            allows([{"Statement": [{"Effect": "Allow", "Action": a, "Resource": "*"}]}],
                   bounded, own_role) for bounded in BOUNDED)]
        if stmt["Effect"] == "Allow" and granted:
            assert stmt.get("Condition") == expected, stmt
        assert boundary_arn(other) not in json.dumps(stmt)
    # The rest of a role's lifecycle is unconditioned, as before.
    for action in ("iam:GetRole", "iam:DeleteRole", "iam:TagRole", "iam:UpdateAssumeRolePolicy",
                   "iam:GetRolePolicy", "iam:ListAttachedRolePolicies"):
        assert any("Condition" not in g for g in granting(documents, action, own_role)), action


@pytest.mark.parametrize(("environment", "other"), ENVIRONMENT_PAIRS)
def test_deploy_roles_never_lift_or_change_a_boundary(bootstrap_s3: Deployment, environment: str,
                                                      other: str) -> None:
    documents = deploy_documents(bootstrap_s3, environment)
    own_role = f"{IAM}:role/datalake-{environment}-enem-process"
    # Explicit Denies, which win over any Allow (even an Allow of everything added later).
    widened = [*documents, {"Statement": [{"Effect": "Allow", "Action": "iam:*",
                                           "Resource": "*"}]}]
    assert denying(documents, "iam:DeleteRolePermissionsBoundary", own_role)
    assert not allows(widened, "iam:DeleteRolePermissionsBoundary", own_role)
    for target in (boundary_arn(environment), boundary_arn(other)):
        for action in BOUNDARY_WRITES:
            assert denying(documents, action, target), (action, target)
            assert not allows(widened, action, target), (action, target)
    # Only writes are denied: the widened documents still reach everything else.
    assert allows(widened, "iam:GetPolicy", boundary_arn(environment))
    assert allows(widened, "iam:PutRolePolicy", own_role)
    for stmt in statements(documents):
        if stmt["Effect"] == "Deny" and stmt["Sid"] == "ProtectBoundaries":
            assert stmt["Resource"] == [f"{IAM}:policy/datalake-boundary-*"]


def test_deploy_policies_fit_iams_size_limits(bootstrap_s3: Deployment) -> None:
    """IAM counts characters without whitespace: 6,144 per managed policy, 10,240 for all of a
    role's inline policies together."""
    def size(text: str) -> int:
        return len("".join(text.split()))

    for environment in ("dev", "prod"):
        assert size(boundary_policy(bootstrap_s3, environment).get("policy")) <= 6144
        target = role(bootstrap_s3, f"datalake-github-deploy-{environment}")
        inline = [p.get("policy") for p in bootstrap_s3.of_type(ROLE_POLICY)
                  if p.get("role") == target.id]
        assert sum(size(text) for text in inline) <= 10240
