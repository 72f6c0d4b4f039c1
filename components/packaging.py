"""Code that Pulumi ships (jobs/, queries/, the image context), named by its content hash so that
any change to it redeploys what runs it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pulumi

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_SKIPPED_PARTS = {"__pycache__", ".pytest_cache"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}


@dataclass(frozen=True)
class SourceTree:
    """The files under `root/<folder>` (sorted, caches skipped); `folder` may name one file."""

    folder: str
    root: Path = PROJECT_ROOT

    def files(self) -> list[Path]:
        base = self.root / self.folder
        if base.is_file():
            return [base]
        if not base.is_dir():
            return []
        return sorted(path for path in base.rglob("*")
                      if path.is_file() and not _SKIPPED_PARTS & set(path.parts)
                      and path.suffix not in _SKIPPED_SUFFIXES)

    def digest(self) -> str:
        """sha256 of every file's path and bytes: 16 hex digits, stable across machines."""
        sha = hashlib.sha256()
        for path in self.files():
            sha.update(path.relative_to(self.root).as_posix().encode() + b"\0")
            sha.update(path.read_bytes() + b"\0")
        return sha.hexdigest()[:16]

    def archive(self) -> pulumi.AssetArchive:
        """A zip with the files at their paths relative to the root (`jobs/...`), so that
        `import jobs` works wherever the zip is on the path."""
        return pulumi.AssetArchive({path.relative_to(self.root).as_posix():
                                    pulumi.FileAsset(str(path)) for path in self.files()})


def combined_digest(*trees: SourceTree) -> str:
    sha = hashlib.sha256("".join(tree.digest() for tree in trees).encode())
    return sha.hexdigest()[:16]
