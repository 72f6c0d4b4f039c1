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
    "crawler-restricted": "glue.amazonaws.com",
    "gold": "glue.amazonaws.com",
}
# The people's roles (jobs.contract.ROLES), assumed by principals of this account.
AUDIENCES = ("business", "analyst", "researcher")
# The only roles that may use the restricted zone's objects and key.
RESTRICTED_ZONE_ROLES = ("process", "crawler-restricted", "researcher")
S3 = "arn:aws:s3:::"
INGEST = "microdados_enem_2019/ingest=20261125T101253Z"
WORKGROUP = "arn:aws:athena:{region}:{account}:workgroup/{workgroup}"
GOLD_WORKGROUP = "arn:aws:athena:{region}:{account}:workgroup/{gold_workgroup}"
GLUE = "arn:aws:glue:{region}:{account}:"
TABLE = "arn:aws:glue:{region}:{account}:table/{database}/"
RESTRICTED_TABLE = "arn:aws:glue:{region}:{account}:table/{restricted_database}/"
DATABASE = GLUE + "database/{database}"
RESTRICTED_DATABASE = GLUE + "database/{restricted_database}"
BUSINESS_WORKGROUP = "arn:aws:athena:{region}:{account}:workgroup/{business_workgroup}"
RESEARCHER_WORKGROUP = "arn:aws:athena:{region}:{account}:workgroup/{researcher_workgroup}"
PARQUET = "microdados_enem_2019/nu_ano=2019/sg_uf_prova=RR/part-0.parquet"
GOLD_OBJECT = "mean_scores_by_state/run=20261125T101253Z/x.parquet"

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
    # … every column of an original release into the restricted zone: staged, then copied into
    # place (jobs/process/runs.py publish), the staging and stale files deleted.
    ("process", "s3:ListBucket", S3 + "{restricted}"),
    ("process", "s3:PutObject", S3 + "{restricted}/_staging/run-1/microdados_enem_2019/x.parquet"),
    ("process", "s3:GetObject", S3 + "{restricted}/_staging/run-1/microdados_enem_2019/x.parquet"),
    ("process", "s3:PutObject", S3 + "{restricted}/" + PARQUET),
    ("process", "s3:DeleteObject", S3 + "{restricted}/_staging/run-1/microdados_enem_2019/x.pq"),
    ("process", "s3:DeleteObject", S3 + "{restricted}/microdados_enem_2019/nu_ano=2019/old.pq"),
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
    # The restricted tables' crawler: the restricted zone into the restricted database.
    ("crawler-restricted", "s3:ListBucket", S3 + "{restricted}"),
    ("crawler-restricted", "s3:GetObject", S3 + "{restricted}/" + PARQUET),
    ("crawler-restricted", "glue:GetDatabase", RESTRICTED_DATABASE),
    ("crawler-restricted", "glue:CreateTable", RESTRICTED_TABLE + "microdados_enem_2019"),
    ("crawler-restricted", "glue:UpdateTable", RESTRICTED_TABLE + "microdados_enem_2019"),
    ("crawler-restricted", "glue:BatchCreatePartition", RESTRICTED_TABLE + "microdados_enem_2019"),
    ("crawler-restricted", "glue:UpdateTable", GLUE + "catalog"),
    ("crawler-restricted", "logs:PutLogEvents",
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
    # … record what it published and withheld beside the data (`_gold.json`) …
    ("gold", "s3:PutObject", S3 + "{gold}/media_por_uf/run=20261125T101253Z/_gold.json"),
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
    # … its workgroup's results location (athena-results/gold/)
    ("gold", "s3:PutObject", S3 + "{athena_results}/gold/abc.csv"),
    ("gold", "s3:GetObject", S3 + "{athena_results}/gold/abc.csv.metadata"),
    ("gold", "s3:GetObject", S3 + "{athena_results}/gold/abc.csv"),  # GetQueryResults
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
    # Each crawler reads its zone and writes its database, not the other's.
    ("crawler", "s3:GetObject", S3 + "{restricted}/" + PARQUET),
    ("crawler", "glue:CreateTable", RESTRICTED_TABLE + "microdados_enem_2019"),
    ("crawler-restricted", "s3:GetObject", S3 + "{processed}/" + PARQUET),
    ("crawler-restricted", "s3:GetObject", S3 + "{raw}/" + INGEST + "/MICRODADOS_ENEM_2019.csv"),
    ("crawler-restricted", "s3:PutObject", S3 + "{restricted}/x"),
    ("crawler-restricted", "glue:CreateTable", TABLE + "microdados_enem_2019"),
    ("crawler-restricted", "glue:DeleteTable", RESTRICTED_TABLE + "microdados_enem_2019"),
    # Nobody but the processing job writes the restricted zone; the gold job never reads it.
    ("ingest-processing", "s3:PutObject", S3 + "{restricted}/x"),
    ("gold", "s3:GetObject", S3 + "{restricted}/" + PARQUET),
    ("gold", "s3:ListBucket", S3 + "{restricted}"),
    ("gold", "glue:GetTable", RESTRICTED_TABLE + "microdados_enem_2019"),
    ("gold", "glue:GetDatabase", RESTRICTED_DATABASE),
    # … nor an audience's query results: only its own workgroup's (athena-results/gold/).
    ("gold", "s3:GetObject", S3 + "{athena_results}/results/abc.csv"),
    ("gold", "s3:GetObject", S3 + "{athena_results}/business/abc.csv"),
    ("gold", "s3:PutObject", S3 + "{athena_results}/results/abc.csv"),
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
# What each audience does: query through its own workgroup, browse its part of the catalog, read
# its zones (Athena reads them with the caller's credentials), keep its query results.
CONSOLE_CALLS = [
    ("athena:ListWorkGroups", "*"),
    ("athena:ListDataCatalogs", "*"),
    ("athena:ListEngineVersions", "*"),
    ("athena:GetDataCatalog", "arn:aws:athena:{region}:{account}:datacatalog/AwsDataCatalog"),
    ("athena:GetTableMetadata", "arn:aws:athena:{region}:{account}:datacatalog/AwsDataCatalog"),
    # … and the `default` database that Athena requires.
    ("glue:GetDatabase", GLUE + "database/default"),
    ("glue:CreateDatabase", GLUE + "database/default"),
    ("glue:GetDatabases", GLUE + "catalog"),
]
BUSINESS_CALLS = [
    *CONSOLE_CALLS,
    ("athena:StartQueryExecution", BUSINESS_WORKGROUP),
    ("athena:GetQueryResults", BUSINESS_WORKGROUP),
    ("athena:GetQueryResultsStream", BUSINESS_WORKGROUP),
    ("glue:GetDatabase", DATABASE),
    ("glue:GetTables", DATABASE),
    ("glue:GetTable", TABLE + "gold_mean_scores_by_state"),
    ("glue:GetPartitions", TABLE + "gold_mean_scores_by_state"),
    ("s3:ListBucket", S3 + "{gold}"),
    ("s3:GetObject", S3 + "{gold}/" + GOLD_OBJECT),
    ("s3:PutObject", S3 + "{athena_results}/business/q.csv"),
    ("s3:GetObject", S3 + "{athena_results}/business/q.csv"),
]
BUSINESS_FORBIDDEN = [
    # the microdata, the label tables and everything restricted
    ("s3:GetObject", S3 + "{processed}/" + PARQUET),
    ("s3:GetObject", S3 + "{processed}/label_q006/labels.parquet"),
    ("glue:GetTable", TABLE + "microdados_enem_2019"),
    ("glue:GetTable", TABLE + "label_q006"),
    ("glue:GetPartitions", TABLE + "microdados_enem_2019"),
    ("glue:GetDatabase", RESTRICTED_DATABASE),
    ("glue:GetTable", RESTRICTED_TABLE + "microdados_enem_2019"),
    # … nor another audience's workgroup, whose results it could then read
    ("athena:StartQueryExecution", WORKGROUP),
    ("athena:StartQueryExecution", RESEARCHER_WORKGROUP),
    ("athena:StartQueryExecution", GOLD_WORKGROUP),
    ("athena:StartQueryExecution", "arn:aws:athena:{region}:{account}:workgroup/primary"),
    ("s3:GetObject", S3 + "{athena_results}/results/q.csv"),
    ("s3:GetObject", S3 + "{athena_results}/gold/q.csv"),
    ("s3:GetObject", S3 + "{restricted}/athena-results/q.csv"),
    ("s3:PutObject", S3 + "{gold}/x"),
    ("s3:PutObject", S3 + "{athena_results}/results/q.csv"),
    ("glue:CreateTable", TABLE + "gold_x"),
]
ANALYST_CALLS = [
    ("athena:StartQueryExecution", "arn:aws:athena:{region}:{account}:workgroup/{workgroup}"),
    ("athena:GetQueryResults", "arn:aws:athena:{region}:{account}:workgroup/{workgroup}"),
    ("athena:GetNamedQuery", "arn:aws:athena:{region}:{account}:workgroup/{workgroup}"),
    ("glue:GetTables", "arn:aws:glue:{region}:{account}:database/{database}"),
    ("glue:GetPartitions", "arn:aws:glue:{region}:{account}:table/{database}/microdados_enem_2019"),
    ("glue:GetTable", TABLE + "label_q006"),
    ("glue:GetTable", TABLE + "gold_mean_scores_by_state"),
    ("s3:GetObject", S3 + "{processed}/microdados_enem_2019/x.parquet"),
    ("s3:GetObject", S3 + "{processed}/label_q006/labels.parquet"),
    ("s3:GetObject", S3 + "{gold}/media_por_uf/x.parquet"),
    ("s3:PutObject", S3 + "{athena_results}/results/q.csv"),
    ("s3:GetObject", S3 + "{athena_results}/results/q.csv"),
    ("athena:GetQueryResultsStream", WORKGROUP),
    *CONSOLE_CALLS,
]
ANALYST_FORBIDDEN = [
    ("s3:GetObject", S3 + "{raw}/" + INGEST + "/MICRODADOS_ENEM_2019.csv"),
    ("s3:PutObject", S3 + "{gold}/x"),
    ("glue:CreateTable", "arn:aws:glue:{region}:{account}:table/{database}/x"),
    ("athena:StartQueryExecution", "arn:aws:athena:{region}:{account}:workgroup/primary"),
    # the gold job's workgroup does not enforce its settings: only the gold job may use it
    ("athena:StartQueryExecution", GOLD_WORKGROUP),
    ("glue:CreateDatabase", GLUE + "database/analyst_db"),
    # the restricted zone, its tables and the rejected rows are the researchers'
    ("s3:GetObject", S3 + "{restricted}/" + PARQUET),
    ("s3:ListBucket", S3 + "{restricted}"),
    ("s3:GetObject", S3 + "{rejected}/microdados_enem_2019/run=run-1/part-0.json"),
    ("glue:GetDatabase", RESTRICTED_DATABASE),
    ("glue:GetTables", RESTRICTED_DATABASE),
    ("glue:GetTable", RESTRICTED_TABLE + "microdados_enem_2019"),
    ("glue:GetPartitions", RESTRICTED_TABLE + "microdados_enem_2019"),
    # … and so are their query results; nor does an analyst write into the business results
    ("athena:StartQueryExecution", RESEARCHER_WORKGROUP),
    ("athena:StartQueryExecution", BUSINESS_WORKGROUP),
    ("s3:GetObject", S3 + "{restricted}/athena-results/q.csv"),
    ("s3:PutObject", S3 + "{athena_results}/business/q.csv"),
]
RESEARCHER_CALLS = [
    *CONSOLE_CALLS,
    ("athena:StartQueryExecution", RESEARCHER_WORKGROUP),
    ("athena:GetQueryResults", RESEARCHER_WORKGROUP),
    ("glue:GetDatabase", DATABASE),
    ("glue:GetTable", TABLE + "microdados_enem_2019"),
    ("glue:GetTable", TABLE + "gold_mean_scores_by_state"),
    ("glue:GetDatabase", RESTRICTED_DATABASE),
    ("glue:GetTables", RESTRICTED_DATABASE),
    ("glue:GetTable", RESTRICTED_TABLE + "microdados_enem_2019"),
    ("glue:GetPartitions", RESTRICTED_TABLE + "microdados_enem_2019"),
    ("s3:GetObject", S3 + "{restricted}/" + PARQUET),
    ("s3:GetObject", S3 + "{processed}/" + PARQUET),
    ("s3:GetObject", S3 + "{gold}/" + GOLD_OBJECT),
    ("s3:GetObject", S3 + "{rejected}/microdados_enem_2019/run=run-1/part-0.json"),
    ("s3:ListBucket", S3 + "{rejected}"),
    # its query results stay in the restricted zone
    ("s3:PutObject", S3 + "{restricted}/athena-results/q.csv"),
    ("s3:GetObject", S3 + "{restricted}/athena-results/q.csv.metadata"),
    ("s3:AbortMultipartUpload", S3 + "{restricted}/athena-results/q.csv"),
]
RESEARCHER_FORBIDDEN = [
    ("s3:GetObject", S3 + "{raw}/" + INGEST + "/MICRODADOS_ENEM_2019.csv"),
    # reads the restricted tables, never writes or deletes them
    ("s3:PutObject", S3 + "{restricted}/" + PARQUET),
    ("s3:DeleteObject", S3 + "{restricted}/" + PARQUET),
    ("s3:DeleteObject", S3 + "{restricted}/athena-results/q.csv"),
    ("glue:CreateTable", RESTRICTED_TABLE + "x"),
    ("glue:UpdateTable", TABLE + "microdados_enem_2019"),
    # a query in another workgroup would leave restricted results where lower audiences read
    ("athena:StartQueryExecution", WORKGROUP),
    ("athena:StartQueryExecution", BUSINESS_WORKGROUP),
    ("athena:StartQueryExecution", GOLD_WORKGROUP),
    ("s3:PutObject", S3 + "{athena_results}/results/q.csv"),
    ("s3:PutObject", S3 + "{athena_results}/business/q.csv"),
]
AUDIENCE_CALLS = {"business": BUSINESS_CALLS, "analyst": ANALYST_CALLS,
                  "researcher": RESEARCHER_CALLS}
AUDIENCE_FORBIDDEN = {"business": BUSINESS_FORBIDDEN, "analyst": ANALYST_FORBIDDEN,
                      "researcher": RESEARCHER_FORBIDDEN}

# Stacks with `encryption: kms`: the keys each role's calls use (the zones' objects, the Athena
# results), and the restricted key, which nobody else uses.
KMS_CALLS = [
    ("process", "kms:GenerateDataKey", "{restricted_key}"),  # the copy into the restricted zone
    ("process", "kms:Decrypt", "{restricted_key}"),
    ("crawler-restricted", "kms:Decrypt", "{restricted_key}"),
    ("researcher", "kms:Decrypt", "{restricted_key}"),
    ("researcher", "kms:GenerateDataKey", "{restricted_key}"),  # its query results
    ("researcher", "kms:Decrypt", "{key}"),  # processed, gold, rejected
    ("analyst", "kms:Decrypt", "{key}"),
    ("analyst", "kms:GenerateDataKey", "{key}"),
    ("business", "kms:Decrypt", "{key}"),
    ("business", "kms:GenerateDataKey", "{key}"),
]
