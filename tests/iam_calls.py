"""The IAM call tables: what each role's code (and the service that runs it) calls, on which
resource, and what it must not reach. Rows are (role, action, resource template); the templates'
names come from tests/lake_resources.py resource_names."""

from __future__ import annotations

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
    # … count the rows each CTAS wrote (a SELECT COUNT(*) of the new table: Athena reads the
    # new folder and writes the one-row result, which the job then reads) …
    ("gold", "athena:GetQueryResults", GOLD_WORKGROUP),
    ("gold", "s3:GetObject", S3 + "{gold}/media_por_uf/run=20261125T101253Z/x.parquet"),
    ("gold", "s3:ListBucket", S3 + "{gold}"),
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
    ("gold", "s3:GetObject", S3 + "{athena_results}/results/abc.csv"),  # GetQueryResults
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
