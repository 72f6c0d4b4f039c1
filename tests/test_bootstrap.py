"""bootstrap/: the GitHub OIDC provider, the roles GitHub assumes and the Pulumi state backend.

The program (bootstrap/__main__.py) runs under Pulumi's mocks with the stack's `bootstrap:*`
config. Each role must trust exactly one subject GitHub presents; the read roles may only read
(and take state locks); a deploy role may create every resource its lake stack declares, and
manage IAM only under that stack's prefix.
"""

from __future__ import annotations

import json
import runpy
from typing import Any

import pulumi
import pytest
import yaml

from bootstrap.delivery import (
    AUDIENCE,
    GITHUB_OIDC_URL,
    GITHUB_THUMBPRINTS,
    BootstrapConfigError,
    GithubDelivery,
    load_config,
    parse_config,
)
from policies.mocks import (
    ACCOUNT,
    REGION,
    Deployment,
    run,
)
from tests.bootstrap_harness import (
    BOOTSTRAP,
    BUCKET,
    CONFIG,
    EXISTING_PROVIDER_ARN,
    EXPECTED_SUBJECTS,
    IAM,
    KEY,
    OIDC,
    POLICY,
    PROVIDER,
    PROVIDER_ARN,
    READ_ONLY,
    REPOSITORY,
    ROLE,
    STATE,
    BootstrapMocks,
    actions,
    bootstrap,
    boundary_policy,
    deploy_documents,
    inline_policies,
    managed_policies,
    role,
)
from tests.iam_eval import allows, granting, statements

# --- the project -------------------------------------------------------------------------------

def test_project_reuses_the_lakes_virtualenv() -> None:
    project = yaml.safe_load((BOOTSTRAP / "Pulumi.yaml").read_text())
    assert project["name"] == "datalake-bootstrap"
    assert project["description"]
    assert project["runtime"] == {"name": "python",
                                  "options": {"toolchain": "pip", "virtualenv": "../.venv"}}


def test_example_stack_config_deploys() -> None:
    example = yaml.safe_load((BOOTSTRAP / "Pulumi.example.yaml").read_text())["config"]
    assert set(example) == {"aws:region", "bootstrap:repository"}  # the rest are defaults
    d = run(lambda: runpy.run_path(str(BOOTSTRAP / "__main__.py"))["delivery"].outputs,
            stack="github", config=example, mocks=BootstrapMocks())
    assert set(d.outputs["deployRoleArns"]) == {"dev", "prod"}


def test_bootstrap_is_self_contained() -> None:
    """Pulumi runs bootstrap/ on its own: components/ and jobs/ are not importable there."""
    for path in BOOTSTRAP.glob("*.py"):
        source = path.read_text()
        for package in ("components", "jobs", "tests"):
            assert f"from {package}" not in source and f"import {package}" not in source, path


def test_component_type_and_children() -> None:
    parents: dict[str, Any] = {}

    def capture(args: pulumi.ResourceTransformationArgs) -> None:
        parents[args.name] = args.opts.parent

    def program() -> None:
        GithubDelivery("github", parse_config({"repository": REPOSITORY}),
                       pulumi.ResourceOptions(transformations=[capture]))

    d = run(program, stack="github", config=CONFIG, mocks=BootstrapMocks())
    [component] = [r for r in d if r.type == "datalake:bootstrap:GithubDelivery"]
    children = {name: parent for name, parent in parents.items() if name != component.name}
    assert len(children) == len(d.resources) - 1
    assert all(isinstance(parent, GithubDelivery) for parent in children.values())


# --- trust: exactly one subject per role -------------------------------------------------------

@pytest.mark.parametrize(("name", "subject"), EXPECTED_SUBJECTS.items())
def test_each_role_trusts_exactly_one_github_subject(bootstrap_s3: Deployment, name: str,
                                                     subject: str) -> None:
    target = role(bootstrap_s3, name)
    text = target.get("assumeRolePolicy")
    assert "*" not in text and "StringLike" not in text and "?" not in text
    [grant] = json.loads(text)["Statement"]
    assert grant["Effect"] == "Allow"
    assert grant["Principal"] == {"Federated": PROVIDER_ARN}
    assert grant["Action"] in ("sts:AssumeRoleWithWebIdentity", ["sts:AssumeRoleWithWebIdentity"])
    assert grant["Condition"] == {"StringEquals": {f"{OIDC}:aud": AUDIENCE,
                                                   f"{OIDC}:sub": subject}}
    assert target.get("maxSessionDuration") == 3600


