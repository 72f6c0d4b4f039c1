"""`lake synth`: writes the zip and prints its path; bad arguments and unwritable outputs are one
line each, and a failed write leaves no partial file."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lake.cli import app
from lake.synth import archive as synth


def run(*args: str):
    return CliRunner().invoke(app, ["synth", *args])


def test_cli_writes_the_zip_and_prints_its_path(tmp_path: Path) -> None:
    out = tmp_path / "enem.zip"
    result = run("--rows", "50", "--layout", "lgpd", "--out", str(out), "--seed", "3")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(out)
    assert "rows/s" in result.stderr
    assert out.exists() and [p.name for p in tmp_path.iterdir()] == ["enem.zip"]


@pytest.mark.parametrize("args, message", [
    (["--rows", "10", "--layout", "csv"], "--layout 'csv' is unknown"),
    (["--rows", "0", "--layout", "original"], "--rows 0"),
    (["--rows", "-5", "--layout", "original"], "--rows -5"),
])
def test_cli_rejects_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(*args, "--out", str(tmp_path / "enem.zip"))
    assert result.exit_code != 0
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == "" and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["missing folder", "a file as folder", "a folder as out"])
def test_cli_rejects_unwritable_out(tmp_path: Path, where: str) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder").mkdir()
    out = {"missing folder": tmp_path / "nope" / "enem.zip",
           "a file as folder": tmp_path / "file" / "enem.zip",
           "a folder as out": tmp_path / "folder"}[where]
    result = run("--rows", "10", "--layout", "original", "--out", str(out))
    assert result.exit_code != 0
    assert "--out" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder"]
    assert list((tmp_path / "folder").iterdir()) == []


def test_failed_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    def broken(*args, **kwargs):
        yield b"header\n"
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(synth, "microdata_chunks", broken)
    result = run("--rows", "10", "--layout", "original", "--out", str(tmp_path / "enem.zip"))
    assert result.exit_code == 1
    assert "No space left on device" in result.stderr
    assert list(tmp_path.iterdir()) == []
