"""Reading the report page back: its sections, their tables as text, and its numbers (pt-BR's
`1.234,5` or, on the English page, `1,234.5`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

PT_BR_NUMBER = re.compile(r"-?\d{1,3}(?:\.\d{3})*(?:,\d+)?")
EN_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})*(?:\.\d+)?")


def number(text: str, lang: str = "pt-BR") -> float:
    """`1.234,5` (or in English `1,234.5`) -> 1234.5; raises on anything else."""
    if lang == "en":
        if not EN_NUMBER.fullmatch(text):
            raise ValueError(f"not an English number: {text!r}")
        return float(text.replace(",", ""))
    if not PT_BR_NUMBER.fullmatch(text):
        raise ValueError(f"not a pt-BR number: {text!r}")
    return float(text.replace(".", "").replace(",", "."))


def decimals(text: str, lang: str = "pt-BR") -> int:
    mark = "." if lang == "en" else ","
    return len(text.split(mark)[1]) if mark in text else 0


@dataclass
class Section:
    id: str
    question: str = ""
    population: str = ""
    withheld: str = ""
    note: str = ""
    svg: str = ""
    """Its charts' SVG, one after the other."""
    svgs: list[str] = field(default_factory=list)
    table: str = ""
    columns: list[str] = field(default_factory=list)
    """The gold table's column names (each header's `data-column`)."""
    headers: list[str] = field(default_factory=list)
    """The headers as the page words them."""
    rows: list[list[str]] = field(default_factory=list)


class ReportParser(HTMLParser):
    """Sections by id, with the text of their heading, population, notes, table cells and SVG;
    the page's language and title; the header's text; every text outside the SVGs."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, Section] = {}
        self.header_text: list[str] = []
        self.lang = ""
        self.title = ""
        self.text: list[str] = []
        """The page's own words: every text outside its charts and table cells (the data), less
        the gold column names under the table headers."""
        self._in_title = False
        self._in_style = False
        self._in_code = False
        self._in_td = False
        self._section: Section | None = None
        self._in: str | None = None
        self._svg_depth = 0
        self._cell: list[str] | None = None
        self._in_header = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang") or ""
        if tag == "title":
            self._in_title = True
        if tag == "style":
            self._in_style = True
        if tag == "td":
            self._in_td = True
        if tag == "code":
            self._in_code = True
        if tag == "header":
            self._in_header = True
        if tag == "section":
            self._section = self.sections.setdefault(attributes["id"] or "", Section(
                attributes["id"] or ""))
        elif self._section is None:
            return
        if tag == "svg":
            if not self._svg_depth:
                self._section.svgs.append("")
            self._svg_depth += 1
        if self._svg_depth:
            self._section.svg += self.get_starttag_text() or ""
            self._section.svgs[-1] += self.get_starttag_text() or ""
        elif tag == "h2":
            self._in = "question"
        elif tag == "p" and attributes.get("class") in ("population", "withheld", "note"):
            self._in = attributes["class"]
        elif tag == "table":
            self._section.table = attributes.get("data-gold") or ""
        elif tag == "tr":
            self._row: list[str] = []
        elif tag == "th":
            self._section.columns.append(attributes.get("data-column") or "")
            self._cell = []
        elif tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag == "style":
            self._in_style = False
        if tag == "td":
            self._in_td = False
        if tag == "code":
            self._in_code = False
        if tag == "header":
            self._in_header = False
        if self._section is None:
            return
        if self._svg_depth:
            self._section.svg += f"</{tag}>"
            self._section.svgs[-1] += f"</{tag}>"
            if tag == "svg":
                self._svg_depth -= 1
            return
        if tag in ("h2", "p"):
            self._in = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr":
            if self._section.headers:
                self._section.rows.append(self._row)
            else:
                self._section.headers = self._row
        elif tag == "section":
            self._section = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._in_header:
            self.header_text.append(data)
        if not (self._svg_depth or self._in_code or self._in_style or self._in_td):
            self.text.append(data)
        if self._section is None:
            return
        if self._svg_depth:
            self._section.svg += data
            self._section.svgs[-1] += data
        elif self._in_code:
            return
        elif self._cell is not None:
            self._cell.append(data)
        elif self._in == "question":
            self._section.question += data
        elif self._in == "population":
            self._section.population += data
        elif self._in == "withheld":
            self._section.withheld += data
        elif self._in == "note":
            self._section.note += data


def parse(html: str) -> ReportParser:
    parser = ReportParser()
    parser.feed(html)
    return parser
