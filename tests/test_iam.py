"""IAM that is narrow and IAM that works.

`CALLS` is the table of AWS calls each role's code makes, on which resource. Every row must be
granted by that role's policies, and every row of `FORBIDDEN` must not be. Later issues add the
calls their code makes.
"""

from __future__ import annotations

import pytest

from policies.mocks import ACCOUNT, Deployment
from tests.iam_calls import (
    ANALYST_CALLS,
    ANALYST_FORBIDDEN,
    CALLS,
    FORBIDDEN,
    NO_RESOURCE_LEVEL,
    ROLES,
)
from tests.iam_eval import allows, granting, statements
from tests.lake_resources import policies_of, resource_names


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


def test_analyst_can_query_and_nothing_else(deployment: Deployment) -> None:
    names = resource_names(deployment)
    policy = deployment.one("aws:iam/policy:Policy").json("policy")
    for action, resource in ANALYST_CALLS:
        assert allows([policy], action, resource.format(**names)), action
    for action, resource in ANALYST_FORBIDDEN:
        assert not allows([policy], action, resource.format(**names)), action
    attachment = deployment.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.get("role") == deployment.one("aws:iam/role:Role", "-analyst-role").get(
        "name")


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
    role = next(r for r in deployment.of_type("aws:iam/role:Role")
                if r.get("name").endswith(f"-enem-{role_suffix}"))
    [grant] = role.json("assumeRolePolicy")["Statement"]
    assert grant["Principal"] == {"Service": ROLES[role_suffix]}
    assert grant["Action"] == "sts:AssumeRole"


def test_analyst_role_is_assumable_only_from_this_account(deployment: Deployment) -> None:
    role = deployment.one("aws:iam/role:Role", "-analyst-role")
    [grant] = role.json("assumeRolePolicy")["Statement"]
    assert grant["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
