"""The whole program, both stacks, under mocks: is everything wired the way the lake needs?"""

from __future__ import annotations

import json

from jobs.contract import ATHENA_RESULTS_PREFIX, ROLES
from policies.mocks import (
    ACCOUNT,
    Deployment,
    stack_config,
)
from tests.lake_resources import (
    ZONES,
    buckets,
    crawler,
    database,
    lake_key,
    restricted_crawler,
    restricted_key,
    s3_uri,
    workgroup_of,
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


def test_job_success_starts_both_crawlers_and_the_public_crawl_starts_gold(
        deployment: Deployment) -> None:
    process = deployment.one("aws:glue/job:Job", "-process-job")
    gold = deployment.one("aws:glue/job:Job", "-gold-job")
    public, restricted = crawler(deployment), restricted_crawler(deployment)
    after_process = deployment.one("aws:glue/trigger:Trigger", "-after-process")
    after_crawl = deployment.one("aws:glue/trigger:Trigger", "-after-crawl")

    assert after_process.get("type") == "CONDITIONAL"
    assert after_process.get("predicate", "conditions") == [
        {"jobName": process.get("name"), "state": "SUCCEEDED", "logicalOperator": "EQUALS"}]
    assert after_process.get("actions") == [{"crawlerName": public.get("name")},
                                            {"crawlerName": restricted.get("name")}]
    # The gold job reads no restricted table: it waits for the public crawl only.
    assert after_crawl.get("type") == "CONDITIONAL"
    assert after_crawl.get("predicate", "conditions") == [
        {"crawlerName": public.get("name"), "crawlState": "SUCCEEDED",
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
    assert args["--restricted"] == s3_uri(zones["restricted"])
    assert args["--rejected"] == s3_uri(zones["rejected"])
    assert float(args["--max-rejected-share"]) == stack_config(deployment.stack)[
        "datalake:quality"]["maxRejectedShare"]
    assert args["--job-bookmark-option"] == "job-bookmark-disable"
    assert args["--enable-metrics"] == "true"
    assert args["--extra-py-files"].endswith("/jobs.zip")
    # Glue 5.0 writes under the job's prefix (tests/test_aws_rules.py has the groups' names).
    assert args["--custom-logGroup-prefix"] == f"/aws-glue/jobs/{job.get('name')}"


def test_glue_code_is_uploaded_to_the_keys_the_jobs_run(deployment: Deployment) -> None:
    artifacts = buckets(deployment)["artifacts"]
    uploaded = {s3_uri(artifacts, o.get("key")) for o in
                deployment.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
                if o.get("bucket") == artifacts.get("bucket")}
    for job in deployment.of_type("aws:glue/job:Job"):
        assert job.get("command", "scriptLocation") in uploaded
        assert job.get("defaultArguments")["--extra-py-files"] in uploaded


def test_security_configuration_encrypts_s3_logs_and_bookmarks(deployment: Deployment) -> None:
    key = lake_key(deployment)
    config = deployment.one("aws:glue/securityConfiguration:SecurityConfiguration").get(
        "encryptionConfiguration")
    assert config["cloudwatchEncryption"] == {"cloudwatchEncryptionMode": "SSE-KMS",
                                              "kmsKeyArn": key.arn}
    assert config["jobBookmarksEncryption"] == {"jobBookmarksEncryptionMode": "CSE-KMS",
                                                "kmsKeyArn": key.arn}
    assert config["s3Encryption"]["s3EncryptionMode"] in ("SSE-S3", "SSE-KMS")
    for found in (crawler(deployment), restricted_crawler(deployment)):
        assert found.get("securityConfiguration") == deployment.one(
            "aws:glue/securityConfiguration:SecurityConfiguration").get("name")


# --- catalog ----------------------------------------------------------------------------------

def test_each_crawler_reads_its_zone_into_its_database(deployment: Deployment) -> None:
    zones = buckets(deployment)
    databases = {d.get("name"): d for d in deployment.of_type(
        "aws:glue/catalogDatabase:CatalogDatabase")}
    public, restricted = crawler(deployment), restricted_crawler(deployment)
    assert {public.get("databaseName"), restricted.get("databaseName")} == set(databases)
    assert public.get("databaseName") == database(deployment).get("name")
    assert restricted.get("databaseName") == database(deployment).get("name") + "_restricted"
    for found, zone in ((public, "processed"), (restricted, "restricted")):
        [target] = found.get("s3Targets")
        assert target["path"] == s3_uri(zones[zone])
        assert {"_runs/**", "_staging/**"} <= set(target["exclusions"])
        assert found.get("schemaChangePolicy") == {"updateBehavior": "UPDATE_IN_DATABASE",
                                                   "deleteBehavior": "LOG"}
        assert found.get("recrawlPolicy") == {"recrawlBehavior": "CRAWL_EVERYTHING"}
        # One table per ingested file: <zone>/<table>/… is level 2 below the bucket.
        assert json.loads(found.get("configuration"))["Grouping"][
            "TableLevelConfiguration"] == 2
    # The researchers' query results, inside the restricted zone, are no table.
    [target] = restricted.get("s3Targets")
    assert f"{ATHENA_RESULTS_PREFIX}**" in target["exclusions"]
    # Each crawler has a role of its own.
    assert public.get("role") != restricted.get("role")


def test_databases_are_named_after_project_stack_and_dataset(dev: Deployment,
                                                             prod: Deployment) -> None:
    for d, name in ((dev, "datalake_dev_enem"), (prod, "datalake_prod_enem")):
        assert database(d).get("name") == name
        assert d.one("aws:glue/catalogDatabase:CatalogDatabase",
                     "-restricted-database").get("name") == f"{name}_restricted"


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
    assert args["--database"] == database(deployment).get("name")
    assert args["--gold"] == s3_uri(zones["gold"])
    assert args["--queries"].startswith(s3_uri(zones["artifacts"], "queries/"))
    gold_config = stack_config(deployment.stack)["datalake:gold"]
    assert args["--query-timeout-minutes"] == str(gold_config["queryTimeoutMinutes"])
    assert args["--min-group-size"] == str(gold_config["minGroupSize"]) == "10"
    assert gold.get("timeout") == gold_config["timeoutMinutes"]


def test_each_audience_queries_in_its_own_enforcing_workgroup(deployment: Deployment) -> None:
    """Business results in athena-results/business/, the analysts' where they always were
    (results/), the researchers' inside the restricted zone, under its policy and key."""
    zones = buckets(deployment)
    analysts = workgroup_of(deployment, "analyst").get("configuration")
    expected = {"business": s3_uri(zones["athena-results"], "business/"),
                "analyst": s3_uri(zones["athena-results"], "results/"),
                "researcher": s3_uri(zones["restricted"], ATHENA_RESULTS_PREFIX)}
    kms = stack_config(deployment.stack)["datalake:encryption"] == "kms"
    keys = {"business": lake_key(deployment), "analyst": lake_key(deployment),
            "researcher": restricted_key(deployment)}
    names = set()
    for audience in ROLES:
        conf = workgroup_of(deployment, audience).get("configuration")
        names.add(workgroup_of(deployment, audience).get("name"))
        assert conf["enforceWorkgroupConfiguration"] is True, audience
        assert conf["resultConfiguration"]["outputLocation"] == expected[audience]
        assert conf["resultConfiguration"]["encryptionConfiguration"] == (
            {"encryptionOption": "SSE_KMS", "kmsKeyArn": keys[audience].arn} if kms
            else {"encryptionOption": "SSE_S3"}), audience
        for key in ("bytesScannedCutoffPerQuery", "engineVersion"):
            assert conf[key] == analysts[key], (audience, key)
    assert len(names) == len(ROLES)


# --- ingestion -------------------------------------------------------------------------------


# --- alerts ----------------------------------------------------------------------------------


# --- exports ---------------------------------------------------------------------------------

def test_program_exports_what_a_user_needs(deployment: Deployment) -> None:
    out = deployment.outputs
    assert set(out["buckets"]) == set(ZONES) - {"access-logs"}
    for key in ("database", "restricted_database", "workgroup", "workflow", "process_job",
                "gold_job", "trigger_function", "ecr_repository_url", "analyst_role_arn",
                "crawler", "restricted_crawler"):
        assert out[key], key
    assert out["database"] == database(deployment).get("name")
    assert out["restricted_database"] == out["database"] + "_restricted"
    assert out["restricted_crawler"] == restricted_crawler(deployment).get("name")
    roles = {r.get("name"): r.arn for r in deployment.of_type("aws:iam/role:Role")}
    assert out["role_arns"] == {a: roles[f"{deployment.stack_prefix}-{a}"] for a in ROLES}
    assert out["workgroups"] == {a: workgroup_of(deployment, a).get("name") for a in ROLES}
    key = restricted_key(deployment)
    assert out["restricted_key_arn"] == (key.arn if key else None)
    trails = deployment.of_type("aws:cloudtrail/trail:Trail")
    assert out["audit_trail_arn"] == (trails[0].arn if trails else None)
    assert out["ecr_repository_url"].endswith("/" + deployment.one(
        "aws:ecr/repository:Repository").get("name"))
