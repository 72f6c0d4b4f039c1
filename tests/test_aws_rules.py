"""AWS's rules, stated once each, with the page each comes from.

Nobody can deploy from here, and Pulumi's mocks and moto accept much that AWS refuses, so these
tests hold the program to what AWS documents: each test is one rule, named after it, its page
in the docstring, checked against the resource graph of both stacks (the `deployment` fixture)
or against the requests the runtime code makes. A rule that fails here would fail, or silently
misbehave, in the cloud.
"""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from components.config import parse_config
from components.lifecycle import ABORT_MULTIPART_DAYS
from components.packaging import EntryPoint, SourceTree, image_digest
from jobs.contract import MAX_CONTAINER_ARGUMENT
from jobs.gold import names, sql
from jobs.ingest.trigger import Settings, job_request
from tests.docker_context import sent_files
from tests.iam_eval import allows, statements
from tests.lake_resources import identity_policies, key_statements, pattern, services
from tests.pulumi_harness import ACCOUNT, PROJECT_ROOT, REGION, Deployment, Resource, stack_config

WORKGROUP = "aws:athena/workgroup:Workgroup"
GLUE_JOB = "aws:glue/job:Job"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
KEY = "aws:kms/key:Key"
GLUE = f"arn:aws:glue:{REGION}:{ACCOUNT}:"


# --- Athena -------------------------------------------------------------------------------

def test_athena_fails_a_ctas_with_external_location_in_an_enforcing_workgroup(
        deployment: Deployment) -> None:
    """"If you run a CTAS query that specifies an external_location in a workgroup that enforces
    a query results location, the query fails with an error message."
    https://docs.aws.amazon.com/athena/latest/ug/create-table-as.html (external_location), and
    https://docs.aws.amazon.com/athena/latest/ug/workgroups-troubleshooting.html"""
    gold_job = deployment.one(GLUE_JOB, "-gold-job")
    run = names.run_id(datetime(2026, 11, 25, tzinfo=UTC))
    sent = sql.ctas("db", names.temporary_table_name("q", run),
                       names.result_location("s3://gold", "q", run), "SELECT 1")
    assert "external_location" in sent  # so the rule applies to every query the job sends
    workgroups = {w.get("name"): w for w in deployment.of_type(WORKGROUP)}
    gold_workgroup = workgroups[gold_job.get("defaultArguments")["--workgroup"]]
    assert gold_workgroup.get("configuration", "enforceWorkgroupConfiguration") is False
    # … and the analysts' workgroup, where the saved queries live, keeps enforcing its settings.
    for query in deployment.of_type("aws:athena/namedQuery:NamedQuery"):
        assert workgroups[query.get("workgroup")].get(
            "configuration", "enforceWorkgroupConfiguration") is True


def test_athena_needs_the_default_database_for_every_principal_that_queries(
        deployment: Deployment) -> None:
    """"For Athena to work with the AWS Glue Data Catalog, the following access policy to the
    default database and to the AWS Glue Data Catalog per AWS Region for GetDatabase,
    GetDatabases, and CreateDatabase must be present."
    https://docs.aws.amazon.com/athena/latest/ug/fine-grained-access-to-glue-resources.html"""
    queriers = [doc for doc in identity_policies(deployment).values()
                if any("athena:StartQueryExecution" in s["Action"] for s in doc["Statement"])]
    assert len(queriers) == 2  # the gold job and the analysts
    for doc in queriers:
        for action in ("glue:GetDatabase", "glue:GetDatabases", "glue:CreateDatabase"):
            for resource in (GLUE + "catalog", GLUE + "database/default"):
                assert allows([doc], action, resource), (action, resource)


