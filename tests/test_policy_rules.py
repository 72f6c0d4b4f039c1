"""Each guardrail of the policy pack keeps a resource that follows it and names one that breaks
it, as `pulumi up` sees them; the rules that relate resources (a bucket and its encryption,
logging, ...) also at a first preview, when the ids that link them are unknown.

Each rule cites the AWS page it rests on in its `url`; `test_every_rule_cites_aws` holds them
to that."""

from __future__ import annotations

from collections.abc import Callable

import pulumi_aws as aws
import pytest

from policies.check import Report, evaluate
from policies.mocks import REGION, run
from policies.rule import StackRule
from policies.rules import BY_ID, RULES
from tests.policy_fixtures import (
    BOUNDARY,
    TAGS,
    crawler,
    function,
    glue_job,
    identity_policy,
    lake_buckets,
    public_read,
    resource,
    role,
    security_configuration,
    workgroup,
)

KMS = {"s3-encryption": {"kms": True}, "glue-security-configuration-encrypted": {"kms": True},
       "athena-results-encrypted": {"kms": True}}
ROLE_ARN = "arn:aws:iam::123456789012:role/job"
PASS_ROLE = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": ROLE_ARN,
             "Condition": {"StringEquals": {"iam:PassedToService": "glue.amazonaws.com"}}}
ANY_TRUST = '{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, ' \
            '"Action": "sts:AssumeRole"}]}'

# (rule, program, the resources it must name: none for a passing fixture)
CASES: list[tuple[str, Callable[[], None], set[str]]] = [
    ("s3-encryption", lake_buckets(), set()),
    ("s3-encryption", lake_buckets(sse=None), {"data"}),
    ("s3-encryption", lake_buckets(sse="AES256"), {"data"}),
    ("s3-encryption", lake_buckets(bucket_key=False), {"data"}),
    ("s3-encryption", lake_buckets(log_sse="aws:kms"), {"logs"}),
    ("s3-public-access-block", lake_buckets(), set()),
    ("s3-public-access-block", lake_buckets(blocks=(True, True, False, True)), {"data"}),
    ("s3-ownership-enforced", lake_buckets(), set()),
    ("s3-ownership-enforced", lake_buckets(ownership="ObjectWriter"), {"data"}),
    ("s3-ownership-enforced", lake_buckets(ownership=None), {"data"}),
    ("s3-bucket-policy", lake_buckets(), set()),
    ("s3-bucket-policy", lake_buckets(policy=None), {"data"}),
    ("s3-tls-only", lake_buckets(), set()),
    ("s3-tls-only", lake_buckets(policy=public_read), {"data-policy"}),
    ("s3-no-public-policy", lake_buckets(), set()),
    ("s3-no-public-policy", lake_buckets(policy=public_read), {"data-policy"}),
    ("s3-access-logging", lake_buckets(), set()),
    # ... and the log bucket, which then receives no logs, so it is not exempt any more
    ("s3-access-logging", lake_buckets(logs_to=None), {"data", "logs"}),
    ("s3-access-logging", lake_buckets(logs_to="self"), {"data", "logs"}),
    ("s3-versioning", lake_buckets(), set()),
    ("s3-versioning", lake_buckets(versioned=False, zone="processed"), set()),
    ("s3-versioning", lake_buckets(versioned=False), {"data"}),
    ("s3-lifecycle", lake_buckets(), set()),
    ("s3-lifecycle", lake_buckets(aborts_uploads=False), {"data"}),
    ("iam-no-wildcard-actions", identity_policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}), set()),
    ("iam-no-wildcard-actions", identity_policy(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}), {"grants"}),
    ("iam-no-wildcard-actions", identity_policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*"}), {"grants"}),
    ("iam-wildcard-resource", identity_policy(
        {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}), set()),
    ("iam-wildcard-resource", identity_policy(
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}), {"grants"}),
    ("iam-wildcard-resource", identity_policy(
        {"Effect": "Allow", "Action": "glue:Get*", "Resource": "*"}), {"grants"}),
    ("iam-passrole-scoped", identity_policy(PASS_ROLE), set()),
    ("iam-passrole-scoped", identity_policy({**PASS_ROLE, "Condition": {}}), {"grants"}),
    ("iam-passrole-scoped", identity_policy({**PASS_ROLE, "Resource": "*"}), {"grants"}),
    ("iam-role-boundary", role(), set()),
    ("iam-role-boundary", role(boundary=None), {"job-role"}),
    ("iam-trust-scoped", role(), set()),
    ("iam-trust-scoped", role(trust=ANY_TRUST), {"job-role"}),
    ("kms-key-rotation", resource(aws.kms.Key, "key", enable_key_rotation=True, tags=TAGS),
     set()),
    ("kms-key-rotation", resource(aws.kms.Key, "key", key_usage="SIGN_VERIFY",
                                  customer_master_key_spec="RSA_2048", tags=TAGS), set()),
    ("kms-key-rotation", resource(aws.kms.Key, "key", tags=TAGS), {"key"}),
    ("logs-retention", resource(aws.cloudwatch.LogGroup, "logs", retention_in_days=14), set()),
    ("logs-retention", resource(aws.cloudwatch.LogGroup, "logs"), {"logs"}),
    ("logs-encrypted", resource(aws.cloudwatch.LogGroup, "logs", kms_key_id="arn:k"), set()),
    ("logs-encrypted", resource(aws.cloudwatch.LogGroup, "logs"), {"logs"}),
    ("lambda-log-group", function(), set()),
    ("lambda-log-group", function(log_group=False), {"trigger"}),
    ("lambda-timeout", function(), set()),
    ("lambda-timeout", function(timeout=None), {"trigger"}),
    ("sns-encrypted", resource(aws.sns.Topic, "alerts", kms_master_key_id="alias/k"), set()),
    ("sns-encrypted", resource(aws.sns.Topic, "alerts"), {"alerts"}),
    ("glue-job-timeout", glue_job(), set()),
    ("glue-job-timeout", glue_job(timeout=None), {"job"}),
    ("glue-job-timeout", glue_job(timeout=5000), {"job"}),
    ("glue-job-capacity", glue_job(), set()),
    ("glue-job-capacity", glue_job(number_of_workers=50), {"job"}),
    ("glue-job-capacity", glue_job(command={"name": "pythonshell", "script_location": "s3://c"},
                                   worker_type=None, number_of_workers=None), {"job"}),
    ("glue-job-security-configuration", glue_job(), set()),
    ("glue-job-security-configuration", glue_job(security_configuration=None), {"job"}),
    ("glue-job-bookmarks", glue_job(), set()),
    ("glue-job-bookmarks", glue_job(default_arguments={
        "--job-bookmark-option": "job-bookmark-enable"}), {"job"}),
    ("glue-security-configuration-encrypted", security_configuration(), set()),
    ("glue-security-configuration-encrypted", security_configuration(s3="SSE-S3"),
     {"glue-security"}),
    ("glue-security-configuration-encrypted", security_configuration(logs="DISABLED"),
     {"glue-security"}),
    ("glue-security-configuration-encrypted", security_configuration(bookmarks="DISABLED"),
     {"glue-security"}),
    ("glue-crawler-exclusions", crawler(), set()),
    ("glue-crawler-exclusions", crawler(exclusions=("_runs/**",)), {"crawler"}),
    ("glue-crawler-security-configuration", crawler(), set()),
    ("glue-crawler-security-configuration", crawler(security=None), {"crawler"}),
    ("athena-bytes-scanned-cutoff", workgroup(), set()),
    ("athena-bytes-scanned-cutoff", workgroup(bytes_scanned_cutoff_per_query=None), {"queries"}),
    ("athena-results-encrypted", workgroup(), set()),
    ("athena-results-encrypted", workgroup(result_configuration={
        "output_location": "s3://results/"}), {"queries"}),
    ("athena-engine-v3", workgroup(), set()),
    ("athena-engine-v3", workgroup(engine_version={"selected_engine_version": "AUTO"}),
     {"queries"}),
    ("athena-enforce-configuration", workgroup(), set()),
    ("athena-enforce-configuration", workgroup(used_by_job=True,
                                               enforce_workgroup_configuration=False), set()),
    ("athena-enforce-configuration", workgroup(enforce_workgroup_configuration=False),
     {"queries"}),
    ("required-tags", resource(aws.sns.Topic, "alerts", tags=TAGS), set()),
    ("required-tags", resource(aws.sns.Topic, "alerts", tags={"project": "x"}), {"alerts"}),
    ("required-tags", resource(aws.iam.Role, "job-role", assume_role_policy="{}",
                               permissions_boundary=BOUNDARY), {"job-role"}),
]


