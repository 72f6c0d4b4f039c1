"""Required tags on every taggable resource. Which resource types take tags is read from the
installed pulumi_aws itself: a resource whose args accept `tags` is taggable, so a new
pulumi-aws release brings its new types along without a list to maintain."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Container, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pulumi_policy import ResourceValidationArgs

from policies.resources import value
from policies.rule import Rule

# In each generated resource module: the type token passed to the resource's constructor, and
# the line that stores a `tags` input.
TYPE_TOKEN = re.compile(r"super\(\w+, __self__\)\.__init__\(\s*'(aws:[^']+)'")
TAGS_INPUT = '__props__.__dict__["tags"] = tags'
DEFAULT_TAGS = ["project", "stack", "managed-by"]


@cache
def taggable_types() -> frozenset[str]:
    """Every pulumi_aws resource type whose args take `tags`."""
    spec = importlib.util.find_spec("pulumi_aws")
    if spec is None or spec.origin is None:
        raise RuntimeError("pulumi_aws is not installed where the policy pack runs")
    found: set[str] = set()
    for path in Path(spec.origin).parent.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if TAGS_INPUT in text:
            found.update(TYPE_TOKEN.findall(text))
    return frozenset(found)


class TaggableTypes(Container[str]):
    """The rule's `types`: looked up in pulumi_aws when first asked."""

    def __contains__(self, resource_type: object) -> bool:
        return resource_type in taggable_types()


def _tagged(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[str]:
    tags = value(args.props, "tags", default={})
    missing = [key for key in config["requiredTags"] if key not in tags]
    if missing:
        yield f"missing tags: {', '.join(missing)}"


RULES = [
    Rule(
        id="required-tags",
        description="Every taggable AWS resource carries the required tags",
        remediation="tag it (the lake's DataLake component adds project, stack, dataset, layer "
                    "and managed-by to everything it declares)",
        url="https://docs.aws.amazon.com/securityhub/latest/userguide/glue-controls.html#glue-1",
        properties={"requiredTags": {"type": "array", "items": {"type": "string"},
                                     "default": DEFAULT_TAGS}},
        types=TaggableTypes(), check=_tagged),
]
