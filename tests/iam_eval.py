"""A small IAM evaluator for identity policies: does a set of policy documents allow an action on
a resource? Wildcards (`*`, `?`) in actions and resources as IAM reads them; an explicit Deny wins.
Conditions are not evaluated (tests assert on them separately)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from typing import Any


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    regex = fnmatch.translate(pattern.replace("[", "[[]"))
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.fullmatch(regex, value, flags) is not None


def statements(documents: Iterable[dict]) -> list[dict]:
    return [s for doc in documents for s in _as_list(doc["Statement"])]


def _applies(stmt: dict, action: str, resource: str) -> bool:
    return (any(_matches(a, action, case_sensitive=False) for a in _as_list(stmt["Action"]))
            and any(_matches(r, resource, case_sensitive=True)
                    for r in _as_list(stmt["Resource"])))


def allows(documents: Iterable[dict], action: str, resource: str) -> bool:
    found = statements(documents)
    if any(s["Effect"] == "Deny" and _applies(s, action, resource) for s in found):
        return False
    return any(s["Effect"] == "Allow" and _applies(s, action, resource) for s in found)


def granting(documents: Iterable[dict], action: str, resource: str) -> list[dict]:
    """The Allow statements that grant `action` on `resource`."""
    return [s for s in statements(documents)
            if s["Effect"] == "Allow" and _applies(s, action, resource)]