def violators(rule: str, program: Callable[[], None], preview: bool = False) -> set[str]:
    deployment = run(program, stack="dev", config={"aws:region": REGION}, preview=preview)
    report = Report()
    evaluate("dev", deployment.registrations, {"all": "mandatory", **KMS}, report)
    return {f.resource for f in report.findings if f.rule == rule}


@pytest.mark.parametrize(("rule", "program", "expected"), CASES,
                         ids=[f"{rule}-{'passes' if not expected else 'fails'}-{i}"
                              for i, (rule, _, expected) in enumerate(CASES)])
def test_the_rule_names_exactly_the_resources_that_break_it(
        rule: str, program: Callable[[], None], expected: set[str]) -> None:
    assert violators(rule, program) == expected


@pytest.mark.parametrize(("rule", "program", "expected"),
                         [case for case in CASES if isinstance(BY_ID[case[0]], StackRule)])
def test_relating_rules_hold_at_a_first_preview(rule: str, program: Callable[[], None],
                                                expected: set[str]) -> None:
    """At a first preview a bucket's id is unknown, so its encryption, logging, ... name it
    through a property dependency: the rule still links them, and still runs."""
    assert violators(rule, program, preview=True) == expected


def test_every_rule_has_a_passing_and_a_failing_fixture() -> None:
    passing = {rule for rule, _, expected in CASES if not expected}
    failing = {rule for rule, _, expected in CASES if expected}
    assert passing == failing == set(BY_ID)


def test_every_rule_cites_aws_and_says_what_to_change() -> None:
    assert len(RULES) >= 20 and len(BY_ID) == len(RULES)
    for rule in RULES:
        policy = rule.policy()
        assert policy.name == rule.id and "\n" not in policy.description
        assert policy.url.startswith("https://docs.aws.amazon.com/"), rule.id
        assert policy.remediation_steps and "waivers" in policy.config_schema.properties

