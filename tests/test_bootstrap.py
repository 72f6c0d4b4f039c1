"""bootstrap/: the GitHub OIDC provider, the roles GitHub assumes and the Pulumi state backend.

The program (bootstrap/__main__.py) runs under Pulumi's mocks with the stack's `bootstrap:*`
config. Each role must trust exactly one subject GitHub presents; the read roles may only read
(and take state locks); a deploy role may create every resource its lake stack declares, and
manage IAM only under that stack's prefix.
"""

from __future__ import annotations

import json
import runpy
from typing import Any

import pulumi
import pytest
import yaml

from bootstrap.delivery import (
    AUDIENCE,
    GITHUB_OIDC_URL,
    GITHUB_THUMBPRINTS,
    BootstrapConfigError,
    GithubDelivery,
    boundary_statements,
    load_config,
    parse_config,
)
from tests.bootstrap_harness import (
    BOOTSTRAP,
    CONFIG,
    EXISTING_PROVIDER_ARN,
    OIDC,
    PROVIDER,
    PROVIDER_ARN,
    REPOSITORY,
    BootstrapMocks,
    bootstrap,
)
from tests.iam_calls import ANALYST_CALLS, CALLS, S3
from tests.iam_eval import allows, granting, statements
from tests.lake_resources import resource_names
from tests.pulumi_harness import (
    ACCOUNT,
    REGION,
    Deployment,
    Resource,
    run,
)

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
STATE_BUCKET = f"datalake-pulumi-state-{ACCOUNT}"
STATE = f"arn:aws:s3:::{STATE_BUCKET}"
IAM = f"arn:aws:iam::{ACCOUNT}"

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"


@pytest.fixture(scope="module")
def s3() -> Deployment:
    return bootstrap()


@pytest.fixture(scope="module")
def cloud() -> Deployment:
    return bootstrap({"bootstrap:stateBackend": "cloud"})


def role(d: Deployment, name: str) -> Resource:
    [found] = [r for r in d.of_type(ROLE) if r.get("name") == name]
    return found


def inline_policies(d: Deployment, target: Resource) -> dict[str, dict]:
    return {p.get("name"): p.json("policy") for p in d.of_type(ROLE_POLICY)
            if p.get("role") == target.id}


def managed_policies(d: Deployment, target: Resource) -> list[str]:
    return [a.get("policyArn") for a in d.of_type(ATTACHMENT)
            if a.get("role") == target.get("name")]


def actions(documents: list[dict], effect: str = "Allow") -> list[str]:
    return [a for s in statements(documents) if s["Effect"] == effect for a in s["Action"]]


EXPECTED_SUBJECTS = {
    "datalake-github-preview": f"repo:{REPOSITORY}:pull_request",
    "datalake-github-drift": f"repo:{REPOSITORY}:ref:refs/heads/main",
    "datalake-github-deploy-dev": f"repo:{REPOSITORY}:environment:dev",
    "datalake-github-deploy-prod": f"repo:{REPOSITORY}:environment:prod",
}


# --- the project -------------------------------------------------------------------------------

def test_project_reuses_the_lakes_virtualenv() -> None:
    project = yaml.safe_load((BOOTSTRAP / "Pulumi.yaml").read_text())
    assert project["name"] == "datalake-bootstrap"
    assert project["description"]
    assert project["runtime"] == {"name": "python",
                                  "options": {"toolchain": "pip", "virtualenv": "../.venv"}}


def test_example_stack_config_deploys() -> None:
    example = yaml.safe_load((BOOTSTRAP / "Pulumi.example.yaml").read_text())["config"]
    assert set(example) == {"aws:region", "bootstrap:repository"}  # the rest are defaults
    d = run(lambda: runpy.run_path(str(BOOTSTRAP / "__main__.py"))["delivery"].outputs,
            stack="github", config=example, mocks=BootstrapMocks())
    assert set(d.outputs["deployRoleArns"]) == {"dev", "prod"}


def test_bootstrap_is_self_contained() -> None:
    """Pulumi runs bootstrap/ on its own: components/ and jobs/ are not importable there."""
    for path in BOOTSTRAP.glob("*.py"):
        source = path.read_text()
        for package in ("components", "jobs", "tests"):
            assert f"from {package}" not in source and f"import {package}" not in source, path


def test_component_type_and_children() -> None:
    parents: dict[str, Any] = {}

    def capture(args: pulumi.ResourceTransformationArgs) -> None:
        parents[args.name] = args.opts.parent

    def program() -> None:
        GithubDelivery("github", parse_config({"repository": REPOSITORY}),
                       pulumi.ResourceOptions(transformations=[capture]))

    d = run(program, stack="github", config=CONFIG, mocks=BootstrapMocks())
    [component] = [r for r in d if r.type == "datalake:bootstrap:GithubDelivery"]
    children = {name: parent for name, parent in parents.items() if name != component.name}
    assert len(children) == len(d.resources) - 1
    assert all(isinstance(parent, GithubDelivery) for parent in children.values())


