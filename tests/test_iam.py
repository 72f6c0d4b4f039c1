"""IAM that is narrow and IAM that works.

`CALLS` is the table of AWS calls each role's code makes, on which resource. Every row must be
granted by that role's policies, and every row of `FORBIDDEN` must not be. Later issues add the
calls their code makes.
"""

from __future__ import annotations

import pytest

from tests.iam_eval import allows, granting, statements
from tests.pulumi_harness import ACCOUNT, REGION, Deployment
from tests.test_wiring import buckets

# Actions that have no resource-level form in IAM, so "Resource": "*" is the only way to grant
# them; each must carry a condition or be harmless (a registry login token).
NO_RESOURCE_LEVEL = {"cloudwatch:PutMetricData", "ecr:GetAuthorizationToken",
                     # the Athena console's lists (list_amazonathena.html: no resource type)
                     "athena:ListWorkGroups", "athena:ListEngineVersions",
                     "athena:ListDataCatalogs"}

ROLES = {  # role name suffix -> who assumes it
    "ingest-processing": "sagemaker.amazonaws.com",
    "ingest-trigger": "lambda.amazonaws.com",
    "process": "glue.amazonaws.com",
    "crawler": "glue.amazonaws.com",
    "gold": "glue.amazonaws.com",
}


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


