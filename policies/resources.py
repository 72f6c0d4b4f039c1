"""Reading resources as CrossGuard hands them over: inputs in the provider's (camelCase) names,
wrapped so that reading a value that is unknown at preview raises `UnknownValueError`.

A resource rule reads values with `value` (an unknown value then stops the rule at preview, as
CrossGuard reports it, and the rule runs when `pulumi up` knows the value). Presence (`has`)
never reads the value, so "is it set" holds at a first preview. Stack rules link resources by
property dependency or by a known name (`linked`), never by an unknown value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UnknownValueError


def has(props: Mapping[str, Any], key: str) -> bool:
    """`key` is set (to a known value or one only `pulumi up` will know)."""
    if key not in list(props):  # iterating reads keys only
        return False
    try:
        return props[key] not in (None, "", [], {})
    except UnknownValueError:
        return True


def value(props: Mapping[str, Any], *path: str | int, default: Any = None) -> Any:
    """The value at `path`, or `default` when a step is missing; raises when it is unknown."""
    current: Any = props
    for step in path:
        if isinstance(step, int):
            if (isinstance(current, (str, Mapping)) or not isinstance(current, Sequence)
                    or step >= len(current)):
                return default
        elif not isinstance(current, Mapping) or step not in list(current):
            return default
        current = current[step]
    return default if current is None else current


def known(props: Mapping[str, Any], *path: str | int, default: Any = None) -> Any:
    """Like `value`, but `default` when the value is unknown at preview."""
    try:
        return value(props, *path, default=default)
    except UnknownValueError:
        return default


def items(sequence: Any) -> list[Any]:
    """The elements of a list input (or of nothing)."""
    if sequence is None or isinstance(sequence, (str, Mapping)):
        return [] if sequence is None else [sequence]
    return [sequence[i] for i in range(len(sequence))]


def document(text: Any) -> dict[str, Any]:
    """A JSON policy document input (a string, or already an object)."""
    if isinstance(text, Mapping):
        return json.loads(json.dumps(_plain(text)))
    return json.loads(text) if text else {}


def _plain(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {key: _plain(data[key]) for key in data}
    if isinstance(data, (str, int, float, bool)) or data is None:
        return data
    return [_plain(element) for element in items(data)]


def statements(policy: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = policy.get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def described(statement: dict[str, Any]) -> str:
    """How a violation names a policy statement: by its Sid when it has one."""
    return f"statement {statement['Sid']!r}" if statement.get("Sid") else "a statement"


def listed(entry: Any) -> list[Any]:
    """A policy element that may be one value or a list of them, as a list."""
    if entry is None:
        return []
    return list(entry) if isinstance(entry, list) else [entry]


# --- the resource graph ------------------------------------------------------------------------

def of_type(resources: Iterable[PolicyResource], *types: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type in types]


def depends_on(resource: PolicyResource, target: PolicyResource, prop: str) -> bool:
    """`resource.prop` is computed from `target`'s outputs (its property dependency)."""
    return target in resource.property_dependencies.get(prop, [])


def linked(resources: Iterable[PolicyResource], target: PolicyResource, types: tuple[str, ...],
           prop: str = "bucket", name_prop: str = "bucket") -> list[PolicyResource]:
    """The resources of `types` whose `prop` names `target`: by property dependency, or (when it
    is a plain string) by `target`'s known `name_prop`."""
    name = known(target.props, name_prop)
    return [r for r in of_type(resources, *types)
            if depends_on(r, target, prop) or (name is not None and known(r.props, prop) == name)]
