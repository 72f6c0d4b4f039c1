"""AWS's rules for the lake's ingestion (ECR and docker-build, SageMaker processing, Lambda),
stated once each, with the page each comes from, checked against both stacks as declared and
against the trigger's requests."""

from __future__ import annotations

import os
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

from components.packaging import EntryPoint, SourceTree, image_digest
from jobs.contract import MAX_CONTAINER_ARGUMENT
from jobs.ingest.trigger import Settings, job_request
from policies.mocks import PROJECT_ROOT, Deployment
from tests.docker_context import sent_files


def test_an_immutable_tag_is_pushed_once_so_the_build_inputs_are_the_same_everywhere(
        deployment: Deployment) -> None:
    """"After tag immutability is turned on, the ImageTagAlreadyExistsException error is
    returned if you push an image with a tag that is already in the repository."
    https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html
    docker-build rebuilds and pushes when its inputs or its context hash change, so the inputs
    are relative paths and the tag covers what that hash covers (tests below)."""
    assert deployment.one("aws:ecr/repository:Repository").get(
        "imageTagMutability") == "IMMUTABLE"
    image = deployment.one("docker-build:index:Image")
    for location in (image.get("context", "location"), image.get("dockerfile", "location")):
        assert not os.path.isabs(location) and ".." not in Path(location).parts, location
    assert (PROJECT_ROOT / image.get("dockerfile", "location")).is_file()
    assert (PROJECT_ROOT / image.get("context", "location")).resolve() == PROJECT_ROOT


def test_the_lambda_starts_jobs_on_the_pushed_image_by_digest(deployment: Deployment) -> None:
    """docker-build's `Image.ref`: "If the image was pushed to any registries then this will
    contain a single fully-qualified tag including the build's digest"
    (https://www.pulumi.com/registry/packages/docker-build/api-docs/image/#ref_python); a name
    built from the repository URL and the tag "does not include any digest information and thus
    will not cause any updates when passed to dependencies"
    (https://www.pulumi.com/registry/packages/docker/api-docs/image/, "Image name"). So the
    trigger's PROCESSING_IMAGE_URI is the ref: an output of the push, which Pulumi resolves only
    after the push succeeded, and the Lambda waits for it. SageMaker takes it as
    AppSpecification.ImageUri, at most 255 characters
    (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AppSpecification.html)."""
    image = deployment.one("docker-build:index:Image")
    [image_urn] = [r.urn for r in deployment.registrations
                   if r.type == "docker-build:index:Image"]
    [function] = [r for r in deployment.registrations
                  if r.type == "aws:lambda/function:Function"]
    assert image_urn in function.property_dependencies["environment"]
    uri = deployment.one("aws:lambda/function:Function").get(
        "environment", "variables")["PROCESSING_IMAGE_URI"]
    assert re.fullmatch(re.escape(image.get("tags")[0]) + r"@sha256:[0-9a-f]{64}", uri)
    assert len(uri) <= 255


def test_the_image_tag_covers_exactly_the_files_docker_sends(tmp_path: Path) -> None:
    """docker-build hashes the Dockerfile and each file .dockerignore admits, with its path and
    mode (pulumi-docker-build, provider/internal/context.go hashBuildContext); the tag must
    change whenever that hash can (ECR page above)."""
    sent = sent_files()
    tagged = {path.relative_to(PROJECT_ROOT).as_posix()
              for tree in (SourceTree("images/ingest"), EntryPoint("jobs.ingest.download"))
              for path in tree.files()}
    assert sent == tagged
    # a file's mode is part of it: another umask's checkout gets another tag
    (tmp_path / "images").mkdir()
    script = tmp_path / "images" / "run.py"
    script.write_text("print(1)\n")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\n")
    tree = SourceTree("images", root=tmp_path)
    before = image_digest(dockerfile, tree)
    script.chmod(script.stat().st_mode | stat.S_IWGRP)
    assert image_digest(dockerfile, tree) != before


def test_processing_job_requests_fit_sagemakers_limits(deployment: Deployment) -> None:
    """ProcessingJobName: 1–63 of [a-zA-Z0-9](-*[a-zA-Z0-9])*; ContainerEntrypoint and
    ContainerArguments: at most 100 items of at most 256 characters.
    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateProcessingJob.html,
    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AppSpecification.html"""
    env = deployment.one("aws:lambda/function:Function").get("environment", "variables")
    settings = Settings.from_environ({**env, "PROCESSING_IMAGE_URI": "x", "PROCESSING_ROLE_ARN":
                                      "y", "RAW_URI": "s3://raw/", "CA_BUNDLE":
                                      "/opt/ingest/certs/" + "c" * 200 + ".pem"})
    request = job_request({}, settings, datetime.now(UTC), "9f0c2a")
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", request["ProcessingJobName"])
    app = request["AppSpecification"]
    for items in (app["ContainerEntrypoint"], app["ContainerArguments"]):
        assert len(items) <= 100
        assert all(len(item) <= MAX_CONTAINER_ARGUMENT for item in items)


def test_lambda_environment_fits_four_kilobytes(deployment: Deployment) -> None:
    """"Function environment variables: 4 KB, for all environment variables associated with the
    function, in aggregate." https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"""
    env = deployment.one("aws:lambda/function:Function").get("environment", "variables")
    size = sum(len(key) + len(str(value)) for key, value in env.items())
    assert size < 4096 - 512  # room for CA_BUNDLE and the resolved ARNs


def test_ecr_names_repositories_in_lower_case(deployment: Deployment) -> None:
    """repositoryName: (?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*, 2–256.
    https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html"""
    name = deployment.one("aws:ecr/repository:Repository").get("name")
    assert 2 <= len(name) <= 256
    assert re.fullmatch(r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*", name)
