"""`lake`: the data lake's local command line (results on stdout, progress and errors on stderr).

    lake synth --rows 100000 --layout original --out enem.zip [--seed 7]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="ENEM 2019 data lake on one machine.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class UsageError(Exception):
    """A bad argument: reported as one line on stderr, exit code 2."""


def _fail(command: str, message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"lake {command}: error: {message}", err=True)
    return typer.Exit(code)


def _check_out(out: Path) -> None:
    """The zip can be written: its folder exists and is writable, and it is not a folder."""
    folder = out.parent
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder; give a file name such as {out}/enem.zip")
    if not folder.is_dir():
        raise UsageError(f"--out {out}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: folder {folder} is not writable")


@app.callback()
def _root() -> None:
    """ENEM 2019 data lake on one machine."""


@app.command()
def synth(
    rows: Annotated[int, typer.Option(
        "--rows", help="How many candidate rows (the full file has 5,095,270).")],
    layout: Annotated[str, typer.Option(
        "--layout", help="original: the 2020 release, 136 columns; lgpd: the 2022 "
                         "re-release, 76 columns.")],
    out: Annotated[Path, typer.Option(
        "--out", help="The zip to write (replaced if it exists).")],
    seed: Annotated[int, typer.Option(
        "--seed", help="Same seed and rows, same bytes.")] = 2019,
) -> None:
    """Write realistic synthetic ENEM 2019 microdata as INEP's zip.

    The zip holds DADOS/MICRODADOS_ENEM_2019.csv, DADOS/ITENS_PROVA_2019.csv, a dictionary and a
    read-me, in INEP's format (latin-1, ';', code page 850 member names). Values follow the
    frequencies of the real rows; every row passes the schema's domains and rules. Prints the
    zip's path on stdout.
    """
    from jobs.enem import synth as generator  # pyarrow loads only when this command runs

    try:
        if layout not in generator.LAYOUTS:
            raise UsageError(f"--layout {layout!r} is unknown: use "
                             f"{' or '.join(generator.LAYOUTS)}")
        if rows < 1:
            raise UsageError(f"--rows {rows}: give at least 1 row")
        _check_out(out)
    except UsageError as error:
        raise _fail("synth", str(error)) from None

    reporter = _Progress(rows)
    try:
        result = generator.write_zip(out, rows, layout, seed, progress=reporter)
    except OSError as error:
        raise _fail("synth", f"cannot write {out}: {error.strerror or error}", 1) from None
    typer.echo(f"lake synth: {result.rows:,} rows ({layout}) in {result.seconds:.1f} s, "
               f"{result.rows_per_second:,.0f} rows/s; CSV {result.csv_bytes / 1e6:,.1f} MB, "
               f"zip {result.zip_bytes / 1e6:,.1f} MB", err=True)
    typer.echo(str(result.path))


class _Progress:
    """Reports rows done on stderr at most every few seconds."""

    def __init__(self, total: int, every: float = 5.0) -> None:
        self.total = total
        self.every = every
        self.started = time.perf_counter()
        self.last = self.started

    def __call__(self, done: int) -> None:
        now = time.perf_counter()
        if now - self.last < self.every or done >= self.total:
            return
        self.last = now
        rate = done / (now - self.started)
        print(f"lake synth: {done:,}/{self.total:,} rows, {rate:,.0f} rows/s", file=sys.stderr,
              flush=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
