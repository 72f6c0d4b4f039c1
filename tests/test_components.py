"""DataLake as a reusable component: named queries from files, two lakes in one stack, code
changes that redeploy, and the differences between dev and prod."""

from __future__ import annotations

import ast
import hashlib
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pulumi
import pytest

from components.analytics import query_files
from components.config import load_config
from components.datalake import DataLake, DataLakeArgs
from components.packaging import PROJECT_ROOT, EntryPoint, SourceTree
from policies.mocks import Deployment, RecordingMocks, run, stack_config
from tests.lake_resources import buckets, database, lake_key

MEAN_BY_STATE = """-- Mean score per area by state of the exam (SG_UF_PROVA), present only.
SELECT sg_uf_prova, avg(nu_nota_mt) AS mean_mt FROM microdados_enem_2019 GROUP BY 1
"""
ATTENDANCE = "SELECT count(*) FROM microdados_enem_2019\n"


def lake_with_queries(tmp_path: Path) -> SourceTree:
    folder = tmp_path / "queries"
    folder.mkdir()
    (folder / "mean_by_state.sql").write_text(MEAN_BY_STATE)
    (folder / "attendance.sql").write_text(ATTENDANCE)
    (folder / "README.md").write_text("not a query")
    return SourceTree("queries", root=tmp_path)


def test_one_named_query_per_sql_file(tmp_path: Path) -> None:
    queries = lake_with_queries(tmp_path)

    def program() -> None:
        DataLake("enem", DataLakeArgs(dataset="enem", config=load_config(), queries=queries))

    deployment = run(program, stack="dev", config=stack_config("dev"))
    named = {q.get("name"): q for q in deployment.of_type("aws:athena/namedQuery:NamedQuery")}
    workgroup = deployment.one("aws:athena/workgroup:Workgroup", "-analytics-workgroup").get("name")
    catalog = database(deployment).get("name")

    assert set(named) == {"mean_by_state", "attendance"}
    assert named["mean_by_state"].get("query") == MEAN_BY_STATE
    assert named["mean_by_state"].get("description").startswith("Mean score per area by state")
    assert named["attendance"].get("description") == "attendance"
    assert {q.get("workgroup") for q in named.values()} == {workgroup}
    assert {q.get("database") for q in named.values()} == {catalog}
    # The gold job runs exactly these files, uploaded beside its code.
    gold_args = deployment.one("aws:glue/job:Job", "-gold-job").get("defaultArguments")
    artifacts = buckets(deployment)["artifacts"].get("bucket")
    uploaded = {f"s3://{o.get('bucket')}/{o.get('key')}" for o in
                deployment.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
                if o.get("key").endswith(".sql")}
    assert uploaded == {f"{gold_args['--queries']}{name}.sql" for name in named}
    assert gold_args["--queries"].startswith(f"s3://{artifacts}/queries/")


def test_named_queries_match_the_projects_queries_folder(deployment: Deployment) -> None:
    named = {q.get("name") for q in deployment.of_type("aws:athena/namedQuery:NamedQuery")}
    assert named == {path.stem for path in query_files(SourceTree("queries"))}


NAMED_QUERY = "aws:athena/namedQuery:NamedQuery"


def test_two_lakes_live_in_one_stack_without_a_clash() -> None:
    def program() -> None:
        config = load_config()
        DataLake("enem", DataLakeArgs(dataset="enem", config=config))
        DataLake("saeb", DataLakeArgs(dataset="saeb", config=config))

    deployment = run(program, stack="dev", config=stack_config("dev"))
    urns = Counter((r.type, r.name) for r in deployment)
    assert [key for key, count in urns.items() if count > 1] == []
    # Named queries are named after their files, once per lake: each in its lake's workgroup.
    physical = Counter((r.type, r.get("name"), r.get("workgroup") if r.type == NAMED_QUERY else "")
                       for r in deployment if r.type.startswith("aws:") and r.get("name"))
    physical.update(("bucket", b.get("bucket")) for b in deployment.of_type(
        "aws:s3/bucket:Bucket"))
    assert len(physical) > 40
    assert [name for name, count in physical.items() if count > 1] == []
    databases = {d.get("name") for d in deployment.of_type(
        "aws:glue/catalogDatabase:CatalogDatabase")}
    assert databases == {"datalake_dev_enem", "datalake_dev_saeb", "datalake_dev_enem_restricted",
                         "datalake_dev_saeb_restricted"}
    assert {b.get("tags", "dataset") for b in deployment.of_type("aws:s3/bucket:Bucket")} == {
        "enem", "saeb"}


def test_dataset_must_be_a_lower_case_identifier() -> None:
    with pytest.raises(ValueError, match="lower-case identifier"):
        run(lambda: DataLake("x", DataLakeArgs(dataset="ENEM-2019", config=load_config())),
            stack="dev", config=stack_config("dev"))