S3 = "arn:aws:s3:::"
INGEST = "microdados_enem_2019/ingest=20261125T101253Z"
WORKGROUP = "arn:aws:athena:{region}:{account}:workgroup/{workgroup}"
GOLD_WORKGROUP = "arn:aws:athena:{region}:{account}:workgroup/{gold_workgroup}"
GLUE = "arn:aws:glue:{region}:{account}:"
TABLE = "arn:aws:glue:{region}:{account}:table/{database}/"
# (role, action, resource template): what each role's code calls, on what.
CALLS = [
    # SageMaker processing container (jobs/ingest/download.py): stream the zip into raw.
    ("ingest-processing", "s3:PutObject", S3 + "{raw}/" + INGEST + "/MICRODADOS_ENEM_2019.csv"),
    ("ingest-processing", "s3:AbortMultipartUpload", S3 + "{raw}/" + INGEST + "/X.csv"),
    ("ingest-processing", "s3:ListMultipartUploadParts", S3 + "{raw}/" + INGEST + "/X.csv"),
    ("ingest-processing", "s3:PutObject", S3 + "{raw}/" + INGEST + "/_manifest.json"),
    ("ingest-processing", "s3:GetObject", S3 + "{raw}/" + INGEST + "/_manifest.json"),
    ("ingest-processing", "s3:ListBucket", S3 + "{raw}"),
    ("ingest-processing", "ecr:BatchGetImage",
     "arn:aws:ecr:{region}:{account}:repository/{repository}"),
    ("ingest-processing", "ecr:GetDownloadUrlForLayer",
     "arn:aws:ecr:{region}:{account}:repository/{repository}"),
    ("ingest-processing", "ecr:GetAuthorizationToken", "*"),
    ("ingest-processing", "logs:PutLogEvents", "arn:aws:logs:{region}:{account}:log-group:"
     "/aws/sagemaker/ProcessingJobs:log-stream:{prefix}-ingest-1/algo-1"),
    # Trigger Lambda (jobs/ingest/trigger.py): start and describe the processing job.
    ("ingest-trigger", "sagemaker:CreateProcessingJob",
     "arn:aws:sagemaker:{region}:{account}:processing-job/{prefix}-ingest-20261125t101253"),
    ("ingest-trigger", "sagemaker:DescribeProcessingJob",
     "arn:aws:sagemaker:{region}:{account}:processing-job/{prefix}-ingest-20261125t101253"),
    # … created with a `datalake:source` tag, which needs AddTags on the job.
    ("ingest-trigger", "sagemaker:AddTags",
     "arn:aws:sagemaker:{region}:{account}:processing-job/{prefix}-ingest-20261125t101253-9f0c2a"),
    ("ingest-trigger", "iam:PassRole", "{processing_role}"),
    ("ingest-trigger", "logs:PutLogEvents", "arn:aws:logs:{region}:{account}:log-group:"
     "/aws/lambda/{prefix}-ingest-trigger:log-stream:2026/11/25/[$LATEST]abc"),
    # Glue Spark job (jobs/process/csv_to_parquet.py).
    ("process", "s3:ListBucket", S3 + "{raw}"),
    ("process", "s3:GetObject", S3 + "{raw}/" + INGEST + "/MICRODADOS_ENEM_2019.csv"),
    ("process", "s3:GetObject", S3 + "{artifacts}/glue/process/0123/jobs.zip"),
    ("process", "s3:PutObject", S3 + "{processed}/microdados_enem_2019/nu_ano=2019/"
     "sg_uf_prova=RR/part-0.parquet"),
    ("process", "s3:DeleteObject", S3 + "{processed}/microdados_enem_2019/nu_ano=2019/"
     "sg_uf_prova=RR/part-0.parquet"),
    ("process", "s3:PutObject", S3 + "{processed}/_runs/run-1.json"),
    ("process", "s3:PutObject", S3 + "{rejected}/microdados_enem_2019/run=run-1/part-0.json"),
    # … its bookkeeping (jobs/storage.py S3Storage): manifests, run summaries, staging → table.
    ("process", "s3:GetObject", S3 + "{raw}/" + INGEST + "/_manifest.json"),
    ("process", "s3:ListBucket", S3 + "{processed}"),
    ("process", "s3:GetObject", S3 + "{processed}/_runs/run-1.json"),
    ("process", "s3:PutObject", S3 + "{processed}/_staging/run-1/microdados_enem_2019/x.parquet"),
    ("process", "s3:GetObject", S3 + "{processed}/_staging/run-1/microdados_enem_2019/x.parquet"),
    ("process", "s3:DeleteObject", S3 + "{processed}/_staging/run-1/microdados_enem_2019/y.pq"),
    ("process", "s3:DeleteObject", S3 + "{processed}/microdados_enem_2019/nu_ano=2019/old.parquet"),
    ("process", "kms:GenerateDataKey", "{key}"),
    ("process", "logs:AssociateKmsKey",
     "arn:aws:logs:{region}:{account}:log-group:/aws-glue/jobs/{prefix}-process"),
    ("process", "logs:PutLogEvents",
     "arn:aws:logs:{region}:{account}:log-group:/aws-glue/jobs/{prefix}-process:log-stream:x"),
    # Glue crawler.
    ("crawler", "s3:ListBucket", S3 + "{processed}"),
    ("crawler", "s3:GetObject", S3 + "{processed}/microdados_enem_2019/nu_ano=2019/"
     "sg_uf_prova=RR/part-0.parquet"),
    ("crawler", "glue:GetDatabase", "arn:aws:glue:{region}:{account}:database/{database}"),
    ("crawler", "glue:CreateTable",
     "arn:aws:glue:{region}:{account}:table/{database}/microdados_enem_2019"),
    ("crawler", "glue:BatchCreatePartition",
     "arn:aws:glue:{region}:{account}:table/{database}/microdados_enem_2019"),
    ("crawler", "glue:UpdateTable", "arn:aws:glue:{region}:{account}:catalog"),
    ("crawler", "logs:PutLogEvents",
     "arn:aws:logs:{region}:{account}:log-group:/aws-glue/crawlers-role/x:log-stream:y"),
    # Gold job (jobs/gold/export.py): list and read the packaged queries …
    ("gold", "s3:ListBucket", S3 + "{artifacts}"),
    ("gold", "s3:GetObject", S3 + "{artifacts}/queries/0123/media_por_uf.sql"),
    # … run each as a CTAS in the workgroup, follow it, stop it at the timeout …
    ("gold", "athena:StartQueryExecution", GOLD_WORKGROUP),
    ("gold", "athena:GetQueryExecution", GOLD_WORKGROUP),
    ("gold", "athena:StopQueryExecution", GOLD_WORKGROUP),
    # … and what Athena requires of anyone who queries: the Region's `default` database.
    ("gold", "glue:GetDatabase", GLUE + "database/default"),
    ("gold", "glue:GetDatabase", GLUE + "catalog"),
    ("gold", "glue:CreateDatabase", GLUE + "database/default"),
    ("gold", "glue:CreateDatabase", GLUE + "catalog"),
    # … repoint gold_<name> at the temporary table's data, drop temporary tables …
    ("gold", "glue:GetTable", TABLE + "gold_media_por_uf__20261125t101253z"),
    ("gold", "glue:GetTable", TABLE + "gold_media_por_uf"),
    ("gold", "glue:CreateTable", TABLE + "gold_media_por_uf"),
    ("gold", "glue:CreateTable", "arn:aws:glue:{region}:{account}:database/{database}"),
    ("gold", "glue:CreateTable", "arn:aws:glue:{region}:{account}:catalog"),
    ("gold", "glue:UpdateTable", TABLE + "gold_media_por_uf"),
    ("gold", "glue:DeleteTable", TABLE + "gold_media_por_uf__20261125t101253z"),
    ("gold", "glue:GetTables", "arn:aws:glue:{region}:{account}:database/{database}"),
    ("gold", "glue:GetTables", TABLE + "gold_media_por_uf__20261124t101253z"),
    # … and delete older results (and a failed query's partial output).
    ("gold", "s3:ListBucket", S3 + "{gold}"),
    ("gold", "s3:DeleteObject", S3 + "{gold}/media_por_uf/run=20261124T101253Z/x.parquet"),
    # What Athena does with the job's credentials: the CTAS reads the catalog and processed,
    # creates the temporary table, writes gold and its results, with the lake key.
    ("gold", "glue:GetDatabase", "arn:aws:glue:{region}:{account}:database/{database}"),
    ("gold", "glue:GetTable", TABLE + "microdados_enem_2019"),
    ("gold", "glue:GetPartitions", TABLE + "microdados_enem_2019"),
    ("gold", "glue:CreateTable", TABLE + "gold_media_por_uf__20261125t101253z"),
    ("gold", "s3:ListBucket", S3 + "{processed}"),
    ("gold", "s3:GetBucketLocation", S3 + "{processed}"),
    ("gold", "s3:GetObject", S3 + "{processed}/microdados_enem_2019/x.parquet"),
    ("gold", "s3:GetBucketLocation", S3 + "{gold}"),
    ("gold", "s3:PutObject", S3 + "{gold}/media_por_uf/run=20261125T101253Z/x.parquet"),
    ("gold", "s3:AbortMultipartUpload", S3 + "{gold}/media_por_uf/run=20261125T101253Z/x"),
    ("gold", "s3:ListBucket", S3 + "{athena_results}"),
    ("gold", "s3:GetBucketLocation", S3 + "{athena_results}"),
    ("gold", "s3:PutObject", S3 + "{athena_results}/results/abc.csv"),
    ("gold", "s3:GetObject", S3 + "{athena_results}/results/abc.csv.metadata"),
    ("gold", "kms:Decrypt", "{key}"),
    ("gold", "kms:GenerateDataKey", "{key}"),
    ("gold", "logs:PutLogEvents", "arn:aws:logs:{region}:{account}:log-group:"
     "/aws-glue/python-jobs/output:log-stream:jr_1"),
]
FORBIDDEN = [
    ("ingest-processing", "s3:PutObject", S3 + "{processed}/x"),
    ("ingest-processing", "s3:DeleteObject", S3 + "{raw}/" + INGEST + "/X.csv"),
    ("ingest-processing", "ecr:BatchGetImage", "arn:aws:ecr:{region}:{account}:repository/other"),
    ("ingest-trigger", "iam:PassRole", "arn:aws:iam::{account}:role/admin"),
    ("ingest-trigger", "sagemaker:CreateProcessingJob",
     "arn:aws:sagemaker:{region}:{account}:processing-job/someone-else"),
    ("ingest-trigger", "sagemaker:AddTags",
     "arn:aws:sagemaker:{region}:{account}:processing-job/someone-else"),
    ("ingest-trigger", "sagemaker:CreateTrainingJob",
     "arn:aws:sagemaker:{region}:{account}:training-job/{prefix}-ingest-x"),
    ("process", "s3:PutObject", S3 + "{raw}/x"),
    ("process", "s3:PutObject", S3 + "{gold}/x"),
    ("process", "s3:DeleteObject", S3 + "{raw}/x"),
    ("crawler", "s3:PutObject", S3 + "{processed}/x"),
    ("crawler", "glue:CreateTable", "arn:aws:glue:{region}:{account}:table/other_db/x"),
    ("crawler", "glue:DeleteTable",
     "arn:aws:glue:{region}:{account}:table/{database}/microdados_enem_2019"),
    ("gold", "s3:PutObject", S3 + "{processed}/x"),
    ("gold", "s3:DeleteObject", S3 + "{processed}/microdados_enem_2019/x.parquet"),
    ("gold", "s3:PutObject", S3 + "{artifacts}/queries/0123/media_por_uf.sql"),
    ("gold", "s3:DeleteObject", S3 + "{artifacts}/queries/0123/media_por_uf.sql"),
    ("gold", "athena:StartQueryExecution", "arn:aws:athena:{region}:{account}:workgroup/primary"),
    ("gold", "athena:StartQueryExecution", WORKGROUP),  # the analysts' (enforcing) workgroup
    ("gold", "glue:CreateDatabase", GLUE + "database/other_db"),
    ("gold", "athena:StopQueryExecution", "arn:aws:athena:{region}:{account}:workgroup/primary"),
    # The crawler's tables are not the gold job's to change; nor is another database.
    ("gold", "glue:DeleteTable", TABLE + "microdados_enem_2019"),
    ("gold", "glue:UpdateTable", TABLE + "microdados_enem_2019"),
    ("gold", "glue:CreateTable", "arn:aws:glue:{region}:{account}:table/other_db/gold_x"),
    ("gold", "glue:DeleteDatabase", "arn:aws:glue:{region}:{account}:database/{database}"),
]
ANALYST_CALLS = [
    ("athena:StartQueryExecution", "arn:aws:athena:{region}:{account}:workgroup/{workgroup}"),
    ("athena:GetQueryResults", "arn:aws:athena:{region}:{account}:workgroup/{workgroup}"),
    ("athena:GetNamedQuery", "arn:aws:athena:{region}:{account}:workgroup/{workgroup}"),
    ("glue:GetTables", "arn:aws:glue:{region}:{account}:database/{database}"),
    ("glue:GetPartitions", "arn:aws:glue:{region}:{account}:table/{database}/microdados_enem_2019"),
    ("s3:GetObject", S3 + "{processed}/microdados_enem_2019/x.parquet"),
    ("s3:GetObject", S3 + "{gold}/media_por_uf/x.parquet"),
    ("s3:PutObject", S3 + "{athena_results}/results/q.csv"),
    ("kms:Decrypt", "{key}"),
    # Athena's console and BI drivers: list workgroups and catalogs, browse the catalog.
    ("athena:ListWorkGroups", "*"),
    ("athena:ListDataCatalogs", "*"),
    ("athena:ListEngineVersions", "*"),
    ("athena:GetDataCatalog", "arn:aws:athena:{region}:{account}:datacatalog/AwsDataCatalog"),
    ("athena:GetTableMetadata", "arn:aws:athena:{region}:{account}:datacatalog/AwsDataCatalog"),
    ("athena:GetQueryResultsStream", WORKGROUP),
    # … and the `default` database that Athena requires.
    ("glue:GetDatabase", GLUE + "database/default"),
    ("glue:CreateDatabase", GLUE + "database/default"),
]
ANALYST_FORBIDDEN = [
    ("s3:GetObject", S3 + "{raw}/" + INGEST + "/MICRODADOS_ENEM_2019.csv"),
    ("s3:PutObject", S3 + "{gold}/x"),
    ("glue:CreateTable", "arn:aws:glue:{region}:{account}:table/{database}/x"),
    ("athena:StartQueryExecution", "arn:aws:athena:{region}:{account}:workgroup/primary"),
    # the gold job's workgroup does not enforce its settings: only the gold job may use it
    ("athena:StartQueryExecution", GOLD_WORKGROUP),
    ("glue:CreateDatabase", GLUE + "database/analyst_db"),
]


