"""The report's sections: one per saved query, in reading order, each naming the gold columns
its charts need. A query the report does not know gets its table alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import altair as alt

from lake.report import charts
from lake.report.sources import GoldTable, ReportInputs
from lake.report.texts import Texts

Chart = Callable[[GoldTable, ReportInputs, Texts], list[alt.TopLevelMixin]]
MEANS = tuple(charts.MEANS)


@dataclass(frozen=True)
class Section:
    query: str
    needs: tuple[str, ...]
    """The gold columns the charts read."""
    chart: Chart | None


SECTIONS = (
    Section("participants_by_state", ("state", "registered", "present_both_days"),
            charts.participants),
    Section("mean_scores_by_state", ("state", "candidates_day2", "candidates_essay", *MEANS),
            charts.state_maps),
    Section("mean_scores_by_income", ("income_band", "income_band_label", *MEANS),
            charts.by_income),
    Section("mean_scores_by_school_type", ("school_type_label", *MEANS), charts.by_school),
    Section("mean_scores_by_sex_and_race", ("sex_label", "race_label", *MEANS),
            charts.by_sex_and_race),
    Section("essay_status", ("essay_status_label", "essays", "share_pct"), charts.essay_status),
    Section("score_histogram", ("area", "bin_start", "share_pct"), charts.histogram),
)


def sections_for(queries: list[str]) -> list[Section]:
    """The known sections whose query exists, then a table-only one per other query."""
    known = [section for section in SECTIONS if section.query in queries]
    names = {section.query for section in SECTIONS}
    return known + [Section(query, (), None) for query in queries if query not in names]