def _code_keys(deployment: Deployment) -> dict[str, str]:
    """What each deployable runs, as Pulumi sees it: the Glue jobs' script keys (named by their
    code's hash), the image tag, and the Lambda archive's files and bytes."""
    keys = {j.get("name"): j.get("command", "scriptLocation")
            for j in deployment.of_type("aws:glue/job:Job")}
    keys["image"] = deployment.one("docker-build:index:Image").get("tags")[0]
    archive = deployment.one("aws:lambda/function:Function").get("code")
    keys["lambda"] = hashlib.sha256(b"".join(
        name.encode() + Path(asset.path).read_bytes()
        for name, asset in sorted(archive.assets.items()))).hexdigest()
    return keys


MODULES = {  # a project in miniature: four deployables sharing a contract, and a CLI
    "jobs/__init__.py": "",
    "jobs/contract.py": "LIMIT = 1\n",
    "jobs/process/__init__.py": "",
    "jobs/process/csv_to_parquet.py": "from jobs import contract\n",
    "jobs/gold/__init__.py": "",
    "jobs/gold/export.py": "from jobs.contract import LIMIT\n",
    "jobs/ingest/__init__.py": "",
    "jobs/ingest/download.py": "import jobs.contract\n",
    "jobs/ingest/trigger.py": "from jobs import contract\n",
    "lake/__init__.py": "",
    "lake/cli.py": "from jobs import contract\n",
}


def test_each_deployable_redeploys_when_and_only_when_its_code_changes(tmp_path: Path) -> None:
    for name, text in MODULES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    shutil.copytree(PROJECT_ROOT / "images" / "ingest", tmp_path / "images" / "ingest")

    def program() -> None:
        DataLake("enem", DataLakeArgs(
            dataset="enem", config=load_config(),
            trigger=EntryPoint("jobs.ingest.trigger", root=tmp_path),
            container=EntryPoint("jobs.ingest.download", root=tmp_path),
            process_job=EntryPoint("jobs.process.csv_to_parquet", root=tmp_path),
            gold_job=EntryPoint("jobs.gold.export", root=tmp_path),
            image_context=SourceTree("images/ingest", root=tmp_path)))

    def keys_after(change: str = "", text: str = "") -> dict[str, str]:
        if change:
            (tmp_path / change).write_text(text)
        return _code_keys(run(program, stack="dev", config=stack_config("dev")))

    before = keys_after()
    assert keys_after() == before  # same code, same keys: nothing redeploys
    process, gold = "datalake-dev-enem-process", "datalake-dev-enem-gold"
    after = keys_after("jobs/process/csv_to_parquet.py", "from jobs import contract\nX = 2\n")
    assert {k for k in before if after[k] != before[k]} == {process}
    after_cli = keys_after("lake/cli.py", "print('a CLI change')\n")
    assert after_cli == after  # the CLI is in no deployable
    after_contract = keys_after("jobs/contract.py", "LIMIT = 2\n")
    assert all(after_contract[k] != after[k] for k in after), (after, after_contract)
    pins = keys_after("images/ingest/requirements.txt", "boto3==1.0\n")
    assert {k for k in pins if pins[k] != after_contract[k]} == {"image"}
    assert gold in before


def test_a_test_only_pin_is_in_no_deployable() -> None:
    """The image's pins and lock are its own files; the root ones (tests, lint, CLI) name no
    deployable's input, so changing a test pin redeploys nothing."""
    image = SourceTree("images/ingest")
    names = {path.relative_to(PROJECT_ROOT).as_posix() for path in image.files()}
    assert "images/ingest/requirements.txt" in names
    root_pins = (PROJECT_ROOT / "requirements.in").read_text()
    assert "-r images/ingest/requirements.in" in root_pins
    for module in ("jobs.ingest.trigger", "jobs.ingest.download", "jobs.process.csv_to_parquet",
                   "jobs.gold.export"):
        assert all(not p.name.startswith("requirements") for p in EntryPoint(module).files())


