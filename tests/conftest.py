"""Fixtures: each stack's whole program, run once per test session under Pulumi mocks."""

from __future__ import annotations

import pytest

from tests.pulumi_harness import Deployment, run_main

STACKS = ("dev", "prod")


@pytest.fixture(scope="session")
def deployments() -> dict[str, Deployment]:
    return {stack: run_main(stack) for stack in STACKS}


@pytest.fixture(scope="session")
def dev(deployments: dict[str, Deployment]) -> Deployment:
    return deployments["dev"]


@pytest.fixture(scope="session")
def prod(deployments: dict[str, Deployment]) -> Deployment:
    return deployments["prod"]


@pytest.fixture(params=STACKS)
def deployment(request: pytest.FixtureRequest, deployments: dict[str, Deployment]) -> Deployment:
    return deployments[request.param]
