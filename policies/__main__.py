"""The policy pack's entry point, run by the Pulumi CLI (`--policy-pack policies`).

The CLI puts only this folder on sys.path; the rules import each other as the `policies`
package, so the folder's parent goes first. `PolicyPack` serves the CLI until it stops: nothing
else may construct it (tests and `make policy` import `policies.rules`).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policies.rules import RULES  # noqa: E402

PolicyPack(
    name="datalake-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[rule.policy() for rule in RULES],
)
