"""Athena workgroups: a bytes-scanned cutoff, encrypted results, engine version 3, and settings
that clients cannot override.

Documented exemption (stated in `athena-enforce-configuration`): a workgroup that a Glue job
runs its queries in (the gold job's, named in its `--workgroup` argument) may leave the
settings unenforced, because Athena fails a CTAS that names an `external_location` in a
workgroup that enforces its settings. It keeps the cutoff, the encryption and engine v3.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs

from policies.resources import depends_on, known, of_type, value
from policies.rule import Rule, StackRule

WORKGROUP = "aws:athena/workgroup:Workgroup"
GLUE_JOB = "aws:glue/job:Job"
ENGINE_V3 = "Athena engine version 3"
GUIDE = "https://docs.aws.amazon.com/athena/latest/ug/"


def _cutoff(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    if not value(args.props, "configuration", "bytesScannedCutoffPerQuery"):
        yield "the workgroup has no per-query bytes-scanned cutoff"


def _results_encrypted(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[str]:
    option = value(args.props, "configuration", "resultConfiguration",
                   "encryptionConfiguration", "encryptionOption")
    wanted = ("SSE_KMS", "CSE_KMS") if config["kms"] else ("SSE_KMS", "CSE_KMS", "SSE_S3")
    if option not in wanted:
        yield f"query results are encrypted with {option or 'nothing'}, not {' or '.join(wanted)}"


def _engine_v3(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    engine = value(args.props, "configuration", "engineVersion", "selectedEngineVersion")
    if engine != ENGINE_V3:
        yield f"the workgroup selects {engine or 'AUTO'}, not {ENGINE_V3}"


def _enforced(resources: list[PolicyResource],
              _: Mapping[str, Any]) -> Iterator[tuple[PolicyResource, str]]:
    jobs = of_type(resources, GLUE_JOB)
    for workgroup in of_type(resources, WORKGROUP):
        if known(workgroup.props, "configuration", "enforceWorkgroupConfiguration") is True:
            continue
        name = known(workgroup.props, "name")
        used_by_job = [job for job in jobs
                       if depends_on(job, workgroup, "defaultArguments")
                       or (name is not None
                           and known(job.props, "defaultArguments", "--workgroup") == name)]
        if not used_by_job:
            yield workgroup, "lets clients override its settings (results location, " \
                             "encryption, cutoff)"


RULES = [
    Rule(
        id="athena-bytes-scanned-cutoff",
        description="Every Athena workgroup limits the data one query may scan",
        remediation="set configuration.bytes_scanned_cutoff_per_query "
                    "(datalake:athena.bytesScannedCutoffPerQuery)",
        url=GUIDE + "workgroups-setting-control-limits-cloudwatch.html",
        types=(WORKGROUP,), check=_cutoff),
    Rule(
        id="athena-results-encrypted",
        description="Every Athena workgroup encrypts its query results (KMS where the stack "
                    "asks for it)",
        remediation="set configuration.result_configuration.encryption_configuration "
                    "(encryption_option SSE_KMS and the lake key)",
        url=GUIDE + "encrypting-query-results-stored-in-s3.html",
        properties={"kms": {"type": "boolean", "default": False,
                            "description": "Require KMS-encrypted query results."}},
        types=(WORKGROUP,), check=_results_encrypted),
    Rule(
        id="athena-engine-v3",
        description="Every Athena workgroup runs engine version 3",
        remediation=f"set configuration.engine_version.selected_engine_version to {ENGINE_V3!r}",
        url=GUIDE + "engine-versions.html",
        types=(WORKGROUP,), check=_engine_v3),
    StackRule(
        id="athena-enforce-configuration",
        description="Athena workgroups enforce their settings, except one a Glue job runs its "
                    "CTAS queries in (Athena refuses external_location where settings are "
                    "enforced)",
        remediation="set configuration.enforce_workgroup_configuration=True, or run the "
                    "job's CTAS in a workgroup named in its --workgroup argument",
        url=GUIDE + "create-table-as.html",
        check=_enforced),
]
