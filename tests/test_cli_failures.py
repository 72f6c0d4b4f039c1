"""What a careless user can do to the `lake` command, and what they get: one line on stderr
naming what to fix, a non-zero exit status (130 for Ctrl-C), no traceback, and nothing left
half-written. Each case here was a traceback or a misleading success before (issue 28)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from jobs.enem.schema import MICRODADOS_LGPD_COLUMNS
from lake.cli import app
from lake.synth import archive as synth
from tests.lake_run import STACK, LakeRun

NO_AWS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
          "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
          "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"}


def lake(*args: str):
    return CliRunner().invoke(app, list(args))


def one_line(result, code: int = 1) -> str:
    """The error line of a failed command: the last on stderr, with no traceback before it
    (only the lake's own progress lines, if any)."""
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith("lake") for line in lines), result.stderr
    return lines[-1]


@pytest.fixture
def no_aws(monkeypatch, tmp_path: Path) -> None:
    """A machine where nobody has signed in to AWS: no region, no keys, no profile files, and
    no instance metadata to fall back on."""
    for name in NO_AWS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # no credentials cached by other tests


def aws_report(out: Path):
    return lake("report", "--gold", "s3://datalake-gold/", "--processed",
                "s3://datalake-processed/", "--database", "datalake_dev", "--out", str(out))


# --- AWS sign-in ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("region", "message"), [
    (None, "no AWS region: set AWS_DEFAULT_REGION"),
    ("sa-east-1", "no AWS credentials: sign in (`aws sso login"),
])
def test_a_report_from_aws_without_sign_in_says_what_to_set(no_aws, monkeypatch, tmp_path: Path,
                                                            region: str | None,
                                                            message: str) -> None:
    if region:
        monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    line = one_line(aws_report(tmp_path / "page.html"))
    assert line.startswith(f"lake report: error: {message}")
    assert not (tmp_path / "page.html").exists()


def test_an_upload_to_s3_without_credentials_says_to_sign_in(no_aws, monkeypatch,
                                                             tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "sa-east-1")
    folder = tmp_path / "csvs"
    folder.mkdir()
    (folder / "microdados.csv").write_text(";".join(MICRODADOS_LGPD_COLUMNS) + "\n")
    line = one_line(lake("upload", str(folder), "--target", "s3://datalake-raw/"))
    assert line.startswith("lake upload: error: no AWS credentials")


# --- places that cannot be written --------------------------------------------------------------

def test_a_report_into_a_file_path_that_cannot_exist_is_one_line(lake_run: LakeRun) -> None:
    line = one_line(lake("report", "--root", str(lake_run.root), "--stack", STACK,
                         "--out", "/dev/null/page.html"))
    assert line == "lake report: error: cannot use /dev/null: it exists and is not a folder"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_report_where_no_file_can_be_made_names_the_page_not_a_temporary_file(
        lake_run: LakeRun) -> None:
    line = one_line(lake("report", "--root", str(lake_run.root), "--stack", STACK,
                         "--out", "/proc/page.html"))
    assert line == "lake report: error: cannot use /proc/page.html: no such file or folder"


def test_a_demo_under_a_file_is_one_line_and_makes_nothing() -> None:
    line = one_line(lake("demo", "--root", "/dev/null/lake"))
    assert line == ("lake demo: error: cannot use /dev/null/lake/_synth/500000-rows: /dev/null is "
                    "a file, not a folder")


def ingested(root: Path, stack: str, archive: Path) -> Path:
    """A stack whose raw zone holds one ingestion of `archive` (nothing processed yet)."""
    result = lake("ingest", "--source", str(archive), "--root", str(root), "--stack", stack)
    assert result.exit_code == 0, result.output
    return root / stack


@pytest.fixture(scope="module")
def original_archive(tmp_path_factory) -> Path:
    """INEP's first release (restricted columns included), so Spark writes the restricted zone."""
    archive = tmp_path_factory.mktemp("original") / "microdados_enem_2019.zip"
    synth.write_zip(archive, 500, "original")
    return archive


