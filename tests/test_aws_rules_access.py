"""AWS's rules for governed access (the restricted zone, its key, its audit trail, the audiences'
workgroups), stated once each, with the page each comes from, checked against both stacks as
declared and against the runtime's requests where a rule is about a call."""

from __future__ import annotations

import boto3
import pytest

from jobs.contract import ATHENA_RESULTS_PREFIX, ROLE_ZONES, ROLES, join
from jobs.gold import names
from jobs.storage import S3Storage
from policies.mocks import ACCOUNT, REGION, Deployment
from tests.iam_calls import RESTRICTED_ZONE_ROLES
from tests.iam_eval import allows, statements
from tests.lake_resources import (
    KEY,
    ROLE,
    bucket_policy,
    buckets,
    kms_stack,
    lake_key,
    policies_of,
    records_restricted_reads,
    restricted_crawler,
    restricted_key,
    role_named,
    services,
    workgroup_of,
)

TRAIL = "aws:cloudtrail/trail:Trail"
OBJECT = "microdados_enem_2019/nu_ano=2019/sg_uf_prova=RR/part-0.parquet"


# --- S3 bucket policies ------------------------------------------------------------------------

def test_a_bucket_policy_names_its_readers_by_aws_principal_arn(deployment: Deployment) -> None:
    """NotPrincipal: "We recommend using the aws:PrincipalArn context key with ARN condition
    operators instead" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html);
    for an IAM role, aws:PrincipalArn holds the role's ARN, never the assumed-role session's
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn),
    and a Deny to everyone but some principals is the pattern of the S3 examples
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html).
    So the restricted zone's Deny has Principal "*", an ARN operator on aws:PrincipalArn, and
    exactly the ARNs of the roles the lake declares as its readers."""
    policy = bucket_policy(deployment, "restricted")
    assert not any("NotPrincipal" in s for s in policy["Statement"])
    [deny] = [s for s in policy["Statement"] if s.get("Sid") == "OnlyItsReaders"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    [(operator, keys)] = deny["Condition"].items()
    assert operator in ("ArnNotEquals", "ArnNotLike") and list(keys) == ["aws:PrincipalArn"]
    readers = keys["aws:PrincipalArn"]
    assert all(arn.startswith(f"arn:aws:iam::{ACCOUNT}:role/") for arn in readers)
    assert sorted(readers) == sorted(role_named(deployment, role).arn
                                     for role in RESTRICTED_ZONE_ROLES)
    bucket = buckets(deployment)["restricted"]
    assert deny["Resource"] == [bucket.arn, f"{bucket.arn}/*"]  # the bucket and its objects


def test_athena_reads_the_restricted_zone_with_the_researchers_own_credentials(
        deployment: Deployment) -> None:
    """"When actors interact with Athena, their permissions pass through Athena to determine
    what Athena can access" (https://docs.aws.amazon.com/athena/latest/ug/s3-permissions.html);
    S3 asks KMS with the same principal's permissions (forward access sessions,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/access_forward_access_sessions.html). So a
    researcher's query passes the bucket policy and the key policy as the researcher role, and
    its results land in the restricted zone, where the same policies hold."""
    researcher = role_named(deployment, "researcher")
    request = {"aws:PrincipalArn": researcher.arn, "aws:SecureTransport": "true",
               "aws:CalledVia": "athena.amazonaws.com"}
    restricted = buckets(deployment)["restricted"]
    documents = [*policies_of(deployment, "researcher"), bucket_policy(deployment, "restricted")]
    results = workgroup_of(deployment, "researcher").get(
        "configuration", "resultConfiguration", "outputLocation")
    assert results == f"s3://{restricted.get('bucket')}/{ATHENA_RESULTS_PREFIX}"
    assert allows(documents, "s3:GetObject", f"{restricted.arn}/{OBJECT}", request)
    assert allows(documents, "s3:PutObject", f"{restricted.arn}/{ATHENA_RESULTS_PREFIX}q.csv",
                  request)
    key = restricted_key(deployment)
    if key is not None:
        for action in ("kms:Decrypt", "kms:GenerateDataKey"):
            assert allows([key.json("policy")], action, key.arn, request)
            assert allows(policies_of(deployment, "researcher"), action, key.arn)


# --- KMS key policies --------------------------------------------------------------------------

def test_every_key_stays_manageable_by_the_account(deployment: Deployment) -> None:
    """"The key policy must allow the calling principal to make a subsequent PutKeyPolicy request
    on the KMS key. This reduces the risk that the KMS key becomes unmanageable"
    (https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html, Policy); the
    account principal in a key policy "enables IAM policies" to allow what it grants
    (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
    The restricted key gives the account administration only: were "kms:*" granted to the
    account, any IAM policy of the account could make anyone a user of it."""
    root = f"arn:aws:iam::{ACCOUNT}:root"
    for key in deployment.of_type(KEY):
        policy = key.json("policy")
        admin = [s for s in policy["Statement"] if s["Principal"] == {"AWS": root}
                 and "Condition" not in s]
        for action in ("kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:ScheduleKeyDeletion",
                       "kms:TagResource", "kms:DescribeKey"):
            assert allows([{"Statement": admin}], action, key.arn), (key.name, action)
        assert key.get("enableKeyRotation") is True
    key = restricted_key(deployment)
    if key is None:
        assert not kms_stack(deployment)
        return
    unconditioned = [s for s in key.json("policy")["Statement"] if "Condition" not in s]
    for action in ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom",
                   "kms:CreateGrant"):
        assert not allows([{"Statement": unconditioned}], action, key.arn), action
    assert key.get("deletionWindowInDays") == lake_key(deployment).get("deletionWindowInDays")


