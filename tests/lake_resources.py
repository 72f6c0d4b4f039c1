"""Reading the declared resources of a stack: its buckets, the resources that belong to one, the
policy documents of a role, the names the IAM call tables fill in."""

from __future__ import annotations

import json

from jobs.contract import restricted_database
from policies.mocks import (
    ACCOUNT,
    REGION,
    Deployment,
    Resource,
    stack_config,
)

BUCKET = "aws:s3/bucket:Bucket"
ZONES = ("raw", "processed", "restricted", "rejected", "gold", "athena-results", "artifacts",
         "access-logs")
AUDIT = "audit"  # the bucket of the restricted zone's CloudTrail trail, where it is recorded
DATABASE = "aws:glue/catalogDatabase:CatalogDatabase"
CRAWLER = "aws:glue/crawler:Crawler"
ROLE = "aws:iam/role:Role"


def records_restricted_reads(d: Deployment) -> bool:
    """What the stack file asks: CloudTrail data events on the restricted zone."""
    return stack_config(d.stack).get("datalake:audit", {}).get("restrictedDataEvents", True)


def kms_stack(d: Deployment) -> bool:
    """What the stack file asks: zones encrypted with customer keys."""
    return stack_config(d.stack)["datalake:encryption"] == "kms"


def expected_zones(d: Deployment) -> set[str]:
    return set(ZONES) | ({AUDIT} if records_restricted_reads(d) else set())


def buckets(d: Deployment) -> dict[str, Resource]:
    return {b.get("tags", "zone"): b for b in d.of_type(BUCKET)}


def for_bucket(d: Deployment, typ: str, bucket: Resource) -> list[Resource]:
    return [r for r in d.of_type(typ) if r.get("bucket") == bucket.id]


def s3_uri(bucket: Resource, prefix: str = "") -> str:
    return f"s3://{bucket.get('bucket')}/{prefix}"


def role_named(d: Deployment, role_suffix: str) -> Resource:
    """The role `datalake-<stack>-enem-<role_suffix>`."""
    [role] = [r for r in d.of_type(ROLE) if r.get("name") == f"{d.stack_prefix}-{role_suffix}"]
    return role


def policies_of(d: Deployment, role_suffix: str) -> list[dict]:
    """Every policy document attached to the role `datalake-<stack>-enem-<role_suffix>`."""
    role = role_named(d, role_suffix)
    inline = [p.json("policy") for p in d.of_type("aws:iam/rolePolicy:RolePolicy")
              if p.get("role") == role.id]
    attached_arns = {a.get("policyArn") for a in
                     d.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                     if a.get("role") == role.get("name")}
    managed = [p.json("policy") for p in d.of_type("aws:iam/policy:Policy")
               if p.arn in attached_arns]
    assert inline or managed, f"role {role_suffix} has no policy"
    return inline + managed


def lake_key(d: Deployment) -> Resource:
    return d.one(KEY, "-key-key")


def restricted_key(d: Deployment) -> Resource | None:
    """The restricted zone's own key (stacks with `encryption: kms`)."""
    found = [k for k in d.of_type(KEY) if k.name.endswith("-restricted-key")]
    assert len(found) <= 1
    return found[0] if found else None


def database(d: Deployment) -> Resource:
    return d.one(DATABASE, "-catalog-database")


def crawler(d: Deployment) -> Resource:
    """The public tables' crawler (processed zone)."""
    return d.one(CRAWLER, "-catalog-crawler")


def restricted_crawler(d: Deployment) -> Resource:
    return d.one(CRAWLER, "-restricted-crawler")


def workgroup_of(d: Deployment, audience: str) -> Resource:
    """An audience's Athena workgroup (the analysts' is the one their named queries live in)."""
    suffix = "-analytics-workgroup" if audience == "analyst" else f"-{audience}-workgroup"
    return d.one(WORKGROUP, suffix)


def bucket_policy(d: Deployment, zone: str) -> dict:
    [policy] = for_bucket(d, "aws:s3/bucketPolicy:BucketPolicy", buckets(d)[zone])
    return policy.json("policy")


def resource_names(d: Deployment) -> dict[str, str]:
    """Names that the call table fills into its resource templates."""
    zones = buckets(d)
    name = database(d).get("name")
    stack_prefix = name.replace("_", "-")
    names = {f"{zone.replace('-', '_')}": zones[zone].get("bucket") for zone in zones}
    restricted = restricted_key(d)
    names.update(
        database=name, restricted_database=restricted_database(name), prefix=stack_prefix,
        account=ACCOUNT, region=REGION, key=lake_key(d).arn,
        restricted_key=restricted.arn if restricted else "(no restricted key: SSE-S3)",
        processing_role=d.one(ROLE, "-processing-role").arn,
        workgroup=workgroup_of(d, "analyst").get("name"),
        business_workgroup=workgroup_of(d, "business").get("name"),
        researcher_workgroup=workgroup_of(d, "researcher").get("name"),
        gold_workgroup=d.one(WORKGROUP, "-gold-workgroup").get("name"),
        repository=d.one("aws:ecr/repository:Repository").get("name"),
    )
    return names


def identity_policies(d: Deployment) -> dict[str, dict]:
    """Every identity policy document the stack declares (inline and managed), by name."""
    return {p.name: p.json("policy") for p in d.resources
            if p.type in ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy")}


def key_statements(d: Deployment) -> list[dict]:
    """The lake key's policy."""
    return lake_key(d).json("policy")["Statement"]


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
