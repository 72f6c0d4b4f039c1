"""A small IAM evaluator for identity policies: does a set of policy documents allow an action on
a resource? Wildcards (`*`, `?`) in actions and resources as IAM reads them; an explicit Deny wins.

Conditions are evaluated only against a request `context` (condition key -> value) when one is
given, for the operators the project's policies use; without a context an Allow's condition is
taken as met and a conditional Deny as not applying (tests assert on conditions separately).

The same reading serves resource policies (bucket and key policies) whose `Principal` the caller
has already matched: pass them with the identity's documents and the request's
`aws:PrincipalArn` in `context`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from typing import Any


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    regex = fnmatch.translate(pattern.replace("[", "[[]"))
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.fullmatch(regex, value, flags) is not None


def statements(documents: Iterable[dict]) -> list[dict]:
    return [s for doc in documents for s in _as_list(doc["Statement"])]


def _condition_met(condition: Mapping[str, Mapping[str, Any]],
                   context: Mapping[str, str]) -> bool:
    """IAM's reading of a Condition block: every operator, every key must hold. A negated
    operator holds when the key is absent from the request (IAM User Guide, condition operators)."""
    for operator, keys in condition.items():
        for key, wanted in keys.items():
            wanted = [str(value) for value in _as_list(wanted)]
            present = key in context
            value = str(context.get(key, ""))
            if operator == "Null":
                holds = (not present) == (wanted[0].lower() == "true")
            elif operator == "StringEquals":
                holds = present and value in wanted
            elif operator == "StringNotEquals":
                holds = not present or value not in wanted
            elif operator in ("StringLike", "ArnLike", "ArnEquals"):
                # ArnEquals and ArnLike behave the same (reference_policies_elements_condition_
                # operators.html#Conditions_ARN)
                holds = present and any(_matches(w, value, case_sensitive=True) for w in wanted)
            elif operator in ("StringNotLike", "ArnNotLike", "ArnNotEquals"):
                holds = not present or not any(_matches(w, value, case_sensitive=True)
                                               for w in wanted)
            elif operator == "Bool":
                holds = present and value.lower() in (w.lower() for w in wanted)
            else:
                raise ValueError(f"iam_eval does not know the condition operator {operator}")
            if not holds:
                return False
    return True


def _applies(stmt: dict, action: str, resource: str,
             context: Mapping[str, str] | None = None) -> bool:
    if not (any(_matches(a, action, case_sensitive=False) for a in _as_list(stmt["Action"]))
            and any(_matches(r, resource, case_sensitive=True)
                    for r in _as_list(stmt["Resource"]))):
        return False
    if "Condition" not in stmt:
        return True
    if context is None:
        return stmt["Effect"] == "Allow"
    return _condition_met(stmt["Condition"], context)


def allows(documents: Iterable[dict], action: str, resource: str,
           context: Mapping[str, str] | None = None) -> bool:
    found = statements(documents)
    if any(s["Effect"] == "Deny" and _applies(s, action, resource, context) for s in found):
        return False
    return any(s["Effect"] == "Allow" and _applies(s, action, resource, context) for s in found)


def granting(documents: Iterable[dict], action: str, resource: str) -> list[dict]:
    """The Allow statements that grant `action` on `resource`."""
    return [s for s in statements(documents)
            if s["Effect"] == "Allow" and _applies(s, action, resource)]
