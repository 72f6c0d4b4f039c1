"""Run the Pulumi program (or any component) under Pulumi's mocks and record what it declares:
what `make policy` (policies/check.py) checks and what the tests inspect.

No Pulumi CLI and no cloud: `set_mocks` answers every resource registration and provider call in
process. Each run sets its own mocks and config; nothing happens at import time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import runpy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROJECT = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())["name"]
ACCOUNT = "123456789012"
REGION = "sa-east-1"  # São Paulo: both stacks keep Brazilian data in Brazil
STACKS = ("dev", "prod")


@dataclass
class Resource:
    type: str
    name: str
    inputs: dict[str, Any]
    id: str
    state: dict[str, Any] = field(default_factory=dict)
    """What the (mock) provider reported back: inputs plus ARNs, URLs, ids."""

    @property
    def arn(self) -> str:
        return self.state["arn"]

    def get(self, *path: str, default: Any = None) -> Any:
        value: Any = self.inputs
        for key in path:
            if not isinstance(value, dict) or key not in value:
                return default
            value = value[key]
        return value

    def json(self, key: str) -> Any:
        """An input that holds a JSON document (policies, patterns), parsed."""
        return json.loads(self.inputs[key])


@dataclass
class Registration:
    """A resource as the engine received it, and as it hands it to a policy pack: serialized
    inputs (unknowns as Pulumi's sentinel strings at a first preview), parent and dependencies
    as URNs."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    protect: bool
    properties: dict[str, Any]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]


def _physical_name(typ: str, name: str, inputs: dict[str, Any]) -> str:
    for key in ("bucket", "name", "functionName"):
        if isinstance(inputs.get(key), str):
            return inputs[key]
    return name


def _computed_state(typ: str, name: str, inputs: dict[str, Any],
                    region: str) -> dict[str, Any]:
    """What the provider would report back: ids, ARNs and URLs derived from the inputs."""
    physical = _physical_name(typ, name, inputs)
    service = typ.split(":")[1].split("/")[0]
    state: dict[str, Any] = {"arn": f"arn:aws:{service}:{region}:{ACCOUNT}:{physical}"}
    if typ == "aws:s3/bucket:Bucket":
        state.update(arn=f"arn:aws:s3:::{physical}", bucket=physical)
    elif typ in ("aws:iam/role:Role", "aws:iam/policy:Policy"):
        kind = typ.split(":")[-1].lower()
        state["arn"] = f"arn:aws:iam::{ACCOUNT}:{kind}/{physical}"
    elif typ == "aws:kms/key:Key":
        state.update(arn=f"arn:aws:kms:{region}:{ACCOUNT}:key/{name}", keyId=name)
    elif typ == "aws:ecr/repository:Repository":
        state.update(registryId=ACCOUNT,
                     repositoryUrl=f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{physical}",
                     arn=f"arn:aws:ecr:{region}:{ACCOUNT}:repository/{physical}")
    elif (typ == "docker-build:index:Image" and inputs.get("push")
          and isinstance((inputs.get("tags") or [None])[0], str)):
        # What docker-build reports after a push: the first tag, pinned to the build's digest
        # (here a stand-in made from the repository, so snapshots do not move with the code).
        repository = inputs["tags"][0].rpartition(":")[0]
        digest = "sha256:" + hashlib.sha256(repository.encode()).hexdigest()
        state.update(digest=digest, ref=f"{inputs['tags'][0]}@{digest}")
    elif typ == "aws:cloudwatch/logGroup:LogGroup":
        state["arn"] = f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{physical}"
    elif typ == "aws:lambda/function:Function":
        state["arn"] = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{physical}"
    elif typ == "aws:sns/topic:Topic":
        state["arn"] = f"arn:aws:sns:{region}:{ACCOUNT}:{physical}"
    elif typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
        state["arn"] = f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{physical}"
    elif typ == "aws:cloudtrail/trail:Trail":
        state["arn"] = f"arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/{physical}"
    if "name" not in inputs and typ.startswith("aws:"):
        state["name"] = physical
    return state


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self, region: str = REGION) -> None:
        self.resources: list[Resource] = []
        self.region = region
        self.first_preview = False
        """Set by `run(preview=True)`: like a stack's first `pulumi preview`, nothing exists yet,
        so the engine learns no id and no computed output (ARNs, ids) of any resource."""
        self.log = _RecordingLog()
        """What the program told the engine to show (pulumi.log.warn, …), by level."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        inputs = dict(args.inputs)
        state = {**inputs, **_computed_state(args.typ, args.name, inputs, self.region)}
        resource_id = state.get("bucket") if args.typ == "aws:s3/bucket:Bucket" else None
        resource_id = resource_id or f"{args.name}-id"
        self.resources.append(Resource(args.typ, args.name, inputs, resource_id, state))
        if self.first_preview:
            return "", inputs
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/ci",
                    "userId": "AIDATEST", "id": ACCOUNT}
        if token == "aws:index/getRegion:getRegion":
            return {"region": self.region, "name": self.region, "id": self.region}
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {"userName": "AWS", "password": "mock-password", "id": ACCOUNT,
                    "proxyEndpoint": f"https://{ACCOUNT}.dkr.ecr.{self.region}.amazonaws.com",
                    "authorizationToken": "bW9jaw==", "expiresAt": "2030-01-01T00:00:00Z"}
        raise AssertionError(f"unexpected provider call in the program: {token}")


def stack_config(stack: str) -> dict[str, Any]:
    """The `config:` block of Pulumi.<stack>.yaml as written."""
    path = PROJECT_ROOT / f"Pulumi.{stack}.yaml"
    return yaml.safe_load(path.read_text())["config"]


def raw_config(stack: str = "dev") -> dict[str, Any]:
    """The stack file's `datalake:*` values without the namespace, as parse_config takes them."""
    return {key.split(":", 1)[1]: value for key, value in stack_config(stack).items()
            if key.startswith("datalake:")}