def test_the_athena_console_lists_workgroups_and_catalogs_on_no_resource(
        deployment: Deployment) -> None:
    """ListWorkGroups, ListEngineVersions and ListDataCatalogs have no resource type ("*");
    GetDataCatalog, ListDatabases, GetTableMetadata … take the data catalog's ARN; the example
    policy for running queries in a workgroup grants them.
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonathena.html,
    https://docs.aws.amazon.com/athena/latest/ug/example-policies-workgroup.html"""
    analyst = deployment.one("aws:iam/policy:Policy", "-analyst-policy").json("policy")
    for action in ("athena:ListWorkGroups", "athena:ListEngineVersions",
                   "athena:ListDataCatalogs"):
        assert allows([analyst], action, "*"), action
    catalog = f"arn:aws:athena:{REGION}:{ACCOUNT}:datacatalog/AwsDataCatalog"
    for action in ("athena:GetDataCatalog", "athena:ListDatabases", "athena:GetDatabase",
                   "athena:ListTableMetadata", "athena:GetTableMetadata"):
        assert allows([analyst], action, catalog), action


def test_a_workgroup_scans_at_least_ten_megabytes_per_query(deployment: Deployment) -> None:
    """BytesScannedCutoffPerQuery: "Minimum value of 10000000."
    https://docs.aws.amazon.com/athena/latest/APIReference/API_WorkGroupConfiguration.html"""
    for workgroup in deployment.of_type(WORKGROUP):
        assert workgroup.get("configuration", "bytesScannedCutoffPerQuery") >= 10_000_000


def test_named_queries_fit_athenas_lengths(deployment: Deployment) -> None:
    """Name 1–128, Description 1–1024, QueryString 1–262144 characters.
    https://docs.aws.amazon.com/athena/latest/APIReference/API_CreateNamedQuery.html"""
    for query in deployment.of_type("aws:athena/namedQuery:NamedQuery"):
        assert 1 <= len(query.get("name")) <= 128
        assert 1 <= len(query.get("description")) <= 1024
        assert 1 <= len(query.get("query")) <= 262_144


# --- S3 -----------------------------------------------------------------------------------

def _rules_reaching(lifecycle: Resource, key: str) -> list[dict]:
    return [rule for rule in lifecycle.get("rules") if rule["status"] == "Enabled"
            and key.startswith((rule.get("filter") or {}).get("prefix", ""))]


def test_no_expiry_reaches_an_object_a_deployed_resource_points_at(
        deployment: Deployment) -> None:
    """S3 expires an object a set number of days after its creation; Pulumi uploads code once
    and never again while it is unchanged, so an expiry on its bucket deletes code the jobs still
    run (and an archive class makes it unreadable).
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-expire-general-considerations.html,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html"""
    lifecycles = {r.get("bucket"): r for r in deployment.of_type(LIFECYCLE)}
    objects = deployment.of_type(OBJECT)
    assert len(objects) >= 10  # scripts, packages, the gold wheel, each query
    for code in objects:
        for rule in _rules_reaching(lifecycles[code.get("bucket")], code.get("key")):
            assert "days" not in (rule.get("expiration") or {}), (code.get("key"), rule)
            assert "date" not in (rule.get("expiration") or {}), (code.get("key"), rule)
            for transition in rule.get("transitions") or []:
                assert transition["storageClass"] not in ("GLACIER", "DEEP_ARCHIVE"), code.name


def test_standard_ia_transitions_wait_thirty_days(deployment: Deployment) -> None:
    """"Objects must be stored at least 30 days in the current storage class before you can
    transition them to S3 Standard-IA or S3 One Zone-IA."
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html"""
    for lifecycle in deployment.of_type(LIFECYCLE):
        for rule in lifecycle.get("rules"):
            for transition in rule.get("transitions") or []:
                if transition["storageClass"] == "STANDARD_IA":
                    assert transition["days"] >= 30, lifecycle.name


def test_a_delete_marker_rule_has_no_expiry_in_days(deployment: Deployment) -> None:
    """ExpiredObjectDeleteMarker "cannot be specified with Days or Date in a Lifecycle
    Expiration Policy"; versioned buckets whose objects never expire use it so that the markers
    of deleted objects go once their versions have.
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleExpiration.html"""
    versioned = {v.get("bucket") for v in deployment.of_type(
        "aws:s3/bucketVersioning:BucketVersioning")}
    for lifecycle in deployment.of_type(LIFECYCLE):
        for rule in lifecycle.get("rules"):
            expiration = rule.get("expiration") or {}
            if expiration.get("expiredObjectDeleteMarker"):
                assert set(expiration) == {"expiredObjectDeleteMarker"}, lifecycle.name
            elif lifecycle.get("bucket") in versioned:
                assert "days" in expiration, f"{lifecycle.name}: delete markers never go"


