"""The options the `lake` commands share (typer annotations), with their defaults."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

DEFAULT_ROOT, DEFAULT_STACK = ".lake", "dev"
# About a minute on the reference machine (2 cores) on its slow days too (bench/README.md).
DEMO_ROWS = 500_000

RootOption = Annotated[str, typer.Option(
    "--root", help="The local lake's folder; a stack's zones are <root>/<stack>/<zone>.")]
StackOption = Annotated[str, typer.Option("--stack", help="The stack whose zones to use.")]
TargetOption = Annotated[Optional[str], typer.Option(  # noqa: UP045 - typer reads the annotation
    "--target", help="The raw zone: s3://bucket[/prefix] or a folder. Default: "
                     "<root>/<stack>/raw.")]
DatasetOption = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--dataset", help="Dataset name. Default: the lower-case stem of the archive or folder.")]
DocsOption = Annotated[bool, typer.Option(
    "--docs", help="Also keep the documents (dictionary, PDFs) under docs/.")]
ForceOption = Annotated[bool, typer.Option(
    "--force", help="Ingest even if the same source is already ingested.")]
SourceOption = Annotated[str, typer.Option(
    "--source", help="INEP's zip: an http(s) URL or a local path.")]
PartSizeOption = Annotated[int, typer.Option(
    "--part-size-mb", help="S3 multipart part size in MiB (5..5120).")]
ConcurrencyOption = Annotated[int, typer.Option(
    "--concurrency", help="S3 parts uploaded at once, per file.")]
CaBundleOption = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--ca-bundle", help="PEM file of certificate authorities an https source may chain to, "
                        "added to the default ones for the download only.")]
ReportOutOption = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--out", help="Where to write the page. Default: <root>/<stack>/gold/_report/index.html "
                  "(required with --gold).")]
GoldUriOption = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--gold", help="A stack in AWS: its gold bucket, s3://<bucket>/ (pulumi stack output).")]
ProcessedUriOption = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--processed", help="With --gold: the stack's processed bucket, s3://<bucket>/.")]
DatabaseOption = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--database", help="With --gold: the stack's Glue database (pulumi stack output).")]


def _min_group_size(value: object) -> int:
    from lake.local.lake import check_min_group_size  # one line for a bad value, not click's

    return check_min_group_size(value)


MinGroupSizeOption = Annotated[int, typer.Option(
    "--min-group-size", parser=_min_group_size, metavar="N",
    help="Withhold every gold row whose group has fewer candidates than this (1..1000, as "
         "the stack's gold.minGroupSize): small groups are never published.")]


def _role(value: str) -> str:
    from lake.local.access import check_role  # one line for a bad value, not click's

    return check_role(value)


RoleOption = Annotated[str, typer.Option(
    "--role", parser=_role, metavar="business|analyst|researcher",
    help="Whose access to use: business reads the gold tables; analyst (the default) also the "
         "public microdata and the label tables; researcher also the restricted tables.")]
