"""Run bootstrap/__main__.py under Pulumi's mocks (tests/pulumi_harness.py), with IAM's real
OIDC provider ARN and an existing provider to find."""

from __future__ import annotations

import runpy
from typing import Any

import pulumi

from bootstrap.delivery import AUDIENCE
from tests.pulumi_harness import ACCOUNT, PROJECT_ROOT, REGION, Deployment, RecordingMocks, run

BOOTSTRAP = PROJECT_ROOT / "bootstrap"
REPOSITORY = "my-org/enem-datalake"
CONFIG = {"aws:region": REGION, "bootstrap:repository": REPOSITORY}
OIDC = "token.actions.githubusercontent.com"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC}"
EXISTING_PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC}#existing"
PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
GET_PROVIDER = "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider"


class BootstrapMocks(RecordingMocks):
    """The harness's mocks, plus IAM's real OIDC provider ARN and an existing provider to find."""

    def __init__(self, existing_audiences: tuple[str, ...] = (AUDIENCE,)) -> None:
        super().__init__()
        self.existing_audiences = existing_audiences
        self.lookups: list[dict[str, Any]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        resource_id, state = super().new_resource(args)
        if args.typ == PROVIDER:
            state["arn"] = PROVIDER_ARN  # the recorded Resource holds this same dict
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        if args.token == GET_PROVIDER:
            self.lookups.append(dict(args.args))
            return {"arn": EXISTING_PROVIDER_ARN, "id": EXISTING_PROVIDER_ARN, "url": OIDC,
                    "clientIdLists": list(self.existing_audiences), "thumbprintLists": [],
                    "tags": {}}
        return super().call(args)


def bootstrap(config: dict[str, Any] | None = None,
              mocks: RecordingMocks | None = None) -> Deployment:
    """Run bootstrap/__main__.py with CONFIG plus `config`; return what it declared."""
    def program() -> dict[str, Any]:
        return runpy.run_path(str(BOOTSTRAP / "__main__.py"))["delivery"].outputs

    return run(program, stack="github", config={**CONFIG, **(config or {})},
               mocks=mocks or BootstrapMocks())