def test_multipart_uploads_outlive_the_longest_ingestion(deployment: Deployment) -> None:
    """AbortIncompleteMultipartUpload removes an upload DaysAfterInitiation days after it began,
    whether or not it is still being written; an ingestion keeps its uploads open to its end.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpu-abort-incomplete-mpu-lifecycle-config.html"""
    runtime = int(deployment.one("aws:lambda/function:Function").get(
        "environment", "variables")["MAX_RUNTIME_SECONDS"])
    for lifecycle in deployment.of_type(LIFECYCLE):
        for rule in lifecycle.get("rules"):
            days = rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"]
            assert days == ABORT_MULTIPART_DAYS and runtime <= days * 86_400, lifecycle.name
    with pytest.raises(Exception, match="maxRuntimeMinutes"):
        raw = {key.split(":", 1)[1]: value for key, value in stack_config("dev").items()
               if key.startswith("datalake:")}
        parse_config({**raw, "ingest": {"maxRuntimeMinutes": ABORT_MULTIPART_DAYS * 1440 + 1}})


def test_server_access_logs_go_to_an_sse_s3_bucket_that_trusts_only_this_lakes_buckets(
        deployment: Deployment) -> None:
    """The target bucket's default encryption must be SSE-S3 (SSE-KMS is not supported), and its
    policy grants logging.s3.amazonaws.com s3:PutObject with aws:SourceArn (the source buckets)
    and aws:SourceAccount.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html"""
    target = deployment.one("aws:s3/bucket:Bucket", "-access-logs-bucket")
    [sse] = [r for r in deployment.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        if r.get("bucket") == target.id]
    assert sse.get("rules")[0]["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "AES256"}
    [policy] = [p.json("policy") for p in deployment.of_type("aws:s3/bucketPolicy:BucketPolicy")
                if p.get("bucket") == target.id]
    [grant] = [s for s in policy["Statement"] if "logging.s3.amazonaws.com" in services(s)]
    assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    sources = grant["Condition"]["ArnLike"]["aws:SourceArn"]
    for bucket in deployment.of_type("aws:s3/bucket:Bucket"):
        assert re.fullmatch(sources.replace("*", ".*"), bucket.arn), bucket.name


# --- EventBridge, SNS, KMS ------------------------------------------------------------------

def test_eventbridge_delivers_to_an_encrypted_topic_only_without_source_conditions(
        deployment: Deployment) -> None:
    """"Adding the aws:SourceAccount, aws:SourceArn, and aws:SourceOrgID to a AWS KMS policy is
    not supported for EventBridge-to-encrypted topics."
    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
    "You can't use Condition blocks in Amazon SNS topic policies for EventBridge."
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions"""
    topic = deployment.one("aws:sns/topic:Topic")
    assert topic.get("kmsMasterKeyId") == deployment.one(KEY).arn  # so the rule applies
    assert {t.get("arn") for t in deployment.of_type(TARGET)} == {topic.arn}
    [key_grant] = [s for s in key_statements(deployment)
                   if "events.amazonaws.com" in services(s)]
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(key_grant["Action"])
    keys = {key for block in (key_grant.get("Condition") or {}).values() for key in block}
    assert not {"aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID"} & keys
    topic_policy = deployment.one("aws:sns/topicPolicy:TopicPolicy").json("policy")
    [publish] = [s for s in topic_policy["Statement"] if "events.amazonaws.com" in services(s)]
    assert "Condition" not in publish and services(publish) == {"events.amazonaws.com"}


def test_cloudwatch_alarms_publish_to_the_encrypted_topic_from_this_account_only(
        deployment: Deployment) -> None:
    """CloudWatch alarm actions to an encrypted topic need kms:Decrypt and kms:GenerateDataKey*
    for cloudwatch.amazonaws.com; aws:SourceAccount/aws:SourceArn narrow it (supported for
    services other than EventBridge).
    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services"""
    alarm = deployment.one("aws:cloudwatch/metricAlarm:MetricAlarm")
    topic_policy = deployment.one("aws:sns/topicPolicy:TopicPolicy").json("policy")
    for grant in ([s for s in key_statements(deployment)
                   if "cloudwatch.amazonaws.com" in services(s)]
                  + [s for s in topic_policy["Statement"]
                     if "cloudwatch.amazonaws.com" in services(s)]):
        assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
        source = grant["Condition"]["ArnLike"]["aws:SourceArn"]
        assert re.fullmatch(source.replace("*", ".*"), alarm.arn)


def test_glue_job_alerts_cover_every_state_that_is_not_success(deployment: Deployment) -> None:
    """"Events for "detail-type":"Glue Job State Change" are generated for SUCCEEDED, FAILED,
    TIMEOUT, and STOPPED"; crawler events for Started, Succeeded and Failed.
    https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html
    Processing job statuses: InProgress | Completed | Failed | Stopping | Stopped.
    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProcessingJobSummary.html"""
    by_type = {pattern(r)["detail-type"][0]: pattern(r)["detail"]
               for r in deployment.of_type(RULE)}
    assert set(by_type["Glue Job State Change"]["state"]) == {"FAILED", "TIMEOUT", "STOPPED"}
    assert set(by_type["Glue Crawler State Change"]["state"]) == {"Failed"}
    assert set(by_type["SageMaker Processing Job State Change"]["ProcessingJobStatus"]) == {
        "Failed", "Stopped"}


def test_alert_templates_put_event_values_where_eventbridge_keeps_them_valid(
        deployment: Deployment) -> None:
    """"EventBridge does not escape values extracted by Input Path" into a quoted template; an
    InputTemplate that is a JSON object may hold placeholders as values, not keys; at most 100
    input paths.
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html,
    https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_InputTransformer.html"""
    for target in deployment.of_type(TARGET):
        transformer = target.get("inputTransformer")
        paths, template = transformer["inputPaths"], transformer["inputTemplate"]
        assert 1 <= len(paths) <= 100
        placeholders = set(re.findall(r"<([A-Za-z0-9_.-]+)>", template))
        assert placeholders == set(paths), target.name
        # a free-text value such as '"quoted" \n text' keeps the result valid JSON
        filled = template
        for name in placeholders:
            filled = filled.replace(f"<{name}>", json.dumps('a "quoted"\nmessage'))
        assert isinstance(json.loads(filled), dict), target.name
        # … because no placeholder sits inside a JSON string: each one is a whole value
        numbered = json.loads(re.sub(r"<[A-Za-z0-9_.-]+>", "12345", template))
        assert sum(value == 12345 for value in numbered.values()) == template.count("<")
        assert not any("12345" in value for value in numbered.values()
                       if isinstance(value, str)), target.name


def test_an_unsubscribed_alert_topic_is_a_preview_warning(deployment: Deployment) -> None:
    """SNS delivers a message only to the topic's subscriptions (an e-mail one after it is
    confirmed): without one, alerts reach nobody, so `pulumi preview` says so.
    https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html"""
    subscribed = bool(deployment.of_type("aws:sns/topicSubscription:TopicSubscription"))
    warned = [w for w in deployment.warnings if "alert topic has no subscriber" in w]
    assert bool(warned) != subscribed
    if warned:
        assert f"datalake:alerts.email` in Pulumi.{deployment.stack}.yaml" in warned[0]


def test_cloudwatch_logs_uses_the_key_only_for_this_accounts_log_groups(
        deployment: Deployment) -> None:
    """The key policy lets logs.<region>.amazonaws.com use the key, narrowed by
    kms:EncryptionContext:aws:logs:arn; a role writing to an encrypted group should use the key
    through CloudWatch Logs (kms:ViaService).
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html"""
    [logs] = [s for s in key_statements(deployment)
              if f"logs.{REGION}.amazonaws.com" in services(s)]
    assert logs["Condition"]["ArnLike"] == {
        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"}
    trigger = deployment.one("aws:iam/rolePolicy:RolePolicy", "-trigger-policy").json("policy")
    [via_logs] = [s for s in trigger["Statement"] if s.get("Sid") == "LogsKey"]
    assert via_logs["Condition"] == {"StringEquals": {
        "kms:ViaService": f"logs.{REGION}.amazonaws.com"}}


def test_log_groups_keep_logs_for_a_period_cloudwatch_offers(deployment: Deployment) -> None:
    """retentionInDays: one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653.
    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html"""
    allowed = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
               2557, 2922, 3288, 3653}
    for group in deployment.of_type("aws:cloudwatch/logGroup:LogGroup"):
        assert group.get("retentionInDays") in allowed, group.name


# --- Glue ---------------------------------------------------------------------------------

def test_python_shell_takes_only_wheels_and_eggs_as_extra_python_files(
        deployment: Deployment) -> None:
    """Python shell jobs: "You can't package any Python libraries as .egg files in Python 3.9+.
    Instead, use .whl" — no .zip; and the wheel's file name must be a valid wheel name.
    https://docs.aws.amazon.com/glue/latest/dg/add-job-python.html"""
    shells = [j for j in deployment.of_type(GLUE_JOB) if j.get("command", "name") == "pythonshell"]
    assert shells
    for job in shells:
        extra = job.get("defaultArguments").get("--extra-py-files", "")
        for path in filter(None, extra.split(",")):
            name = path.rsplit("/", 1)[-1]
            assert re.fullmatch(r"[A-Za-z0-9_.]+-[^-]+(-[^-]+)?-[^-]+-[^-]+-[^-]+\.whl", name), name
        assert job.get("maxCapacity") in (0.0625, 1.0)  # "either 0.0625 or 1 DPU"


def test_glue_5_logs_to_the_prefix_groups_the_stack_owns(deployment: Deployment) -> None:
    """Glue 5.0 logs in real time to /aws-glue/jobs/error and /output, or to <prefix>/error and
    <prefix>/output with --custom-logGroup-prefix; the continuous-logging arguments are for Glue
    4.0 and earlier.
    https://docs.aws.amazon.com/glue/latest/dg/monitor-continuous-logging.html"""
    groups = {g.get("name") for g in deployment.of_type("aws:cloudwatch/logGroup:LogGroup")}
    spark = [j for j in deployment.of_type(GLUE_JOB) if j.get("glueVersion") >= "5.0"]
    assert spark
    for job in spark:
        arguments = job.get("defaultArguments")
        assert "--enable-continuous-cloudwatch-log" not in arguments
        assert "--continuous-log-logGroup" not in arguments
        prefix = arguments["--custom-logGroup-prefix"]
        assert re.fullmatch(r"[^:*]{1,400}", prefix)
        assert {f"{prefix}/error", f"{prefix}/output"} <= groups


def test_flex_runs_only_on_g1x_and_g2x_workers(deployment: Deployment) -> None:
    """"Flexible job runs are supported for jobs using AWS Glue version 3.0 or later and G.1X or
    G.2X worker types." https://docs.aws.amazon.com/glue/latest/dg/add-job.html"""
    for job in deployment.of_type(GLUE_JOB):
        if job.get("executionClass") == "FLEX":
            assert job.get("workerType") in ("G.1X", "G.2X")
            assert job.get("glueVersion") >= "3.0"


def test_conditional_triggers_watch_states_glue_offers(deployment: Deployment) -> None:
    """"The only job states that a trigger can listen for are SUCCEEDED, STOPPED, FAILED, and
    TIMEOUT. The only crawler states … SUCCEEDED, FAILED, and CANCELLED"; LogicalOperator EQUALS.
    https://docs.aws.amazon.com/glue/latest/webapi/API_Condition.html"""
    for trigger in deployment.of_type("aws:glue/trigger:Trigger"):
        for condition in trigger.get("predicate", "conditions", default=[]):
            assert condition["logicalOperator"] == "EQUALS"
            assert condition.get("state", "SUCCEEDED") in ("SUCCEEDED", "STOPPED", "FAILED",
                                                           "TIMEOUT")
            assert condition.get("crawlState", "SUCCEEDED") in ("SUCCEEDED", "FAILED",
                                                                "CANCELLED")


# --- ECR, SageMaker, Lambda -------------------------------------------------------------------

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


# --- IAM: parliament ------------------------------------------------------------------------

# Reviewed findings: (policy, statement Sid, parliament issue) -> why it stands.
PARLIAMENT_ALLOWED: dict[tuple[str, str, str], str] = {
    ("deploy", "LakeBuckets", "RESOURCE_MISMATCH"):
        "s3:* on the lake's buckets: the actions that need other ARNs (access points, jobs) "
        "are simply not granted by it",
    ("deploy", "LakeServices", "RESOURCE_STAR"):
        "create and list calls of these services have no resource-level form; NotOtherStacks "
        "closes other stacks' tagged resources",
    ("deploy", "LakeRolesWithinBoundary", "MISMATCHED_TYPE_BUT_USABLE"):
        "iam:PermissionsBoundary holds an ARN compared as a string, as in IAM's own delegation "
        "example (access_policies_boundaries.html)",
    ("boundary", "", "RESOURCE_MISMATCH"):
        "the ceiling lists actions (logs:*, s3:GetObjectAttributes) that IAM also authorizes "
        "on other ARN forms; a boundary grants nothing itself",
    ("boundary", "", "RESOURCE_STAR"):
        "the ceiling names whole services (athena, glue, …) per statement; the roles' own "
        "policies are per ARN and lint clean",
}


def _findings(label: str, document: dict) -> list[tuple[str, str, str, str]]:
    """(policy, Sid, issue, detail) of every parliament finding, statement by statement."""
    from parliament import analyze_policy_string

    found = []
    for stmt in statements([document]):
        single = {"Version": "2012-10-17", "Statement": [stmt]}
        for finding in analyze_policy_string(json.dumps(single)).findings:
            found.append((label, stmt.get("Sid", ""), finding.issue,
                          json.dumps(finding.detail)[:200]))
    return found


def _unreviewed(findings: list[tuple[str, str, str, str]]) -> list[tuple[str, str, str, str]]:
    def reviewed(label: str, sid: str, issue: str) -> bool:
        kind = label.split(":")[0]
        return (kind, sid, issue) in PARLIAMENT_ALLOWED or (kind, "", issue) in PARLIAMENT_ALLOWED

    return [f for f in findings if not reviewed(*f[:3])]


def test_every_identity_policy_of_the_lake_lints_clean(deployment: Deployment) -> None:
    """parliament (duo-labs) checks action names, resource formats and condition keys against
    the Service Authorization Reference.
    https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"""
    policies = identity_policies(deployment)
    assert len(policies) == 6
    findings = [f for name, doc in policies.items() for f in _findings(f"lake:{name}", doc)]
    assert _unreviewed(findings) == []


def test_every_identity_policy_of_the_bootstrap_lints_clean(bootstrap_s3: Deployment) -> None:
    """The same lint for the bootstrap's roles; findings stand only with a reviewed reason
    (PARLIAMENT_ALLOWED). Trust and resource policies, which parliament misreads, are held by
    the rule tests in tests/test_bootstrap.py."""
    findings = []
    for policy in bootstrap_s3.of_type("aws:iam/rolePolicy:RolePolicy"):
        label = "deploy" if "deploy" in policy.name else "state"
        findings += _findings(f"{label}:{policy.name}", policy.json("policy"))
    for policy in bootstrap_s3.of_type("aws:iam/policy:Policy"):
        findings += _findings(f"boundary:{policy.name}", policy.json("policy"))
    assert _unreviewed(findings) == []
    # every reviewed finding still occurs: a fixed one leaves the list
    seen = {(f[0].split(":")[0], f[1], f[2]) for f in findings}
    seen |= {(kind, "", issue) for kind, _, issue in seen}
    assert set(PARLIAMENT_ALLOWED) <= seen


def test_parliament_catches_what_it_is_here_for() -> None:
    """The lint is live: a misspelt action and a data action on every bucket are findings."""
    bad = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Typo", "Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"},
        {"Sid": "Everything", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    issues = {(sid, issue) for _, sid, issue, _ in _findings("lake:test", bad)}
    assert ("Typo", "UNKNOWN_ACTION") in issues
    assert ("Everything", "RESOURCE_STAR") in issues
