"""AWS's rules for the lake's alerts and logs (EventBridge, SNS, KMS, CloudWatch), stated once
each, with the page each comes from, checked against both stacks as declared."""

from __future__ import annotations

import json
import re

from policies.mocks import ACCOUNT, REGION, Deployment
from tests.lake_resources import RULE, TARGET, key_statements, lake_key, pattern, services


def test_eventbridge_delivers_to_an_encrypted_topic_only_without_source_conditions(
        deployment: Deployment) -> None:
    """"Adding the aws:SourceAccount, aws:SourceArn, and aws:SourceOrgID to a AWS KMS policy is
    not supported for EventBridge-to-encrypted topics."
    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
    "You can't use Condition blocks in Amazon SNS topic policies for EventBridge."
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions"""
    topic = deployment.one("aws:sns/topic:Topic")
    assert topic.get("kmsMasterKeyId") == lake_key(deployment).arn  # so the rule applies
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
