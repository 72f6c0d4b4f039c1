"""The gold job on Glue's Python shell (Python 3.9): every file it runs parses as 3.9 and imports
only what Glue has and its wheel ships; the script runs from its file with only that wheel."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from components.gold import GOLD_DISTRIBUTION
from components.packaging import PROJECT_ROOT, EntryPoint
from jobs.gold import export

EXPORT = Path(export.__file__)

# Glue's Python shell runs the script from its own file, with the wheel installed beside it.
PY39_SMOKE = """
import importlib.util
import sys
from datetime import datetime, timezone
sys.path.insert(0, sys.argv[1])
spec = importlib.util.spec_from_file_location("export", sys.argv[2])
e = sys.modules["export"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(e)
assert callable(e.main)
assert "boto3" not in sys.modules  # imported by main() only
from jobs.gold import names, outcomes, privacy, settings, sql, tables
s = settings.parse_arguments(["--workgroup", "w", "--database", "d", "--gold", "s3://g",
                              "--queries", "s3://a/q/", "--min-group-size", "25"])
run = names.run_id(datetime(2026, 11, 25, 10, 12, 53, tzinfo=timezone.utc))
loc = names.result_location(s.gold, "media", run)
text = "-- q\\nSELECT 1 AS candidates;\\n"
select = sql.select_statement(text, "media")
columns = privacy.group_size_columns(text, "media")
print(sql.ctas(s.database, names.temporary_table_name("media", run), loc,
               privacy.published_select(select, columns, s.min_group_size)))
withheld = privacy.withholding_from_row(["3", "1", "1"], columns, s.min_group_size)
print(privacy.sidecar_text("media", run, 2, withheld) == privacy.sidecar_text(
    "media", run, *privacy.read_sidecar(privacy.sidecar_text("media", run, 2, withheld))))
print(outcomes.withheld_lines([outcomes.Outcome("media", published=True,
                                                withholding=withheld)]))
t = {"Name": "t", "StorageDescriptor": {"Columns": [{"Name": "x", "Type": "int"}],
                                        "Location": loc}}
print(tables.gold_table_input(t, "media", run, loc)["Name"])
print(outcomes.summary_lines([outcomes.Outcome("media", error="FAILED: x")]))
print(sorted(name for name in sys.modules if name.startswith("jobs")))
"""


def python39() -> str | None:
    """A Python 3.9 that runs (a pyenv shim on PATH may not)."""
    candidates = [str(p) for p in sorted(Path.home().glob(".pyenv/versions/3.9*/bin/python3.9"))]
    candidates += [found for found in [shutil.which("python3.9")] if found]
    for candidate in candidates:
        probe = subprocess.run([candidate, "--version"], capture_output=True, text=True,
                               timeout=30, check=False)
        if probe.returncode == 0 and probe.stdout.startswith("Python 3.9"):
            return candidate
    return None


GOLD_WHEEL = {"jobs/__init__.py", "jobs/contract.py", "jobs/errors.py", "jobs/storage.py",
              "jobs/gold/__init__.py", "jobs/gold/export.py", "jobs/gold/exporter.py",
              "jobs/gold/names.py", "jobs/gold/outcomes.py", "jobs/gold/privacy.py",
              "jobs/gold/settings.py", "jobs/gold/sql.py", "jobs/gold/tables.py"}


def test_export_parses_as_python_3_9_and_imports_only_what_glue_has() -> None:
    """Every file the gold job runs parses as Python 3.9 and imports the standard library, what
    Glue's Python shell has (boto3, botocore, awsglue) and its own wheel, nothing else."""
    shipped = {path.relative_to(PROJECT_ROOT).as_posix()
               for path in EntryPoint("jobs.gold.export").files()}
    assert shipped == GOLD_WHEEL
    for name in sorted(shipped):
        tree = ast.parse((PROJECT_ROOT / name).read_text(encoding="utf-8"),
                         feature_version=(3, 9))
        roots = {alias.name.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.Import) for alias in node.names}
        roots |= {node.module.split(".")[0] for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom) and node.module}
        assert roots - set(sys.stdlib_module_names) <= {"boto3", "botocore", "awsglue",
                                                       "jobs"}, name
        if tree.body[1:] and name != "jobs/gold/__init__.py" and name != "jobs/__init__.py":
            assert "__future__" in roots, name  # annotations stay strings on 3.9
    script = ast.parse(EXPORT.read_text(encoding="utf-8"))
    assert any(isinstance(node, ast.If) for node in script.body)  # `if __name__ == "__main__"`


def test_export_runs_on_python_3_9_from_its_script_and_wheel(tmp_path: Path) -> None:
    interpreter = python39()
    if interpreter is None:
        pytest.skip("no python3.9 on PATH or under ~/.pyenv: cannot run the Glue Python shell "
                    "version here")
    gold = EntryPoint("jobs.gold.export")
    wheel = tmp_path / gold.wheel_name(GOLD_DISTRIBUTION)
    wheel.write_bytes(gold.wheel(GOLD_DISTRIBUTION))
    script = tmp_path / "export.py"
    script.write_bytes(gold.script.read_bytes())
    # -I: neither the project, the working folder nor PYTHONPATH is on the path; only the wheel.
    result = subprocess.run([interpreter, "-I", "-c", PY39_SMOKE, str(wheel), str(script)],
                            capture_output=True, text=True, timeout=60, check=False,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        'CREATE TABLE "d"."gold_media__20261125t101253z" WITH (format = \'PARQUET\', '
        "write_compression = 'ZSTD', external_location = 's3://g/media/run=20261125T101253Z/')"
        " AS", "SELECT * FROM (", "-- q", "SELECT 1 AS candidates", ") AS answers",
        'WHERE "candidates" >= 25', "True", "['media: 1 group withheld (candidates < 25)']",
        "gold_media", "['0 of 1 queries published', 'failed: media: FAILED: x']",
        str(sorted(name.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
                   for name in GOLD_WHEEL if name != "jobs/gold/export.py"))]