def test_only_those_roles_exist(bootstrap_s3: Deployment) -> None:
    assert {r.get("name") for r in bootstrap_s3.of_type(ROLE)} == set(EXPECTED_SUBJECTS)


def test_the_provider_is_githubs(bootstrap_s3: Deployment) -> None:
    provider = bootstrap_s3.one(PROVIDER)
    assert provider.get("url") == GITHUB_OIDC_URL == f"https://{OIDC}"
    assert provider.get("clientIdLists") == [AUDIENCE]
    assert provider.get("thumbprintLists") == list(GITHUB_THUMBPRINTS)
    assert bootstrap_s3.outputs["oidcProviderArn"] == PROVIDER_ARN


def test_an_existing_provider_is_looked_up_not_created() -> None:
    mocks = BootstrapMocks()
    d = bootstrap({"bootstrap:createOidcProvider": False}, mocks=mocks)
    assert d.of_type(PROVIDER) == []
    assert [lookup.get("url") for lookup in mocks.lookups] == [GITHUB_OIDC_URL]
    assert d.outputs["oidcProviderArn"] == EXISTING_PROVIDER_ARN
    for name in EXPECTED_SUBJECTS:
        [grant] = json.loads(role(d, name).get("assumeRolePolicy"))["Statement"]
        assert grant["Principal"] == {"Federated": EXISTING_PROVIDER_ARN}


def test_an_existing_provider_must_accept_sts_tokens() -> None:
    mocks = BootstrapMocks(existing_audiences=("sigstore",))
    with pytest.raises(BootstrapConfigError, match="does not list the audience sts.amazonaws.com"):
        bootstrap({"bootstrap:createOidcProvider": False}, mocks=mocks)
    assert not [r for r in mocks.resources if r.type.startswith("aws:")]


# --- the read roles: preview and drift ---------------------------------------------------------

@pytest.mark.parametrize("name", ["datalake-github-preview", "datalake-github-drift"])
def test_read_roles_only_read_and_take_state_locks(bootstrap_s3: Deployment, name: str) -> None:
    target = role(bootstrap_s3, name)
    assert managed_policies(bootstrap_s3, target) == [READ_ONLY]
    inline = inline_policies(bootstrap_s3, target)
    assert set(inline) == {"pulumi-state"}
    documents = list(inline.values())
    assert not [a for a in actions(documents) if a.lower().startswith("iam:")]
    assert actions(documents, "Deny") == []
    assert allows(documents, "s3:GetObject", f"{STATE}/.pulumi/stacks/datalake/dev.json")
    assert allows(documents, "s3:ListBucket", STATE)
    for write in ("s3:PutObject", "s3:DeleteObject"):
        assert allows(documents, write, f"{STATE}/.pulumi/locks/datalake/dev/1.json")
        for elsewhere in (f"{STATE}/.pulumi/stacks/datalake/dev.json",
                          f"{STATE}/.pulumi/meta.yaml", f"{STATE}/.pulumi/history/x",
                          f"arn:aws:s3:::datalake-dev-enem-raw-{ACCOUNT}/x"):
            assert not allows(documents, write, elsewhere), (write, elsewhere)
    # Every write grant is on the lock prefix; nothing is granted on "*".
    for stmt in statements(documents):
        assert "*" not in stmt["Resource"]
        if {"s3:PutObject", "s3:DeleteObject"} & set(stmt["Action"]):
            assert stmt["Resource"] == [f"{STATE}/.pulumi/locks/*"]
    key = bootstrap_s3.one(KEY).arn
    assert allows(documents, "kms:Decrypt", key)
    assert not allows(documents, "kms:Encrypt", key)
    # Lock files are written SSE-KMS: a data key, asked for by S3 only.
    [data_key] = granting(documents, "kms:GenerateDataKey", key)
    assert data_key["Condition"] == {"StringEquals": {"kms:ViaService":
                                                      f"s3.{REGION}.amazonaws.com"}}


# --- the deploy roles --------------------------------------------------------------------------


# --- the permissions boundaries ------------------------------------------------------------------


# --- the state backend -------------------------------------------------------------------------


# --- configuration -----------------------------------------------------------------------------

