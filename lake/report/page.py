"""The page itself: one HTML file with inline SVG and CSS, no script and no request to anywhere,
so it opens from a file, prints, and travels as an e-mail attachment. Its words are the
`Texts` of its language.

Charts are never scaled down: a chart wider than the screen scrolls sideways inside its figure,
the page itself never does. Small multiples (one chart per area) wrap: side by side on a laptop,
one under the other on a phone."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from jobs.gold.privacy import Withholding
from jobs.process.runs import RunSummary
from lake.report.texts import Texts

STYLE = """
:root { color-scheme: light; --ink: #102a43; --muted: #52606d; --line: #d9e2ec; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #fff; }
main { max-width: 980px; margin: 0 auto; padding: 16px; }
h1, h2, p { overflow-wrap: break-word; }  /* long paths and ids wrap on a phone */
h1 { font-size: 1.6em; margin: 0.2em 0; } h2 { font-size: 1.2em; margin: 1.6em 0 0.2em; }
header p, .population, .withheld, .note { color: var(--muted); margin: 0.3em 0; }
.note { font-size: 0.9em; }
figure { margin: 12px 0; overflow-x: auto; }
figure svg { display: block; flex: none; }
figure.multiples { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.table { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.85em; margin: 8px 0; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: left; }
th { vertical-align: bottom; }
th code { display: block; font: 0.85em ui-monospace, "DejaVu Sans Mono", monospace;
          color: var(--muted); }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
section { border-top: 2px solid var(--line); margin-top: 24px; }
@media print { section { break-inside: avoid; } main { max-width: none; }
               figure { overflow: visible; } }
"""


@dataclass(frozen=True)
class Block:
    """One section as the page shows it."""

    query: str
    table: str
    question: str
    population: str
    svgs: list[str]
    """Its charts: one, or one per area (small multiples); none for a query the page does not
    know."""
    columns: list[str]
    headers: list[str]
    """Each column's header in the page's language (the column's name where it has none)."""
    cells: list[list[str]]
    numeric: list[bool]
    withholding: Withholding | None = None
    note: str = ""
    """How to read the charts, where they need it."""


def _header(column: str, header: str) -> str:
    code = f"<code>{escape(column)}</code>" if header != column else ""
    return f'<th data-column="{escape(column)}">{escape(header)}{code}</th>'


def _table(block: Block) -> str:
    head = "".join(_header(column, header)
                   for column, header in zip(block.columns, block.headers, strict=True))
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{escape(cell)}</td>' if numeric else
                         f"<td>{escape(cell)}</td>"
                         for cell, numeric in zip(row, block.numeric, strict=True)) + "</tr>"
        for row in block.cells)
    return (f'<div class="table"><table data-gold="{escape(block.table)}"><thead><tr>{head}'
            f"</tr></thead><tbody>{body}</tbody></table></div>")


def _listed(items: list[str], joint: str) -> str:
    return ", ".join(items[:-1]) + f" {joint} " + items[-1] if len(items) > 1 else items[0]


def withheld_text(withholding: Withholding | None, texts: Texts, query: str = "") -> str:
    """What the small-group rule withheld from `query`'s table, and why, as one sentence that
    names the group-size columns as the table's headers do."""
    if withholding is None:
        return texts.withheld_no_record
    named = {column: texts.column(query, column) for column in withholding.columns}
    least = texts.number(withholding.min_group_size, 0)
    if not withholding.withheld:
        columns = [named.get(column, column) for column in withholding.columns]
        return texts.withheld_none.format(least=least, columns=_listed(columns, texts.and_word))
    if len(withholding.columns) == 1:
        where = named.get(withholding.columns[0], withholding.columns[0])
    else:
        where = _listed([f"{named.get(column, column)} ({texts.number(below, 0)})"
                         for column, below in withholding.below_by_column().items() if below],
                        texts.or_word)
    if withholding.withheld == 1:
        return texts.withheld_one.format(least=least, where=where)
    return texts.withheld_many.format(count=texts.number(withholding.withheld, 0), least=least,
                                      where=where)


def _section(block: Block, texts: Texts) -> str:
    multiples = ' class="multiples"' if len(block.svgs) > 1 else ""
    label = escape(texts.chart_label, quote=True)
    charts = (f'<figure role="img" aria-label="{label}"{multiples}>{"".join(block.svgs)}'
              "</figure>") if block.svgs else ""
    note = f'<p class="note">{escape(block.note)}</p>' if block.note else ""
    withheld = withheld_text(block.withholding, texts, block.query)
    return (f'<section id="{escape(block.query)}"><h2>{escape(block.question)}</h2>'
            f'<p class="population">{escape(block.population)}</p>'
            f'<p class="withheld">{escape(withheld)}</p>{charts}{note}'
            f"{_table(block)}</section>")


def _provenance(summary: RunSummary | None, origin: str, generated: str, texts: Texts) -> str:
    built = escape(texts.built_from.format(origin=origin, generated=generated))
    if summary is None:
        return f"<p>{built} {escape(texts.no_run)}</p>"
    ingestions = ", ".join(f"{dataset}: {uri}" for dataset, uri in sorted(summary.inputs.items()))
    run = texts.run.format(run_id=summary.run_id, finished=summary.finished_at or "?",
                           ingestions=ingestions)
    rows = []
    for name, report in sorted(summary.tables.items()):
        reasons = "; ".join(f"{reason}: {texts.number(count, 0)}"
                            for reason, count in sorted(report.rejected_by_reason.items()))
        rows.append([name, texts.number(report.rows_read, 0),
                     texts.number(report.rows_written, 0),
                     texts.number(report.rows_rejected, 0), reasons or "—"])
    table = "".join("<tr>" + "".join(f'<td class="n">{escape(cell)}</td>' if 0 < i < 4 else
                                     f"<td>{escape(cell)}</td>" for i, cell in enumerate(row))
                    + "</tr>" for row in rows)
    head = "".join(f"<th>{escape(column)}</th>" for column in texts.run_columns)
    return (f"<p>{built}</p><p>{escape(run)}</p>"
            f'<div class="table"><table data-run="{escape(summary.run_id)}"><thead><tr>{head}'
            f"</tr></thead><tbody>{table}</tbody></table></div>")


def render(blocks: list[Block], summary: RunSummary | None, origin: str, generated: str,
           texts: Texts) -> str:
    sections = "".join(_section(block, texts) for block in blocks)
    return (f'<!doctype html><html lang="{escape(texts.lang)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(texts.title)}</title>"
            f"<style>{STYLE}</style></head><body><main><header>"
            f"<h1>{escape(texts.heading)}</h1>"
            f"{_provenance(summary, origin, generated, texts)}</header>{sections}</main>"
            "</body></html>")
