"""The options the `lake` commands share (typer annotations), with their defaults."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Annotated, Optional

import typer

from lake.local.output import FORMATS, TABLE_ROWS

DEFAULT_ROOT, DEFAULT_STACK = ".lake", "dev"
# About a minute on the reference machine (2 cores) on its slow days too (bench/README.md).
DEMO_ROWS = 500_000

def checked_by(check: str) -> Callable[[str], object]:
    """A parser that hands the value to `module:function`, which returns it or raises a
    UsageError (one line, not click's). Imported when the option is read, so that `--help`
    loads nothing heavy."""
    module, _, function = check.partition(":")

    def parse(value: str) -> object:
        return getattr(importlib.import_module(module), function)(value)

    return parse


RootOption = Annotated[str, typer.Option(
    "--root", metavar="DIR",
    help="The local lake's folder; a stack's zones are <root>/<stack>/<zone>.")]
StackOption = Annotated[str, typer.Option(
    "--stack", metavar="NAME", help="The stack whose zones to use.")]
TargetOption = Annotated[Optional[str], typer.Option(  # noqa: UP045 - typer reads the annotation
    "--target", metavar="URI",
    help="The raw zone: s3://bucket[/prefix] or a folder. Default: <root>/<stack>/raw.")]
DatasetOption = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--dataset", metavar="NAME",
    help="Dataset name. Default: the lower-case stem of the archive or folder.")]
DocsOption = Annotated[bool, typer.Option(
    "--docs", help="Also keep the documents (dictionary, PDFs) under docs/.")]
ForceOption = Annotated[bool, typer.Option(
    "--force", help="Ingest even if the same source is already ingested.")]
SourceOption = Annotated[str, typer.Option(
    "--source", metavar="URL|ZIP", help="INEP's zip: an http(s) URL or a local path.")]
RunSourceOption = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--source", metavar="URL|ZIP",
    help="INEP's zip to ingest first: an http(s) URL or a local path. Without it, what is "
         "already in the raw zone (lake ingest, lake upload) is processed.")]
def _within(option: str, limit: str) -> Callable[[str], int]:
    """A parser for a whole number in `jobs.contract`'s `limit` (what the stack config is held
    to): a value outside it is a one-line usage error (exit 2) before anything runs."""

    def parse(value: object) -> int:
        from jobs import contract
        from jobs.errors import UsageError

        text = str(value).strip()
        number = int(text) if text.lstrip("-").isdigit() else None
        problem = getattr(contract, limit).problem(number)
        if problem:
            raise UsageError(f"{option} {problem} (got {text})")
        return number

    return parse


PartSizeOption = Annotated[int, typer.Option(
    "--part-size-mb", parser=_within("--part-size-mb", "PART_SIZE_MB"), metavar="MIB",
    help="S3 multipart part size in MiB (5..5120).")]
ConcurrencyOption = Annotated[int, typer.Option(
    "--concurrency", parser=_within("--concurrency", "UPLOAD_CONCURRENCY"), metavar="N",
    help="S3 parts uploaded at once, per file (1..32).")]
CaBundleOption = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--ca-bundle", metavar="PEM",
    help="PEM file of certificate authorities an https source may chain to, added to the "
         "default ones for the download only.")]
ReportOutOption = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--out", metavar="FILE",
    help="Where to write the page. Default: <root>/<stack>/gold/_report/index.html "
         "(required with --gold).")]
GoldUriOption = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--gold", metavar="S3_URI",
    help="A stack in AWS: its gold bucket, s3://<bucket>/ (pulumi stack output).")]
ProcessedUriOption = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--processed", metavar="S3_URI",
    help="With --gold: the stack's processed bucket, s3://<bucket>/.")]
DatabaseOption = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--database", metavar="NAME",
    help="With --gold: the stack's Glue database (pulumi stack output).")]


MinGroupSizeOption = Annotated[int, typer.Option(
    "--min-group-size", parser=checked_by("lake.local.lake:check_min_group_size"), metavar="N",
    help="Withhold every gold row whose group has fewer candidates than this (1..1000, as "
         "the stack's gold.minGroupSize): small groups are never published.")]


RoleOption = Annotated[str, typer.Option(
    "--role", parser=checked_by("lake.local.access:check_role"),
    metavar="business|analyst|researcher",
    help="Whose access to use: business reads the gold tables; analyst (the default) also the "
         "public microdata and the label tables; researcher also the restricted tables.")]


LangOption = Annotated[str, typer.Option(
    "--lang", parser=checked_by("lake.report.texts:check_lang"), metavar="pt-BR|en",
    help="The page's language: pt-BR (Brazilian Portuguese, the default) or en (English).")]


VerboseOption = Annotated[bool, typer.Option(
    "--verbose", help="Show Spark's own warnings, notes and progress bars (by default only its "
                      "errors and the lake's lines).")]


def _share(value: object) -> float:
    from jobs.errors import UsageError  # one line for a bad value, not click's

    text = str(value).strip()
    try:
        share = float(text)
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1:
        raise UsageError(f"--max-rejected-share {text}: give a share between 0 and 1, e.g. "
                         f"0.01 for 1%")
    return share


MaxRejectedShareOption = Annotated[Optional[float], typer.Option(  # noqa: UP045
    "--max-rejected-share", parser=_share, metavar="SHARE",
    help="Fail, publishing nothing, if a table rejects more than this share of its rows "
         "(0..1; default 0.01, the stack's quality.maxRejectedShare).")]


LayoutOption = Annotated[str, typer.Option(
    "--layout", parser=checked_by("lake.synth.archive:check_layout"), metavar="original|lgpd",
    help="original: the 2020 release, 136 columns; lgpd: the 2022 re-release, 76 columns.")]


RowsOption = Annotated[int, typer.Option(
    "--rows", metavar="N", help="How many synthetic candidates (the real file has 5,095,270).")]


def _format(value: str) -> str:
    from jobs.errors import UsageError  # one line for a bad value, not click's

    if value not in FORMATS:
        raise UsageError(f"--format {value!r}: use {', '.join(FORMATS)}")
    return value


FormatOption = Annotated[str, typer.Option(
    "--format", parser=_format, metavar="|".join(FORMATS),
    help="table (aligned text, the first rows), csv or json (every row, written as it comes).")]


def _limit(value: object) -> int:
    from jobs.errors import UsageError  # one line for a bad value, not click's

    text = str(value).strip()
    if not text.isdigit():
        raise UsageError(f"--limit {text}: give a number of rows (0 for all of them)")
    return int(text)


LimitOption = Annotated[Optional[int], typer.Option(  # noqa: UP045
    "--limit", parser=_limit, metavar="N",
    help=f"Print at most N rows (0: all). Default: the table format shows {TABLE_ROWS:,}, "
         "csv and json every row. What is left out is said on stderr.")]