@pytest.mark.parametrize("environments", [["dev", "staging", "prod"], ["prod"]])
def test_environments_add_and_remove_deploy_roles(environments: list[str]) -> None:
    d = bootstrap({"bootstrap:environments": environments})
    deploy = {r.get("name") for r in d.of_type(ROLE) if "-deploy-" in r.get("name")}
    assert deploy == {f"datalake-github-deploy-{env}" for env in environments}
    assert list(d.outputs["deployRoleArns"]) == environments
    assert d.outputs["permissionsBoundaryArns"] == {
        env: f"{IAM}:policy/datalake-boundary-{env}" for env in environments}
    assert {p.get("name") for p in d.of_type(POLICY)} == {
        f"datalake-boundary-{env}" for env in environments}
    for env in environments:
        [grant] = json.loads(role(d, f"datalake-github-deploy-{env}")
                             .get("assumeRolePolicy"))["Statement"]
        assert grant["Condition"]["StringEquals"][f"{OIDC}:sub"] == \
            f"repo:{REPOSITORY}:environment:{env}"


def test_lake_project_names_the_roles_the_prefix_and_the_state() -> None:
    d = bootstrap({"bootstrap:lakeProject": "enem-lake", "bootstrap:environments": ["dev"]})
    assert {r.get("name") for r in d.of_type(ROLE)} == {
        "enem-lake-github-preview", "enem-lake-github-drift", "enem-lake-github-deploy-dev"}
    documents = deploy_documents(d, "dev", project="enem-lake")
    assert allows(documents, "iam:PassRole", f"{IAM}:role/enem-lake-dev-enem-process")
    assert not allows(documents, "iam:PassRole", f"{IAM}:role/datalake-dev-enem-process")
    boundary = boundary_policy(d, "dev", project="enem-lake")
    assert boundary.arn == f"{IAM}:policy/enem-lake-boundary-dev"
    [conditioned] = [s for s in statements(documents) if "iam:CreateRole" in s["Action"]]
    assert conditioned["Condition"] == {"StringEquals": {"iam:PermissionsBoundary":
                                                         boundary.arn}}
    assert allows([boundary.json("policy")], "iam:PassRole",
                  f"{IAM}:role/enem-lake-dev-enem-process")
    assert not allows([boundary.json("policy")], "iam:PassRole",
                      f"{IAM}:role/datalake-dev-enem-process")
    assert d.one(BUCKET).get("bucket") == f"enem-lake-pulumi-state-{ACCOUNT}"
    assert d.outputs["secretsProvider"] == f"awskms://alias/enem-lake-pulumi?region={REGION}"


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("repository", None,
     "Config key `bootstrap:repository` is required; set it to your GitHub `owner/name` in "
     "Pulumi.<stack>.yaml (see Pulumi.example.yaml)."),
    *[("repository", bad,
       "Config key `bootstrap:repository` must be a GitHub repository `owner/name` (owner: "
       "letters, digits and inner hyphens; name: letters, digits, `.`, `_`, `-`), e.g. "
       f"my-org/enem-datalake (got {bad!r}).")
      for bad in ["enem-datalake", "my-org/enem/datalake", "-my-org/x", "my-org/..",
                  "my-org/*", "my org/x", "my-org/x:ref", "my-org/"]],
    ("lakeProject", "DataLake",
     "Config key `bootstrap:lakeProject` must be the lake's Pulumi project name in lower-case "
     "letters, digits and inner hyphens, at most 37 characters (got 'DataLake')."),
    ("lakeProject", "x" * 38,
     "Config key `bootstrap:lakeProject` must be the lake's Pulumi project name in lower-case "
     f"letters, digits and inner hyphens, at most 37 characters (got {'x' * 38!r})."),
    *[("environments", bad,
       "Config key `bootstrap:environments` must be a non-empty list of distinct stack names in "
       f"lower-case letters, digits and inner hyphens, e.g. [dev, prod] (got {bad!r}).")
      for bad in ["dev", [], ["dev", "dev"], ["Dev"], ["dev*"], ["dev", 1], [["dev"]],
                  {"dev": 1}]],
    ("environments", ["a" * 50],
     f"Config key `bootstrap:environments` has {'a' * 50!r}, whose deploy role "
     f"{'datalake-github-deploy-' + 'a' * 50!r} exceeds IAM's 64 characters."),
    ("environments", ["dev", "github"],
     "Config key `bootstrap:environments` cannot use 'github': its deploy role would manage "
     "`datalake-github-*`, the bootstrap's own resources."),
    ("environments", ["dev", "boundary"],
     "Config key `bootstrap:environments` cannot use 'boundary': its deploy role would manage "
     "`datalake-boundary-*`, the bootstrap's own resources."),
    ("environments", ["dev", "github-deploy"],
     "Config key `bootstrap:environments` cannot use 'github-deploy': its deploy role would "
     "manage `datalake-github-deploy-*`, the bootstrap's own resources."),
    ("environments", ["boundary-eu"],
     "Config key `bootstrap:environments` cannot use 'boundary-eu': its deploy role would "
     "manage `datalake-boundary-eu-*`, the bootstrap's own resources."),
    ("environments", ["prod", "dev", "dev-eu"],
     "Config key `bootstrap:environments` cannot hold both 'dev' and 'dev-eu': the deploy role "
     "of 'dev' manages `datalake-dev-*`, which includes 'dev-eu''s names."),
    ("stateBackend", "dynamodb",
     "Config key `bootstrap:stateBackend` must be one of s3, cloud (got 'dynamodb')."),
    ("createOidcProvider", "yes",
     "Config key `bootstrap:createOidcProvider` must be true or false (got 'yes')."),
    *[("processingLogRetentionDays", bad,
       "Config key `bootstrap:processingLogRetentionDays` must be one of CloudWatch's periods, "
       "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, "
       f"2922, 3288, 3653 (got {bad!r}).") for bad in [10, "365", True, 0]],
])
def test_bad_value_names_the_key_in_one_sentence(key: str, value: Any, expected: str) -> None:
    raw = {"repository": REPOSITORY, key: value}
    with pytest.raises(BootstrapConfigError) as error:
        parse_config(raw)
    assert str(error.value) == expected
    assert "\n" not in expected and expected.endswith(".")


