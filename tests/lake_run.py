"""One `lake run` on a small synthetic archive: the local lake that the CLI's and the report's
tests read (the conftest's session fixture `lake_run` makes it once)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from lake.cli import app
from lake.synth import archive as synth

LAKE_RUN_ROWS = 3_000
STACK = "test"


@dataclass(frozen=True)
class LakeRun:
    root: Path
    archive: Path
    result: Result

    @property
    def base(self) -> Path:
        return self.root / STACK


def lake_run(root: Path, archive: Path) -> LakeRun:
    synth.write_zip(archive, LAKE_RUN_ROWS, "lgpd")
    result = CliRunner().invoke(app, ["run", "--source", str(archive), "--root", str(root),
                                      "--stack", STACK])
    assert result.exit_code == 0, result.output
    return LakeRun(root, archive, result)
