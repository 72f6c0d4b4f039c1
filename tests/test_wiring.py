"""The whole program, both stacks, under mocks: is everything wired the way the lake needs?"""

from __future__ import annotations

import fnmatch
import json

import pulumi
import pytest

from components.config import IngestSettings, load_config, parse_config
from components.datalake import DataLake, DataLakeArgs
from jobs.ingest.trigger import Settings
from tests.lake_resources import ZONES, buckets, s3_uri
from tests.pulumi_harness import (
    ACCOUNT,
    PROJECT_ROOT,
    REGION,
    Deployment,
    RecordingMocks,
    run,
    stack_config,
)

# --- the Glue chain -------------------------------------------------------------------------

def test_schedule_starts_the_spark_job_with_the_stacks_cron(deployment: Deployment) -> None:
    stack = deployment.stack
    schedule = deployment.one("aws:glue/trigger:Trigger", "-schedule")
    process = deployment.one("aws:glue/job:Job", "-process-job")
    workflow = deployment.one("aws:glue/workflow:Workflow")

    assert schedule.get("type") == "SCHEDULED"
    assert schedule.get("schedule") == stack_config(stack)["datalake:schedule"]
    assert schedule.get("workflowName") == workflow.get("name")
    assert schedule.get("actions") == [{"jobName": process.get("name")}]


def test_job_success_starts_the_crawler_and_crawl_success_starts_gold(
        deployment: Deployment) -> None:
    process = deployment.one("aws:glue/job:Job", "-process-job")
    gold = deployment.one("aws:glue/job:Job", "-gold-job")
    crawler = deployment.one("aws:glue/crawler:Crawler")
    after_process = deployment.one("aws:glue/trigger:Trigger", "-after-process")
    after_crawl = deployment.one("aws:glue/trigger:Trigger", "-after-crawl")

    assert after_process.get("type") == "CONDITIONAL"
    assert after_process.get("predicate", "conditions") == [
        {"jobName": process.get("name"), "state": "SUCCEEDED", "logicalOperator": "EQUALS"}]
    assert after_process.get("actions") == [{"crawlerName": crawler.get("name")}]
    assert after_crawl.get("type") == "CONDITIONAL"
    assert after_crawl.get("predicate", "conditions") == [
        {"crawlerName": crawler.get("name"), "crawlState": "SUCCEEDED",
         "logicalOperator": "EQUALS"}]
    assert after_crawl.get("actions") == [{"jobName": gold.get("name")}]
    workflow = deployment.one("aws:glue/workflow:Workflow").get("name")
    assert after_process.get("workflowName") == after_crawl.get("workflowName") == workflow