def test_sagemakers_processing_log_group_gets_a_retention(bootstrap_s3: Deployment) -> None:
    """SageMaker logs every processing job of the account and region to
    /aws/sagemaker/ProcessingJobs, and "by default, log data is stored in CloudWatch Logs
    indefinitely" (https://docs.aws.amazon.com/sagemaker/latest/dg/logging-cloudwatch.html);
    CreateProcessingJob takes no log setting, so the account's bootstrap owns the group."""
    group = bootstrap_s3.one("aws:cloudwatch/logGroup:LogGroup")
    assert group.get("name") == "/aws/sagemaker/ProcessingJobs"
    assert group.get("retentionInDays") == 365
    d = bootstrap({"bootstrap:processingLogRetentionDays": 30})
    assert d.one("aws:cloudwatch/logGroup:LogGroup").get("retentionInDays") == 30


def test_the_bootstrap_knows_the_retention_periods_the_lake_knows() -> None:
    from bootstrap.delivery import LOG_RETENTION_DAYS as BOOTSTRAP_PERIODS
    from components.config import LOG_RETENTION_DAYS as LAKE

    assert BOOTSTRAP_PERIODS == LAKE


def test_config_is_read_from_the_stack_with_defaults() -> None:
    def program() -> dict[str, Any]:
        return {"args": repr(load_config())}

    d = run(program, stack="github", config={**CONFIG, "bootstrap:environments": ["qa"],
                                            "bootstrap:createOidcProvider": False,
                                            "bootstrap:stateBackend": "cloud"})
    assert d.outputs["args"] == (
        "GithubDeliveryArgs(repository='my-org/enem-datalake', lake_project='datalake', "
        "environments=('qa',), state_backend='cloud', create_oidc_provider=False, "
        "processing_log_retention_days=365)")
    d = run(program, stack="github", config=CONFIG)
    assert d.outputs["args"] == (
        "GithubDeliveryArgs(repository='my-org/enem-datalake', lake_project='datalake', "
        "environments=('dev', 'prod'), state_backend='s3', create_oidc_provider=True, "
        "processing_log_retention_days=365)")


@pytest.mark.parametrize(("key", "text", "shown"), [
    ("bootstrap:environments", "dev,prod", "'dev,prod'"),
    ("bootstrap:createOidcProvider", "maybe", "'maybe'"),
])
def test_bad_config_fails_before_any_resource_is_declared(key: str, text: str,
                                                           shown: str) -> None:
    mocks = BootstrapMocks()
    with pytest.raises(BootstrapConfigError, match=f"`{key}` .*\\(got {shown}\\)\\.$"):
        bootstrap({key: text}, mocks=mocks)
    assert mocks.resources == []
    assert issubclass(BootstrapConfigError, pulumi.RunError)  # printed without a traceback
