"""A committed snapshot per stack of every resource's type, name and inputs.

A pull request that changes infrastructure changes `tests/__snapshots__/`, so the diff shows in
review. Accept an intended change with `make snapshot-update`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from components.packaging import EntryPoint, SourceTree, image_digest
from policies.mocks import PROJECT_ROOT, Deployment

# Content hashes change with every code edit; the snapshot is about infrastructure, so they are
# masked (tests/test_packaging.py checks that a code change does change them).
CODE_TREES = ("jobs", "queries", "images/ingest")


def _mask(text: str, digests: list[str]) -> str:
    for digest in digests:
        text = text.replace(digest, "<content-hash>")
    return text.replace(str(PROJECT_ROOT), "<project>")


def _code_digests(deployment: Deployment) -> list[str]:
    """The content hashes in the code objects' keys (`glue/<job>/<hash>/…`)."""
    return sorted({part for r in deployment.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
                   for part in r.get("key").split("/") if re.fullmatch(r"[0-9a-f]{16}", part)})


def plain(value: Any, digests: list[str]) -> Any:
    """Inputs as JSON-friendly data; assets and archives by their paths."""
    if isinstance(value, dict):  # a packaged wheel's bytes change with its code, like a hash
        return {key: "<base64 content>" if key == "contentBase64" else plain(value[key], digests)
                for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [plain(item, digests) for item in value]
    if isinstance(value, pulumi.FileAsset):
        return {"file": _mask(str(value.path), digests)}
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": sorted(value.assets)}
    if isinstance(value, str):
        if value[:1] in "{[":  # JSON documents (policies, patterns): diff them line by line
            try:
                return {"json": plain(json.loads(value), digests)}
            except ValueError:
                pass
        return _mask(value, digests)
    return value


def snapshot_of(deployment: Deployment) -> list[dict[str, Any]]:
    trees = [SourceTree(folder) for folder in CODE_TREES]
    digests = [tree.digest() for tree in trees]
    digests.append(image_digest(PROJECT_ROOT / "images/ingest/Dockerfile",
                                SourceTree("images/ingest"), EntryPoint("jobs.ingest.download")))
    digests += _code_digests(deployment)
    return sorted(({"type": r.type, "name": r.name, "inputs": plain(r.inputs, digests)}
                   for r in deployment), key=lambda r: (r["type"], r["name"]))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_infrastructure_matches_the_committed_snapshot(stack: str, deployments, snapshot) -> None:
    assert snapshot(extension_class=JSONSnapshotExtension) == snapshot_of(deployments[stack])


def test_snapshot_files_are_committed() -> None:
    folder = Path(__file__).parent / "__snapshots__" / "test_snapshot"
    names = {path.name for path in folder.glob("*.json")}
    assert {f"test_infrastructure_matches_the_committed_snapshot[{s}].json"
            for s in ("dev", "prod")} <= names
