"""The whole program, both stacks, under mocks: the ingestion (ECR, the image, the SageMaker role,
the trigger Lambda and its settings) and the alerts are wired the way the lake needs."""

from __future__ import annotations

import fnmatch
import json

import pulumi
import pytest

from components.config import IngestSettings, load_config, parse_config
from components.datalake import DataLake, DataLakeArgs
from jobs.ingest.trigger import Settings
from policies.mocks import (
    ACCOUNT,
    PROJECT_ROOT,
    REGION,
    Deployment,
    RecordingMocks,
    raw_config,
    run,
    stack_config,
)
from tests.lake_resources import (
    buckets,
    crawler,
    lake_key,
    restricted_crawler,
    restricted_key,
    s3_uri,
)


def test_ecr_repository_is_immutable_scanned_and_pruned(deployment: Deployment) -> None:
    stack = deployment.stack
    repo = deployment.one("aws:ecr/repository:Repository")
    lifecycle = deployment.one("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert repo.get("imageTagMutability") == "IMMUTABLE"
    assert repo.get("imageScanningConfiguration") == {"scanOnPush": True}
    [rule] = json.loads(lifecycle.get("policy"))["rules"]
    assert rule["selection"]["countType"] == "imageCountMoreThan"
    assert rule["selection"]["countNumber"] == stack_config(stack)["datalake:ecr"]["keepImages"]
    assert rule["action"] == {"type": "expire"}


def test_image_is_built_from_images_ingest_on_update_only(deployment: Deployment) -> None:
    image = deployment.one("docker-build:index:Image")
    repo = deployment.one("aws:ecr/repository:Repository")
    assert image.get("buildOnPreview") is False
    assert image.get("push") is True
    assert image.get("dockerfile", "location").endswith("images/ingest/Dockerfile")
    [tag] = image.get("tags")
    url, _, content_hash = tag.rpartition(":")
    assert url == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{repo.get('name')}"
    assert len(content_hash) == 16 and int(content_hash, 16) >= 0
    assert image.get("registries")[0]["address"] == url


def test_trigger_lambda_runs_the_contract_handler_with_its_settings(
        deployment: Deployment) -> None:
    function = deployment.one("aws:lambda/function:Function")
    processing_role = deployment.one("aws:iam/role:Role", "-processing-role")
    image = deployment.one("docker-build:index:Image")
    env = function.get("environment", "variables")

    assert function.get("handler") == "jobs.ingest.trigger.handler"
    assert function.get("runtime") >= "python3.12"
    assert env["PROCESSING_ROLE_ARN"] == processing_role.arn
    assert env["PROCESSING_IMAGE_URI"] == image.state["ref"]
    assert env["PROCESSING_IMAGE_URI"].startswith(image.get("tags")[0] + "@sha256:")
    assert env["RAW_URI"] == s3_uri(buckets(deployment)["raw"])
    assert env["SOURCE_URL"].startswith("https://")
    log_group = deployment.one("aws:cloudwatch/logGroup:LogGroup", "-trigger-logs")
    assert function.get("loggingConfig", "logGroup") == log_group.get("name")


def test_the_stacks_ca_bundle_reaches_the_container_through_the_image(tmp_path) -> None:
    """ingest.caBundle names a file the image copies (images/ingest/certs/ -> /opt/ingest/certs/)
    and that the Lambda passes to the container; without it nothing is passed."""
    certs = tmp_path / "images" / "ingest" / "certs"
    certs.mkdir(parents=True)
    (certs / "inep-chain.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n"
                                          "-----END CERTIFICATE-----\n")
    raw = raw_config("dev")
    raw["ingest"] = {**raw["ingest"], "caBundle": "images/ingest/certs/inep-chain.pem"}
    config = parse_config(raw, root=tmp_path)
    def program() -> None:
        DataLake("enem", DataLakeArgs(dataset="enem", config=config))

    deployment = run(program, stack="dev", config=stack_config("dev"))
    env = deployment.one("aws:lambda/function:Function").get("environment", "variables")
    assert env["CA_BUNDLE"] == "/opt/ingest/certs/inep-chain.pem"
    assert Settings.from_environ(env).ca_bundle == "/opt/ingest/certs/inep-chain.pem"
    dockerfile = (PROJECT_ROOT / "images" / "ingest" / "Dockerfile").read_text()
    assert "\nWORKDIR /opt/ingest\n" in dockerfile
    assert "\nCOPY images/ingest/certs/ certs/\n" in dockerfile


def test_without_a_ca_bundle_the_lambda_passes_none(deployment: Deployment) -> None:
    env = deployment.one("aws:lambda/function:Function").get("environment", "variables")
    assert "CA_BUNDLE" not in env


def test_trigger_lambda_carries_the_stacks_ingest_settings(deployment: Deployment) -> None:
    ingest = stack_config(deployment.stack)["datalake:ingest"]
    env = deployment.one("aws:lambda/function:Function").get("environment", "variables")
    assert env["ALLOWED_HOSTS"] == ",".join(ingest["allowedHosts"])
    assert env["INSTANCE_TYPE"] == ingest["instanceType"]
    assert env["VOLUME_SIZE_GB"] == str(ingest["volumeSizeGb"])
    assert env["MAX_RUNTIME_SECONDS"] == str(ingest["maxRuntimeMinutes"] * 60)
    assert env["PART_SIZE_MB"] == str(ingest["partSizeMb"])
    assert env["UPLOAD_CONCURRENCY"] == str(ingest["uploadConcurrency"])
    assert env["SOURCE_URL"] == ingest.get("sourceUrl", IngestSettings.source_url)
    assert env["PROCESSING_JOB_PREFIX"] == f"datalake-{deployment.stack}-enem-ingest"
    # What the Lambda reads is exactly what the component sets, and it all parses.
    settings = Settings.from_environ(env)
    assert settings.max_runtime_seconds == ingest["maxRuntimeMinutes"] * 60
    assert settings.allowed_hosts == tuple(ingest["allowedHosts"])


def test_job_name_prefix_too_long_for_sagemaker_stops_before_any_resource() -> None:
    mocks = RecordingMocks()

    def program() -> None:
        DataLake("x", DataLakeArgs(dataset="microdadosdoexamenacional", config=load_config()))

    with pytest.raises(pulumi.RunError, match=r"^Processing job prefix 'datalake-dev-"
                                              r"microdadosdoexamenacional-ingest' must be at most "
                                              r"40 .* shorten the project, stack or dataset name"):
        run(program, stack="dev", config=stack_config("dev"), mocks=mocks)
    assert mocks.resources == []


def test_sagemaker_role_trusts_sagemaker_for_this_account_only(deployment: Deployment) -> None:
    role = deployment.one("aws:iam/role:Role", "-processing-role")
    [grant] = role.json("assumeRolePolicy")["Statement"]
    assert grant["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert grant["Action"] == "sts:AssumeRole"
    assert grant["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_failures_of_every_step_reach_the_encrypted_alert_topic(deployment: Deployment) -> None:
    topic = deployment.one("aws:sns/topic:Topic")
    assert topic.get("kmsMasterKeyId") == lake_key(deployment).arn
    patterns = {r.name: json.loads(r.get("eventPattern"))
                for r in deployment.of_type("aws:cloudwatch/eventRule:EventRule")}
    jobs = {j.get("name") for j in deployment.of_type("aws:glue/job:Job")}
    crawlers = [crawler(deployment).get("name"), restricted_crawler(deployment).get("name")]

    glue_jobs = next(p for p in patterns.values() if p["detail-type"] == [
        "Glue Job State Change"])
    assert set(glue_jobs["detail"]["jobName"]) == jobs
    assert set(glue_jobs["detail"]["state"]) == {"FAILED", "TIMEOUT", "STOPPED"}
    crawls = next(p for p in patterns.values() if p["detail-type"] == [
        "Glue Crawler State Change"])
    assert crawls["detail"] == {"crawlerName": crawlers, "state": ["Failed"]}
    ingest = next(p for p in patterns.values() if p["detail-type"] == [
        "SageMaker Processing Job State Change"])
    assert "Failed" in ingest["detail"]["ProcessingJobStatus"]

    targets = deployment.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert len(targets) == len(patterns) == 3
    assert {t.get("arn") for t in targets} == {topic.arn}
    alarm = deployment.one("aws:cloudwatch/metricAlarm:MetricAlarm")
    function = deployment.one("aws:lambda/function:Function")
    assert alarm.get("metricName") == "Errors" and alarm.get("namespace") == "AWS/Lambda"
    assert alarm.get("dimensions") == {"FunctionName": function.get("name")}
    assert alarm.get("alarmActions") == [topic.arn]
    policy = deployment.one("aws:sns/topicPolicy:TopicPolicy").json("policy")
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["EventBridgeAlerts"]["Principal"] == {"Service": "events.amazonaws.com"}
    assert by_sid["AlarmAlerts"]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert by_sid["AlarmAlerts"]["Condition"]["ArnLike"]["aws:SourceArn"] == (
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{deployment.stack_prefix}-*")
    assert fnmatch.fnmatch(alarm.arn, by_sid["AlarmAlerts"]["Condition"]["ArnLike"][
        "aws:SourceArn"])


def test_key_lets_alert_publishers_and_log_groups_use_it(deployment: Deployment) -> None:
    policy = lake_key(deployment).json("policy")
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["EventBridgeAlerts"]["Principal"] == {"Service": "events.amazonaws.com"}
    assert by_sid["AlarmAlerts"]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert by_sid["AlarmAlerts"]["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert by_sid["CloudWatchLogs"]["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    assert lake_key(deployment).get("enableKeyRotation") is True
    # The restricted zone's key (prod) rotates too.
    key = restricted_key(deployment)
    assert key is None or key.get("enableKeyRotation") is True


def test_email_subscription_only_when_configured(dev: Deployment, prod: Deployment) -> None:
    assert not dev.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert not prod.of_type("aws:sns/topicSubscription:TopicSubscription")  # email: "" in prod


@pytest.mark.parametrize("typ", ["aws:cloudwatch/logGroup:LogGroup"])
def test_every_log_group_has_retention_and_the_lake_key(deployment: Deployment,
                                                        typ: str) -> None:
    groups = deployment.of_type(typ)
    assert groups
    for group in groups:
        assert group.get("retentionInDays") > 0, group.name
        assert group.get("kmsKeyId") == lake_key(deployment).arn, group.name