@pytest.mark.parametrize("zone", ["processed", "restricted"])
def test_processing_into_a_file_is_one_line_and_leaves_nothing(zone: str, original_archive: Path,
                                                               tmp_path: Path) -> None:
    """The processed zone is first met by Python, the restricted one by Spark's JVM."""
    base = ingested(tmp_path, "s", original_archive)
    (base / zone).write_text("not a folder")
    line = one_line(lake("process", "--root", str(tmp_path), "--stack", "s"))
    assert line.startswith("lake process: error: ")
    assert line.endswith(f"{base / zone} is a file, not a folder"), line
    assert not any(base.rglob("*.parquet"))


# --- honest outcomes ----------------------------------------------------------------------------

def test_processing_a_stack_with_nothing_ingested_fails_and_writes_nothing(tmp_path: Path) -> None:
    line = one_line(lake("process", "--root", str(tmp_path), "--stack", "tpyo"))
    assert line == (f"lake process: error: nothing is ingested in {tmp_path / 'tpyo' / 'raw'}: "
                    "run `lake ingest --source URL|ZIP` or `lake upload DIR` first "
                    "(or `lake run --source …`)")
    assert list(tmp_path.iterdir()) == []


def test_gold_without_processed_data_says_which_step_to_run(tmp_path: Path) -> None:
    line = one_line(lake("gold", "--root", str(tmp_path), "--stack", "s"))
    assert line == (f"lake gold: error: {tmp_path / 's' / 'processed'} holds no data table yet: "
                    "run `lake process` and `lake crawl` first (or `lake run`)")
    assert list(tmp_path.iterdir()) == []


def test_gold_before_the_crawl_says_to_crawl(lake_run: LakeRun, tmp_path: Path) -> None:
    shutil.copytree(lake_run.base / "processed", tmp_path / "s" / "processed")
    line = one_line(lake("gold", "--root", str(tmp_path), "--stack", "s"))
    assert line == f"lake gold: error: no catalog at {tmp_path / 's' / 'catalog.duckdb'}; run " \
                   "`lake crawl` first"
    assert not (tmp_path / "s" / "gold").exists()


def test_crawl_of_an_empty_stack_is_one_line_and_makes_no_catalog(tmp_path: Path) -> None:
    line = one_line(lake("crawl", "--root", str(tmp_path), "--stack", "tpyo"))
    assert line == (f"lake crawl: error: {tmp_path / 'tpyo' / 'processed'} holds no table yet; "
                    "run `lake process` first")
    assert list(tmp_path.iterdir()) == []


def test_run_without_a_source_processes_what_the_raw_zone_holds(lake_run: LakeRun,
                                                                tmp_path: Path) -> None:
    base = ingested(tmp_path, "s", lake_run.archive)
    result = lake("run", "--root", str(tmp_path), "--stack", "s")
    assert result.exit_code == 0, result.output
    assert f"no --source: processing what {base / 'raw'} holds" in result.stderr
    assert "\n  ingest " not in result.stdout
    assert (base / "gold" / "essay_status").is_dir()


def test_run_without_a_source_on_an_empty_stack_is_one_line(tmp_path: Path) -> None:
    line = one_line(lake("run", "--root", str(tmp_path), "--stack", "s"))
    assert line.startswith("lake run: error: nothing is ingested in ")


# --- Ctrl-C during Spark ------------------------------------------------------------------------

