"""IAM: least privilege in every identity policy, `iam:PassRole` pinned to roles and services,
every role under the permissions boundary, and no trust policy that lets anyone assume a role.

Whether an action can be scoped to a resource ARN comes from AWS's Service Authorization
Reference, as parliament ships it (`iam_definition.json`): an action whose every resource type
is empty supports only `"Resource": "*"`.
"""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from pulumi_policy import ResourceValidationArgs

with warnings.catch_warnings():
    # parliament 1.6.4 (the newest) imports pkg_resources, which setuptools 81 (the last release
    # that has it; requirements.in) announces as deprecated on every import: not ours to fix.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    import parliament

from policies.resources import described, document, items, listed, statements, value
from policies.rule import Rule, requires

ROLE = "aws:iam/role:Role"
POLICY_INPUTS = {  # identity policies: resource type -> the input that holds the document
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
IAM_GUIDE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
REFERENCE = ("https://docs.aws.amazon.com/service-authorization/latest/reference/"
             "reference_policies_actions-resources-contextkeys.html")


def identity_documents(args: ResourceValidationArgs) -> list[dict[str, Any]]:
    """The policy documents a resource grants to an identity (a role's inline ones included)."""
    if args.resource_type == ROLE:
        return [document(value(inline, "policy"))
                for inline in items(value(args.props, "inlinePolicies"))]
    return [document(value(args.props, POLICY_INPUTS[args.resource_type]))]


def allows(args: ResourceValidationArgs) -> Iterator[dict[str, Any]]:
    for policy in identity_documents(args):
        for statement in statements(policy):
            if statement.get("Effect") == "Allow":
                yield statement


@cache
def _privileges() -> dict[str, dict[str, bool]]:
    """service prefix -> action name (lower case) -> whether it takes resource ARNs."""
    return {service["prefix"]: {p["privilege"].lower(): any(t["resource_type"]
                                                             for t in p["resource_types"])
                                for p in service["privileges"]}
            for service in parliament.iam_definition}


def matching_actions(action: str) -> dict[str, bool]:
    """`service:Name` (wildcards allowed) -> {action: takes resource ARNs}; empty if unknown."""
    service, _, name = action.partition(":")
    known = _privileges().get(service.lower(), {})
    return {f"{service}:{a}": scoped for a, scoped in known.items()
            if fnmatch.fnmatchcase(a, name.lower())}


def _no_wildcard_actions(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    for statement in allows(args):
        if "NotAction" in statement:
            yield f"{described(statement)} allows everything but NotAction"
        broad = [a for a in listed(statement.get("Action")) if a == "*" or a.endswith(":*")]
        if broad:
            yield f"{described(statement)} allows {', '.join(broad)}"


def _resource_wildcards(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    for statement in allows(args):
        if "*" not in listed(statement.get("Resource")) and "NotResource" not in statement:
            continue
        scopable = sorted(action for pattern in listed(statement.get("Action"))
                          for action, scoped in (matching_actions(pattern).items()
                                                 or {pattern: True}.items())
                          if scoped)
        if scopable:
            yield (f"{described(statement)} grants on \"*\" actions that take "
                   f"resource ARNs: {', '.join(scopable[:5])}"
                   + (f" and {len(scopable) - 5} more" if len(scopable) > 5 else ""))


def _pass_role_scoped(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    for statement in allows(args):
        actions = listed(statement.get("Action"))
        if not any(fnmatch.fnmatchcase("iam:passrole", a.lower()) for a in actions):
            continue
        if any("*" in resource for resource in listed(statement.get("Resource"))):
            yield f"{described(statement)} passes roles matching a wildcard"
        passed_to = [keys for keys in (statement.get("Condition") or {}).values()
                     if "iam:PassedToService" in keys]
        if not passed_to:
            yield f"{described(statement)} passes roles without an iam:PassedToService condition"


def _trust_scoped(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    for statement in statements(document(value(args.props, "assumeRolePolicy"))):
        principal = statement.get("Principal")
        aws = listed(principal.get("AWS")) if isinstance(principal, dict) else []
        if statement.get("Effect") == "Allow" and (principal == "*" or "*" in aws):
            yield "the trust policy lets any principal assume the role"


IDENTITY_TYPES = (*POLICY_INPUTS, ROLE)

RULES = [
    Rule(
        id="iam-no-wildcard-actions",
        description="No identity policy allows all actions (\"*\") or all of a service "
                    "(\"service:*\")",
        remediation="list the actions the code calls, e.g. s3:GetObject, instead of a wildcard",
        url="https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-21",
        types=IDENTITY_TYPES, check=_no_wildcard_actions),
    Rule(
        id="iam-wildcard-resource",
        description="An identity policy grants on \"*\" only actions that take no resource ARN",
        remediation="give the statement the ARNs it acts on; keep \"*\" only for actions the "
                    "Service Authorization Reference lists without resource types",
        url=REFERENCE, types=IDENTITY_TYPES, check=_resource_wildcards),
    Rule(
        id="iam-passrole-scoped",
        description="iam:PassRole names the roles it passes and the service they go to",
        remediation="set Resource to the role ARNs and add Condition StringEquals "
                    "iam:PassedToService <service>.amazonaws.com",
        url=IAM_GUIDE + "id_roles_use_passrole.html",
        types=IDENTITY_TYPES, check=_pass_role_scoped),
    Rule(
        id="iam-role-boundary",
        description="Every IAM role carries a permissions boundary",
        remediation="set permissions_boundary to the stack's boundary policy ARN "
                    "(datalake:permissionsBoundary: true, after the bootstrap)",
        url=IAM_GUIDE + "access_policies_boundaries.html",
        types=(ROLE,), check=requires(
            "permissionsBoundary", "the role has no permissions boundary")),
    Rule(
        id="iam-trust-scoped",
        description="No role trust policy lets any principal assume the role",
        remediation="name the service or account principal that assumes the role, with an "
                    "aws:SourceAccount condition for services",
        url=IAM_GUIDE + "reference_policies_elements_principal.html",
        types=(ROLE,), check=_trust_scoped),
]
