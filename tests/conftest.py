"""Fixtures: each stack's whole program, run once per test session under Pulumi mocks; moto's
AWS in server mode for the runtime code."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from policies.mocks import STACKS, Deployment, run_main
from tests.lake_run import LakeRun
from tests.lake_run import lake_run as run_the_lake
from tests.synth_data import con, lgpd_zip, original_zip, real  # noqa: F401 - fixtures


@pytest.fixture(scope="session")
def deployments() -> dict[str, Deployment]:
    return {stack: run_main(stack) for stack in STACKS}


@pytest.fixture(scope="session")
def dev(deployments: dict[str, Deployment]) -> Deployment:
    return deployments["dev"]


@pytest.fixture(scope="session")
def prod(deployments: dict[str, Deployment]) -> Deployment:
    return deployments["prod"]


@pytest.fixture(scope="session")
def bootstrap_s3() -> Deployment:
    """bootstrap/ as declared with the S3 state backend (tests/bootstrap_harness.py)."""
    from tests.bootstrap_harness import bootstrap

    return bootstrap()


@pytest.fixture(scope="session")
def bootstrap_cloud() -> Deployment:
    """bootstrap/ as declared with Pulumi Cloud as the state backend (no bucket, no key)."""
    from tests.bootstrap_harness import bootstrap

    return bootstrap({"bootstrap:stateBackend": "cloud"})


@pytest.fixture(scope="session")
def http_server():
    """One misbehaving local HTTP server (tests/http_fixture.py) for the whole session."""
    from tests.http_fixture import Server

    server = Server()
    yield server
    server.close()


@pytest.fixture(scope="session")
def inep_zip(tmp_path_factory) -> bytes:
    """INEP's layout as `lake synth` writes it: ZIP64 Deflate members, cp850 names, ~7 MB CSV."""
    from lake.synth import archive

    out = tmp_path_factory.mktemp("zip") / "microdados_enem_2019.zip"
    archive.write_zip(out, 12_000, "original")
    return out.read_bytes()


@pytest.fixture(params=STACKS)
def deployment(request: pytest.FixtureRequest, deployments: dict[str, Deployment]) -> Deployment:
    return deployments[request.param]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """URL of one moto server (every AWS service) on a free local port, for the whole session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """boto3 clients created in this test talk to moto, as a fake account in sa-east-1."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "sa-east-1",
                       "AWS_REGION": "sa-east-1", "AWS_ENDPOINT_URL": moto_endpoint}.items():
        monkeypatch.setenv(key, value)
    return moto_endpoint


@pytest.fixture
def s3_bucket(moto_env: str, request: pytest.FixtureRequest) -> str:
    """An empty bucket in moto, named after the test (bucket names are global in moto)."""
    import uuid

    import boto3

    name = f"t-{uuid.uuid4().hex[:8]}-{request.node.name[:40].lower()}"
    name = re.sub(r"[^a-z0-9-]+", "-", name).strip("-")[:63]
    boto3.client("s3").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "sa-east-1"})
    return name


@pytest.fixture(scope="session")
def lake_run(tmp_path_factory: pytest.TempPathFactory) -> LakeRun:
    """`lake run` once on 3,000 synthetic rows (LGPD layout), stack `test`."""
    return run_the_lake(tmp_path_factory.mktemp("lake"),
                        tmp_path_factory.mktemp("zip") / "microdados_enem_2019.zip")