def test_pycache_does_not_change_the_hash(tmp_path: Path) -> None:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "a.py").write_text("x = 1\n")
    tree = SourceTree("jobs", root=tmp_path)
    digest = tree.digest()
    (tmp_path / "jobs" / "__pycache__").mkdir()
    (tmp_path / "jobs" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert tree.digest() == digest
    assert sorted(tree.archive().assets) == ["jobs/a.py"]


# --- dev and prod differ where real teams differ ----------------------------------------------

def test_prod_encrypts_zones_with_the_customer_key_and_dev_with_s3(dev: Deployment,
                                                                   prod: Deployment) -> None:
    def algorithms(d: Deployment) -> set[str]:
        return {r.get("rules")[0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
                for r in d.of_type("aws:s3/bucketServerSideEncryptionConfiguration:"
                                   "BucketServerSideEncryptionConfiguration")}
    assert algorithms(dev) == {"AES256"}
    assert algorithms(prod) == {"aws:kms", "AES256"}  # AES256: the access-log bucket only


def test_prod_is_protected_and_dev_is_disposable(dev: Deployment, prod: Deployment) -> None:
    for bucket in prod.of_type("aws:s3/bucket:Bucket"):
        assert bucket.get("forceDestroy") is False
    for bucket in dev.of_type("aws:s3/bucket:Bucket"):
        assert bucket.get("forceDestroy") is True
    assert {k.get("deletionWindowInDays") for k in prod.of_type("aws:kms/key:Key")} == {30}
    assert lake_key(dev).get("deletionWindowInDays") == 7
    for workgroup in prod.of_type("aws:athena/workgroup:Workgroup"):
        assert workgroup.get("forceDestroy") is False


def resource_options(stack: str) -> dict[tuple[str, str], pulumi.ResourceOptions]:
    """Each resource's final options, seen through a transformation on the DataLake."""
    seen: dict[tuple[str, str], pulumi.ResourceOptions] = {}

    def capture(args: pulumi.ResourceTransformationArgs) -> None:
        seen[(args.type_, args.name)] = args.opts

    def program() -> None:
        DataLake("enem", DataLakeArgs(dataset="enem", config=load_config()),
                 pulumi.ResourceOptions(transformations=[capture]))

    run(program, stack=stack, config=stack_config(stack))
    return seen


def test_prod_retains_and_protects_buckets_and_keys() -> None:
    kept_types = {"aws:s3/bucket:Bucket", "aws:kms/key:Key"}
    prod = {key: opts for key, opts in resource_options("prod").items() if key[0] in kept_types}
    assert len(prod) == 11  # nine buckets (the audit bucket too), the lake and restricted keys
    assert all(opts.protect and opts.retain_on_delete for opts in prod.values())
    # … and the trail that records the restricted zone's reads cannot be deleted by accident
    [trail] = [opts for key, opts in resource_options("prod").items()
               if key[0] == "aws:cloudtrail/trail:Trail"]
    assert trail.protect
    dev = {key: opts for key, opts in resource_options("dev").items() if key[0] in kept_types}
    assert len(dev) == 9  # eight buckets and the lake key (no restricted key, no audit)
    assert not any(opts.protect or opts.retain_on_delete for opts in dev.values())


def test_prod_runs_more_standard_workers_and_keeps_logs_longer(dev: Deployment,
                                                               prod: Deployment) -> None:
    dev_job = dev.one("aws:glue/job:Job", "-process-job")
    prod_job = prod.one("aws:glue/job:Job", "-process-job")
    assert dev_job.get("executionClass") == "FLEX"
    assert prod_job.get("executionClass") == "STANDARD"
    assert prod_job.get("numberOfWorkers") > dev_job.get("numberOfWorkers")
    dev_logs = {g.get("retentionInDays") for g in dev.of_type("aws:cloudwatch/logGroup:LogGroup")}
    prod_logs = {g.get("retentionInDays") for g in prod.of_type(
        "aws:cloudwatch/logGroup:LogGroup")}
    assert max(dev_logs) < min(prod_logs)


def test_a_stack_name_ecr_would_refuse_stops_the_program_first() -> None:
    """ECR repository names are lower case (API_CreateRepository, repositoryName pattern)."""
    mocks = RecordingMocks()
    with pytest.raises(pulumi.RunError, match=r"^Project and stack names must be lower-case .* "
                                              r"datalake-Dev-enem-ingest"):
        run(lambda: DataLake("enem", DataLakeArgs(dataset="enem", config=load_config())),
            stack="Dev", config=stack_config("dev"), mocks=mocks)
    assert mocks.resources == []


def test_the_program_runs_without_the_runtimes_libraries() -> None:
    """`pulumi preview` needs only Pulumi: the program reads the runtime's contract module and
    hashes the deployables' files, but never imports boto3, pyspark, duckdb or pyarrow."""
    script = (
        "import json, sys\n"
        "from policies.mocks import run_main\n"
        "deployment = run_main('dev')\n"
        "assert deployment.resources\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'boto3', 'botocore', 'pyspark', 'duckdb', 'pyarrow', 'sqlglot', 'lake'})))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, text=True,
                            capture_output=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []


def test_shipped_code_imports_nothing_from_the_tests() -> None:
    """The program, the runtime, the CLI, the policy pack (`make policy`), bootstrap/, tools/ and
    bench/ run on a checkout without tests/: none of them imports it."""
    shipped = [path for path in PROJECT_ROOT.rglob("*.py")
               if path.relative_to(PROJECT_ROOT).parts[0] not in ("tests", ".venv", ".lake")]
    assert len(shipped) > 50
    offenders = []
    for path in shipped:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(name == "tests" or name.startswith("tests.") for name in names):
                offenders.append(path.relative_to(PROJECT_ROOT).as_posix())
    assert offenders == []
