"""Code that Pulumi ships (jobs/, queries/, the image context), named by its content hash so that
any change to it redeploys what runs it."""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pulumi

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_SKIPPED_PARTS = {"__pycache__", ".pytest_cache"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}


def files_digest(files: list[Path], root: Path) -> str:
    """sha256 of each file's path (relative to `root`) and bytes: 16 hex digits, the same on
    every machine."""
    sha = hashlib.sha256()
    for path in files:
        sha.update(path.relative_to(root).as_posix().encode() + b"\0")
        sha.update(path.read_bytes() + b"\0")
    return sha.hexdigest()[:16]


def files_archive(files: list[Path], root: Path) -> pulumi.AssetArchive:
    """A zip with the files at their paths relative to `root` (`jobs/...`), so that
    `import jobs` works wherever the zip is on the path."""
    return pulumi.AssetArchive({path.relative_to(root).as_posix(): pulumi.FileAsset(str(path))
                                for path in files})


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
        return files_digest(self.files(), self.root)

    def archive(self) -> pulumi.AssetArchive:
        return files_archive(self.files(), self.root)


def image_digest(dockerfile: Path, *trees: SourceTree) -> str:
    """The image tag: sha256 of the Dockerfile and of every file of `trees` (the build context
    that `.dockerignore` admits) with its path, permission bits and bytes; 16 hex digits.

    docker-build rebuilds, and pushes again, whenever its own hash of the context changes, and
    that hash covers each file's mode as well as its bytes. A repository with immutable tags
    refuses a second push of a tag, so the tag must change whenever that hash can: a checkout
    whose files have other modes (another umask) gets a tag of its own."""
    sha = hashlib.sha256(dockerfile.read_bytes() + b"\0")
    for tree in trees:
        for path in tree.files():
            sha.update(path.relative_to(tree.root).as_posix().encode() + b"\0")
            sha.update(stat.filemode(path.stat().st_mode).encode() + b"\0")
            sha.update(path.read_bytes() + b"\0")
    return sha.hexdigest()[:16]


def _module_file(module: str, root: Path) -> Path | None:
    """The file of `module` (`a.b` -> `a/b.py` or `a/b/__init__.py`) under `root`, if any."""
    base = root / module.replace(".", "/")
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imported_modules(path: Path, package: str) -> set[str]:
    """The `package.*` modules that `path` imports anywhere in it (a `from a import b` names
    `a.b` too, which counts where `b` is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise ValueError(f"{path}: relative imports are not packaged; import "
                                 f"{package}.… absolutely")
            if node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name == package or name.startswith(package + ".")}


def import_closure(module: str, root: Path = PROJECT_ROOT) -> list[Path]:
    """The files that running `module` needs from its top-level package: its own file, every
    module of the package it imports (directly or through another), and the `__init__.py` of
    each package on the way; sorted. Derived from the code, so it never goes stale."""
    package = module.split(".")[0]
    seen: set[Path] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            path = _module_file(".".join(parts[:depth]), root)
            if path is None or path in seen:
                continue
            seen.add(path)
            todo.extend(_imported_modules(path, package))
    return sorted(seen)


WHEEL_DATE = (1980, 1, 1, 0, 0, 0)  # zip's earliest date: the same bytes on every machine


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


@dataclass(frozen=True)
class EntryPoint:
    """What one deployable runs: a module (`jobs.gold.export`) and the project files it imports.

    Its digest covers exactly those files, so a change elsewhere in the project redeploys
    nothing that does not run it."""

    module: str
    root: Path = PROJECT_ROOT

    @property
    def script(self) -> Path:
        path = _module_file(self.module, self.root)
        if path is None:
            raise FileNotFoundError(f"no module {self.module} under {self.root}")
        return path

    def files(self) -> list[Path]:
        return import_closure(self.module, self.root)

    def digest(self) -> str:
        """sha256 of every file's path and bytes: 16 hex digits, stable across machines."""
        return files_digest(self.files(), self.root)

    def archive(self) -> pulumi.AssetArchive:
        return files_archive(self.files(), self.root)

    def wheel_name(self, distribution: str) -> str:
        return f"{distribution}-1-py3-none-any.whl"

    def wheel(self, distribution: str) -> bytes:
        """A pure-Python wheel of `files()` (what Glue's Python shell takes in
        `--extra-py-files`), byte for byte the same for the same files."""
        info = f"{distribution}-1.dist-info"
        entries = [(path.relative_to(self.root).as_posix(), path.read_bytes())
                   for path in self.files()]
        entries.append((f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {distribution}\n"
                                            f"Version: 1\n".encode()))
        entries.append((f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: datalake\n"
                                         b"Root-Is-Purelib: true\nTag: py3-none-any\n"))
        record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in entries)
        entries.append((f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode()))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in entries:
                member = zipfile.ZipInfo(name, date_time=WHEEL_DATE)
                member.external_attr = 0o644 << 16
                member.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(member, data)
        return buffer.getvalue()