# --- trust: exactly one subject per role -------------------------------------------------------

@pytest.mark.parametrize(("name", "subject"), EXPECTED_SUBJECTS.items())
def test_each_role_trusts_exactly_one_github_subject(s3: Deployment, name: str,
                                                     subject: str) -> None:
    target = role(s3, name)
    text = target.get("assumeRolePolicy")
    assert "*" not in text and "StringLike" not in text and "?" not in text
    [grant] = json.loads(text)["Statement"]
    assert grant["Effect"] == "Allow"
    assert grant["Principal"] == {"Federated": PROVIDER_ARN}
    assert grant["Action"] in ("sts:AssumeRoleWithWebIdentity", ["sts:AssumeRoleWithWebIdentity"])
    assert grant["Condition"] == {"StringEquals": {f"{OIDC}:aud": AUDIENCE,
                                                   f"{OIDC}:sub": subject}}
    assert target.get("maxSessionDuration") == 3600


def test_only_those_roles_exist(s3: Deployment) -> None:
    assert {r.get("name") for r in s3.of_type(ROLE)} == set(EXPECTED_SUBJECTS)


def test_the_provider_is_githubs(s3: Deployment) -> None:
    provider = s3.one(PROVIDER)
    assert provider.get("url") == GITHUB_OIDC_URL == f"https://{OIDC}"
    assert provider.get("clientIdLists") == [AUDIENCE]
    assert provider.get("thumbprintLists") == list(GITHUB_THUMBPRINTS)
    assert s3.outputs["oidcProviderArn"] == PROVIDER_ARN


def test_an_existing_provider_is_looked_up_not_created() -> None:
    mocks = BootstrapMocks()
    d = bootstrap({"bootstrap:createOidcProvider": False}, mocks=mocks)
    assert d.of_type(PROVIDER) == []
    assert [lookup.get("url") for lookup in mocks.lookups] == [GITHUB_OIDC_URL]
    assert d.outputs["oidcProviderArn"] == EXISTING_PROVIDER_ARN
    for name in EXPECTED_SUBJECTS:
        [grant] = json.loads(role(d, name).get("assumeRolePolicy"))["Statement"]
        assert grant["Principal"] == {"Federated": EXISTING_PROVIDER_ARN}


def test_an_existing_provider_must_accept_sts_tokens() -> None:
    mocks = BootstrapMocks(existing_audiences=("sigstore",))
    with pytest.raises(BootstrapConfigError, match="does not list the audience sts.amazonaws.com"):
        bootstrap({"bootstrap:createOidcProvider": False}, mocks=mocks)
    assert not [r for r in mocks.resources if r.type.startswith("aws:")]


# --- the read roles: preview and drift ---------------------------------------------------------

@pytest.mark.parametrize("name", ["datalake-github-preview", "datalake-github-drift"])
def test_read_roles_only_read_and_take_state_locks(s3: Deployment, name: str) -> None:
    target = role(s3, name)
    assert managed_policies(s3, target) == [READ_ONLY]
    inline = inline_policies(s3, target)
    assert set(inline) == {"pulumi-state"}
    documents = list(inline.values())
    assert not [a for a in actions(documents) if a.lower().startswith("iam:")]
    assert actions(documents, "Deny") == []
    assert allows(documents, "s3:GetObject", f"{STATE}/.pulumi/stacks/datalake/dev.json")
    assert allows(documents, "s3:ListBucket", STATE)
    for write in ("s3:PutObject", "s3:DeleteObject"):
        assert allows(documents, write, f"{STATE}/.pulumi/locks/datalake/dev/1.json")
        for elsewhere in (f"{STATE}/.pulumi/stacks/datalake/dev.json",
                          f"{STATE}/.pulumi/meta.yaml", f"{STATE}/.pulumi/history/x",
                          f"arn:aws:s3:::datalake-dev-enem-raw-{ACCOUNT}/x"):
            assert not allows(documents, write, elsewhere), (write, elsewhere)
    # Every write grant is on the lock prefix; nothing is granted on "*".
    for stmt in statements(documents):
        assert "*" not in stmt["Resource"]
        if {"s3:PutObject", "s3:DeleteObject"} & set(stmt["Action"]):
            assert stmt["Resource"] == [f"{STATE}/.pulumi/locks/*"]
    key = s3.one(KEY).arn
    assert allows(documents, "kms:Decrypt", key)
    assert not allows(documents, "kms:Encrypt", key)
    # Lock files are written SSE-KMS: a data key, asked for by S3 only.
    [data_key] = granting(documents, "kms:GenerateDataKey", key)
    assert data_key["Condition"] == {"StringEquals": {"kms:ViaService":
                                                      f"s3.{REGION}.amazonaws.com"}}


