"""Deployed stacks survive a reshape of the code: every resource keeps its identity (its URN, or
an alias naming it), so Pulumi never replaces it (and collides on its physical name).

`tests/urns/<stack>.txt` lists the URNs a stack may hold: every URN the program
declares, plus those its resources still answer to through `aliases`. `make snapshot-update`
rewrites it (new resources added, resources that are gone dropped); review that diff like the
infrastructure snapshot's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.mocks import STACKS, Deployment

URNS = Path(__file__).parent / "urns"


def committed(stack: str) -> set[str]:
    path = URNS / f"{stack}.txt"
    return set(path.read_text().split()) if path.exists() else set()


@pytest.mark.parametrize("stack", STACKS)
def test_every_deployed_resource_keeps_its_urn_or_an_alias_to_it(
        stack: str, deployments: dict[str, Deployment], request: pytest.FixtureRequest) -> None:
    current = deployments[stack].urns
    answers_to = set(current) | {alias for aliases in current.values() for alias in aliases}
    known = committed(stack)
    if request.config.getoption("--snapshot-update", default=False):
        URNS.mkdir(parents=True, exist_ok=True)
        (URNS / f"{stack}.txt").write_text(
            "\n".join(sorted((known & answers_to) | set(current))) + "\n")
        return
    lost = sorted(known - answers_to)
    assert lost == [], ("these resources would be replaced: give each new parent or name an "
                        "alias to its old URN (pulumi.Alias), or run `make snapshot-update` if "
                        f"the resource is meant to go: {lost}")
    new = sorted(set(current) - known)
    assert new == [], f"new resources; accept them with `make snapshot-update`: {new}"

