"""Reading the report page back: its sections, their tables as text, and pt-BR numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

PT_BR_NUMBER = re.compile(r"-?\d{1,3}(?:\.\d{3})*(?:,\d+)?")


def number(text: str) -> float:
    """`1.234,5` -> 1234.5; raises on anything else."""
    if not PT_BR_NUMBER.fullmatch(text):
        raise ValueError(f"not a pt-BR number: {text!r}")
    return float(text.replace(".", "").replace(",", "."))


def decimals(text: str) -> int:
    return len(text.split(",")[1]) if "," in text else 0


@dataclass
class Section:
    id: str
    question: str = ""
    population: str = ""
    withheld: str = ""
    svg: str = ""
    table: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


class ReportParser(HTMLParser):
    """Sections by id, with the text of their heading, population, table cells and SVG."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, Section] = {}
        self.header_text: list[str] = []
        self._section: Section | None = None
        self._in: str | None = None
        self._svg_depth = 0
        self._cell: list[str] | None = None
        self._in_header = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "header":
            self._in_header = True
        if tag == "section":
            self._section = self.sections.setdefault(attributes["id"] or "", Section(
                attributes["id"] or ""))
        elif self._section is None:
            return
        if tag == "svg":
            self._svg_depth += 1
        if self._svg_depth:
            self._section.svg += self.get_starttag_text() or ""
        elif tag == "h2":
            self._in = "question"
        elif tag == "p" and attributes.get("class") in ("population", "withheld"):
            self._in = attributes["class"]
        elif tag == "table":
            self._section.table = attributes.get("data-gold") or ""
        elif tag == "tr":
            self._row: list[str] = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "header":
            self._in_header = False
        if self._section is None:
            return
        if self._svg_depth:
            self._section.svg += f"</{tag}>"
            if tag == "svg":
                self._svg_depth -= 1
            return
        if tag in ("h2", "p"):
            self._in = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr":
            if self._section.columns:
                self._section.rows.append(self._row)
            else:
                self._section.columns = self._row
        elif tag == "section":
            self._section = None

    def handle_data(self, data: str) -> None:
        if self._in_header:
            self.header_text.append(data)
        if self._section is None:
            return
        if self._svg_depth:
            self._section.svg += data
        elif self._cell is not None:
            self._cell.append(data)
        elif self._in == "question":
            self._section.question += data
        elif self._in == "population":
            self._section.population += data
        elif self._in == "withheld":
            self._section.withheld += data


def parse(html: str) -> ReportParser:
    parser = ReportParser()
    parser.feed(html)
    return parser