# --- the deploy roles --------------------------------------------------------------------------

def deploy_documents(d: Deployment, environment: str, project: str = "datalake") -> list[dict]:
    target = role(d, f"{project}-github-deploy-{environment}")
    assert managed_policies(d, target) == []
    return list(inline_policies(d, target).values())


@pytest.mark.parametrize(("environment", "other"), [("dev", "prod"), ("prod", "dev")])
def test_deploy_roles_manage_iam_only_under_their_stacks_prefix(s3: Deployment, environment: str,
                                                                other: str) -> None:
    documents = deploy_documents(s3, environment)
    own_role = f"{IAM}:role/datalake-{environment}-enem-process"
    own_policy = f"{IAM}:policy/datalake-{environment}-enem-analyst"
    for action in ("iam:CreateRole", "iam:DeleteRole", "iam:PutRolePolicy",
                   "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:PassRole"):
        assert allows(documents, action, own_role), action
        for foreign in (f"{IAM}:role/datalake-{other}-enem-process",
                        f"{IAM}:role/datalake-github-preview",
                        f"{IAM}:role/datalake-github-deploy-{environment}",
                        f"{IAM}:role/OrganizationAccountAccessRole"):
            assert not allows(documents, action, foreign), (action, foreign)
    for action in ("iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy"):
        assert allows(documents, action, own_policy)
        assert not allows(documents, action, f"{IAM}:policy/datalake-{other}-enem-analyst")
    for action in ("iam:CreateUser", "iam:CreateAccessKey", "iam:CreateOpenIDConnectProvider",
                   "iam:PutUserPolicy"):
        assert not allows(documents, action, f"{IAM}:user/x")
    # No IAM grant anywhere outside the prefix, and no iam:* wildcard action.
    for stmt in statements(documents):
        iam_actions = [a for a in stmt["Action"] if a.lower().startswith("iam:")]
        assert not [a for a in iam_actions if "*" in a]
        if iam_actions and stmt["Effect"] == "Allow":
            assert all(r in (f"{IAM}:role/datalake-{environment}-*",
                             f"{IAM}:policy/datalake-{environment}-*")
                       for r in stmt["Resource"]), stmt
    [pass_role] = granting(documents, "iam:PassRole", own_role)
    assert pass_role["Resource"] == [f"{IAM}:role/datalake-{environment}-*"]


@pytest.mark.parametrize(("environment", "other"), [("dev", "prod"), ("prod", "dev")])
def test_deploy_roles_reach_only_their_buckets_and_the_state(s3: Deployment, environment: str,
                                                             other: str) -> None:
    documents = deploy_documents(s3, environment)
    own = f"arn:aws:s3:::datalake-{environment}-enem-raw-{ACCOUNT}"
    assert allows(documents, "s3:CreateBucket", own)
    assert allows(documents, "s3:PutObject", f"{own}/any/key")
    assert not allows(documents, "s3:PutObject", f"arn:aws:s3:::datalake-{other}-enem-raw-x/k")
    for state_object in (f"{STATE}/.pulumi/stacks/datalake/{environment}.json",
                         f"{STATE}/.pulumi/locks/x"):
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            assert allows(documents, action, state_object)
    for admin in ("s3:DeleteBucket", "s3:PutBucketPolicy", "s3:PutBucketVersioning",
                  "s3:PutLifecycleConfiguration", "s3:DeleteObjectVersion"):
        assert not allows(documents, admin, STATE), admin
        assert not allows(documents, admin, f"{STATE}/x"), admin


def test_deploy_roles_use_but_never_administer_the_state_key(s3: Deployment) -> None:
    key, alias = s3.one(KEY).arn, s3.one(ALIAS).arn
    documents = deploy_documents(s3, "dev")
    for use in ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"):
        assert allows(documents, use, key), use
    for admin in ("kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy",
                  "kms:CreateGrant", "kms:DisableKeyRotation"):
        assert not allows(documents, admin, key), admin
        # The lake's own keys: KMS keys carry no name, so kms:* is service-wide (see the policy).
        assert allows(documents, admin, f"arn:aws:kms:{REGION}:{ACCOUNT}:key/lake-key"), admin
    for admin in ("kms:UpdateAlias", "kms:DeleteAlias"):
        assert not allows(documents, admin, alias)


# Each resource type the lake declares -> the call that creates it, on which ARN.
def _bucket(r: Resource, d: Deployment) -> str:
    return f"arn:aws:s3:::{r.get('bucket')}"


