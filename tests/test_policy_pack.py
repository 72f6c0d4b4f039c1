"""The policy pack as users run it: both stacks pass `make policy`; a careless change fails it
with the rules it breaks; the per-stack files (levels, settings, waivers) are read as the CLI
reads them, and mistakes in them are named; the pack assembles as the CLI starts it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from jobs.contract import NOT_DATA
from policies.check import (
    PolicyConfigError,
    Report,
    check_stack,
    evaluate,
    level_of,
    load_config,
)
from policies.glue import RULES as GLUE_RULES
from policies.mocks import PROJECT_ROOT, REGION, STACKS, run, run_main
from policies.rules import BY_ID, RULES
from policies.tags import taggable_types
from tests.policy_fixtures import lake_buckets

POLICIES = PROJECT_ROOT / "policies"
CHECK = [sys.executable, "-m", "policies.check"]


def make_policy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CHECK, *args], cwd=PROJECT_ROOT, text=True, capture_output=True,
                          timeout=300, check=False)


# --- the lake's stacks -------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_both_stacks_keep_every_rule(stack: str) -> None:
    report = check_stack(stack)
    assert report.findings == []


def test_a_first_preview_runs_every_rule_but_those_that_read_policy_documents() -> None:
    """At a first preview the IAM and bucket policies are built from ARNs nobody knows yet, so
    CrossGuard cannot run the rules that read them (it says so, as advisory); `pulumi up` runs
    them before it creates each resource. Every other rule runs at preview."""
    report = check_stack("prod")
    assert set(report.waiting) == {"iam-no-wildcard-actions", "iam-wildcard-resource",
                                   "iam-passrole-scoped", "s3-tls-only", "s3-no-public-policy"}


def test_make_policy_names_the_rules_a_careless_change_breaks() -> None:
    result = make_policy("--stack", "prod", "--also", "tests.policy_fixtures:insecure")
    assert result.returncode == 1, result.stderr
    broken = {tuple(line.split()[2:4]) for line in result.stdout.splitlines()
              if line.startswith("mandatory")}
    assert broken == {
        ("careless-bucket", "s3-encryption:"), ("careless-bucket", "s3-public-access-block:"),
        ("careless-bucket", "s3-ownership-enforced:"), ("careless-bucket", "s3-access-logging:"),
        ("careless-bucket", "s3-lifecycle:"), ("careless-bucket", "required-tags:"),
        ("careless-bucket-policy", "s3-tls-only:"),
        ("careless-bucket-policy", "s3-no-public-policy:"),
        ("careless-admin", "iam-no-wildcard-actions:"),
        ("careless-admin", "iam-wildcard-resource:"), ("careless-admin", "iam-passrole-scoped:"),
        ("careless-admin", "required-tags:")}
    line = next(line for line in result.stdout.splitlines() if "s3-public-access-block" in line)
    assert "Fix: declare an aws.s3.BucketPublicAccessBlock" in line
    assert "13 mandatory violations" in result.stderr  # PassRole: unscoped and no condition


def test_make_test_runs_make_policy() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert "policy: $(STAMP)\n\t$(PYTHON) -m policies.check\n" in makefile
    assert "test: lint policy\n" in makefile


# --- the per-stack files -----------------------------------------------------------------------

def test_prod_asks_for_kms_and_dev_does_not() -> None:
    prod = load_config(POLICIES / "prod.json")
    dev = load_config(POLICIES / "dev.json")
    for rule in ("s3-encryption", "glue-security-configuration-encrypted",
                 "athena-results-encrypted"):
        assert prod[rule]["kms"] is True and "kms" not in dev.get(rule, {})
    assert prod["all"] == dev["all"] == "mandatory"


def test_levels_resolve_as_the_cli_resolves_them() -> None:
    rule = BY_ID["glue-job-capacity"]
    assert level_of(rule, {}).value == "advisory"  # the rule's default
    assert level_of(rule, {"all": "mandatory"}).value == "mandatory"
    assert level_of(rule, {"all": "mandatory", "glue-job-capacity": "advisory"}).value == \
        "advisory"
    assert level_of(rule, {"glue-job-capacity": {"enforcementLevel": "disabled"}}).value == \
        "disabled"


def _file(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(content))
    return path


@pytest.mark.parametrize(("content", "message"), [
    ({"s3-encrypton": "mandatory"}, "no rule named 's3-encrypton'; the rules are s3-encryption"),
    ({"s3-encryption": {"kms": "yes"}}, "s3-encryption: 'yes' is not of type 'boolean'"),
    ({"s3-encryption": {"kmsKey": True}}, "s3-encryption has no setting kmsKey; it takes "
                                          "waivers, kms"),
    ({"all": "strict"}, "all: enforcementLevel must be one of advisory, mandatory"),
    ({"s3-access-logging": {"waivers": [{"resource": "logs"}]}}, "'reason' is a required"),
    ({"s3-access-logging": {"waivers": [{"resource": "nothing", "reason": "r"}]}},
     "s3-access-logging waives 'nothing', which the stack does not declare"),
])
def test_a_mistake_in_a_policy_file_is_named(tmp_path: Path, content: object,
                                             message: str) -> None:
    """The CLI ignores a misspelt rule or setting (the pack would then silently not apply
    it): `make policy` refuses them."""
    with pytest.raises(PolicyConfigError, match="dev.json: ") as error:
        load_config(_file(tmp_path, content), {"logs", "data"})
    assert message in str(error.value)


def test_a_waiver_silences_one_resource_and_is_printed_with_its_reason() -> None:
    deployment = run(lake_buckets(aborts_uploads=False), stack="dev",
                     config={"aws:region": REGION})
    config = {"all": "mandatory", "s3-lifecycle": {"waivers": [
        {"resource": "data", "reason": "a scratch bucket nobody uploads to"}]}}
    report = Report()
    evaluate("dev", deployment.registrations, config, report)
    [waived] = [f for f in report.findings if f.rule == "s3-lifecycle"]
    assert waived.resource == "data" and waived not in report.mandatory
    assert waived.line() == ("waived     dev   data  s3-lifecycle: a scratch bucket nobody "
                             "uploads to")


def test_a_bad_policy_file_stops_make_policy_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "dev.json").write_text('{"s3-encryption": {"kms": 1}}')
    result = make_policy("--stack", "dev", "--configs", str(tmp_path))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"make policy: {tmp_path / 'dev.json'}: s3-encryption: 1 is not of type 'boolean'"]


def test_any_stack_file_can_be_checked_and_a_bad_one_is_one_line(tmp_path: Path,
                                                                   monkeypatch, capsys) -> None:
    """`--stack NAME` checks Pulumi.NAME.yaml, whatever NAME is; a misspelt key there (which the
    program refuses) is one line naming the key, the file and the key meant, exit status 2."""
    from policies import check

    monkeypatch.setattr(check, "PROJECT_ROOT", tmp_path)
    (tmp_path / "staging.json").write_text((POLICIES / "dev.json").read_text())
    dev = (PROJECT_ROOT / "Pulumi.dev.yaml").read_text()
    (tmp_path / "Pulumi.staging.yaml").write_text(dev)
    assert check.main(["--stack", "staging", "--configs", str(tmp_path)]) == 0
    assert "0 mandatory violations" in capsys.readouterr().err
    (tmp_path / "Pulumi.staging.yaml").write_text(
        dev.replace("datalake:protect:", "datalake:protected:"))
    assert check.main(["--stack", "staging", "--configs", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "make policy: Config key `datalake:protected` in Pulumi.staging.yaml is not a setting "
        "of this program; did you mean `datalake:protect`?"]
    assert check.main(["--stack", "qa", "--configs", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"make policy: no stack file Pulumi.qa.yaml in {tmp_path}; the stacks are staging")


def test_a_stack_file_that_is_not_yaml_is_one_line_with_its_place(tmp_path: Path, monkeypatch,
                                                                   capsys) -> None:
    from policies import check

    monkeypatch.setattr(check, "PROJECT_ROOT", tmp_path)
    (tmp_path / "staging.json").write_text((POLICIES / "dev.json").read_text())
    dev = (PROJECT_ROOT / "Pulumi.dev.yaml").read_text()
    (tmp_path / "Pulumi.staging.yaml").write_text(
        dev.replace("  datalake:protect: false", "  datalake:protect: [false"))
    assert check.main(["--stack", "staging", "--configs", str(tmp_path)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("make policy: Pulumi.staging.yaml line ") and line.endswith(
        "; fix the YAML")
    (tmp_path / "Pulumi.staging.yaml").write_text("encryptionsalt: x\n")
    assert check.main(["--stack", "staging", "--configs", str(tmp_path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "make policy: Pulumi.staging.yaml: no `config:` block of settings"]


# --- the pack as the CLI starts it -------------------------------------------------------------

def test_the_cli_starts_the_pack_from_its_folder_with_every_rule() -> None:
    """The CLI runs `python -m pulumi.policy <engine> <pack dir>` in the pack's folder, with only
    that folder on sys.path; PolicyPack then serves until stopped, so it is replaced here."""
    script = ("import runpy, sys, json, pulumi_policy\n"
              f"sys.path[:] = [p for p in sys.path if p not in ('', {str(PROJECT_ROOT)!r})]\n"
              "class Pack:\n"
              "    def __init__(self, name, policies, enforcement_level):\n"
              "        print(json.dumps([name, [p.name for p in policies]]))\n"
              "pulumi_policy.PolicyPack = Pack\n"
              "runpy.run_path('.', run_name='__main__')\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=POLICIES, text=True,
                            capture_output=True, timeout=60, check=False,
                            env={**os.environ, "PYTHONPATH": ""})
    assert result.returncode == 0, result.stderr
    name, policies = json.loads(result.stdout)
    assert name == "datalake-guardrails" and policies == [rule.id for rule in RULES]


def test_the_pack_runs_in_the_repositorys_virtualenv() -> None:
    project = yaml.safe_load((POLICIES / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python",
                                  "options": {"toolchain": "pip", "virtualenv": "../.venv"}}
    assert (POLICIES / project["runtime"]["options"]["virtualenv"]).resolve() == \
        PROJECT_ROOT / ".venv"
    pins = (PROJECT_ROOT / "requirements.in").read_text().splitlines()
    assert {"pulumi-policy==1.21.0", "parliament==1.6.4", "jsonschema==4.26.0"} <= set(pins)


def test_taggable_types_come_from_pulumi_aws() -> None:
    types = taggable_types()
    assert {"aws:s3/bucket:Bucket", "aws:glue/job:Job", "aws:iam/role:Role"} <= types
    assert not {"aws:s3/bucketPolicy:BucketPolicy", "aws:iam/rolePolicy:RolePolicy"} & types
    assert len(types) > 500


def test_the_readme_lists_every_rule_with_its_default_level_and_settings() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    table = readme.split("| rule | demands | default level | settings |\n|---|---|---|---|\n")[1]
    rows = table.split("\n\n")[0].splitlines()
    assert [row.split("`")[1] for row in rows] == [rule.id for rule in RULES]
    for row, rule in zip(rows, RULES, strict=True):
        settings = ", ".join(f"`{key}`" for key in rule.properties) or "—"
        assert row.endswith(f"| {rule.description} | {rule.level.value} | {settings} |")


def test_the_crawler_rule_excludes_the_contracts_bookkeeping_folders() -> None:
    [rule] = [r for r in GLUE_RULES if r.id == "glue-crawler-exclusions"]
    assert rule.properties["excludedPaths"]["default"] == [f"{name}/**" for name in NOT_DATA]


def test_the_lakes_own_stack_passes_under_the_real_program_config() -> None:
    """The fixtures and the stacks run the same evaluation: the real program in prod has
    SSE-KMS buckets and an SSE-S3 access-log bucket, both as the rule wants."""
    deployment = run_main("prod")
    report = Report()
    evaluate("prod", deployment.registrations, load_config(POLICIES / "prod.json"), report)
    assert [f for f in report.findings if f.rule == "s3-encryption"] == []
    algorithms = {r.get("rules")[0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
                  for r in deployment.of_type(
                      "aws:s3/bucketServerSideEncryptionConfiguration:"
                      "BucketServerSideEncryptionConfiguration")}
    assert algorithms == {"aws:kms", "AES256"}


def test_pulumi_runs_with_the_protobuf_that_pulumi_policy_pins() -> None:
    """pulumi-policy 1.21 requires protobuf~=5.29 while pulumi takes any <7: the suite's Pulumi
    runs (every test above) prove that pulumi works with what pip resolved."""
    from importlib.metadata import version

    assert version("protobuf").startswith("5.29.")
    assert version("pulumi") == "3.272.0"
