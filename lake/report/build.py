"""`lake report`: the gold answers, read from this machine's lake or a stack in AWS, written as
one page in Brazilian Portuguese or English. Nothing is written unless every section could be
built."""

from __future__ import annotations

import contextlib
import os
from datetime import datetime, timezone
from pathlib import Path

from jobs.gold.privacy import HEADER_LINE
from lake.report.charts import SCALE_POINTS, styled
from lake.report.numbers import decimals_of, rounded_columns
from lake.report.page import Block, render
from lake.report.sections import Section, sections_for
from lake.report.sources import GoldTable, ReportError, ReportInputs
from lake.report.texts import DEFAULT_LANG, Texts, texts_for


def query_names(queries: Path) -> list[str]:
    names = [path.stem for path in sorted(queries.glob("*.sql"))]
    if not names:
        raise ReportError(f"no queries in {queries} (expected *.sql files)")
    return names


def query_header(sql: str) -> tuple[str, str]:
    """The query's question (its first comment line) and the rest of its header comment, less
    its `-- group size:` line (the section says what was withheld instead)."""
    comments = []
    for line in sql.splitlines():
        if not line.strip().startswith("--"):
            break
        if not HEADER_LINE.match(line.strip()):
            comments.append(line.strip().lstrip("-").strip())
    return (comments[0] if comments else "", " ".join(comments[1:]))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _block(section: Section, table: GoldTable, inputs: ReportInputs, sql: str,
           texts: Texts) -> Block:
    import vl_convert

    missing = [column for column in section.needs if column not in table.columns]
    if missing:
        raise ReportError(
            f"gold_{section.query} has no column {', '.join(missing)} (it has "
            f"{', '.join(table.columns)}): run `lake gold` to rebuild it from "
            f"queries/{section.query}.sql")
    rounded = rounded_columns(sql)
    numeric = [all(_is_number(row[c]) or row[c] is None for row in table.rows)
               for c in table.columns]
    decimals = {c: decimals_of(c, [row[c] for row in table.rows], rounded)
                for c, is_number in zip(table.columns, numeric, strict=True) if is_number}
    cells = [[texts.number(row[c], decimals[c]) if c in decimals else
              ("—" if row[c] is None else str(row[c])) for c in table.columns]
             for row in table.rows]
    charts = section.chart(table, inputs, texts) if section.chart is not None else []
    # Unvalidated here: tests/test_report.py checks every chart against Vega-Lite's schema;
    # validating them again on every page cost about 0.7 s of the command's 3.
    svgs = [vl_convert.vegalite_to_svg(styled(chart).to_dict(validate=False),
                                       format_locale=texts.format_locale) for chart in charts]
    question, population = texts.question(section.query, query_header(sql))
    headers = [texts.column(section.query, column) for column in table.columns]
    note = texts.notes.get(section.query, "").format(limit=SCALE_POINTS)
    return Block(section.query, f"gold_{section.query}", question or section.query,
                 population, svgs, table.columns, headers, cells, numeric, table.withholding,
                 note)


def page(inputs: ReportInputs, queries: Path, generated: datetime | None = None,
         lang: str = DEFAULT_LANG) -> str:
    """The whole page for `inputs`, in `lang`; raises ReportError before anything is
    written."""
    texts = texts_for(lang)
    names = query_names(queries)
    blocks = [_block(section, inputs.tables[section.query], inputs,
                     (queries / f"{section.query}.sql").read_text(encoding="utf-8"), texts)
              for section in sections_for(names)]
    when = (generated or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M")
    origin = texts.glue_origin.format(gold=inputs.origin, database=inputs.database) \
        if inputs.database else inputs.origin
    return render(blocks, inputs.summary, origin, when, texts)


def write(html: str, out: Path) -> Path:
    """Write the page atomically: a reader sees the old page or the new one, never half."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        partial.write_text(html, encoding="utf-8")
        os.replace(partial, out)
    except OSError as error:  # named by the page the user asked for, not the hidden partial
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise OSError(error.errno, error.strerror, str(out)) from None
    return out


def from_lake(catalog: Path, processed: str | None, out: Path, queries: Path,
              lang: str = DEFAULT_LANG) -> Path:
    """The report of this machine's lake, in `lang`, written to `out`."""
    from lake.report.sources import from_local

    texts_for(lang)  # a bad language before anything is read
    inputs = from_local(catalog, processed, query_names(queries))
    return write(page(inputs, queries, lang=lang), out)


def from_stack(gold: str, processed: str, database: str, out: Path, queries: Path,
               lang: str = DEFAULT_LANG) -> Path:
    """The report of a stack in AWS (the `pulumi stack output` names), in `lang`, written to
    `out`."""
    from lake.report.sources import from_aws

    texts_for(lang)
    for option, uri in (("--gold", gold), ("--processed", processed)):
        if not uri.startswith("s3://"):
            raise ReportError(f"{option} {uri}: give the bucket as s3://<bucket>/")
    inputs = from_aws(gold, processed, database, query_names(queries))
    return write(page(inputs, queries, lang=lang), out)