def _role_of(r: Resource, d: Deployment) -> str:
    return next(x.arn for x in d.of_type(ROLE) if r.get("role") in (x.id, x.get("name")))


def _own(r: Resource, d: Deployment) -> str:
    return r.arn


LAKE_CREATES = {
    "aws:athena/namedQuery:NamedQuery": ("athena:CreateNamedQuery", _own),
    "aws:athena/workgroup:Workgroup": ("athena:CreateWorkGroup", _own),
    "aws:cloudwatch/eventRule:EventRule": ("events:PutRule", _own),
    "aws:cloudwatch/eventTarget:EventTarget": ("events:PutTargets", _own),
    "aws:cloudwatch/logGroup:LogGroup": ("logs:CreateLogGroup", _own),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("cloudwatch:PutMetricAlarm", _own),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ("ecr:PutLifecyclePolicy", _own),
    "aws:ecr/repository:Repository": ("ecr:CreateRepository", _own),
    "aws:glue/catalogDatabase:CatalogDatabase": ("glue:CreateDatabase", _own),
    "aws:glue/crawler:Crawler": ("glue:CreateCrawler", _own),
    "aws:glue/job:Job": ("glue:CreateJob", _own),
    "aws:glue/securityConfiguration:SecurityConfiguration": (
        "glue:CreateSecurityConfiguration", _own),
    "aws:glue/trigger:Trigger": ("glue:CreateTrigger", _own),
    "aws:glue/workflow:Workflow": ("glue:CreateWorkflow", _own),
    "aws:iam/policy:Policy": ("iam:CreatePolicy", _own),
    "aws:iam/role:Role": ("iam:CreateRole", _own),
    "aws:iam/rolePolicy:RolePolicy": ("iam:PutRolePolicy", _role_of),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("iam:AttachRolePolicy", _role_of),
    "aws:kms/alias:Alias": ("kms:CreateAlias", _own),
    "aws:kms/key:Key": ("kms:CreateKey", lambda r, d: "*"),
    "aws:lambda/function:Function": ("lambda:CreateFunction", _own),
    "aws:s3/bucket:Bucket": ("s3:CreateBucket", _own),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "s3:PutLifecycleConfiguration", _bucket),
    "aws:s3/bucketLogging:BucketLogging": ("s3:PutBucketLogging", _bucket),
    "aws:s3/bucketObjectv2:BucketObjectv2": (
        "s3:PutObject", lambda r, d: f"{_bucket(r, d)}/{r.get('key')}"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": (
        "s3:PutBucketOwnershipControls", _bucket),
    "aws:s3/bucketPolicy:BucketPolicy": ("s3:PutBucketPolicy", _bucket),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (
        "s3:PutBucketPublicAccessBlock", _bucket),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3:PutEncryptionConfiguration", _bucket),
    "aws:s3/bucketVersioning:BucketVersioning": ("s3:PutBucketVersioning", _bucket),
    "aws:sns/topic:Topic": ("sns:CreateTopic", _own),
    "aws:sns/topicPolicy:TopicPolicy": ("sns:SetTopicAttributes", _own),
    # The ingestion image is pushed to the lake's repository.
    "docker-build:index:Image": ("ecr:PutImage", lambda r, d: d.one(
        "aws:ecr/repository:Repository").arn),
}


def test_each_deploy_role_can_create_its_whole_lake_and_no_other(
        s3: Deployment, deployment: Deployment) -> None:
    """Against the lake as declared (tests/conftest.py): a new resource type fails here until
    the deploy policy covers it."""
    own = deploy_documents(s3, deployment.stack)
    other = deploy_documents(s3, "prod" if deployment.stack == "dev" else "dev")
    for resource in deployment:
        if resource.type.startswith("datalake:"):
            continue  # components: nothing in AWS
        assert resource.type in LAKE_CREATES, f"{resource.type}: add it to the deploy policy"
        action, arn = LAKE_CREATES[resource.type]
        target = arn(resource, deployment)
        assert allows(own, action, target), (resource.name, action, target)
        if action.startswith(("iam:", "s3:")):
            assert not allows(other, action, target), (resource.name, action, target)


