"""Orchestration: a Glue workflow that chains schedule → Spark job → crawlers → gold job."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.naming import LakeLayer, Naming


@dataclass(kw_only=True)
class OrchestrationArgs:
    naming: Naming
    schedule: str
    process_job: pulumi.Input[str]
    crawler: pulumi.Input[str]
    """The public tables' crawler, which the gold job waits for."""
    restricted_crawler: pulumi.Input[str]
    gold_job: pulumi.Input[str]


class Orchestration(LakeLayer):
    """SCHEDULED → process job; process SUCCEEDED → both crawlers; the public crawl SUCCEEDED →
    gold job (gold reads no restricted table)."""

    def __init__(self, name: str, args: OrchestrationArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datalake:orchestration:Orchestration", name, "orchestration", opts)
        naming = args.naming
        child = pulumi.ResourceOptions(parent=self)
        self.workflow = aws.glue.Workflow(
            f"{name}-workflow", name=naming.name("workflow"), max_concurrent_runs=1,
            description="ingested CSV → processed Parquet → catalog → gold", opts=child)
        self.schedule = aws.glue.Trigger(
            f"{name}-schedule", name=naming.name("schedule"), type="SCHEDULED",
            schedule=args.schedule, workflow_name=self.workflow.name,
            actions=[{"job_name": args.process_job}], start_on_creation=True, opts=child)

        def after(part: str, condition: dict, actions: list[dict]) -> aws.glue.Trigger:
            """Start `actions` when `condition` (a job's or a crawler's success) holds."""
            return aws.glue.Trigger(
                f"{name}-{part}", name=naming.name(part), type="CONDITIONAL",
                workflow_name=self.workflow.name,
                predicate={"conditions": [{**condition, "logical_operator": "EQUALS"}]},
                actions=actions, start_on_creation=True, opts=child)

        self.after_process = after("after-process",
                                   {"job_name": args.process_job, "state": "SUCCEEDED"},
                                   [{"crawler_name": args.crawler},
                                    {"crawler_name": args.restricted_crawler}])
        self.after_crawl = after("after-crawl",
                                 {"crawler_name": args.crawler, "crawl_state": "SUCCEEDED"},
                                 [{"job_name": args.gold_job}])
        self.register_outputs({"workflow": self.workflow.name})
