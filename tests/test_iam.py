"""IAM that is narrow and IAM that works.

`CALLS` is the table of AWS calls each role's code makes, on which resource. Every row must be
granted by that role's policies, and every row of `FORBIDDEN` must not be. The audiences
(business, analyst, researcher) each read exactly their row of jobs.contract.ROLE_ZONES: their
identity policies, the restricted zone's bucket policy and its key's policy are checked together.
"""

from __future__ import annotations

import pytest

from jobs.contract import ROLE_ZONES, ZONES
from policies.mocks import ACCOUNT, Deployment
from tests.iam_calls import (
    AUDIENCE_CALLS,
    AUDIENCE_FORBIDDEN,
    AUDIENCES,
    CALLS,
    FORBIDDEN,
    KMS_CALLS,
    NO_RESOURCE_LEVEL,
    RESTRICTED_ZONE_ROLES,
    ROLES,
    S3,
)
from tests.iam_eval import allows, granting, statements
from tests.lake_resources import (
    ROLE,
    bucket_policy,
    buckets,
    kms_stack,
    policies_of,
    resource_names,
    restricted_key,
    role_named,
)

EVERY_ROLE = (*ROLES, *AUDIENCES)
# What an over-broad identity policy could grant (AmazonS3FullAccess, AdministratorAccess):
# the resource policies must still keep the restricted zone to its readers.
EVERYTHING = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
OBJECT = "microdados_enem_2019/nu_ano=2019/sg_uf_prova=RR/part-0.parquet"


def _request(d: Deployment, role: str) -> dict[str, str]:
    return {"aws:PrincipalArn": role_named(d, role).arn, "aws:SecureTransport": "true"}


@pytest.mark.parametrize(("role", "action", "resource"), CALLS,
                         ids=[f"{r}:{a}:{i}" for i, (r, a, _) in enumerate(CALLS)])
def test_role_may_make_the_calls_its_code_makes(deployment: Deployment, role: str, action: str,
                                                resource: str) -> None:
    arn = resource.format(**resource_names(deployment))
    assert allows(policies_of(deployment, role), action, arn), f"{role} may not {action} {arn}"


@pytest.mark.parametrize(("role", "action", "resource"), FORBIDDEN,
                         ids=[f"{r}:{a}:{i}" for i, (r, a, _) in enumerate(FORBIDDEN)])
def test_role_may_not_reach_beyond_its_job(deployment: Deployment, role: str, action: str,
                                           resource: str) -> None:
    arn = resource.format(**resource_names(deployment))
    assert not allows(policies_of(deployment, role), action, arn), f"{role} may {action} {arn}"


@pytest.mark.parametrize("audience", AUDIENCES)
def test_each_audience_can_query_its_tables_and_nothing_else(deployment: Deployment,
                                                             audience: str) -> None:
    names = resource_names(deployment)
    policies = policies_of(deployment, audience)
    for action, resource in AUDIENCE_CALLS[audience]:
        assert allows(policies, action, resource.format(**names)), (audience, action, resource)
    for action, resource in AUDIENCE_FORBIDDEN[audience]:
        assert not allows(policies, action, resource.format(**names)), (audience, action,
                                                                        resource)


@pytest.mark.parametrize("audience", AUDIENCES)
def test_each_audience_reads_exactly_the_zones_of_its_row(deployment: Deployment,
                                                          audience: str) -> None:
    """jobs.contract.ROLE_ZONES, zone by zone: read (and list) where the row says, nowhere else;
    write no zone. Raw is nobody's."""
    zones = buckets(deployment)
    policies = policies_of(deployment, audience)
    for zone in ZONES:
        bucket = zones[zone].get("bucket")
        reads = zone in ROLE_ZONES[audience]
        assert allows(policies, "s3:GetObject", f"{S3}{bucket}/{OBJECT}") == reads, zone
        assert allows(policies, "s3:ListBucket", f"{S3}{bucket}") == reads, zone
        for action in ("s3:PutObject", "s3:DeleteObject"):
            assert not allows(policies, action, f"{S3}{bucket}/{OBJECT}"), (zone, action)