def test_a_deploy_role_cannot_change_what_another_stack_owns(
        s3: Deployment, deployment: Deployment) -> None:
    """The services granted on "*" (no resource-level create or list) are closed to another
    stack's resources through their `stack` tag, which these services authorize on
    (aws:ResourceTag/${TagKey} in each one's Service Authorization Reference page): dev's deploy
    role cannot update prod's Lambda code, push to its repository or delete its key."""
    stack = deployment.stack
    other = "prod" if stack == "dev" else "dev"
    own, intruder = deploy_documents(s3, stack), deploy_documents(s3, other)
    checked = 0
    for resource in deployment:
        tags = resource.get("tags") or {}
        if resource.type not in LAKE_CREATES or "stack" not in tags:
            continue
        action, arn = LAKE_CREATES[resource.type]
        if action.startswith(("iam:", "s3:")):
            continue  # those are scoped by ARN prefix (test above)
        request = {"aws:ResourceTag/stack": tags["stack"]}
        target = arn(resource, deployment)
        assert allows(own, action, target, request), (resource.name, action)
        assert not allows(intruder, action, target, request), (resource.name, action)
        checked += 1
    assert checked > 10
    for action, target in [("lambda:UpdateFunctionCode", "arn:aws:lambda:sa-east-1:"
                            f"{ACCOUNT}:function:datalake-{stack}-enem-ingest-trigger"),
                           ("kms:ScheduleKeyDeletion", f"arn:aws:kms:sa-east-1:{ACCOUNT}:key/1")]:
        assert not allows(intruder, action, target, {"aws:ResourceTag/stack": stack})
        # what carries no stack tag (a resource being created) stays open
        assert allows(intruder, action, target, {})


# --- the permissions boundaries ------------------------------------------------------------------

POLICY = "aws:iam/policy:Policy"
# The six calls that give a role its powers: a deploy role may make them only on roles that carry
# its environment's boundary. And every change to a managed policy, which no deploy role may make
# to a boundary.
BOUNDED = ("iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy",
           "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy")
BOUNDARY_WRITES = ("iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy",
                   "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:TagPolicy",
                   "iam:UntagPolicy")
ENVIRONMENT_PAIRS = [("dev", "prod"), ("prod", "dev")]


def boundary_arn(environment: str, project: str = "datalake") -> str:
    return f"{IAM}:policy/{project}-boundary-{environment}"


def boundary_policy(d: Deployment, environment: str, project: str = "datalake") -> Resource:
    [found] = [p for p in d.of_type(POLICY)
               if p.get("name") == f"{project}-boundary-{environment}"]
    return found


def boundary_documents(d: Deployment, environment: str) -> list[dict]:
    return [boundary_policy(d, environment).json("policy")]


def denying(documents: list[dict], action: str, resource: str) -> list[dict]:
    """The Deny statements that apply to `action` on `resource`."""
    everything = [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]
    return [s for s in statements(documents) if s["Effect"] == "Deny"
            and not allows([*everything, {"Statement": [s]}], action, resource)]


def test_one_boundary_per_environment_outside_the_deploy_roles_reach(s3: Deployment) -> None:
    assert {p.get("name") for p in s3.of_type(POLICY)} == {"datalake-boundary-dev",
                                                           "datalake-boundary-prod"}
    for environment in ("dev", "prod"):
        policy = boundary_policy(s3, environment)
        assert policy.get("path") == "/"
        assert policy.arn == boundary_arn(environment) == \
            s3.outputs["permissionsBoundaryArns"][environment]
        assert f"caps every role the lake's {environment} stack creates" in \
            policy.get("description")
        assert policy.get("tags")["purpose"] == "github-delivery"
        # No deploy role's IAM scope (`datalake-<env>-*`) reaches any boundary.
        for env in ("dev", "prod"):
            for action in BOUNDARY_WRITES:
                assert not allows(deploy_documents(s3, env), action, policy.arn), (env, action)


def test_boundaries_cap_the_lakes_roles(s3: Deployment, deployment: Deployment) -> None:
    """The lake (tests/conftest.py, `datalake:permissionsBoundary: true`) names the very policies
    the bootstrap creates."""
    expected = s3.outputs["permissionsBoundaryArns"][deployment.stack]
    roles = deployment.of_type(ROLE)
    assert roles and {r.get("permissionsBoundary") for r in roles} == {expected}


def test_boundary_allows_every_call_the_lakes_roles_make(s3: Deployment,
                                                         deployment: Deployment) -> None:
    """Each row of tests/test_iam.py's CALLS (and the analyst's), for that stack's lake."""
    boundary = boundary_documents(s3, deployment.stack)
    names = resource_names(deployment)
    for _role, action, resource in [*CALLS, *(("analyst", *call) for call in ANALYST_CALLS)]:
        arn = resource.format(**names)
        assert allows(boundary, action, arn), (_role, action, arn)


def test_boundary_covers_every_grant_of_the_lakes_roles(s3: Deployment,
                                                        deployment: Deployment) -> None:
    """Beyond CALLS: whatever a lake policy allows, the boundary does not take away (a grant the
    boundary cuts would fail only in AWS)."""
    boundary = boundary_documents(s3, deployment.stack)
    lake = [p.json("policy") for typ in (ROLE_POLICY, POLICY) for p in deployment.of_type(typ)]
    granted = [(a, r) for s in statements(lake) if s["Effect"] == "Allow"
               for a in s["Action"] for r in s["Resource"]]
    assert len(granted) > 50
    for action, resource in granted:
        assert allows(boundary, action, resource), (action, resource)


