"""IAM policy lint: every identity policy of both stacks and of bootstrap/ through parliament
(duo-labs), which checks action names, resource formats and condition keys against the Service
Authorization Reference; a finding fails unless PARLIAMENT_ALLOWED lists it with a reason."""

from __future__ import annotations

import json

from policies.mocks import Deployment
from tests.iam_eval import statements
from tests.lake_resources import identity_policies

# Reviewed findings: (policy, statement Sid, parliament issue) -> why it stands.
PARLIAMENT_ALLOWED: dict[tuple[str, str, str], str] = {
    ("deploy", "LakeBuckets", "RESOURCE_MISMATCH"):
        "s3:* on the lake's buckets: the actions that need other ARNs (access points, jobs) "
        "are simply not granted by it",
    ("deploy", "LakeServices", "RESOURCE_STAR"):
        "create and list calls of these services have no resource-level form; NotOtherStacks "
        "closes other stacks' tagged resources",
    ("deploy", "LakeRolesWithinBoundary", "MISMATCHED_TYPE_BUT_USABLE"):
        "iam:PermissionsBoundary holds an ARN compared as a string, as in IAM's own delegation "
        "example (access_policies_boundaries.html)",
    ("boundary", "", "RESOURCE_MISMATCH"):
        "the ceiling lists actions (logs:*, s3:GetObjectAttributes) that IAM also authorizes "
        "on other ARN forms; a boundary grants nothing itself",
    ("boundary", "", "RESOURCE_STAR"):
        "the ceiling names whole services (athena, glue, …) per statement; the roles' own "
        "policies are per ARN and lint clean",
}


def _findings(label: str, document: dict) -> list[tuple[str, str, str, str]]:
    """(policy, Sid, issue, detail) of every parliament finding, statement by statement."""
    from parliament import analyze_policy_string

    found = []
    for stmt in statements([document]):
        single = {"Version": "2012-10-17", "Statement": [stmt]}
        for finding in analyze_policy_string(json.dumps(single)).findings:
            found.append((label, stmt.get("Sid", ""), finding.issue,
                          json.dumps(finding.detail)[:200]))
    return found


def _unreviewed(findings: list[tuple[str, str, str, str]]) -> list[tuple[str, str, str, str]]:
    def reviewed(label: str, sid: str, issue: str) -> bool:
        kind = label.split(":")[0]
        return (kind, sid, issue) in PARLIAMENT_ALLOWED or (kind, "", issue) in PARLIAMENT_ALLOWED

    return [f for f in findings if not reviewed(*f[:3])]


def test_every_identity_policy_of_the_lake_lints_clean(deployment: Deployment) -> None:
    """parliament (duo-labs) checks action names, resource formats and condition keys against
    the Service Authorization Reference.
    https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"""
    policies = identity_policies(deployment)
    assert len(policies) == 9  # six service roles, three audiences
    findings = [f for name, doc in policies.items() for f in _findings(f"lake:{name}", doc)]
    assert _unreviewed(findings) == []


def test_every_identity_policy_of_the_bootstrap_lints_clean(bootstrap_s3: Deployment) -> None:
    """The same lint for the bootstrap's roles; findings stand only with a reviewed reason
    (PARLIAMENT_ALLOWED). Trust and resource policies, which parliament misreads, are held by
    the rule tests in tests/test_bootstrap.py."""
    findings = []
    for policy in bootstrap_s3.of_type("aws:iam/rolePolicy:RolePolicy"):
        label = "deploy" if "deploy" in policy.name else "state"
        findings += _findings(f"{label}:{policy.name}", policy.json("policy"))
    for policy in bootstrap_s3.of_type("aws:iam/policy:Policy"):
        findings += _findings(f"boundary:{policy.name}", policy.json("policy"))
    assert _unreviewed(findings) == []
    # every reviewed finding still occurs: a fixed one leaves the list
    seen = {(f[0].split(":")[0], f[1], f[2]) for f in findings}
    seen |= {(kind, "", issue) for kind, _, issue in seen}
    assert set(PARLIAMENT_ALLOWED) <= seen


def test_parliament_catches_what_it_is_here_for() -> None:
    """The lint is live: a misspelt action and a data action on every bucket are findings."""
    bad = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Typo", "Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"},
        {"Sid": "Everything", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    issues = {(sid, issue) for _, sid, issue, _ in _findings("lake:test", bad)}
    assert ("Typo", "UNKNOWN_ACTION") in issues
    assert ("Everything", "RESOURCE_STAR") in issues
