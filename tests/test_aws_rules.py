"""AWS's rules, stated once each, with the page each comes from.

Nobody can deploy from here, and Pulumi's mocks and moto accept much that AWS refuses, so these
tests hold the program to what AWS documents: each test is one rule, named after it, its page
in the docstring, checked against the resource graph of both stacks (the `deployment` fixture)
or against the requests the runtime code makes. A rule that fails here would fail, or silently
misbehave, in the cloud.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib.metadata import version

import pytest

from components.config import parse_config
from components.lifecycle import ABORT_MULTIPART_DAYS
from jobs.gold import names, sql
from policies.mocks import ACCOUNT, REGION, Deployment, Resource, raw_config, stack_config
from tests.iam_eval import allows
from tests.lake_resources import (
    CRAWLER,
    GLUE_JOB,
    KEY,
    LIFECYCLE,
    OBJECT,
    WORKGROUP,
    identity_policies,
    lake_key,
    services,
)

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
    assert len(queriers) == 4  # the gold job and the three audiences
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
    audiences = deployment.of_type("aws:iam/policy:Policy")
    assert len(audiences) == 3  # business, analyst, researcher
    for policy in audiences:
        document = policy.json("policy")
        for action in ("athena:ListWorkGroups", "athena:ListEngineVersions",
                       "athena:ListDataCatalogs"):
            assert allows([document], action, "*"), (policy.name, action)
        catalog = f"arn:aws:athena:{REGION}:{ACCOUNT}:datacatalog/AwsDataCatalog"
        for action in ("athena:GetDataCatalog", "athena:ListDatabases", "athena:GetDatabase",
                       "athena:ListTableMetadata", "athena:GetTableMetadata"):
            assert allows([document], action, catalog), (policy.name, action)


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


def test_no_expiry_reaches_the_data_the_catalog_points_at(deployment: Deployment) -> None:
    """S3 "expires" (deletes) each current object a set number of days after its creation
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-expire-general-considerations.html),
    while the crawlers' tables and gold_* stay in the Glue catalog: the tables would read empty
    and the next gold run publish answers over nothing. So neither the crawlers' targets nor the
    gold zone expire their current objects. A rule whose Filter Prefix lies in a folder the
    crawler excludes (the researchers' query results) reaches no table: "The rule applies only to
    objects with key names beginning with the specified prefix"
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleRuleFilter.html)."""
    lifecycles = {r.get("bucket"): r for r in deployment.of_type(LIFECYCLE)}
    gold_job = deployment.one(GLUE_JOB, "-gold-job")
    cataloged: dict[str, list[str]] = {}
    for crawler in deployment.of_type(CRAWLER):
        for target in crawler.get("s3Targets"):
            cataloged[names.split_uri(target["path"])[0]] = target["exclusions"]
    cataloged[names.split_uri(gold_job.get("defaultArguments")["--gold"])[0]] = []
    assert len(cataloged) == 3  # processed, restricted, gold
    for bucket, exclusions in cataloged.items():
        for rule in lifecycles[bucket].get("rules"):
            prefix = (rule.get("filter") or {}).get("prefix", "")
            if prefix and any(exclusion == f"{prefix}**" for exclusion in exclusions):
                continue  # no table lies there
            expiration = rule.get("expiration") or {}
            assert "days" not in expiration and "date" not in expiration, (bucket, rule)


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
        aborting = [rule for rule in lifecycle.get("rules")
                    if "abortIncompleteMultipartUpload" in rule]
        # one rule that reaches every key aborts; no rule aborts sooner
        assert any(not (rule.get("filter") or {}).get("prefix") for rule in aborting)
        for rule in aborting:
            days = rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"]
            assert days == ABORT_MULTIPART_DAYS and runtime <= days * 86_400, lifecycle.name
    with pytest.raises(Exception, match="maxRuntimeMinutes"):
        too_long = {"maxRuntimeMinutes": ABORT_MULTIPART_DAYS * 1440 + 1}
        parse_config({**raw_config("dev"), "ingest": too_long})


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


def _log_groups(deployment: Deployment) -> dict[str, Resource]:
    return {g.get("name"): g for g in deployment.of_type("aws:cloudwatch/logGroup:LogGroup")}


def _owned_with_retention_and_key(deployment: Deployment, names: set[str]) -> None:
    groups = _log_groups(deployment)
    config = stack_config(deployment.stack)
    key = lake_key(deployment)
    for name in names:
        assert name in groups, (name, sorted(groups))
        assert groups[name].get("retentionInDays") == config["datalake:logRetentionDays"]
        assert groups[name].get("kmsKeyId") == key.arn


def test_glue_5_spark_jobs_log_to_groups_the_stack_owns(deployment: Deployment) -> None:
    """Glue 5.0 logs in real time; with a security configuration that encrypts CloudWatch logs,
    "Custom error log group (AWS Glue 5.0):
    <custom-log-group-prefix>/<Security-Configuration-Name>-role/<glue-job-role>/error" (and
    /output). The continuous-logging arguments are deprecated in 5.0.
    https://docs.aws.amazon.com/glue/latest/dg/monitor-continuous-logging.html ("Security
    configuration with Amazon CloudWatch logging"),
    https://docs.aws.amazon.com/glue/latest/dg/migrating-version-50.html"""
    spark = [j for j in deployment.of_type(GLUE_JOB) if j.get("command", "name") == "glueetl"]
    assert spark
    for job in spark:
        arguments = job.get("defaultArguments")
        assert "--enable-continuous-cloudwatch-log" not in arguments
        assert "--continuous-log-logGroup" not in arguments
        prefix = arguments["--custom-logGroup-prefix"]
        assert re.fullmatch(r"[^:*]{1,400}", prefix)
        role = job.get("roleArn").rsplit("/", 1)[1]
        folder = f"{prefix}/{job.get('securityConfiguration')}-role/{role}"
        _owned_with_retention_and_key(deployment, {f"{folder}/error", f"{folder}/output"})