@pytest.mark.parametrize(("environment", "other"), ENVIRONMENT_PAIRS)
def test_boundary_denies_iam_other_environments_and_administration(
        s3: Deployment, deployments: dict[str, Deployment], environment: str,
        other: str) -> None:
    boundary = boundary_documents(s3, environment)
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
        s3: Deployment, environment: str, other: str) -> None:
    """tests/iam_eval.py ignores conditions: the condition blocks are checked here, directly."""
    documents = deploy_documents(s3, environment)
    own_role = f"{IAM}:role/datalake-{environment}-enem-process"
    expected = {"StringEquals": {"iam:PermissionsBoundary":
                                 s3.outputs["permissionsBoundaryArns"][environment]}}
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
def test_deploy_roles_never_lift_or_change_a_boundary(s3: Deployment, environment: str,
                                                      other: str) -> None:
    documents = deploy_documents(s3, environment)
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


def test_deploy_policies_fit_iams_size_limits(s3: Deployment) -> None:
    """IAM counts characters without whitespace: 6,144 per managed policy, 10,240 for all of a
    role's inline policies together."""
    def size(text: str) -> int:
        return len("".join(text.split()))

    for environment in ("dev", "prod"):
        assert size(boundary_policy(s3, environment).get("policy")) <= 6144
        target = role(s3, f"datalake-github-deploy-{environment}")
        inline = [p.get("policy") for p in s3.of_type(ROLE_POLICY) if p.get("role") == target.id]
        assert sum(size(text) for text in inline) <= 10240


# --- the state backend -------------------------------------------------------------------------

def for_bucket(d: Deployment, typ: str) -> Resource:
    [found] = [r for r in d.of_type(typ) if r.get("bucket") == STATE_BUCKET]
    return found


