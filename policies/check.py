"""`make policy`: the policy pack against both stacks where there is no Pulumi CLI.

Each stack's program runs under Pulumi's mocks twice: as `pulumi up` sees it (every value
known) and as a first `pulumi preview` does (nothing exists yet, so ids and ARNs are unknown).
Every rule then gets what CrossGuard would give it: each resource's serialized inputs, and the
whole graph with parents and property dependencies. The per-stack file
`policies/<stack>.json` is the one the workflows pass as `--policy-pack-config`: enforcement
levels, rule settings and waivers. One line per violation; exit status 1 on any mandatory one.

    .venv/bin/python -m policies.check [--stack NAME] [--also MODULE:FUNCTION] [--configs DIR]

NAME is any stack with a `Pulumi.NAME.yaml` beside the program (default: dev and prod) and a
`policies/NAME.json`. A stack file the program refuses stops the check with its one line.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from components.validate import ConfigError
from policies.mocks import PROJECT_ROOT, STACKS, Registration, run_main
from policies.rule import Rule, StackRule, settings, waived
from policies.rules import BY_ID, RULES

FOLDER = Path(__file__).resolve().parent
LEVELS = {level.value: level for level in EnforcementLevel}


class PolicyConfigError(Exception):
    """A per-stack policy file the CLI would misread: one line naming what to fix."""


@dataclass(frozen=True)
class Finding:
    stack: str
    resource: str
    rule: str
    level: str
    message: str
    waiver: str | None = None

    def line(self) -> str:
        if self.waiver is not None:
            return f"waived     {self.stack:<5} {self.resource}  {self.rule}: {self.waiver}"
        return f"{self.level:<10} {self.stack:<5} {self.resource}  {self.rule}: {self.message}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    waiting: dict[str, set[str]] = field(default_factory=dict)
    """Resource rules that a first preview cannot run: rule id -> resources (`pulumi up` runs
    them before it creates anything)."""

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "mandatory" and f.waiver is None]


def load_config(path: Path, stack_resources: set[str] | None = None) -> dict[str, Any]:
    """The per-stack file, checked as the CLI checks it (each rule's schema) and more strictly:
    a misspelt rule, setting or waived resource, which the CLI would ignore, is an error."""
    try:
        config = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise PolicyConfigError(f"{path}: cannot read it as JSON ({error})") from None
    for key, entry in config.items():
        if key != "all" and key not in BY_ID:
            raise PolicyConfigError(f"{path}: no rule named {key!r}; the rules are "
                                    f"{', '.join(BY_ID)}")
        entry = {"enforcementLevel": entry} if isinstance(entry, str) else dict(entry)
        if entry.get("enforcementLevel", "advisory") not in LEVELS:
            raise PolicyConfigError(f"{path}: {key}: enforcementLevel must be one of "
                                    f"{', '.join(LEVELS)}")
        if key == "all":
            continue
        rule = BY_ID[key]
        properties = {"waivers": {}, **rule.properties}
        unknown = set(entry) - set(properties) - {"enforcementLevel"}
        if unknown:
            raise PolicyConfigError(f"{path}: {key} has no setting {', '.join(sorted(unknown))}; "
                                    f"it takes {', '.join(properties)}")
        try:
            jsonschema.validate(entry, {"type": "object",
                                        "properties": dict(rule.policy().config_schema.properties)})
        except jsonschema.ValidationError as error:
            raise PolicyConfigError(f"{path}: {key}: {error.message}") from None
        for resource in waived(entry):
            if stack_resources is not None and resource not in stack_resources:
                raise PolicyConfigError(f"{path}: {key} waives {resource!r}, which the stack "
                                        "does not declare")
    return config


def level_of(rule: Rule | StackRule, config: dict[str, Any]) -> EnforcementLevel:
    """As the CLI resolves it: the rule's own entry, else `all`, else the rule's default."""
    for key in (rule.id, "all"):
        entry = config.get(key)
        level = entry if isinstance(entry, str) else (entry or {}).get("enforcementLevel")
        if level is not None:
            return LEVELS[level]
    return rule.level


def rule_settings(rule: Rule | StackRule, config: dict[str, Any]) -> dict[str, Any]:
    entry = config.get(rule.id)
    values = {} if entry is None or isinstance(entry, str) else dict(entry)
    values.pop("enforcementLevel", None)
    return settings(values, rule.properties)


def _props(registration: Registration) -> Any:
    return unknown_checking_proxy(deserialize_properties(registration.properties))


def _options(registration: Registration) -> PolicyResourceOptions:
    return PolicyResourceOptions(registration.protect, [], None, [],
                                 PolicyCustomTimeouts(0, 0, 0), [], registration.parent or None)


def policy_resources(registrations: list[Registration]) -> list[PolicyResource]:
    """The graph as AnalyzeStack hands it over: parents and dependencies as objects."""
    by_urn = {r.urn: PolicyResource(r.type, _props(r), r.urn, r.name, _options(r), None, None,
                                    [], {}) for r in registrations}
    for registration in registrations:
        resource = by_urn[registration.urn]
        resource.parent = by_urn.get(registration.parent)
        resource.dependencies = [by_urn[u] for u in registration.dependencies if u in by_urn]
        resource.property_dependencies = {
            key: [by_urn[u] for u in urns if u in by_urn]
            for key, urns in registration.property_dependencies.items()}
    return list(by_urn.values())


def _run(rule: Rule | StackRule, registrations: list[Registration],
         values: dict[str, Any]) -> tuple[list[tuple[str, str]], set[str]]:
    """(resource name, message) of each violation, waivers aside; and the resources whose
    values a first preview does not know, so that the (resource) rule waits for `pulumi up`."""
    names = {r.urn: r.name for r in registrations}
    found: list[tuple[str, str]] = []
    waiting: set[str] = set()
    if isinstance(rule, StackRule):
        args = StackValidationArgs(policy_resources(registrations), values)
        try:
            rule.evaluate(args, lambda message, urn: found.append(
                (names.get(urn or "", "(stack)"), message)))
        except UnknownValueError as error:  # CrossGuard would skip the whole rule
            found.append(("(stack)", f"cannot run at a first preview: {error.message}"))
        return found, waiting
    for registration in registrations:
        if registration.type not in rule.types:
            continue
        args = ResourceValidationArgs(registration.type, _props(registration), registration.urn,
                                      registration.name, _options(registration), None, values)
        try:
            rule.evaluate(args, lambda message, _urn, name=registration.name: found.append(
                (name, message)))
        except UnknownValueError:
            waiting.add(registration.name)
    return found, waiting


def evaluate(stack: str, registrations: list[Registration], config: dict[str, Any],
             report: Report) -> None:
    """Every rule against one run of a stack; findings and waits go into `report`."""
    for rule in RULES:
        level = level_of(rule, config).value
        if level == "disabled":
            continue
        values = rule_settings(rule, config)
        reasons = waived(values)
        found, waiting = _run(rule, registrations, {**values, "waivers": []})
        for name, message in found:
            finding = Finding(stack, name, rule.id, level, message, reasons.get(name))
            if finding not in report.findings:
                report.findings.append(finding)
        if waiting:
            report.waiting.setdefault(rule.id, set()).update(waiting)


def check_stack(stack: str, extra: Callable[[], Any] | None = None,
                configs: Path = FOLDER) -> Report:
    """Both runs of one stack (as `pulumi up` and as a first preview) against its file."""
    stack_file = PROJECT_ROOT / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")]
                       for p in PROJECT_ROOT.glob("Pulumi.*.yaml"))
        raise PolicyConfigError(f"no stack file {stack_file.name} in {PROJECT_ROOT}; the stacks "
                                f"are {', '.join(known)}")
    if not (configs / f"{stack}.json").is_file():
        raise PolicyConfigError(f"no policy file {configs / f'{stack}.json'} for stack {stack}; "
                                f"start from {FOLDER / 'dev.json'}")
    stack_config = read_stack_file(stack_file)
    report = Report()
    for preview in (False, True):
        try:
            deployment = run_main(stack, stack_config, preview=preview, extra=extra)
        except ConfigError as error:
            raise PolicyConfigError(str(error)) from None
        config = load_config(configs / f"{stack}.json", {r.name for r in deployment.registrations})
        evaluate(stack, deployment.registrations, config, report)
    return report


def read_stack_file(path: Path) -> dict[str, Any]:
    """The `config:` block of a stack file, or one line naming where the YAML is broken."""
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "not YAML"
        raise PolicyConfigError(f"{path.name}{where}: {problem}; fix the YAML") from None
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise PolicyConfigError(f"{path.name}: no `config:` block of settings")
    return document["config"]


def _extra(spec: str | None) -> Callable[[], Any] | None:
    if spec is None:
        return None
    module, _, function = spec.partition(":")
    return getattr(importlib.import_module(module), function)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make policy", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", action="append", metavar="NAME",
                        help="check this stack, Pulumi.NAME.yaml (repeatable; default: "
                             f"{' and '.join(STACKS)})")
    parser.add_argument("--also", metavar="MODULE:FUNCTION",
                        help="declare more resources after the program (a test's fixture)")
    parser.add_argument("--configs", type=Path, default=FOLDER, metavar="DIR",
                        help="where the <stack>.json files are (default: policies/)")
    options = parser.parse_args(argv)
    mandatory = advisory = waivers = 0
    for stack in options.stack or STACKS:
        try:
            report = check_stack(stack, _extra(options.also), options.configs)
        except PolicyConfigError as error:
            print(f"make policy: {error}", file=sys.stderr)
            return 2
        for finding in report.findings:
            print(finding.line())
        if report.waiting:
            print(f"preview    {stack:<5} a first preview cannot read what "
                  f"{', '.join(sorted(report.waiting))} check (ARNs not yet known); `pulumi up` "
                  "runs them before it creates each resource")
        mandatory += len(report.mandatory)
        waivers += sum(f.waiver is not None for f in report.findings)
        advisory += sum(f.level == "advisory" and f.waiver is None for f in report.findings)
    print(f"make policy: {len(RULES)} rules on {', '.join(options.stack or STACKS)}: "
          f"{mandatory} mandatory violations, {advisory} advisory, {waivers} waived",
          file=sys.stderr)
    return 1 if mandatory else 0


if __name__ == "__main__":
    sys.exit(main())
