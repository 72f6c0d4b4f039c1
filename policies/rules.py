"""Every guardrail of the pack, in the order they are reported: the one list that the pack
(`__main__.py`) and `make policy` (`check.py`) use."""

from __future__ import annotations

from policies import athena, glue, iam, s3, services, tags
from policies.rule import Rule, StackRule

RULES: list[Rule | StackRule] = [*s3.RULES, *iam.RULES, *services.RULES, *glue.RULES,
                                 *athena.RULES, *tags.RULES]
BY_ID = {rule.id: rule for rule in RULES}
