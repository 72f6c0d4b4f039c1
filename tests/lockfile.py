"""Reading a lock that `make lock` (uv pip compile --generate-hashes) writes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name


@dataclass(frozen=True)
class Locked:
    name: str
    version: str
    marker: str
    hashes: tuple[str, ...]

    def applies(self) -> bool:
        return not self.marker or Marker(self.marker).evaluate()


def entries(lock: Path) -> list[Locked]:
    """The lock's requirements, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", lock.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        spec, _, options = line.partition(" --hash=")
        requirement, _, marker = spec.partition(";")
        name, equals, version = requirement.strip().partition("==")
        assert equals, f"{lock.name}: {line[:80]!r} is not pinned with =="
        hashes = tuple(re.findall(r"sha256:([0-9a-f]{64})", " --hash=" + options))
        found.append(Locked(canonicalize_name(name.split("[")[0]), version.strip(),
                            marker.strip(), hashes))
    return found
