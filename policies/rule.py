"""A guardrail: an id, one line saying what it demands, the change that fixes a violation, the
AWS page it rests on, and a check. `Rule` checks one resource; `StackRule` checks the resource
graph (a bucket and the resources that configure it). Each becomes a CrossGuard policy.

Waivers: CrossGuard has none per resource, so a rule's config (the per-stack file given to
`--policy-pack-config`) may list `waivers`, each `{"resource": <logical name>, "reason": ...}`;
a waived resource's violations are not reported.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.resources import has

WAIVERS_SCHEMA = {
    "type": "array",
    "description": "Resources this rule does not apply to, each with the reason.",
    "items": {
        "type": "object",
        "properties": {"resource": {"type": "string"}, "reason": {"type": "string"}},
        "required": ["resource", "reason"],
    },
    "default": [],
}

ResourceCheck = Callable[[ResourceValidationArgs, Mapping[str, Any]], Iterable[str]]
StackCheck = Callable[[list[PolicyResource], Mapping[str, Any]],
                      Iterable[tuple[PolicyResource, str]]]


def requires(key: str, message: str) -> ResourceCheck:
    """A check that the resource sets input `key` (known or not: it holds at a first preview)."""
    def check(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterable[str]:
        return [] if has(args.props, key) else [message]
    return check


def waived(config: Mapping[str, Any]) -> dict[str, str]:
    """Logical resource name -> reason, from the rule's `waivers`."""
    return {w["resource"]: w["reason"] for w in config.get("waivers", [])}


def settings(config: Mapping[str, Any] | None, properties: Mapping[str, dict]) -> dict[str, Any]:
    """The rule's config with each property's schema default filled in."""
    values = {key: schema["default"] for key, schema in properties.items() if "default" in schema}
    return {"waivers": [], **values, **(config or {})}


@dataclass(frozen=True, kw_only=True)
class _Guardrail:
    id: str
    description: str
    """One line: what the rule demands."""
    remediation: str
    """What to change when a resource breaks it."""
    url: str
    """The AWS page the rule rests on."""
    level: EnforcementLevel = EnforcementLevel.MANDATORY
    properties: dict[str, dict] = field(default_factory=dict)
    """JSON schemas (with defaults) of the rule's settings in the per-stack file."""

    def _schema(self) -> PolicyConfigSchema:
        return PolicyConfigSchema(properties={"waivers": WAIVERS_SCHEMA, **self.properties})

    def _message(self, message: str) -> str:
        return f"{message}. Fix: {self.remediation}"


@dataclass(frozen=True, kw_only=True)
class Rule(_Guardrail):
    """Checks each resource of `types` on its own (its inputs)."""

    types: Container[str]
    check: ResourceCheck

    def evaluate(self, args: ResourceValidationArgs, report: ReportViolation) -> None:
        config = settings(args.get_config(), self.properties)
        if args.resource_type not in self.types or args.name in waived(config):
            return
        for message in self.check(args, config):
            report(self._message(message), None)

    def policy(self) -> ResourceValidationPolicy:
        return ResourceValidationPolicy(
            name=self.id, description=self.description, validate=self.evaluate,
            enforcement_level=self.level, config_schema=self._schema(),
            remediation_steps=self.remediation, url=self.url)


@dataclass(frozen=True, kw_only=True)
class StackRule(_Guardrail):
    """Checks the stack's resources together, linked by property dependencies and parents
    (which hold at a first preview, when the values that link them are still unknown)."""

    check: StackCheck

    def evaluate(self, args: StackValidationArgs, report: ReportViolation) -> None:
        config = settings(args.get_config(), self.properties)
        skip = waived(config)
        for resource, message in self.check(args.resources, config):
            if resource.name not in skip:
                report(self._message(message), resource.urn)

    def policy(self) -> StackValidationPolicy:
        return StackValidationPolicy(
            name=self.id, description=self.description, validate=self.evaluate,
            enforcement_level=self.level, config_schema=self._schema(),
            remediation_steps=self.remediation, url=self.url)
