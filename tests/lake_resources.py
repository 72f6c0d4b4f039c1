"""Reading the declared resources of a stack: its buckets, the resources that belong to one, the
policy documents of a role, the names the IAM call tables fill in."""

from __future__ import annotations

import json

from policies.mocks import (
    ACCOUNT,
    REGION,
    Deployment,
    Resource,
)

BUCKET = "aws:s3/bucket:Bucket"
ZONES = ("raw", "processed", "rejected", "gold", "athena-results", "artifacts", "access-logs")


def buckets(d: Deployment) -> dict[str, Resource]:
    return {b.get("tags", "zone"): b for b in d.of_type(BUCKET)}


def for_bucket(d: Deployment, typ: str, bucket: Resource) -> list[Resource]:
    return [r for r in d.of_type(typ) if r.get("bucket") == bucket.id]


def s3_uri(bucket: Resource, prefix: str = "") -> str:
    return f"s3://{bucket.get('bucket')}/{prefix}"


def policies_of(d: Deployment, role_suffix: str) -> list[dict]:
    """Every policy document attached to the role `datalake-<stack>-enem-<role_suffix>`."""
    role = next(r for r in d.of_type("aws:iam/role:Role")
                if r.get("name").endswith(f"-enem-{role_suffix}"))
    inline = [p.json("policy") for p in d.of_type("aws:iam/rolePolicy:RolePolicy")
              if p.get("role") == role.id]
    attached_arns = {a.get("policyArn") for a in
                     d.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                     if a.get("role") == role.get("name")}
    managed = [p.json("policy") for p in d.of_type("aws:iam/policy:Policy")
               if p.arn in attached_arns]
    assert inline or managed, f"role {role_suffix} has no policy"
    return inline + managed


def resource_names(d: Deployment) -> dict[str, str]:
    """Names that the call table fills into its resource templates."""
    zones = buckets(d)
    database = d.one("aws:glue/catalogDatabase:CatalogDatabase").get("name")
    stack_prefix = database.replace("_", "-")
    names = {f"{zone.replace('-', '_')}": zones[zone].get("bucket") for zone in zones}
    names.update(
        database=database, prefix=stack_prefix, account=ACCOUNT, region=REGION,
        key=d.one("aws:kms/key:Key").arn,
        processing_role=d.one("aws:iam/role:Role", "-processing-role").arn,
        workgroup=d.one("aws:athena/workgroup:Workgroup", "-analytics-workgroup").get("name"),
        gold_workgroup=d.one("aws:athena/workgroup:Workgroup", "-gold-workgroup").get("name"),
        repository=d.one("aws:ecr/repository:Repository").get("name"),
    )
    return names


def identity_policies(d: Deployment) -> dict[str, dict]:
    """Every identity policy document the stack declares (inline and managed), by name."""
    return {p.name: p.json("policy") for p in d.resources
            if p.type in ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy")}


def key_statements(d: Deployment) -> list[dict]:
    return d.one("aws:kms/key:Key").json("policy")["Statement"]


def services(statement: dict) -> set[str]:
    principal = statement.get("Principal")
    found = principal.get("Service", []) if isinstance(principal, dict) else []
    return set(found if isinstance(found, list) else [found])


def pattern(rule: Resource) -> dict:
    return json.loads(rule.get("eventPattern"))


WORKGROUP = "aws:athena/workgroup:Workgroup"
GLUE_JOB = "aws:glue/job:Job"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
KEY = "aws:kms/key:Key"