def test_spark_job_runs_the_contract_entrypoint_on_glue_5(deployment: Deployment) -> None:
    zones = buckets(deployment)
    job = deployment.one("aws:glue/job:Job", "-process-job")
    args = job.get("defaultArguments")

    assert job.get("glueVersion") == "5.0"
    assert job.get("command", "name") == "glueetl"
    assert job.get("command", "pythonVersion") == "3"
    assert job.get("command", "scriptLocation").startswith(s3_uri(zones["artifacts"], "glue/"))
    assert job.get("command", "scriptLocation").endswith("/csv_to_parquet.py")
    assert job.get("executionProperty") == {"maxConcurrentRuns": 1}
    assert job.get("securityConfiguration") == deployment.one(
        "aws:glue/securityConfiguration:SecurityConfiguration").get("name")
    assert args["--raw"] == s3_uri(zones["raw"])
    assert args["--processed"] == s3_uri(zones["processed"])
    assert args["--rejected"] == s3_uri(zones["rejected"])
    assert float(args["--max-rejected-share"]) == stack_config(deployment.stack)[
        "datalake:quality"]["maxRejectedShare"]
    assert args["--job-bookmark-option"] == "job-bookmark-disable"
    assert args["--enable-metrics"] == "true"
    assert args["--extra-py-files"].endswith("/jobs.zip")
    # Glue 5.0 writes <prefix>/error and <prefix>/output; the stack owns both groups.
    prefix = args["--custom-logGroup-prefix"]
    assert prefix == f"/aws-glue/jobs/{job.get('name')}"
    groups = {g.get("name") for g in deployment.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert {f"{prefix}/error", f"{prefix}/output"} <= groups


def test_glue_code_is_uploaded_to_the_keys_the_jobs_run(deployment: Deployment) -> None:
    artifacts = buckets(deployment)["artifacts"]
    uploaded = {s3_uri(artifacts, o.get("key")) for o in
                deployment.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
                if o.get("bucket") == artifacts.get("bucket")}
    for job in deployment.of_type("aws:glue/job:Job"):
        assert job.get("command", "scriptLocation") in uploaded
        assert job.get("defaultArguments")["--extra-py-files"] in uploaded


def test_security_configuration_encrypts_s3_logs_and_bookmarks(deployment: Deployment) -> None:
    key = deployment.one("aws:kms/key:Key")
    config = deployment.one("aws:glue/securityConfiguration:SecurityConfiguration").get(
        "encryptionConfiguration")
    assert config["cloudwatchEncryption"] == {"cloudwatchEncryptionMode": "SSE-KMS",
                                              "kmsKeyArn": key.arn}
    assert config["jobBookmarksEncryption"] == {"jobBookmarksEncryptionMode": "CSE-KMS",
                                                "kmsKeyArn": key.arn}
    assert config["s3Encryption"]["s3EncryptionMode"] in ("SSE-S3", "SSE-KMS")
    crawler = deployment.one("aws:glue/crawler:Crawler")
    assert crawler.get("securityConfiguration") == deployment.one(
        "aws:glue/securityConfiguration:SecurityConfiguration").get("name")


# --- catalog ----------------------------------------------------------------------------------

def test_crawler_reads_the_processed_zone_into_this_stacks_database(
        deployment: Deployment) -> None:
    crawler = deployment.one("aws:glue/crawler:Crawler")
    database = deployment.one("aws:glue/catalogDatabase:CatalogDatabase")
    processed = buckets(deployment)["processed"]

    assert crawler.get("databaseName") == database.get("name")
    [target] = crawler.get("s3Targets")
    assert target["path"] == s3_uri(processed)
    assert {"_runs/**", "_staging/**"} <= set(target["exclusions"])
    assert crawler.get("schemaChangePolicy") == {"updateBehavior": "UPDATE_IN_DATABASE",
                                                 "deleteBehavior": "LOG"}
    assert crawler.get("recrawlPolicy") == {"recrawlBehavior": "CRAWL_EVERYTHING"}
    # One table per ingested file: processed/<table>/… is level 2 below the bucket.
    assert json.loads(crawler.get("configuration"))["Grouping"]["TableLevelConfiguration"] == 2


def test_database_is_named_after_project_stack_and_dataset(dev: Deployment,
                                                           prod: Deployment) -> None:
    assert dev.one("aws:glue/catalogDatabase:CatalogDatabase").get("name") == "datalake_dev_enem"
    assert prod.one("aws:glue/catalogDatabase:CatalogDatabase").get(
        "name") == "datalake_prod_enem"


# --- analytics ------------------------------------------------------------------------------

def test_workgroup_enforces_engine_v3_encrypted_results_and_a_scan_cutoff(
        deployment: Deployment) -> None:
    stack = deployment.stack
    workgroup = deployment.one("aws:athena/workgroup:Workgroup", "-analytics-workgroup")
    conf = workgroup.get("configuration")
    results = buckets(deployment)["athena-results"]

    assert conf["enforceWorkgroupConfiguration"] is True
    assert conf["publishCloudwatchMetricsEnabled"] is True
    assert conf["engineVersion"] == {"selectedEngineVersion": "Athena engine version 3"}
    assert conf["bytesScannedCutoffPerQuery"] == stack_config(stack)["datalake:athena"][
        "bytesScannedCutoffPerQuery"]
    assert conf["resultConfiguration"]["outputLocation"].startswith(s3_uri(results))
    assert conf["resultConfiguration"]["encryptionConfiguration"]["encryptionOption"] in (
        "SSE_S3", "SSE_KMS")
    assert conf["resultConfiguration"]["expectedBucketOwner"] == ACCOUNT
    # The gold job's workgroup: the same limits, engine and encryption, results beside the
    # analysts', not enforcing (its CTAS names an external_location).
    gold = deployment.one("aws:athena/workgroup:Workgroup", "-gold-workgroup").get(
        "configuration")
    assert gold["enforceWorkgroupConfiguration"] is False
    for key in ("bytesScannedCutoffPerQuery", "engineVersion", "publishCloudwatchMetricsEnabled"):
        assert gold[key] == conf[key], key
    assert gold["resultConfiguration"] == {
        **conf["resultConfiguration"], "outputLocation": s3_uri(results, "gold/")}


def test_gold_job_is_python_shell_running_export_over_the_workgroup(
        deployment: Deployment) -> None:
    gold = deployment.one("aws:glue/job:Job", "-gold-job")
    zones = buckets(deployment)
    args = gold.get("defaultArguments")
    assert gold.get("command", "name") == "pythonshell"
    assert gold.get("command", "pythonVersion") == "3.9"
    assert gold.get("command", "scriptLocation").endswith("/export.py")
    gold_workgroup = deployment.one("aws:athena/workgroup:Workgroup", "-gold-workgroup")
    assert args["--workgroup"] == gold_workgroup.get("name") == f"{deployment.stack_prefix}-gold"
    assert args["--extra-py-files"].endswith("/datalake_gold-1-py3-none-any.whl")
    assert args["--database"] == deployment.one(
        "aws:glue/catalogDatabase:CatalogDatabase").get("name")
    assert args["--gold"] == s3_uri(zones["gold"])
    assert args["--queries"].startswith(s3_uri(zones["artifacts"], "queries/"))
    gold_config = stack_config(deployment.stack)["datalake:gold"]
    assert args["--query-timeout-minutes"] == str(gold_config["queryTimeoutMinutes"])
    assert gold.get("timeout") == gold_config["timeoutMinutes"]


# --- ingestion -------------------------------------------------------------------------------

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
    assert env["PROCESSING_IMAGE_URI"] == image.get("tags")[0]
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
    raw = {key.split(":", 1)[1]: value for key, value in stack_config("dev").items()
           if key.startswith("datalake:")}
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


# --- alerts ----------------------------------------------------------------------------------

def test_failures_of_every_step_reach_the_encrypted_alert_topic(deployment: Deployment) -> None:
    topic = deployment.one("aws:sns/topic:Topic")
    assert topic.get("kmsMasterKeyId") == deployment.one("aws:kms/key:Key").arn
    patterns = {r.name: json.loads(r.get("eventPattern"))
                for r in deployment.of_type("aws:cloudwatch/eventRule:EventRule")}
    jobs = {j.get("name") for j in deployment.of_type("aws:glue/job:Job")}
    crawler = deployment.one("aws:glue/crawler:Crawler").get("name")

    glue_jobs = next(p for p in patterns.values() if p["detail-type"] == [
        "Glue Job State Change"])
    assert set(glue_jobs["detail"]["jobName"]) == jobs
    assert set(glue_jobs["detail"]["state"]) == {"FAILED", "TIMEOUT", "STOPPED"}
    crawls = next(p for p in patterns.values() if p["detail-type"] == [
        "Glue Crawler State Change"])
    assert crawls["detail"] == {"crawlerName": [crawler], "state": ["Failed"]}
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
    policy = deployment.one("aws:kms/key:Key").json("policy")
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["EventBridgeAlerts"]["Principal"] == {"Service": "events.amazonaws.com"}
    assert by_sid["AlarmAlerts"]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert by_sid["AlarmAlerts"]["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert by_sid["CloudWatchLogs"]["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    assert deployment.one("aws:kms/key:Key").get("enableKeyRotation") is True


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
        assert group.get("kmsKeyId") == deployment.one("aws:kms/key:Key").arn, group.name


# --- exports ---------------------------------------------------------------------------------

def test_program_exports_what_a_user_needs(deployment: Deployment) -> None:
    out = deployment.outputs
    assert set(out["buckets"]) == set(ZONES) - {"access-logs"}
    for key in ("database", "workgroup", "workflow", "process_job", "gold_job",
                "trigger_function", "ecr_repository_url", "analyst_role_arn", "crawler"):
        assert out[key], key
    assert out["database"] == deployment.one("aws:glue/catalogDatabase:CatalogDatabase").get(
        "name")
    assert out["ecr_repository_url"].endswith("/" + deployment.one(
        "aws:ecr/repository:Repository").get("name"))
