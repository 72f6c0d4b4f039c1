"""The ingestion image (images/ingest/Dockerfile) has what its entrypoint imports and nothing it
must not have. No Docker engine here: the Dockerfile is read, and linted by hadolint in
`make lint`."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from components.packaging import PROJECT_ROOT

DOCKERFILE = PROJECT_ROOT / "images" / "ingest" / "Dockerfile"
ENTRY_MODULE = "jobs.ingest.download"


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    return [(line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1])
            for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def copied_files() -> set[str]:
    """Project files the image copies (COPY <sources...> <dest>), relative to the root."""
    files: set[str] = set()
    for verb, rest in instructions():
        if verb != "COPY" or rest.startswith("--from"):
            continue
        for source in rest.split()[:-1]:
            path = PROJECT_ROOT / source
            files.update(p.relative_to(PROJECT_ROOT).as_posix() for p in
                         (path.rglob("*.py") if path.is_dir() else [path]))
    return files


def imports_of(module: str, seen: dict[str, set[str]]) -> None:
    """Walk `jobs.*` imports from `module`; collect third-party top-level names per module."""
    if module in seen:
        return
    path = PROJECT_ROOT / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = PROJECT_ROOT / module.replace(".", "/") / "__init__.py"
    seen[module] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                 else [node.module] if isinstance(node, ast.ImportFrom) and node.module
                 and node.level == 0 else [])
        for name in names:
            if name.startswith("jobs."):
                imports_of(name, seen)
            elif name != "jobs" and name.split(".")[0] not in sys.stdlib_module_names:
                seen[module].add(name.split(".")[0])


def test_the_image_copies_every_module_the_entrypoint_imports() -> None:
    seen: dict[str, set[str]] = {}
    imports_of(ENTRY_MODULE, seen)
    needed = {m.replace(".", "/") + ".py" for m in seen} | {"jobs/__init__.py",
                                                           "jobs/ingest/__init__.py"}
    needed = {n for n in needed if (PROJECT_ROOT / n).exists()}
    assert needed - copied_files() == set()
    # and the Spark job, the CLI and the dataset code stay out of the image
    assert not {f for f in copied_files() if f.startswith(("jobs/process", "jobs/enem"))}


def test_the_image_installs_exactly_the_pinned_third_party_imports() -> None:
    seen: dict[str, set[str]] = {}
    imports_of(ENTRY_MODULE, seen)
    third_party = set().union(*seen.values())
    run = " ".join(rest for verb, rest in instructions() if verb == "RUN")
    installed = set(re.search(r"\^\(([^)]*)\)==", run).group(1).split("|"))
    imported_as = {name.replace("-", "_") for name in installed}
    assert third_party <= imported_as | {"botocore"}  # botocore comes with boto3
    pins = (PROJECT_ROOT / "requirements.txt").read_text()
    assert all(re.search(rf"^{name}==\S+$", pins, re.MULTILINE) for name in installed)


def test_the_image_runs_the_download_as_a_non_root_user() -> None:
    steps = instructions()
    bases = [rest.split()[0] for verb, rest in steps if verb == "FROM"]
    assert all(re.fullmatch(r"python:\d+\.\d+\.\d+(-slim)?-\w+", base) for base in bases)
    assert "-slim-" in bases[-1]  # the runtime stage; only the wheel stage has a compiler
    users = [rest for verb, rest in steps if verb == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert steps[-1] == ("ENTRYPOINT", '["python", "-m", "jobs.ingest.download"]')


def test_the_docker_context_sends_what_the_image_copies() -> None:
    ignore = (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
    allowed = [line[1:].rstrip("/") for line in ignore if line.startswith("!")]
    for path in copied_files():
        assert any(Path(path).match(f"{a}*") or path.startswith(a.rstrip("*"))
                   for a in allowed), path