def test_state_bucket_is_private_versioned_and_encrypted_with_the_key(s3: Deployment) -> None:
    bucket, key = s3.one(BUCKET), s3.one(KEY)
    assert bucket.get("bucket") == STATE_BUCKET and bucket.arn == STATE
    assert bucket.get("forceDestroy") is False
    versioning = for_bucket(s3, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.get("versioningConfiguration") == {"status": "Enabled"}
    [rule] = for_bucket(s3, "aws:s3/bucketServerSideEncryptionConfiguration:"
                            "BucketServerSideEncryptionConfiguration").get("rules")
    assert rule == {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                           "kmsMasterKeyId": key.arn},
                    "bucketKeyEnabled": True}
    block = for_bucket(s3, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                 "restrictPublicBuckets"):
        assert block.get(flag) is True, flag
    ownership = for_bucket(s3, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.get("rule") == {"objectOwnership": "BucketOwnerEnforced"}
    policy = for_bucket(s3, "aws:s3/bucketPolicy:BucketPolicy").json("policy")
    assert policy["Statement"] == [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": ["s3:*"],
        "Resource": [STATE, f"{STATE}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }]
    [lifecycle] = for_bucket(s3, "aws:s3/bucketLifecycleConfiguration:"
                                 "BucketLifecycleConfiguration").get("rules")
    assert lifecycle["noncurrentVersionExpiration"] == {"noncurrentDays": 90}
    assert "expiration" not in lifecycle  # current state is never expired


def test_state_key_rotates_and_is_the_secrets_provider(s3: Deployment) -> None:
    key, alias = s3.one(KEY), s3.one(ALIAS)
    assert key.get("enableKeyRotation") is True
    assert key.get("deletionWindowInDays") == 30
    [admin] = key.json("policy")["Statement"]
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert alias.get("name") == "alias/datalake-pulumi"
    assert alias.get("targetKeyId") == key.state["keyId"]


def test_state_bucket_and_key_are_protected() -> None:
    kept: dict[str, pulumi.ResourceOptions] = {}

    def capture(args: pulumi.ResourceTransformationArgs) -> None:
        if args.type_ in (BUCKET, KEY):
            kept[args.type_] = args.opts

    def program() -> None:
        GithubDelivery("github", parse_config({"repository": REPOSITORY}),
                       pulumi.ResourceOptions(transformations=[capture]))

    run(program, stack="github", config=CONFIG, mocks=BootstrapMocks())
    assert set(kept) == {BUCKET, KEY}
    assert all(opts.protect and opts.retain_on_delete for opts in kept.values())


def test_s3_backend_outputs(s3: Deployment) -> None:
    assert s3.outputs == {
        "oidcProviderArn": PROVIDER_ARN,
        "previewRoleArn": f"{IAM}:role/datalake-github-preview",
        "driftRoleArn": f"{IAM}:role/datalake-github-drift",
        "deployRoleArns": {"dev": f"{IAM}:role/datalake-github-deploy-dev",
                           "prod": f"{IAM}:role/datalake-github-deploy-prod"},
        "permissionsBoundaryArns": {"dev": f"{IAM}:policy/datalake-boundary-dev",
                                    "prod": f"{IAM}:policy/datalake-boundary-prod"},
        "backendUrl": f"s3://{STATE_BUCKET}?region={REGION}",
        "secretsProvider": f"awskms://alias/datalake-pulumi?region={REGION}",
    }


def test_pulumi_cloud_backend_creates_no_bucket_or_key(cloud: Deployment) -> None:
    assert cloud.of_type(BUCKET) == [] and cloud.of_type(KEY) == [] and cloud.of_type(ALIAS) == []
    assert not [r for r in cloud if r.type.startswith("aws:s3/")]
    assert cloud.outputs["backendUrl"] is None and cloud.outputs["secretsProvider"] is None
    for name in ("datalake-github-preview", "datalake-github-drift"):
        target = role(cloud, name)
        assert managed_policies(cloud, target) == [READ_ONLY]
        assert inline_policies(cloud, target) == {}
    for environment in ("dev", "prod"):
        documents = deploy_documents(cloud, environment)
        assert "pulumi-state" not in json.dumps(documents)
        assert not allows(documents, "s3:GetObject", f"{STATE}/x")
        assert boundary_policy(cloud, environment).arn == \
            cloud.outputs["permissionsBoundaryArns"][environment]
    assert {r.get("name") for r in cloud.of_type(ROLE)} == set(EXPECTED_SUBJECTS)


# --- configuration -----------------------------------------------------------------------------

@pytest.mark.parametrize("environments", [["dev", "staging", "prod"], ["prod"]])
def test_environments_add_and_remove_deploy_roles(environments: list[str]) -> None:
    d = bootstrap({"bootstrap:environments": environments})
    deploy = {r.get("name") for r in d.of_type(ROLE) if "-deploy-" in r.get("name")}
    assert deploy == {f"datalake-github-deploy-{env}" for env in environments}
    assert list(d.outputs["deployRoleArns"]) == environments
    assert d.outputs["permissionsBoundaryArns"] == {
        env: f"{IAM}:policy/datalake-boundary-{env}" for env in environments}
    assert {p.get("name") for p in d.of_type(POLICY)} == {
        f"datalake-boundary-{env}" for env in environments}
    for env in environments:
        [grant] = json.loads(role(d, f"datalake-github-deploy-{env}")
                             .get("assumeRolePolicy"))["Statement"]
        assert grant["Condition"]["StringEquals"][f"{OIDC}:sub"] == \
            f"repo:{REPOSITORY}:environment:{env}"


def test_lake_project_names_the_roles_the_prefix_and_the_state() -> None:
    d = bootstrap({"bootstrap:lakeProject": "enem-lake", "bootstrap:environments": ["dev"]})
    assert {r.get("name") for r in d.of_type(ROLE)} == {
        "enem-lake-github-preview", "enem-lake-github-drift", "enem-lake-github-deploy-dev"}
    documents = deploy_documents(d, "dev", project="enem-lake")
    assert allows(documents, "iam:PassRole", f"{IAM}:role/enem-lake-dev-enem-process")
    assert not allows(documents, "iam:PassRole", f"{IAM}:role/datalake-dev-enem-process")
    boundary = boundary_policy(d, "dev", project="enem-lake")
    assert boundary.arn == f"{IAM}:policy/enem-lake-boundary-dev"
    [conditioned] = [s for s in statements(documents) if "iam:CreateRole" in s["Action"]]
    assert conditioned["Condition"] == {"StringEquals": {"iam:PermissionsBoundary":
                                                         boundary.arn}}
    assert allows([boundary.json("policy")], "iam:PassRole",
                  f"{IAM}:role/enem-lake-dev-enem-process")
    assert not allows([boundary.json("policy")], "iam:PassRole",
                      f"{IAM}:role/datalake-dev-enem-process")
    assert d.one(BUCKET).get("bucket") == f"enem-lake-pulumi-state-{ACCOUNT}"
    assert d.outputs["secretsProvider"] == f"awskms://alias/enem-lake-pulumi?region={REGION}"


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("repository", None,
     "Config key `bootstrap:repository` is required; set it to your GitHub `owner/name` in "
     "Pulumi.<stack>.yaml (see Pulumi.example.yaml)."),
    *[("repository", bad,
       "Config key `bootstrap:repository` must be a GitHub repository `owner/name` (owner: "
       "letters, digits and inner hyphens; name: letters, digits, `.`, `_`, `-`), e.g. "
       f"my-org/enem-datalake (got {bad!r}).")
      for bad in ["enem-datalake", "my-org/enem/datalake", "-my-org/x", "my-org/..",
                  "my-org/*", "my org/x", "my-org/x:ref", "my-org/"]],
    ("lakeProject", "DataLake",
     "Config key `bootstrap:lakeProject` must be the lake's Pulumi project name in lower-case "
     "letters, digits and inner hyphens, at most 37 characters (got 'DataLake')."),
    ("lakeProject", "x" * 38,
     "Config key `bootstrap:lakeProject` must be the lake's Pulumi project name in lower-case "
     f"letters, digits and inner hyphens, at most 37 characters (got {'x' * 38!r})."),
    *[("environments", bad,
       "Config key `bootstrap:environments` must be a non-empty list of distinct stack names in "
       f"lower-case letters, digits and inner hyphens, e.g. [dev, prod] (got {bad!r}).")
      for bad in ["dev", [], ["dev", "dev"], ["Dev"], ["dev*"], ["dev", 1], [["dev"]],
                  {"dev": 1}]],
    ("environments", ["a" * 50],
     f"Config key `bootstrap:environments` has {'a' * 50!r}, whose deploy role "
     f"{'datalake-github-deploy-' + 'a' * 50!r} exceeds IAM's 64 characters."),
    ("environments", ["dev", "github"],
     "Config key `bootstrap:environments` cannot use 'github': its deploy role would manage "
     "`datalake-github-*`, the bootstrap's own resources."),
    ("environments", ["dev", "boundary"],
     "Config key `bootstrap:environments` cannot use 'boundary': its deploy role would manage "
     "`datalake-boundary-*`, the bootstrap's own resources."),
    ("environments", ["dev", "github-deploy"],
     "Config key `bootstrap:environments` cannot use 'github-deploy': its deploy role would "
     "manage `datalake-github-deploy-*`, the bootstrap's own resources."),
    ("environments", ["boundary-eu"],
     "Config key `bootstrap:environments` cannot use 'boundary-eu': its deploy role would "
     "manage `datalake-boundary-eu-*`, the bootstrap's own resources."),
    ("environments", ["prod", "dev", "dev-eu"],
     "Config key `bootstrap:environments` cannot hold both 'dev' and 'dev-eu': the deploy role "
     "of 'dev' manages `datalake-dev-*`, which includes 'dev-eu''s names."),
    ("stateBackend", "dynamodb",
     "Config key `bootstrap:stateBackend` must be one of s3, cloud (got 'dynamodb')."),
    ("createOidcProvider", "yes",
     "Config key `bootstrap:createOidcProvider` must be true or false (got 'yes')."),
])
def test_bad_value_names_the_key_in_one_sentence(key: str, value: Any, expected: str) -> None:
    raw = {"repository": REPOSITORY, key: value}
    with pytest.raises(BootstrapConfigError) as error:
        parse_config(raw)
    assert str(error.value) == expected
    assert "\n" not in expected and expected.endswith(".")


def test_config_is_read_from_the_stack_with_defaults() -> None:
    def program() -> dict[str, Any]:
        return {"args": repr(load_config())}

    d = run(program, stack="github", config={**CONFIG, "bootstrap:environments": ["qa"],
                                            "bootstrap:createOidcProvider": False,
                                            "bootstrap:stateBackend": "cloud"})
    assert d.outputs["args"] == (
        "GithubDeliveryArgs(repository='my-org/enem-datalake', lake_project='datalake', "
        "environments=('qa',), state_backend='cloud', create_oidc_provider=False)")
    d = run(program, stack="github", config=CONFIG)
    assert d.outputs["args"] == (
        "GithubDeliveryArgs(repository='my-org/enem-datalake', lake_project='datalake', "
        "environments=('dev', 'prod'), state_backend='s3', create_oidc_provider=True)")


@pytest.mark.parametrize(("key", "text", "shown"), [
    ("bootstrap:environments", "dev,prod", "'dev,prod'"),
    ("bootstrap:createOidcProvider", "maybe", "'maybe'"),
])
def test_bad_config_fails_before_any_resource_is_declared(key: str, text: str,
                                                           shown: str) -> None:
    mocks = BootstrapMocks()
    with pytest.raises(BootstrapConfigError, match=f"`{key}` .*\\(got {shown}\\)\\.$"):
        bootstrap({key: text}, mocks=mocks)
    assert mocks.resources == []
    assert issubclass(BootstrapConfigError, pulumi.RunError)  # printed without a traceback
