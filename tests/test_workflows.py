"""The delivery contract of .github/workflows, so that no edit silently drops a guarantee:
tests on every PR, previews per stack with an edited PR comment, deploy after CI with a gated
prod, daily drift checks, AWS only through OIDC, least permissions, no credentials for forks.
(actionlint checks the syntax in `make lint`.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parent.parent / ".github" / "workflows"
NAMES = ("ci", "preview", "deploy", "drift")
STACKS = ["dev", "prod"]


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / f"{name}.yml").read_text())


def triggers(workflow: dict) -> dict:
    # YAML 1.1 reads the key `on` as True.
    found = workflow.get("on", workflow.get(True))
    return found if isinstance(found, dict) else {found: None}


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def uses(job: dict, action: str) -> list[dict]:
    return [s for s in steps(job) if s.get("uses", "").split("@")[0] == action]


def one(job: dict, action: str) -> dict:
    [step] = uses(job, action)
    return step


def runs(job: dict) -> list[str]:
    return [s["run"].strip() for s in steps(job) if "run" in s]


def all_jobs() -> list[tuple[str, str, dict]]:
    return [(name, job_name, job) for name in NAMES
            for job_name, job in load(name)["jobs"].items()]


def test_the_four_workflows_exist() -> None:
    assert {p.stem for p in WORKFLOWS.glob("*.yml")} == set(NAMES)


# --- ci ------------------------------------------------------------------------------------------

def test_ci_runs_the_readme_commands_on_every_pull_request_and_push_to_main() -> None:
    ci = load("ci")
    assert set(triggers(ci)) == {"pull_request", "push"}
    assert triggers(ci)["pull_request"] is None  # every PR, forks included
    assert triggers(ci)["push"] == {"branches": ["main"]}
    [job] = ci["jobs"].values()
    commands = runs(job)
    assert commands.index("make test") < commands.index("make demo")
    # make test lints the workflows and the Dockerfile too
    makefile = (WORKFLOWS.parent.parent / "Makefile").read_text()
    lint = makefile.split("\nlint:")[1].split("\n\n")[0]
    assert "actionlint" in lint and "hadolint images/ingest/Dockerfile" in lint


def test_ci_caches_and_needs_no_credentials() -> None:
    ci = load("ci")
    [job] = ci["jobs"].values()
    assert ci["permissions"] == {"contents": "read"} and "permissions" not in job
    assert one(job, "actions/setup-python")["with"]["cache"] == "pip"
    text = (WORKFLOWS / "ci.yml").read_text()
    assert "secrets." not in text and "id-token" not in text


def test_ci_shows_a_pull_requests_infrastructure_diff() -> None:
    [job] = load("ci")["jobs"].values()
    [diff] = [s for s in steps(job) if "tests/__snapshots__" in s.get("run", "")]
    assert diff["if"] == "github.event_name == 'pull_request'"
    assert "GITHUB_STEP_SUMMARY" in diff["run"]


# --- preview -------------------------------------------------------------------------------------

def test_preview_runs_per_stack_on_pull_requests_from_this_repository_only() -> None:
    preview = load("preview")
    assert set(triggers(preview)) == {"pull_request"}
    [job] = preview["jobs"].values()
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert job["strategy"]["matrix"]["stack"] == STACKS
    assert job["strategy"]["fail-fast"] is False


def test_preview_comments_on_the_pr_and_edits_its_comment() -> None:
    [job] = load("preview")["jobs"].values()
    pulumi = one(job, "pulumi/actions")["with"]
    assert pulumi["command"] == "preview"
    assert pulumi["comment-on-pr"] is True and pulumi["edit-pr-comment"] is True
    assert "matrix.stack" in pulumi["stack-name"]
    assert pulumi["cloud-url"] == "${{ vars.PULUMI_CLOUD_URL }}"


def test_preview_has_one_concurrency_group_per_pr_and_stack() -> None:
    [job] = load("preview")["jobs"].values()
    group = job["concurrency"]["group"]
    assert "github.event.pull_request.number" in group and "matrix.stack" in group


def test_preview_uses_the_read_only_role_and_least_permissions() -> None:
    preview = load("preview")
    [job] = preview["jobs"].values()
    assert preview["permissions"] == {}
    assert job["permissions"] == {"contents": "read", "id-token": "write",
                                  "pull-requests": "write"}
    assert one(job, "aws-actions/configure-aws-credentials")["with"]["role-to-assume"] == \
        "${{ vars.AWS_PREVIEW_ROLE_ARN }}"


# --- deploy --------------------------------------------------------------------------------------

def test_dev_deploys_after_ci_succeeds_on_a_push_to_main() -> None:
    deploy = load("deploy")
    assert triggers(deploy) == {"workflow_run": {"workflows": ["ci"], "types": ["completed"],
                                                 "branches": ["main"]},
                                "workflow_dispatch": None}
    condition = deploy["jobs"]["dev"]["if"]
    assert "github.event_name == 'workflow_run'" in condition
    assert "github.event.workflow_run.conclusion == 'success'" in condition
    assert "github.event.workflow_run.event == 'push'" in condition
    assert "head_repository.full_name == github.repository" in condition


def test_prod_deploys_only_when_a_named_person_runs_it_by_hand_on_main() -> None:
    """Required reviewers on an environment work in private repositories only on Enterprise
    ("Reviewing deployments": "For access to other environment protection rules in private or
    internal repositories, you must use GitHub Enterprise"), so the gate that holds on every plan
    is the workflow's own: a manual run, which "requires write access to the repository"
    ("Manually running a workflow"), by a login named in PROD_DEPLOYERS, of a commit ci.yml
    passed on main. Nothing that happens by itself (a push, CI finishing) reaches prod."""
    prod = load("deploy")["jobs"]["prod"]
    assert prod["if"] == ("github.event_name == 'workflow_dispatch' && "
                          "github.ref == 'refs/heads/main'")
    assert "needs" not in prod  # not chained to dev's automatic run
    gate = steps(prod)[0]
    assert gate["name"].startswith("Gate")
    assert gate["env"]["DEPLOYERS"] == "${{ vars.PROD_DEPLOYERS }}"
    assert gate["env"]["ACTOR"] == "${{ github.triggering_actor }}"
    assert 'if [ -z "$DEPLOYERS" ]' in gate["run"] and "exit 1" in gate["run"]
    assert 'grep -qxF "$ACTOR"' in gate["run"]
    assert "actions/workflows/ci.yml/runs?head_sha=$SHA&event=push&branch=main&status=success" \
        in gate["run"]
    assert prod["permissions"]["actions"] == "read"
    assert one(prod, "actions/checkout")["with"]["ref"] == "${{ github.sha }}"


def test_deploy_keeps_each_stack_behind_its_environment() -> None:
    jobs = load("deploy")["jobs"]
    assert jobs["dev"]["environment"] == "dev" and jobs["prod"]["environment"] == "prod"
    for stack in STACKS:
        pulumi = one(jobs[stack], "pulumi/actions")["with"]
        assert pulumi["command"] == "up"
        assert pulumi["stack-name"].endswith(f"'{stack}' }}}}") or stack in pulumi["stack-name"]
        assert one(jobs[stack], "aws-actions/configure-aws-credentials")["with"][
            "role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"  # the environment's own


def test_deploy_ships_a_commit_ci_tested_and_is_never_cancelled() -> None:
    jobs = load("deploy")["jobs"]
    assert one(jobs["dev"], "actions/checkout")["with"]["ref"] == \
        "${{ github.event.workflow_run.head_sha }}"
    for job in jobs.values():
        assert job["concurrency"]["cancel-in-progress"] is False
        assert uses(job, "docker/setup-buildx-action")  # pulumi up builds the ingest image


def test_no_workflow_caches_a_virtualenv() -> None:
    """A venv's bin/python links to the interpreter setup-python installed, which the runner
    image replaces at each patch release (actions/setup-python, docs/advanced-usage.md,
    "Available versions": "expect 3.8.1 to be removed and replaced by 3.8.2"): a venv restored
    after that points at nothing. Only pip's cache is kept, keyed on the locks."""
    for name, _, job in all_jobs():
        assert not uses(job, "actions/cache"), name
        for setup in uses(job, "actions/setup-python"):
            assert setup["with"]["cache"] == "pip"
            assert setup["with"]["cache-dependency-path"].split() == [
                "requirements.txt", "images/ingest/requirements.txt"]


def test_every_preview_and_deploy_runs_the_policy_pack_with_its_stacks_file() -> None:
    """The guardrails run where Pulumi users expect them: `--policy-pack policies` with
    `--policy-pack-config policies/<stack>.json`, in the .venv that `make venv` installs."""
    [preview] = load("preview")["jobs"].values()
    jobs = {"preview": (preview, "${{ matrix.stack }}"),
            **{stack: (load("deploy")["jobs"][stack], stack) for stack in STACKS}}
    for job, stack in jobs.values():
        pulumi = one(job, "pulumi/actions")["with"]
        assert pulumi["policyPacks"] == "policies"
        assert pulumi["policyPackConfigs"] == f"policies/{stack}.json"
        assert "make venv" in runs(job)
    for stack in STACKS:
        assert (WORKFLOWS.parent.parent / "policies" / f"{stack}.json").is_file()


# --- drift ---------------------------------------------------------------------------------------

def test_drift_checks_every_stack_daily_with_a_read_only_role() -> None:
    drift = load("drift")
    assert "schedule" in triggers(drift) and triggers(drift)["schedule"][0]["cron"]
    [job] = drift["jobs"].values()
    assert job["strategy"]["matrix"]["stack"] == STACKS
    pulumi = one(job, "pulumi/actions")["with"]
    assert pulumi["command"] == "preview"
    assert pulumi["refresh"] is True and pulumi["expect-no-changes"] is True
    assert one(job, "aws-actions/configure-aws-credentials")["with"]["role-to-assume"] == \
        "${{ vars.AWS_DRIFT_ROLE_ARN }}"
    assert one(job, "actions/checkout")["with"]["ref"] == "main"


# --- every workflow ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_no_static_aws_keys_and_no_untrusted_checkout_with_credentials(name: str) -> None:
    text = (WORKFLOWS / f"{name}.yml").read_text()
    assert "pull_request_target" not in triggers(load(name))
    assert not re.search(r"aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY|"
                         r"AWS_ACCESS_KEY_ID|secrets\.AWS_", text)


@pytest.mark.parametrize("name", NAMES)
def test_least_permissions_declared_at_the_top(name: str) -> None:
    workflow = load(name)
    assert "permissions" in workflow
    assert "write" not in str(workflow["permissions"])


@pytest.mark.parametrize(("name", "job_name", "job"), all_jobs(),
                         ids=[f"{n}-{j}" for n, j, _ in all_jobs()])
def test_id_token_only_where_aws_is_used_and_only_through_oidc(name, job_name, job) -> None:
    aws = uses(job, "aws-actions/configure-aws-credentials")
    token = job.get("permissions", {}).get("id-token")
    assert (token == "write") == bool(aws)
    for step in aws:
        assert set(step["with"]) >= {"role-to-assume", "aws-region"}
        assert step["with"]["role-to-assume"].startswith("${{ vars.AWS_")
    if aws:  # the AWS session must not be joined by a git token left in .git/config
        assert one(job, "actions/checkout")["with"]["persist-credentials"] is False
        assert job["timeout-minutes"] <= 90


@pytest.mark.parametrize(("name", "job_name", "job"), all_jobs(),
                         ids=[f"{n}-{j}" for n, j, _ in all_jobs()])
def test_actions_are_pinned_to_a_release(name, job_name, job) -> None:
    for step in steps(job):
        if "uses" in step:
            action, _, ref = step["uses"].partition("@")
            assert re.fullmatch(r"v\d+(\.\d+){0,2}|[0-9a-f]{40}", ref), step["uses"]
    majors = {s["uses"] for _, _, j in all_jobs() for s in steps(j)
              if s.get("uses", "").startswith("pulumi/actions@")}
    assert majors == {"pulumi/actions@v7"}
