"""The page itself: one HTML file with inline SVG and CSS, no script and no request to anywhere,
so it opens from a file, prints, and travels as an e-mail attachment."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from jobs.gold.privacy import Withholding
from jobs.process.runs import RunSummary
from lake.report.numbers import pt_br

STYLE = """
:root { color-scheme: light; --ink: #102a43; --muted: #52606d; --line: #d9e2ec; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #fff; }
main { max-width: 980px; margin: 0 auto; padding: 16px; }
h1, h2, p { overflow-wrap: break-word; }  /* long paths and ids wrap on a phone */
h1 { font-size: 1.6em; margin: 0.2em 0; } h2 { font-size: 1.2em; margin: 1.6em 0 0.2em; }
header p, .population, .withheld { color: var(--muted); margin: 0.3em 0; }
figure { margin: 12px 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
.table { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.85em; margin: 8px 0; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
section { border-top: 2px solid var(--line); margin-top: 24px; }
@media print { section { break-inside: avoid; } main { max-width: none; } }
"""


@dataclass(frozen=True)
class Block:
    """One section as the page shows it."""

    query: str
    table: str
    question: str
    population: str
    svg: str | None
    columns: list[str]
    cells: list[list[str]]
    numeric: list[bool]
    withholding: Withholding | None = None


def _table(block: Block) -> str:
    head = "".join(f"<th>{escape(column)}</th>" for column in block.columns)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{escape(cell)}</td>' if numeric else
                         f"<td>{escape(cell)}</td>"
                         for cell, numeric in zip(row, block.numeric, strict=True)) + "</tr>"
        for row in block.cells)
    return (f'<div class="table"><table data-gold="{escape(block.table)}"><thead><tr>{head}'
            f"</tr></thead><tbody>{body}</tbody></table></div>")


def _columns(columns: tuple[str, ...], joint: str) -> str:
    return ", ".join(columns[:-1]) + f" {joint} " + columns[-1] if len(columns) > 1 \
        else columns[0]


def withheld_text(withholding: Withholding | None) -> str:
    """What the small-group rule withheld from a section's table, and why, as one sentence."""
    if withholding is None:
        return ("Small groups: this table has no record of what was withheld (it was published "
                "before small groups were withheld); run the gold step again.")
    least = pt_br(withholding.min_group_size, 0)
    if not withholding.withheld:
        return (f"Small groups: none withheld; every group has at least {least} in "
                f"{_columns(withholding.columns, 'and')}.")
    count = pt_br(withholding.withheld, 0)
    if len(withholding.columns) == 1:
        where = withholding.columns[0]
    else:
        where = _columns(tuple(f"{column} ({pt_br(below, 0)})" for column, below
                               in withholding.below_by_column().items() if below), "or")
    if withholding.withheld == 1:
        return (f"Small groups: 1 group withheld, with fewer than {least} in {where}; its "
                f"numbers are not published.")
    return (f"Small groups: {count} groups withheld, each with fewer than {least} in {where}; "
            f"their numbers are not published.")


def _section(block: Block) -> str:
    chart = f"<figure>{block.svg}</figure>" if block.svg else ""
    return (f'<section id="{escape(block.query)}"><h2>{escape(block.question)}</h2>'
            f'<p class="population">{escape(block.population)}</p>'
            f'<p class="withheld">{escape(withheld_text(block.withholding))}</p>{chart}'
            f"{_table(block)}</section>")


def _provenance(summary: RunSummary | None, origin: str, generated: str) -> str:
    lines = [f"Built from {escape(origin)} on {escape(generated)} (UTC)."]
    if summary is None:
        return "<p>" + lines[0] + " No processing run summary was found.</p>"
    ingestions = ", ".join(f"{escape(dataset)}: {escape(uri)}"
                           for dataset, uri in sorted(summary.inputs.items()))
    lines.append(f"Processing run {escape(summary.run_id)}, finished "
                 f"{escape(summary.finished_at or '?')}; ingestions {ingestions}.")
    rows = []
    for name, report in sorted(summary.tables.items()):
        reasons = "; ".join(f"{escape(reason)}: {pt_br(count, 0)}"
                            for reason, count in sorted(report.rejected_by_reason.items()))
        rows.append([escape(name), pt_br(report.rows_read, 0), pt_br(report.rows_written, 0),
                     pt_br(report.rows_rejected, 0), reasons or "—"])
    table = "".join("<tr>" + "".join(f'<td class="n">{cell}</td>' if 0 < i < 4 else
                                     f"<td>{cell}</td>" for i, cell in enumerate(row)) + "</tr>"
                    for row in rows)
    return ("".join(f"<p>{line}</p>" for line in lines) +
            '<div class="table"><table data-run="' + escape(summary.run_id) + '"><thead><tr>'
            "<th>table</th><th>rows read</th><th>written</th><th>rejected</th>"
            f"<th>rejected by reason</th></tr></thead><tbody>{table}</tbody></table></div>")


def render(blocks: list[Block], summary: RunSummary | None, origin: str,
           generated: str) -> str:
    sections = "".join(_section(block) for block in blocks)
    return ('<!doctype html><html lang="pt-BR"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>ENEM 2019: the lake's answers</title>"
            f"<style>{STYLE}</style></head><body><main><header>"
            "<h1>ENEM 2019: how the candidates did across Brazil</h1>"
            f"{_provenance(summary, origin, generated)}</header>{sections}</main></body></html>")