def test_the_restricted_keys_users_are_named_by_condition_and_exist(
        deployment: Deployment) -> None:
    """"The principals in the key policy must exist and be visible to KMS"
    (https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html, Policy); the key is
    declared before the roles that use it, so its users are the account's principals narrowed
    by aws:PrincipalArn, a condition KMS does not resolve. Each ARN named is one the program
    declares, so the condition cannot go stale."""
    key = restricted_key(deployment)
    if key is None:
        pytest.skip("SSE-S3 stack: no restricted key")
    [users] = [s for s in key.json("policy")["Statement"] if s.get("Sid") == "OnlyItsUsers"]
    assert users["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    declared = {r.arn for r in deployment.of_type(ROLE)}
    named = users["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    assert set(named) <= declared
    assert sorted(named) == sorted(role_named(deployment, r).arn for r in RESTRICTED_ZONE_ROLES)


def test_copied_objects_take_the_destination_buckets_default_key(
        deployment: Deployment, s3_bucket: str) -> None:
    """"When you copy an object, if you don't specify encryption information in your copy
    request, the encryption setting of the target object is set to the default encryption
    configuration of the destination bucket"
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html). The processing job
    stages its Spark output (encrypted as its Glue security configuration says) and publishes a
    table by copying it into place (jobs/storage.py replace): the copies carry no encryption
    headers, so the restricted tables take the restricted zone's own key, and the staging
    folder, which the crawler skips, is deleted after the copy."""
    client = boto3.client("s3")
    sent: list[dict] = []

    def record(params: dict, **_) -> None:
        sent.append(dict(params))

    for operation in ("CopyObject", "CreateMultipartUpload", "UploadPartCopy"):
        client.meta.events.register(f"before-parameter-build.s3.{operation}", record)
    store = S3Storage(client)
    root = f"s3://{s3_bucket}"
    store.write_bytes(join(root, "_staging", "run-1", "t", "part-0.parquet"), b"x" * 1024)
    store.replace(join(root, "_staging", "run-1", "t"), join(root, "t"))
    assert store.files(join(root, "t")) == [join(root, "t", "part-0.parquet")]
    assert sent
    for params in sent:
        assert not {"ServerSideEncryption", "SSEKMSKeyId", "BucketKeyEnabled"} & set(params)
    # … into a bucket whose default is the restricted key (kms stacks), from staging the
    # restricted crawler does not read.
    [sse] = [r for r in deployment.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        if r.get("bucket") == buckets(deployment)["restricted"].id]
    default = sse.get("rules")[0]["applyServerSideEncryptionByDefault"]
    key = restricted_key(deployment)
    assert default.get("kmsMasterKeyId") == (key.arn if key else None)
    [target] = restricted_crawler(deployment).get("s3Targets")
    assert "_staging/**" in target["exclusions"]


# --- CloudTrail --------------------------------------------------------------------------------

def _trail(deployment: Deployment):
    trails = deployment.of_type(TRAIL)
    assert len(trails) == (1 if records_restricted_reads(deployment) else 0)
    return trails[0] if trails else None


def test_cloudtrail_delivers_only_to_a_bucket_whose_policy_lets_it(
        deployment: Deployment) -> None:
    """The bucket policy CloudTrail requires: s3:GetBucketAcl on the bucket and s3:PutObject on
    `<bucket>/[prefix/]AWSLogs/<account>/*` with s3:x-amz-acl bucket-owner-full-control, for
    the service principal, narrowed by aws:SourceArn to the trail; CreateTrail fails without it
    (InsufficientS3BucketPolicyException), so the trail is created after the policy.
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html"""
    trail = _trail(deployment)
    if trail is None:
        assert "audit" not in buckets(deployment)
        return
    audit = buckets(deployment)["audit"]
    assert trail.get("s3BucketName") == audit.get("bucket")
    prefix = trail.get("s3KeyPrefix") or ""
    policy = bucket_policy(deployment, "audit")
    grants = [s for s in policy["Statement"] if "cloudtrail.amazonaws.com" in services(s)]
    assert {s["Sid"] for s in grants} == {"CloudTrailAclCheck", "CloudTrailWrite"}
    for grant in grants:
        assert grant["Condition"]["StringEquals"]["aws:SourceArn"] == trail.arn
    acl = next(s for s in grants if s["Action"] == ["s3:GetBucketAcl"])
    assert acl["Resource"] == [audit.arn]
    write = next(s for s in grants if s["Action"] == ["s3:PutObject"])
    logs = join(f"{audit.arn}", prefix, "AWSLogs", ACCOUNT) + "/*"
    assert write["Resource"] == [logs]
    assert write["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"
    [registered] = [r for r in deployment.registrations if r.type == TRAIL]
    [audit_policy] = [r.urn for r in deployment.registrations
                      if r.type == "aws:s3/bucketPolicy:BucketPolicy"
                      and r.name.endswith("-audit-policy")]
    assert audit_policy in registered.dependencies


def test_cloudtrail_encrypts_with_a_key_whose_policy_lets_it(deployment: Deployment) -> None:
    """A trail's KMS key must let cloudtrail.amazonaws.com kms:GenerateDataKey* for the trail
    (kms:EncryptionContext:aws:cloudtrail:arn; aws:SourceArn, the trail's ARN, as a best
    practice) and kms:DescribeKey, or "CloudTrail will not deliver logs".
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html"""
    trail = _trail(deployment)
    if trail is None:
        return
    if not kms_stack(deployment):
        assert trail.get("kmsKeyId") is None  # SSE-S3, like the stack's other buckets
        return
    key = lake_key(deployment)
    assert trail.get("kmsKeyId") == key.arn
    policy = key.json("policy")
    context = {"kms:EncryptionContext:aws:cloudtrail:arn": trail.arn, "aws:SourceArn": trail.arn}
    trail_only = [s for s in statements([policy]) if "cloudtrail.amazonaws.com" in services(s)]
    assert allows([{"Statement": trail_only}], "kms:GenerateDataKey", key.arn, context)
    assert allows([{"Statement": trail_only}], "kms:DescribeKey", key.arn, context)
    other = {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:{REGION}:"
             f"{ACCOUNT}:trail/someone-elses", "aws:SourceArn": f"arn:aws:cloudtrail:{REGION}:"
             f"{ACCOUNT}:trail/someone-elses"}
    assert not allows([{"Statement": trail_only}], "kms:GenerateDataKey", key.arn, other)
    assert not allows([{"Statement": trail_only}], "kms:Decrypt", key.arn, context)


def test_s3_data_events_are_selected_by_object_arn_prefix(deployment: Deployment) -> None:
    """Advanced event selectors log S3 object-level (data) events with eventCategory Data,
    resources.type AWS::S3::Object and resources.ARN StartsWith `arn:aws:s3:::<bucket>/`; a
    trail whose selectors name no Management category logs no management events. Data events
    are logged by the trail of the bucket's Region.
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html,
    https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_AdvancedFieldSelector.html"""
    trail = _trail(deployment)
    if trail is None:
        return
    restricted = buckets(deployment)["restricted"]
    [selector] = trail.get("advancedEventSelectors")
    fields = {f["field"]: f for f in selector["fieldSelectors"]}
    assert fields["eventCategory"] == {"field": "eventCategory", "equals": ["Data"]}
    assert fields["resources.type"] == {"field": "resources.type", "equals": ["AWS::S3::Object"]}
    assert fields["resources.ARN"] == {"field": "resources.ARN",
                                       "startsWiths": [f"{restricted.arn}/"]}
    assert "readOnly" not in fields  # reads and writes: every GetObject is recorded
    assert trail.get("isMultiRegionTrail") is False and trail.get("enableLogFileValidation")
    assert trail.get("includeGlobalServiceEvents") is False
    assert not trail.get("eventSelectors")  # one kind of selector per trail


# --- Athena and the Glue catalog ---------------------------------------------------------------

def test_enforcing_workgroups_keep_each_audiences_results_from_lower_audiences(
        deployment: Deployment) -> None:
    """With "Override client-side settings" (EnforceWorkGroupConfiguration) a workgroup's
    results location and encryption are used for every query, whatever the client asks
    (https://docs.aws.amazon.com/athena/latest/ug/workgroups-settings-override.html). So each
    audience may run queries only in enforcing workgroups whose results no audience reading
    less (jobs.contract.ROLE_ZONES) can read."""
    workgroups = {w.get("name"): w for w in deployment.of_type("aws:athena/workgroup:Workgroup")}
    account = f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/"
    for audience in ROLES:
        usable = [w for name, w in workgroups.items()
                  if allows(policies_of(deployment, audience), "athena:StartQueryExecution",
                            account + name)]
        assert usable == [workgroup_of(deployment, audience)], audience
        conf = usable[0].get("configuration")
        assert conf["enforceWorkgroupConfiguration"] is True
        bucket, prefix = names.split_uri(conf["resultConfiguration"]["outputLocation"])
        result = f"arn:aws:s3:::{bucket}/{prefix}q.csv"
        for lower in ROLES:
            if set(ROLE_ZONES[lower]) < set(ROLE_ZONES[audience]):
                assert not allows(policies_of(deployment, lower), "s3:GetObject", result), (
                    audience, lower)
        assert allows(policies_of(deployment, audience), "s3:GetObject", result)


def test_a_table_needs_its_database_and_the_catalog_too(deployment: Deployment) -> None:
    """"For any non-delete Athena action on a resource in the database, you must include
    access to the catalog, the database and the table" (the ancestors of the resource).
    https://docs.aws.amazon.com/athena/latest/ug/fine-grained-access-to-glue-resources.html,
    https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html"""
    glue = f"arn:aws:glue:{REGION}:{ACCOUNT}:"
    for audience in ROLES:
        policies = policies_of(deployment, audience)
        tables = [r for s in statements(policies) if "glue:GetTable" in s["Action"]
                  for r in s["Resource"] if ":table/" in r]
        assert tables, audience
        for table in tables:
            database = table.split(":table/")[1].split("/")[0]
            for action in ("glue:GetTable", "glue:GetPartitions"):
                assert allows(policies, action, table.replace("*", "t")), (audience, table)
            assert allows(policies, "glue:GetDatabase", f"{glue}database/{database}")
            assert allows(policies, "glue:GetTable", f"{glue}catalog")
