"""Orchestration: a Glue workflow that chains schedule → Spark job → crawler → gold job."""

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
    gold_job: pulumi.Input[str]


class Orchestration(LakeLayer):
    """SCHEDULED → process job; process SUCCEEDED → crawler; crawl SUCCEEDED → gold job."""

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
        self.after_process = aws.glue.Trigger(
            f"{name}-after-process", name=naming.name("after-process"), type="CONDITIONAL",
            workflow_name=self.workflow.name,
            predicate={"conditions": [{"job_name": args.process_job, "state": "SUCCEEDED",
                                       "logical_operator": "EQUALS"}]},
            actions=[{"crawler_name": args.crawler}], start_on_creation=True, opts=child)
        self.after_crawl = aws.glue.Trigger(
            f"{name}-after-crawl", name=naming.name("after-crawl"), type="CONDITIONAL",
            workflow_name=self.workflow.name,
            predicate={"conditions": [{"crawler_name": args.crawler, "crawl_state": "SUCCEEDED",
                                       "logical_operator": "EQUALS"}]},
            actions=[{"job_name": args.gold_job}], start_on_creation=True, opts=child)
        self.register_outputs({"workflow": self.workflow.name})
