"""bootstrap/: the deploy roles (one per lake environment: each reaches only its stack, its
buckets and the state) and the Pulumi state backend (bucket and KMS key)."""

from __future__ import annotations

import json

import pulumi
import pytest

from bootstrap.delivery import (
    GithubDelivery,
    parse_config,
)
from policies.mocks import (
    ACCOUNT,
    REGION,
    Deployment,
    run,
)
from tests.bootstrap_harness import (
    ALIAS,
    BUCKET,
    CONFIG,
    EXPECTED_SUBJECTS,
    IAM,
    KEY,
    LAKE_CREATES,
    PROVIDER_ARN,
    READ_ONLY,
    REPOSITORY,
    ROLE,
    STATE,
    STATE_BUCKET,
    BootstrapMocks,
    boundary_policy,
    deploy_documents,
    for_bucket,
    inline_policies,
    managed_policies,
    role,
)
from tests.iam_eval import allows, granting, statements


@pytest.mark.parametrize(("environment", "other"), [("dev", "prod"), ("prod", "dev")])
def test_deploy_roles_manage_iam_only_under_their_stacks_prefix(
        bootstrap_s3: Deployment, environment: str, other: str) -> None:
    documents = deploy_documents(bootstrap_s3, environment)
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
def test_deploy_roles_reach_only_their_buckets_and_the_state(
        bootstrap_s3: Deployment, environment: str, other: str) -> None:
    documents = deploy_documents(bootstrap_s3, environment)
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


def test_deploy_roles_use_but_never_administer_the_state_key(bootstrap_s3: Deployment) -> None:
    key, alias = bootstrap_s3.one(KEY).arn, bootstrap_s3.one(ALIAS).arn
    documents = deploy_documents(bootstrap_s3, "dev")
    for use in ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"):
        assert allows(documents, use, key), use
    for admin in ("kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy",
                  "kms:CreateGrant", "kms:DisableKeyRotation"):
        assert not allows(documents, admin, key), admin
        # The lake's own keys: KMS keys carry no name, so kms:* is service-wide (see the policy).
        assert allows(documents, admin, f"arn:aws:kms:{REGION}:{ACCOUNT}:key/lake-key"), admin
    for admin in ("kms:UpdateAlias", "kms:DeleteAlias"):
        assert not allows(documents, admin, alias)


def test_each_deploy_role_can_create_its_whole_lake_and_no_other(
        bootstrap_s3: Deployment, deployment: Deployment) -> None:
    """Against the lake as declared (tests/conftest.py): a new resource type fails here until
    the deploy policy covers it."""
    own = deploy_documents(bootstrap_s3, deployment.stack)
    other = deploy_documents(bootstrap_s3, "prod" if deployment.stack == "dev" else "dev")
    for resource in deployment:
        if resource.type.startswith("datalake:"):
            continue  # components: nothing in AWS
        assert resource.type in LAKE_CREATES, f"{resource.type}: add it to the deploy policy"
        action, arn = LAKE_CREATES[resource.type]
        target = arn(resource, deployment)
        assert allows(own, action, target), (resource.name, action, target)
        if action.startswith(("iam:", "s3:", "cloudtrail:")):
            assert not allows(other, action, target), (resource.name, action, target)


def test_a_deploy_role_cannot_change_what_another_stack_owns(
        bootstrap_s3: Deployment, deployment: Deployment) -> None:
    """The services granted on "*" (no resource-level create or list) are closed to another
    stack's resources through their `stack` tag, which these services authorize on
    (aws:ResourceTag/${TagKey} in each one's Service Authorization Reference page): dev's deploy
    role cannot update prod's Lambda code, push to its repository or delete its key."""
    stack = deployment.stack
    other = "prod" if stack == "dev" else "dev"
    own, intruder = deploy_documents(bootstrap_s3, stack), deploy_documents(bootstrap_s3, other)
    checked = 0
    for resource in deployment:
        tags = resource.get("tags") or {}
        if resource.type not in LAKE_CREATES or "stack" not in tags:
            continue
        action, arn = LAKE_CREATES[resource.type]
        if action.startswith(("iam:", "s3:", "cloudtrail:")):
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


