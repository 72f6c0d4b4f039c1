"""What `docker build` sends of the project as the ingestion image's context: the files the
project's .dockerignore admits, read with docker-py's matcher (the docker CLI's rules)."""

from __future__ import annotations

from policies.mocks import PROJECT_ROOT


def sent_files() -> set[str]:
    """Paths relative to the project; docker-py adds .dockerignore itself, as the CLI does, and
    docker-build hashes the Dockerfile on its own (so does the image tag)."""
    from docker.utils.build import exclude_paths

    patterns = [line for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    return {path for path in exclude_paths(str(PROJECT_ROOT), patterns)
            if (PROJECT_ROOT / path).is_file()} - {".dockerignore"}