@pytest.mark.parametrize(("role", "action", "resource"), CALLS,
                         ids=[f"{r}:{a}:{i}" for i, (r, a, _) in enumerate(CALLS)])
def test_role_may_make_the_calls_its_code_makes(deployment: Deployment, role: str, action: str,
                                                resource: str) -> None:
    arn = resource.format(**resource_names(deployment))
    assert allows(policies_of(deployment, role), action, arn), f"{role} may not {action} {arn}"


@pytest.mark.parametrize(("role", "action", "resource"), FORBIDDEN,
                         ids=[f"{r}:{a}:{i}" for i, (r, a, _) in enumerate(FORBIDDEN)])
def test_role_may_not_reach_beyond_its_job(deployment: Deployment, role: str, action: str,
                                           resource: str) -> None:
    arn = resource.format(**resource_names(deployment))
    assert not allows(policies_of(deployment, role), action, arn), f"{role} may {action} {arn}"


def test_analyst_can_query_and_nothing_else(deployment: Deployment) -> None:
    names = resource_names(deployment)
    policy = deployment.one("aws:iam/policy:Policy").json("policy")
    for action, resource in ANALYST_CALLS:
        assert allows([policy], action, resource.format(**names)), action
    for action, resource in ANALYST_FORBIDDEN:
        assert not allows([policy], action, resource.format(**names)), action
    attachment = deployment.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.get("role") == deployment.one("aws:iam/role:Role", "-analyst-role").get(
        "name")