def as_pulumi_config(config: dict[str, Any]) -> dict[str, str]:
    """Values as the Pulumi engine hands them to a program: strings, objects as JSON."""
    def text(value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value)

    return {key: text(value) for key, value in config.items()}


class RecordingMonitor(pulumi.runtime.mocks.MockMonitor):
    """The mocks' resource monitor, with the engine's URNs (every parent's type in the chain,
    as `pulumi.resource.create_urn` makes them) and each resource's aliases as URNs."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.urns: dict[str, list[str]] = {}
        """URN -> the URNs its aliases name (what the engine would take as the same resource)."""
        self.registrations: list[Registration] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The stack's children carry no parent type; everyone else carries the whole chain.
        if parent and parent.split("::")[2] != "pulumi:pulumi:Stack":
            return parent[:parent.rfind("::")] + "$" + type_ + "::" + name
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def RegisterResource(self, request):  # noqa: N802 - the gRPC method's name
        urn = self.make_urn(request.parent, request.type, request.name)
        aliases = []
        for alias in request.aliases:
            if alias.urn:
                aliases.append(alias.urn)
                continue
            spec = alias.spec
            parent = "" if spec.noParent else (spec.parentUrn or request.parent)
            aliases.append(self.make_urn(parent, spec.type or request.type,
                                         spec.name or request.name))
        self.urns[urn] = aliases
        self.registrations.append(Registration(
            urn, request.type, request.name, request.parent, request.custom, request.protect,
            json_format.MessageToDict(request.object), list(request.dependencies),
            {key: list(value.urns) for key, value in request.propertyDependencies.items()}))
        return super().RegisterResource(request)


class _RecordingLog(logging.Handler):
    """A logger for the mocks' engine that keeps every message it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.logger = logging.getLogger(f"pulumi-mocks-{id(self)}")
        self.logger.propagate = False
        self.logger.setLevel(logging.DEBUG)
        self.logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == level]


@dataclass
class Deployment:
    """What a program declared: every resource, the values it exported, and the warnings it
    showed (what `pulumi preview` prints)."""

    stack: str
    resources: list[Resource]
    outputs: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    urns: dict[str, list[str]] = field(default_factory=dict)
    """Every resource's URN (components and the stack included) -> its aliases' URNs."""
    registrations: list[Registration] = field(default_factory=list)
    """Every resource (components and the stack included) as the engine received it."""

    @property
    def stack_prefix(self) -> str:
        """`<project>-<stack>-enem`: what the program's lake names its resources after."""
        return f"{PROJECT}-{self.stack}-enem"

    def of_type(self, typ: str) -> list[Resource]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str, name_suffix: str = "") -> Resource:
        found = [r for r in self.of_type(typ) if r.name.endswith(name_suffix)]
        assert len(found) == 1, f"expected one {typ} named *{name_suffix}, got {found}"
        return found[0]

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)


def run(program: Callable[[], Any], *, stack: str, config: dict[str, Any],
        preview: bool = False, mocks: RecordingMocks | None = None) -> Deployment:
    """Run `program` under fresh mocks and config; return what it declared.

    `program` may return a dict of Outputs; they are resolved into `Deployment.outputs`.
    Pass `mocks` to inspect what was declared when the program fails.
    """
    mocks = mocks or RecordingMocks(region=config.get("aws:region", REGION))
    mocks.first_preview = preview
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview,
                             logger=mocks.log.logger, monitor=monitor)
    pulumi.runtime.set_all_config(as_pulumi_config(config))
    result: dict[str, Any] = {}

    async def body() -> None:
        exported = program() or {}
        for key, value in exported.items():
            result[key] = await pulumi.Output.from_input(value).future()

    _sync_await(run_pulumi_func(body))
    return Deployment(stack, mocks.resources, result, mocks.log.messages(logging.WARNING),
                      monitor.urns, monitor.registrations)


def run_main(stack: str, config: dict[str, Any] | None = None,
             mocks: RecordingMocks | None = None, preview: bool = False,
             extra: Callable[[], Any] | None = None) -> Deployment:
    """Run the real `__main__.py` for `stack` with its Pulumi.<stack>.yaml (or `config`);
    `extra` declares more resources after it, as a change to the program would."""
    def program() -> dict[str, Any]:
        namespace = runpy.run_path(str(PROJECT_ROOT / "__main__.py"))
        if extra is not None:
            extra()
        return namespace["lake"].outputs

    return run(program, stack=stack, mocks=mocks, preview=preview,
               config=stack_config(stack) if config is None else config)