def test_python_shell_jobs_log_to_groups_the_stack_owns(deployment: Deployment) -> None:
    """"The Amazon CloudWatch Logs group for Python shell jobs output is
    /aws-glue/python-jobs/output. For errors, see the log group /aws-glue/python-jobs/error."
    (https://docs.aws.amazon.com/glue/latest/dg/add-job-python.html). A Python shell job takes no
    --custom-logGroup-prefix and no page names its groups under a security configuration; Glue's
    rule for jobs with one (<root>/<configuration>-role/<role>/…, monitor-continuous-logging.html)
    gives /aws-glue/python-jobs/<configuration>-role/<role>/output and /error, which the stack
    makes with its retention and key (README: Security notes says how to confirm it)."""
    shells = [j for j in deployment.of_type(GLUE_JOB) if j.get("command", "name") == "pythonshell"]
    assert shells
    for job in shells:
        assert "--custom-logGroup-prefix" not in job.get("defaultArguments")
        role = job.get("roleArn").rsplit("/", 1)[1]
        folder = f"/aws-glue/python-jobs/{job.get('securityConfiguration')}-role/{role}"
        _owned_with_retention_and_key(deployment, {f"{folder}/error", f"{folder}/output"})


def test_the_crawlers_log_to_groups_the_stack_owns(deployment: Deployment) -> None:
    """CreateCrawler takes no log group (https://docs.aws.amazon.com/glue/latest/webapi/API_CreateCrawler.html);
    "Logs from crawler runs are located in CloudWatch Logs under /aws-glue/crawlers"
    (https://docs.aws.amazon.com/glue/latest/dg/troubleshooting-contact-support.html), and a
    crawler with a security configuration logs to /aws-glue/crawlers-role/<role>-<configuration>
    (GetCrawler's LastCrawl.LogGroup, as AWS's guidance "Connecting Data from Adobe Experience
    Platform to AWS Clean Rooms" prints it). The stack makes that group before each crawler."""
    crawlers = deployment.of_type(CRAWLER)
    assert len(crawlers) == 2
    groups = {r.get("name"): r.name for r in deployment.of_type(
        "aws:cloudwatch/logGroup:LogGroup")}
    for crawler in crawlers:
        role = crawler.get("role").rsplit("/", 1)[1]
        name = f"/aws-glue/crawlers-role/{role}-{crawler.get('securityConfiguration')}"
        _owned_with_retention_and_key(deployment, {name})
        [group] = [r.urn for r in deployment.registrations
                   if r.type == "aws:cloudwatch/logGroup:LogGroup" and r.name == groups[name]]
        [registered] = [r for r in deployment.registrations
                        if r.type == CRAWLER and r.name == crawler.name]
        assert group in registered.dependencies  # made before the first crawl


def test_flex_runs_only_on_g1x_and_g2x_workers(deployment: Deployment) -> None:
    """"Flexible job runs are supported for jobs using AWS Glue version 3.0 or later and G.1X or
    G.2X worker types." https://docs.aws.amazon.com/glue/latest/dg/add-job.html"""
    for job in deployment.of_type(GLUE_JOB):
        if job.get("executionClass") == "FLEX":
            assert job.get("workerType") in ("G.1X", "G.2X")
            assert job.get("glueVersion") >= "3.0"


def test_spark_jobs_run_the_spark_line_the_tests_run(deployment: Deployment) -> None:
    """"AWS Glue 5.0: Spark 3.5.4, Python 3.11, Scala 2.12.18, Java 17". The job's Spark and
    Parquet settings (per-column dictionaries, memory share, codegen limits) are measured and
    tested on the local PySpark, so it must be of the same 3.5 line.
    https://docs.aws.amazon.com/glue/latest/dg/release-notes.html"""
    spark = [j for j in deployment.of_type(GLUE_JOB) if j.get("command", "name") == "glueetl"]
    assert spark
    assert {j.get("glueVersion") for j in spark} == {"5.0"}
    assert version("pyspark").split(".")[:2] == ["3", "5"]


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


# --- Tearing a stack down (README: Tear it down) ------------------------------------------------

def test_a_key_waits_seven_to_thirty_days_before_it_is_deleted(deployment: Deployment) -> None:
    """ScheduleKeyDeletion's PendingWindowInDays: "The range is 7-30 days and the default value
    is 30 days", and the key can be brought back with CancelKeyDeletion until then
    (https://docs.aws.amazon.com/kms/latest/cryptographic-details/key-deletion.html). The
    README promises 7 days for a stack with `protect: false` and 30 for a protected one."""
    protect = parse_config(raw_config(deployment.stack)).protect
    windows = {key.name: key.get("deletionWindowInDays") for key in deployment.of_type(KEY)}
    assert windows and set(windows.values()) == {30 if protect else 7}, windows


def test_pulumi_destroy_empties_every_bucket_it_may_delete(deployment: Deployment) -> None:
    """DeleteBucket: "All objects (including all object versions and delete markers) in the
    bucket must be deleted before the bucket itself can be deleted"
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html). Every bucket is
    versioned, so a bucket `pulumi destroy` may delete has forceDestroy (the provider deletes
    every version first); one without it is protected, so that destroy refuses before it
    deletes anything, instead of failing halfway on a bucket that still holds data."""
    protected = {r.name for r in deployment.registrations if r.protect}
    for bucket in deployment.of_type("aws:s3/bucket:Bucket"):
        assert bucket.get("forceDestroy") is True or bucket.name in protected, bucket.name
