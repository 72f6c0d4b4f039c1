"""The ingestion image (images/ingest/Dockerfile) has what its entrypoint imports and nothing
else. No Docker engine here: the Dockerfile is read, and linted by hadolint in `make lint`."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from components.packaging import PROJECT_ROOT, EntryPoint, SourceTree
from tests.docker_context import sent_files
from tests.lockfile import entries

DOCKERFILE = PROJECT_ROOT / "images" / "ingest" / "Dockerfile"
LOCK = PROJECT_ROOT / "images" / "ingest" / "requirements.txt"
CONTAINER = EntryPoint("jobs.ingest.download")


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
            found = path.rglob("*") if path.is_dir() else [path]
            files.update(p.relative_to(PROJECT_ROOT).as_posix() for p in found if p.is_file())
    return files


def closure() -> set[str]:
    return {path.relative_to(PROJECT_ROOT).as_posix() for path in CONTAINER.files()}


def third_party_imports(files: set[str]) -> set[str]:
    found: set[str] = set()
    for name in files:
        for node in ast.walk(ast.parse((PROJECT_ROOT / name).read_text())):
            roots = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module
                     else [])
            found |= {root.split(".")[0] for root in roots}
    return found - set(sys.stdlib_module_names) - {"jobs"}


def test_the_copy_lines_are_exactly_the_entrypoints_import_closure() -> None:
    python = {name for name in copied_files() if name.endswith(".py")}
    assert python == closure()
    # … listed file by file: the Dockerfile stays static, the same on every machine
    for verb, rest in instructions():
        if verb == "COPY" and not rest.startswith("--from"):
            assert not any(source.startswith("jobs") and source.endswith("/")
                           for source in rest.split()[:-1]), rest


def test_the_docker_context_sends_exactly_what_the_image_copies() -> None:
    sent = sent_files()
    image = {path.relative_to(PROJECT_ROOT).as_posix()
             for path in SourceTree("images/ingest").files()}
    assert sent == closure() | image
    assert copied_files() <= sent


def test_the_image_installs_its_lock_hash_checked_and_covers_what_the_code_imports() -> None:
    pins = {entry.name.replace("-", "_"): entry.version for entry in entries(LOCK)}
    assert third_party_imports(closure()) <= set(pins)
    run = " ".join(rest for verb, rest in instructions() if verb == "RUN")
    installs = [part for part in run.split("&&") if "pip install" in part]
    assert len(installs) == 2 and all("--require-hashes" in part for part in installs)
    assert "-r /tmp/pip-lock.txt" in installs[0]  # pip itself, from its entry in the lock
    assert "--build-constraint /tmp/requirements.txt -r /tmp/requirements.txt" in installs[1]
    assert ("COPY", "images/ingest/requirements.txt /tmp/requirements.txt") in instructions()
    assert ("COPY", "--from=venv /opt/venv /opt/venv") in instructions()


def test_the_image_runs_the_download_as_a_non_root_user() -> None:
    steps = instructions()
    bases = [rest.split()[0] for verb, rest in steps if verb == "FROM"]
    assert all(re.fullmatch(r"python:\d+\.\d+\.\d+(-slim)?-\w+", base) for base in bases)
    assert "-slim-" in bases[-1]  # the runtime stage; only the venv stage has a compiler
    users = [rest for verb, rest in steps if verb == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert steps[-1] == ("ENTRYPOINT", f'["python", "-m", "{CONTAINER.module}"]')


def test_the_spark_job_and_the_cli_stay_out_of_the_image() -> None:
    assert not {name for name in copied_files()
                if name.startswith(("jobs/process", "jobs/enem", "jobs/gold", "lake/"))}
    assert Path(DOCKERFILE).is_file()