@pytest.mark.parametrize(("environment", "other"), [("dev", "prod"), ("prod", "dev")])
def test_deploy_roles_manage_their_stacks_trail_and_no_other(
        bootstrap_s3: Deployment, environment: str, other: str) -> None:
    """The restricted zone's reads are recorded by the stack's own trail: its deploy role
    creates, updates, tags and deletes it, and nothing else's: not the other environment's
    trail, nor the account's own trails (which an intruder would stop first)."""
    documents = deploy_documents(bootstrap_s3, environment)
    trail = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/datalake-{environment}-enem-audit"
    for action in ("cloudtrail:CreateTrail", "cloudtrail:PutEventSelectors",
                   "cloudtrail:StartLogging", "cloudtrail:GetTrailStatus",
                   "cloudtrail:GetEventSelectors", "cloudtrail:AddTags", "cloudtrail:ListTags",
                   "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail"):
        assert allows(documents, action, trail), action
        for foreign in (f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/datalake-{other}-enem-audit",
                        f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/organization-trail"):
            assert not allows(documents, action, foreign), (action, foreign)
    for action in ("cloudtrail:DescribeTrails", "cloudtrail:ListTrails"):
        assert allows(documents, action, "*"), action
    # Reading the trail's log files, or anything else of CloudTrail's, is not a deploy's job.
    for action in ("cloudtrail:LookupEvents", "cloudtrail:CreateEventDataStore",
                   "cloudtrail:PutInsightSelectors"):
        assert not allows(documents, action, trail), action


def test_state_bucket_is_private_versioned_and_encrypted_with_the_key(
        bootstrap_s3: Deployment) -> None:
    bucket, key = bootstrap_s3.one(BUCKET), bootstrap_s3.one(KEY)
    assert bucket.get("bucket") == STATE_BUCKET and bucket.arn == STATE
    assert bucket.get("forceDestroy") is False
    versioning = for_bucket(bootstrap_s3, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.get("versioningConfiguration") == {"status": "Enabled"}
    [rule] = for_bucket(bootstrap_s3, "aws:s3/bucketServerSideEncryptionConfiguration:"
                            "BucketServerSideEncryptionConfiguration").get("rules")
    assert rule == {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                           "kmsMasterKeyId": key.arn},
                    "bucketKeyEnabled": True}
    block = for_bucket(bootstrap_s3, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                 "restrictPublicBuckets"):
        assert block.get(flag) is True, flag
    ownership = for_bucket(bootstrap_s3, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.get("rule") == {"objectOwnership": "BucketOwnerEnforced"}
    policy = for_bucket(bootstrap_s3, "aws:s3/bucketPolicy:BucketPolicy").json("policy")
    assert policy["Statement"] == [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": ["s3:*"],
        "Resource": [STATE, f"{STATE}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }]
    [lifecycle] = for_bucket(bootstrap_s3, "aws:s3/bucketLifecycleConfiguration:"
                                 "BucketLifecycleConfiguration").get("rules")
    assert lifecycle["noncurrentVersionExpiration"] == {"noncurrentDays": 90}
    assert "expiration" not in lifecycle  # current state is never expired


def test_state_key_rotates_and_is_the_secrets_provider(bootstrap_s3: Deployment) -> None:
    key, alias = bootstrap_s3.one(KEY), bootstrap_s3.one(ALIAS)
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


def test_s3_backend_outputs(bootstrap_s3: Deployment) -> None:
    assert bootstrap_s3.outputs == {
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


def test_pulumi_cloud_backend_creates_no_bucket_or_key(bootstrap_cloud: Deployment) -> None:
    for kind in (BUCKET, KEY, ALIAS):
        assert bootstrap_cloud.of_type(kind) == []
    assert not [r for r in bootstrap_cloud if r.type.startswith("aws:s3/")]
    assert bootstrap_cloud.outputs["backendUrl"] is None
    assert bootstrap_cloud.outputs["secretsProvider"] is None
    for name in ("datalake-github-preview", "datalake-github-drift"):
        target = role(bootstrap_cloud, name)
        assert managed_policies(bootstrap_cloud, target) == [READ_ONLY]
        assert inline_policies(bootstrap_cloud, target) == {}
    for environment in ("dev", "prod"):
        documents = deploy_documents(bootstrap_cloud, environment)
        assert "pulumi-state" not in json.dumps(documents)
        assert not allows(documents, "s3:GetObject", f"{STATE}/x")
        assert boundary_policy(bootstrap_cloud, environment).arn == \
            bootstrap_cloud.outputs["permissionsBoundaryArns"][environment]
    assert {r.get("name") for r in bootstrap_cloud.of_type(ROLE)} == set(EXPECTED_SUBJECTS)
