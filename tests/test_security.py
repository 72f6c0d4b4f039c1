"""Security by default, checked on every bucket and resource of both stacks."""

from __future__ import annotations

from jobs.contract import restricted_database
from policies.mocks import ACCOUNT, Deployment, Resource, run_main, stack_config
from tests.lake_resources import (
    AUDIT,
    buckets,
    expected_zones,
    for_bucket,
    lake_key,
    records_restricted_reads,
    restricted_key,
)


def single(d: Deployment, typ: str, bucket: Resource) -> Resource:
    found = for_bucket(d, typ, bucket)
    assert len(found) == 1, f"{bucket.get('bucket')}: expected one {typ}, got {len(found)}"
    return found[0]


def test_every_zone_has_a_bucket(deployment: Deployment) -> None:
    """The audit bucket exists where the stack records the restricted zone's reads (prod)."""
    assert records_restricted_reads(deployment) == (deployment.stack == "prod")
    assert set(buckets(deployment)) == expected_zones(deployment)


def test_every_bucket_is_encrypted(deployment: Deployment) -> None:
    key_arn = lake_key(deployment).arn
    # What the stack file asks for, not what the resources under test say.
    kms = stack_config(deployment.stack)["datalake:encryption"] == "kms"
    assert kms == (deployment.stack == "prod")
    assert (restricted_key(deployment) is not None) == kms
    for zone, bucket in buckets(deployment).items():
        sse = single(deployment, "aws:s3/bucketServerSideEncryptionConfiguration:"
                     "BucketServerSideEncryptionConfiguration", bucket)
        [rule] = sse.get("rules")
        default = rule["applyServerSideEncryptionByDefault"]
        if zone == "access-logs" or not kms:  # S3 log delivery supports SSE-S3 only
            assert default == {"sseAlgorithm": "AES256"}, zone
        else:
            # the restricted zone has a key of its own; every other zone the lake key
            key = restricted_key(deployment).arn if zone == "restricted" else key_arn
            assert default == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key}, zone
            assert rule["bucketKeyEnabled"] is True


def test_every_bucket_blocks_public_access_and_enforces_owner(deployment: Deployment) -> None:
    for zone, bucket in buckets(deployment).items():
        block = single(deployment, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                       bucket)
        for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                     "restrictPublicBuckets"):
            assert block.get(flag) is True, f"{zone}: {flag}"
        ownership = single(deployment, "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
                           bucket)
        assert ownership.get("rule") == {"objectOwnership": "BucketOwnerEnforced"}, zone


