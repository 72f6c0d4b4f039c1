"""Alerts: failed or timed-out Glue jobs and crawls, failed SageMaker ingestion and Lambda errors
go to one encrypted SNS topic (optionally mailed)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.naming import AwsContext, LakeLayer, Naming
from components.policies import document, statement

# The states AWS documents for "Glue Job State Change" are SUCCEEDED, FAILED, TIMEOUT, STOPPED:
# every one but SUCCEEDED means the job did not finish (automating-awsglue-with-cloudwatch-events).
GLUE_JOB_FAILURES = ["FAILED", "TIMEOUT", "STOPPED"]
CRAWLER_FAILURES = ["Failed"]
PROCESSING_JOB_FAILURES = ["Failed", "Stopped"]
NO_SUBSCRIBER_WARNING = (
    "Stack {stack}: the alert topic has no subscriber, so failed jobs alert nobody; set "
    "`datalake:alerts.email` in Pulumi.{stack}.yaml (then confirm the mail AWS sends) or "
    "subscribe to the topic another way.")


def alert_template(summary: str, paths: dict[str, str]) -> str:
    """The alert's text: a JSON object with each extracted value as a JSON value, unquoted.

    EventBridge does not escape what it puts into a quoted placeholder, so a failure message
    holding a quote would break a string template; an unquoted placeholder takes the value as
    the event holds it, valid JSON (eb-transform-target-input.html, API_InputTransformer)."""
    fields = ", ".join(f'"{key}": <{key}>' for key in paths)
    return f'{{"alert": {json.dumps(summary)}, {fields}}}'


@dataclass(kw_only=True)
class AlertsArgs:
    naming: Naming
    aws: AwsContext
    kms_key_arn: pulumi.Input[str]
    glue_jobs: list[pulumi.Input[str]]
    crawlers: list[pulumi.Input[str]]
    processing_job_prefix: str
    trigger_function: pulumi.Input[str]
    email: str | None


class Alerts(LakeLayer):
    """EventBridge rules + a Lambda error alarm → an SNS topic encrypted with the lake key."""

    def __init__(self, name: str, args: AlertsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:alerts:Alerts", name, "alerts", opts)
        ctx, naming = args.aws, args.naming
        child = pulumi.ResourceOptions(parent=self)
        self._name, self._prefix = name, naming.prefix

        self.topic = aws.sns.Topic(f"{name}-topic", name=naming.name("alerts"),
                                   kms_master_key_id=args.kms_key_arn, opts=child)
        aws.sns.TopicPolicy(f"{name}-topic-policy", arn=self.topic.arn, policy=document([
            # EventBridge: no Condition block (eb-use-resource-based.html#eb-sns-permissions).
            {**statement(["sns:Publish"], [self.topic.arn], sid="EventBridgeAlerts"),
             "Principal": {"Service": "events.amazonaws.com"}},
            {**statement(["sns:Publish"], [self.topic.arn], sid="AlarmAlerts", condition={
                "StringEquals": {"aws:SourceAccount": ctx.account_id},
                "ArnLike": {"aws:SourceArn": ctx.arn("cloudwatch",
                                                     f"alarm:{naming.prefix}-*")}}),
             "Principal": {"Service": "cloudwatch.amazonaws.com"}},
        ]), opts=child)
        if args.email:
            aws.sns.TopicSubscription(f"{name}-email", topic=self.topic.arn, protocol="email",
                                      endpoint=args.email, opts=child)
        else:
            pulumi.log.warn(NO_SUBSCRIBER_WARNING.format(stack=naming.stack), resource=self)

        self._rule("glue-job-failed", "Glue Job State Change",
                   pulumi.Output.all(*args.glue_jobs).apply(
                       lambda jobs: {"jobName": list(jobs), "state": GLUE_JOB_FAILURES}),
                   source="aws.glue",
                   paths={"job": "$.detail.jobName", "state": "$.detail.state",
                          "message": "$.detail.message"},
                   summary="Glue job did not finish")
        self._rule("crawler-failed", "Glue Crawler State Change",
                   pulumi.Output.all(*args.crawlers).apply(
                       lambda crawlers: {"crawlerName": list(crawlers),
                                         "state": CRAWLER_FAILURES}),
                   source="aws.glue",
                   paths={"crawler": "$.detail.crawlerName", "state": "$.detail.state",
                          "message": "$.detail.errorMessage"},
                   summary="Glue crawler failed")
        self._rule("ingest-failed", "SageMaker Processing Job State Change",
                   {"ProcessingJobName": [{"prefix": f"{args.processing_job_prefix}-"}],
                    "ProcessingJobStatus": PROCESSING_JOB_FAILURES},
                   source="aws.sagemaker",
                   paths={"job": "$.detail.ProcessingJobName",
                          "state": "$.detail.ProcessingJobStatus",
                          "message": "$.detail.FailureReason"},
                   summary="Ingestion job did not finish")

        self.lambda_errors = aws.cloudwatch.MetricAlarm(
            f"{name}-trigger-errors", name=naming.name("ingest-trigger-errors"),
            namespace="AWS/Lambda", metric_name="Errors",
            dimensions={"FunctionName": args.trigger_function}, statistic="Sum", period=300,
            evaluation_periods=1, threshold=0, comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching", alarm_actions=[self.topic.arn],
            alarm_description="The ingestion trigger Lambda raised an error", opts=child)
        self.register_outputs({"topic": self.topic.arn})

    def _rule(self, name: str, detail_type: str, detail: pulumi.Input[dict], *, source: str,
              paths: dict[str, str], summary: str) -> aws.cloudwatch.EventRule:
        child = pulumi.ResourceOptions(parent=self)
        pattern = pulumi.Output.from_input(detail).apply(lambda d: json.dumps(
            {"source": [source], "detail-type": [detail_type], "detail": d}))
        rule = aws.cloudwatch.EventRule(f"{self._name}-{name}", name=f"{self._prefix}-{name}",
                                        event_pattern=pattern, opts=child)
        aws.cloudwatch.EventTarget(
            f"{self._name}-{name}-to-topic", rule=rule.name, arn=self.topic.arn,
            input_transformer={"input_paths": paths,
                               "input_template": alert_template(summary, paths)}, opts=child)
        return rule