@pytest.mark.parametrize("audience", AUDIENCES)
def test_each_audience_reads_exactly_the_tables_of_its_row(deployment: Deployment,
                                                           audience: str) -> None:
    """The gold tables for everyone; the database's other tables (microdata, labels) from the
    analyst up; the restricted database for researchers only. No audience writes the catalog."""
    names = resource_names(deployment)
    policies = policies_of(deployment, audience)
    glue = f"arn:aws:glue:{names['region']}:{ACCOUNT}:"
    zones = ROLE_ZONES[audience]
    expected = {
        f"table/{names['database']}/gold_mean_scores_by_state": "gold" in zones,
        f"table/{names['database']}/microdados_enem_2019": "processed" in zones,
        f"table/{names['database']}/label_q006": "processed" in zones,
        f"table/{names['restricted_database']}/microdados_enem_2019": "restricted" in zones,
        f"database/{names['restricted_database']}": "restricted" in zones,
    }
    for resource, readable in expected.items():
        action = "glue:GetDatabase" if resource.startswith("database/") else "glue:GetTable"
        assert allows(policies, action, glue + resource) == readable, resource
    for action in ("glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable"):
        for resource in expected:
            assert not allows(policies, action, glue + resource), (action, resource)


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_only_the_jobs_and_researchers_get_past_the_restricted_buckets_policy(
        deployment: Deployment, role: str) -> None:
    """Even a principal whose identity policies allow everything: the bucket policy denies the
    objects to every role but the processing job, the restricted crawler and the researchers."""
    bucket = buckets(deployment)["restricted"].get("bucket")
    policy = bucket_policy(deployment, "restricted")
    request = _request(deployment, role)
    reader = role in RESTRICTED_ZONE_ROLES
    for action, resource in [("s3:GetObject", f"{S3}{bucket}/{OBJECT}"),
                             ("s3:GetObjectVersion", f"{S3}{bucket}/{OBJECT}"),
                             ("s3:PutObject", f"{S3}{bucket}/{OBJECT}"),
                             ("s3:GetObject", f"{S3}{bucket}/athena-results/q.csv")]:
        assert allows([EVERYTHING, policy], action, resource, request) == reader, (role, action)
    # Listing and deleting too, except where the stack must be destroyable (forceDestroy).
    destroyable = deployment.one("aws:s3/bucket:Bucket", "-restricted-bucket").get("forceDestroy")
    for action, resource in [("s3:ListBucket", f"{S3}{bucket}"),
                             ("s3:DeleteObject", f"{S3}{bucket}/{OBJECT}")]:
        assert allows([EVERYTHING, policy], action, resource, request) == (
            reader or destroyable), (role, action)
    # A person who is no role of the lake (an administrator, a user) is refused as well.
    admin = {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/Admin",
             "aws:SecureTransport": "true"}
    assert not allows([EVERYTHING, policy], "s3:GetObject", f"{S3}{bucket}/{OBJECT}", admin)


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_only_the_jobs_and_researchers_may_use_the_restricted_key(deployment: Deployment,
                                                                  role: str) -> None:
    key = restricted_key(deployment)
    if not kms_stack(deployment):
        assert key is None  # SSE-S3 stacks have no customer key for it
        return
    key_policy = key.json("policy")
    request = _request(deployment, role)
    reader = role in RESTRICTED_ZONE_ROLES
    identity = policies_of(deployment, role)
    for action in ("kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:ReEncryptFrom"):
        # the key policy lets only them use it, whatever their identity policies say …
        assert allows([key_policy], action, key.arn, request) == reader, (role, action)
        # … and no one else's identity policies grant it either
        assert reader or not allows(identity, action, key.arn), (role, action)
    assert allows(identity, "kms:Decrypt", key.arn) == reader, role
    # The account still administers it (rotation, policy, deletion), and uses it through no
    # statement of its own.
    root = {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/Admin"}
    assert allows([key_policy], "kms:PutKeyPolicy", key.arn, root)
    assert allows([key_policy], "kms:EnableKeyRotation", key.arn, root)
    assert not allows([key_policy], "kms:Decrypt", key.arn, root)
    assert not allows([key_policy], "kms:CreateGrant", key.arn, root)


@pytest.mark.parametrize(("role", "action", "resource"), KMS_CALLS,
                         ids=[f"{r}:{a}:{i}" for i, (r, a, _) in enumerate(KMS_CALLS)])
def test_roles_use_the_keys_of_what_they_read_where_the_stack_encrypts_with_kms(
        deployment: Deployment, role: str, action: str, resource: str) -> None:
    arn = resource.format(**resource_names(deployment))
    assert allows(policies_of(deployment, role), action, arn) == kms_stack(deployment), (
        role, action, arn)


def test_pass_role_is_pinned_to_the_processing_role_and_sagemaker(
        deployment: Deployment) -> None:
    names = resource_names(deployment)
    [grant] = granting(policies_of(deployment, "ingest-trigger"), "iam:PassRole",
                       names["processing_role"])
    assert grant["Resource"] == [names["processing_role"]]
    assert grant["Condition"] == {"StringEquals": {"iam:PassedToService":
                                                   "sagemaker.amazonaws.com"}}


def all_identity_statements(d: Deployment) -> list[dict]:
    docs = [p.json("policy") for p in d.of_type("aws:iam/rolePolicy:RolePolicy")]
    docs += [p.json("policy") for p in d.of_type("aws:iam/policy:Policy")]
    return statements(docs)


def test_no_wildcard_actions_anywhere(deployment: Deployment) -> None:
    for stmt in all_identity_statements(deployment):
        for action in stmt["Action"]:
            assert action != "*" and not action.endswith(":*"), stmt


def test_no_wildcard_resource_on_data_actions(deployment: Deployment) -> None:
    for stmt in all_identity_statements(deployment):
        if "*" in stmt["Resource"]:
            assert set(stmt["Action"]) <= NO_RESOURCE_LEVEL, stmt
            if "cloudwatch:PutMetricData" in stmt["Action"]:
                assert "cloudwatch:namespace" in stmt["Condition"]["StringEquals"], stmt
        for resource in stmt["Resource"]:
            assert resource == "*" or not resource.endswith(":::*"), stmt  # no "every bucket"


@pytest.mark.parametrize("role_suffix", sorted(ROLES))
def test_service_roles_trust_only_their_service(deployment: Deployment,
                                                role_suffix: str) -> None:
    role = role_named(deployment, role_suffix)
    [grant] = role.json("assumeRolePolicy")["Statement"]
    assert grant["Principal"] == {"Service": ROLES[role_suffix]}
    assert grant["Action"] == "sts:AssumeRole"


@pytest.mark.parametrize("audience", AUDIENCES)
def test_audience_roles_are_assumable_only_from_this_account(deployment: Deployment,
                                                             audience: str) -> None:
    role = role_named(deployment, audience)
    [grant] = role.json("assumeRolePolicy")["Statement"]
    assert grant["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert grant["Action"] == "sts:AssumeRole" and "Condition" not in grant
    [attachment] = [a for a in deployment.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a.get("role") == role.get("name")]
    assert attachment.get("policyArn") == deployment.one(
        "aws:iam/policy:Policy", f"-{audience}-policy").arn


def test_the_lake_has_exactly_these_roles(deployment: Deployment) -> None:
    assert {r.get("name") for r in deployment.of_type(ROLE)} == {
        f"{deployment.stack_prefix}-{role}" for role in EVERY_ROLE}