def test_every_bucket_denies_non_tls_access(deployment: Deployment) -> None:
    for zone, bucket in buckets(deployment).items():
        policy = single(deployment, "aws:s3/bucketPolicy:BucketPolicy", bucket).json("policy")
        deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
        assert deny[0] == {
            "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
            "Action": ["s3:*"], "Resource": [bucket.arn, f"{bucket.arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }, zone
        # … and the restricted zone alone denies its objects to all but its readers
        # (tests/test_iam.py evaluates that Deny for every role).
        assert [s["Sid"] for s in deny[1:]] == (["OnlyItsReaders"] if zone == "restricted"
                                                 else []), zone
        allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
        # only log delivery, only into the log buckets: S3's server access logs, CloudTrail's
        services = {"access-logs": {"logging.s3.amazonaws.com"},
                    AUDIT: {"cloudtrail.amazonaws.com"}}.get(zone, set())
        assert {s["Principal"]["Service"] for s in allows} == services, zone
        for grant in allows:
            assert grant["Resource"][0].startswith(bucket.arn), zone


def test_every_bucket_aborts_incomplete_uploads(deployment: Deployment) -> None:
    for zone, bucket in buckets(deployment).items():
        lifecycle = single(deployment, "aws:s3/bucketLifecycleConfiguration:"
                           "BucketLifecycleConfiguration", bucket)
        assert all(rule["status"] == "Enabled" for rule in lifecycle.get("rules"))
        assert any(rule.get("abortIncompleteMultipartUpload", {}).get("daysAfterInitiation")
                   for rule in lifecycle.get("rules")), zone


def test_every_bucket_logs_to_the_log_bucket(deployment: Deployment) -> None:
    log_bucket = buckets(deployment)["access-logs"]
    for zone, bucket in buckets(deployment).items():
        logging = for_bucket(deployment, "aws:s3/bucketLogging:BucketLogging", bucket)
        if zone == "access-logs":
            assert logging == []  # a log bucket logging to itself would loop
            continue
        assert len(logging) == 1, zone
        assert logging[0].get("targetBucket") == log_bucket.get("bucket"), zone
        assert logging[0].get("targetPrefix") == bucket.get("bucket") + "/"


def test_raw_and_gold_are_versioned(deployment: Deployment) -> None:
    """The restricted zone, like processed, is replaced whole by each run: not versioned."""
    versioned = {zone for zone, bucket in buckets(deployment).items()
                 if any(v.get("versioningConfiguration") == {"status": "Enabled"}
                        for v in for_bucket(deployment, "aws:s3/bucketVersioning:BucketVersioning",
                                            bucket))}
    assert versioned == {"raw", "gold"}


def test_every_workgroups_query_results_expire(deployment: Deployment) -> None:
    """Athena keeps every result it writes; the stack's lifecycle expires them after
    athenaResults.expireDays, wherever a workgroup writes them (the researchers' inside the
    restricted zone included), and no sooner the tables the catalog points at."""
    days = stack_config(deployment.stack)["datalake:lifecycle"]["athenaResults"]["expireDays"]
    lifecycles = {r.get("bucket"): r for r in deployment.of_type(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")}
    workgroups = deployment.of_type("aws:athena/workgroup:Workgroup")
    assert len(workgroups) == 4  # three audiences and the gold job
    for workgroup in workgroups:
        location = workgroup.get("configuration", "resultConfiguration", "outputLocation")
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        reaching = [rule for rule in lifecycles[bucket].get("rules")
                    if prefix.startswith((rule.get("filter") or {}).get("prefix", ""))]
        assert [rule["expiration"]["days"] for rule in reaching if "expiration" in rule
                and "days" in rule["expiration"]] == [days], workgroup.name


def test_every_taggable_resource_carries_the_lake_tags(deployment: Deployment) -> None:
    taggable = [r for r in deployment if r.type.startswith("aws:") and "tags" in r.inputs]
    assert len(taggable) > 20
    stack = deployment.stack
    for resource in taggable:
        tags = resource.get("tags")
        assert tags["project"] == "datalake", resource.name
        assert tags["stack"] == stack, resource.name
        assert tags["dataset"] == "enem", resource.name
        assert tags["managed-by"] == "pulumi", resource.name
        assert tags["layer"] in {"security", "storage", "ingestion", "processing", "catalog",
                                 "analytics", "orchestration", "alerts"}, resource.name
    for zone, bucket in buckets(deployment).items():
        assert bucket.get("tags", "zone") == zone
        assert bucket.get("tags", "layer") == "storage"


NAMED_QUERY = "aws:athena/namedQuery:NamedQuery"


def test_physical_names_follow_project_stack_dataset(deployment: Deployment) -> None:
    stack = deployment.stack
    prefix = f"datalake-{stack}-enem"
    # A named query is named after its file (`queries/<name>.sql`): it lives inside the lake's
    # workgroup, which carries the prefix.
    named = [r for r in deployment if r.type.startswith("aws:") and isinstance(
        r.inputs.get("name"), str) and r.type not in ("aws:kms/alias:Alias", NAMED_QUERY)]
    assert len(named) > 15
    databases = {prefix.replace("-", "_"), restricted_database(prefix.replace("-", "_"))}
    # Log groups sit under the root their service writes to (README: Security notes).
    log_roots = ("/aws/lambda/", "/aws-glue/jobs/", "/aws-glue/python-jobs/",
                 "/aws-glue/crawlers-role/")
    for resource in named:
        name = resource.get("name")
        assert name.startswith(prefix) or name in databases or any(
            name.startswith(root + prefix) for root in log_roots), name
    for alias in deployment.of_type("aws:kms/alias:Alias"):
        assert alias.get("name").startswith(f"alias/{prefix}"), alias.get("name")
    for bucket in deployment.of_type("aws:s3/bucket:Bucket"):
        assert bucket.get("bucket").startswith(prefix + "-")
        assert bucket.get("bucket").endswith("-123456789012")
        assert len(bucket.get("bucket")) <= 63


def test_every_role_is_capped_by_the_stacks_permissions_boundary(deployment: Deployment) -> None:
    roles = deployment.of_type("aws:iam/role:Role")
    expected = f"arn:aws:iam::{ACCOUNT}:policy/datalake-boundary-{deployment.stack}"
    assert len(roles) >= 6
    assert {r.get("name"): r.get("permissionsBoundary") for r in roles} == {
        r.get("name"): expected for r in roles}


def test_without_the_setting_roles_have_no_boundary() -> None:
    config = {**stack_config("dev"), "datalake:permissionsBoundary": False}
    roles = run_main("dev", config).of_type("aws:iam/role:Role")
    assert roles and all(r.get("permissionsBoundary") is None for r in roles)
