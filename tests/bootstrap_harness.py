"""Run bootstrap/__main__.py under Pulumi's mocks (policies/mocks.py), with IAM's real
OIDC provider ARN and an existing provider to find."""

from __future__ import annotations

import runpy
from typing import Any

import pulumi

from bootstrap.delivery import (
    AUDIENCE,
)
from policies.mocks import (
    ACCOUNT,
    PROJECT_ROOT,
    REGION,
    Deployment,
    RecordingMocks,
    Resource,
    run,
)
from tests.iam_eval import allows, statements

BOOTSTRAP = PROJECT_ROOT / "bootstrap"
REPOSITORY = "my-org/enem-datalake"
CONFIG = {"aws:region": REGION, "bootstrap:repository": REPOSITORY}
OIDC = "token.actions.githubusercontent.com"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC}"
EXISTING_PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC}#existing"
PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
GET_PROVIDER = "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider"


class BootstrapMocks(RecordingMocks):
    """The harness's mocks, plus IAM's real OIDC provider ARN and an existing provider to find."""

    def __init__(self, existing_audiences: tuple[str, ...] = (AUDIENCE,)) -> None:
        super().__init__()
        self.existing_audiences = existing_audiences
        self.lookups: list[dict[str, Any]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        resource_id, state = super().new_resource(args)
        if args.typ == PROVIDER:
            state["arn"] = PROVIDER_ARN  # the recorded Resource holds this same dict
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        if args.token == GET_PROVIDER:
            self.lookups.append(dict(args.args))
            return {"arn": EXISTING_PROVIDER_ARN, "id": EXISTING_PROVIDER_ARN, "url": OIDC,
                    "clientIdLists": list(self.existing_audiences), "thumbprintLists": [],
                    "tags": {}}
        return super().call(args)


def bootstrap(config: dict[str, Any] | None = None,
              mocks: RecordingMocks | None = None) -> Deployment:
    """Run bootstrap/__main__.py with CONFIG plus `config`; return what it declared."""
    def program() -> dict[str, Any]:
        return runpy.run_path(str(BOOTSTRAP / "__main__.py"))["delivery"].outputs

    return run(program, stack="github", config={**CONFIG, **(config or {})},
               mocks=mocks or BootstrapMocks())


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


def deploy_documents(d: Deployment, environment: str, project: str = "datalake") -> list[dict]:
    target = role(d, f"{project}-github-deploy-{environment}")
    assert managed_policies(d, target) == []
    return list(inline_policies(d, target).values())


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
    "aws:cloudtrail/trail:Trail": ("cloudtrail:CreateTrail", _own),
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


def for_bucket(d: Deployment, typ: str) -> Resource:
    [found] = [r for r in d.of_type(typ) if r.get("bucket") == STATE_BUCKET]
    return found