def test_ctrl_c_during_processing_is_one_quiet_line_exit_130_and_nothing_staged(
        lake_run: LakeRun, tmp_path: Path) -> None:
    """Spark's start (its warnings, log-level notes, progress bars) prints nothing without
    --verbose, and Ctrl-C in the middle of a write ends with one line and status 130, with the
    run's staging deleted and nothing published."""
    base = ingested(tmp_path, "s", lake_run.archive)
    command = [sys.executable, "-m", "lake.cli", "process", "--root", str(tmp_path),
               "--stack", "s"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"}) as running:
        deadline = time.monotonic() + 120
        while not any((base / "processed" / "_staging").rglob("*")):
            assert running.poll() is None, running.communicate()
            assert time.monotonic() < deadline, "Spark never started writing"
            time.sleep(0.05)
        running.send_signal(signal.SIGINT)
        stdout, stderr = running.communicate(timeout=120)
    assert running.returncode == 130, stderr
    assert stdout == ""
    lines = stderr.strip().splitlines()
    assert lines[-1] == "lake process: interrupted; what it had half-written is gone"
    assert all(line.startswith("lake process: ") for line in lines), stderr
    for zone in ("processed", "restricted", "rejected"):
        assert not any((base / zone).rglob("*.parquet")), f"{zone} kept files"


def test_a_demo_archive_cut_short_leaves_no_folder(tmp_path: Path) -> None:
    from lake.local import lake as local

    def ctrl_c(_rows: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        local.demo_archive(tmp_path / "lake", 50_000, ctrl_c)
    assert list(tmp_path.iterdir()) == []


# --- the command line itself --------------------------------------------------------------------

def test_version_prints_the_installed_version() -> None:
    result = lake("--version")
    assert result.exit_code == 0 and result.stdout == f"lake {version('enem-datalake')}\n"


@pytest.mark.parametrize(("command", "choices"), [("synth", "original|lgpd"),
                                                   ("report", "pt-BR|en"),
                                                   ("query", "table|csv|json")])
def test_help_shows_the_choices(command: str, choices: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert choices in result.stdout


@pytest.mark.parametrize("share", ["5", "-1", "lots"])
def test_a_rejected_share_outside_0_to_1_is_refused(share: str, tmp_path: Path) -> None:
    line = one_line(lake("process", "--root", str(tmp_path), "--max-rejected-share", share), 2)
    assert line == (f"lake process: error: --max-rejected-share {share}: give a share between "
                    "0 and 1, e.g. 0.01 for 1%")
    assert list(tmp_path.iterdir()) == []



@pytest.mark.parametrize(("args", "expected"), [
    (["demo", "--rows", "many"], "lake demo: error: Invalid value for '--rows': 'many' is not a "
                                 "valid int (see lake demo --help)"),
    (["process", "--format", "csv"], "lake process: error: No such option: --format "
                                     "(see lake process --help)"),
    (["proces"], "lake: error: No such command 'proces'. Did you mean 'process'? "
                  "(see lake --help)"),
    (["--bogus"], "lake: error: No such option: --bogus (see lake --help)"),
])
def test_a_mistyped_command_line_is_one_line_not_the_usage_block(args: list[str],
                                                                 expected: str) -> None:
    result = lake(*args)
    assert result.exit_code == 2
    assert result.stderr.strip() == expected


def test_plain_lake_still_shows_its_help() -> None:
    result = lake()
    assert "Commands:" in result.output and "error" not in result.output


@pytest.mark.parametrize(("command", "option", "value", "problem"), [
    ("ingest", "--part-size-mb", "1", "between 5 and 5120"),
    ("upload", "--part-size-mb", "99999", "between 5 and 5120"),
    ("ingest", "--concurrency", "0", "between 1 and 32"),
    ("upload", "--concurrency", "four", "between 1 and 32"),
])
def test_upload_settings_out_of_range_are_usage_errors(command: str, option: str, value: str,
                                                       problem: str, tmp_path: Path) -> None:
    where = ["--source", str(tmp_path / "x.zip")] if command == "ingest" else [str(tmp_path)]
    line = one_line(lake(command, *where, "--root", str(tmp_path / "lake"), option, value), 2)
    assert line == (f"lake {command}: error: {option} must be a whole number {problem} "
                    f"(got {value})")
    assert not (tmp_path / "lake").exists()