def test_pass_role_is_pinned_to_the_processing_role_and_sagemaker(
        deployment: Deployment) -> None:
    names = resource_names(deployment)
    [grant] = granting(policies_of(deployment, "ingest-trigger"), "iam:PassRole",
                       names["processing_role"])
    assert grant["Resource"] == [names["processing_role"]]
    assert grant["Condition"] == {"StringEquals": {"iam:PassedToService":
                                                   "sagemaker.amazonaws.com"}}


def all_identity_statements(d: Deployment) -> list[dict]:
    docs = [p.json("policy") for p in d.of_type("aws:iam/rolePolicy:RolePolicy")]
    docs += [p.json("policy") for p in d.of_type("aws:iam/policy:Policy")]
    return statements(docs)


def test_no_wildcard_actions_anywhere(deployment: Deployment) -> None:
    for stmt in all_identity_statements(deployment):
        for action in stmt["Action"]:
            assert action != "*" and not action.endswith(":*"), stmt


def test_no_wildcard_resource_on_data_actions(deployment: Deployment) -> None:
    for stmt in all_identity_statements(deployment):
        if "*" in stmt["Resource"]:
            assert set(stmt["Action"]) <= NO_RESOURCE_LEVEL, stmt
            if "cloudwatch:PutMetricData" in stmt["Action"]:
                assert "cloudwatch:namespace" in stmt["Condition"]["StringEquals"], stmt
        for resource in stmt["Resource"]:
            assert resource == "*" or not resource.endswith(":::*"), stmt  # no "every bucket"


@pytest.mark.parametrize("role_suffix", sorted(ROLES))
def test_service_roles_trust_only_their_service(deployment: Deployment,
                                                role_suffix: str) -> None:
    role = next(r for r in deployment.of_type("aws:iam/role:Role")
                if r.get("name").endswith(f"-enem-{role_suffix}"))
    [grant] = role.json("assumeRolePolicy")["Statement"]
    assert grant["Principal"] == {"Service": ROLES[role_suffix]}
    assert grant["Action"] == "sts:AssumeRole"


def test_analyst_role_is_assumable_only_from_this_account(deployment: Deployment) -> None:
    role = deployment.one("aws:iam/role:Role", "-analyst-role")
    [grant] = role.json("assumeRolePolicy")["Statement"]
    assert grant["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
