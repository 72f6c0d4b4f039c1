"""The charts of each business question, declared in Vega-Lite through altair, from the gold
rows. A question's chart is one or more charts: small multiples (one per area) are separate
charts that the page lays side by side, and one under the other on a phone.

Categories are worded and ordered by INEP's label tables; every other word comes from the
page's `Texts`. Each chart is sized to be read unscaled (the page scrolls a chart sideways
rather than shrink it) and writes no text smaller than `FONT` px.
"""

from __future__ import annotations

import json
import math
from typing import Any

import altair as alt

from lake.report.sources import GoldTable, ReportInputs
from lake.report.texts import Texts
from lake.report.tilemap import TILES

MEANS = {"mean_cn": "NU_NOTA_CN", "mean_ch": "NU_NOTA_CH", "mean_lc": "NU_NOTA_LC",
         "mean_mt": "NU_NOTA_MT", "mean_essay": "NU_NOTA_REDACAO"}
WEIGHTS = {"mean_cn": "candidates_day2", "mean_mt": "candidates_day2",
           "mean_ch": "candidates_essay", "mean_lc": "candidates_essay",
           "mean_essay": "candidates_essay"}
"""mean_scores_by_state: the candidates each mean is over (day 2 for CN and MT; day 1, whose
candidates all have an essay score, for CH, LC and the essay)."""
HISTOGRAM_AREAS = {"CN": "NU_NOTA_CN", "CH": "NU_NOTA_CH", "LC": "NU_NOTA_LC",
                   "MT": "NU_NOTA_MT", "ESSAY": "NU_NOTA_REDACAO"}  # score_histogram's `area`
FONT = 11
"""The smallest text a chart draws, in px."""
FONT_FAMILY = "Liberation Sans, Arial, Helvetica, sans-serif"
"""Metric-compatible faces: vl-convert lays the labels out with Liberation Sans (its
sans-serif), and a browser draws them in it or in Arial, which is as wide, so no label
overflows the room it was given."""
INK, MUTED = "#102a43", "#52606d"
LIGHT, DARK = "#c6d6ea", "#2c5f9e"
CATEGORIES = ["#2c5f9e", "#e08214", "#1b9e77", "#7570b3", "#d95f02", "#66a61e"]
SHAPES = ["circle", "square", "triangle-up", "diamond", "cross", "triangle-down"]
AREA_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#2c5f9e", "#e7298a"]
SCALE_POINTS = 50
"""The tile maps' colour scale: from SCALE_POINTS below the area's national mean to as many
above, the same for every area and every page (see `state_maps`)."""
BELOW, MIDDLE, ABOVE = "#b35806", "#f7f7f7", "#2166ac"
NO_VALUE = "#c4c4c4"  # a state with no mean on the map: its row withheld as a small group
TILE = 42  # px: room for a state's code and its number, or "sem dados" on two lines
MIN_SPAN = 40
"""The fewest points a small multiple's mean axis spans, so that noise stays small."""

Charts = list[alt.TopLevelMixin]


def styled(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The page's look, and no text under FONT px. No ARIA descriptions: Vega writes them in
    English from field names; the page labels each figure in its own language, and the table
    beneath a chart holds its numbers."""
    return (chart.configure(font=FONT_FAMILY, aria=False)
            .configure_axis(labelFontSize=FONT, titleFontSize=FONT + 1, titleFontWeight="normal",
                            labelColor=INK, titleColor=MUTED)
            .configure_legend(labelFontSize=FONT, titleFontSize=FONT, titleFontWeight="normal",
                              labelColor=INK, titleColor=MUTED, labelLimit=260)
            .configure_header(labelFontSize=FONT + 1, titleFontSize=FONT + 1)
            .configure_title(fontSize=FONT + 2, subtitleFontSize=FONT, color=INK,
                             subtitleColor=MUTED, anchor="start", aria=False)
            .configure_text(fontSize=FONT))


def _order(inputs: ReportInputs, label_table: str, labels: list[str]) -> list[str]:
    """`labels` in INEP's order (the label table's ordinal), unknown ones last."""
    known = [row["label"] for row in inputs.labels.get(label_table, [])]
    return [label for label in known if label in labels] + \
        sorted(label for label in labels if label not in known)


def _areas(texts: Texts) -> list[str]:
    return [texts.areas[score] for score in MEANS.values()]


def _long_means(table: GoldTable, texts: Texts, *keys: str) -> list[dict[str, Any]]:
    """One row per (gold row, area): the keys, the area's name and its mean."""
    return [{**{key: row[key] for key in keys}, "area": texts.areas[score], "mean": row[column]}
            for row in table.rows for column, score in MEANS.items() if row[column] is not None]


def _colours(domain: list[str], palette: list[str]) -> alt.Scale:
    return alt.Scale(domain=domain, range=palette[:len(domain)])


def _shapes(domain: list[str]) -> alt.Scale:
    """With `_colours` over the same domain, the colour and the shape share one legend."""
    return alt.Scale(domain=domain, range=SHAPES[:len(domain)])


def participants(table: GoldTable, _: ReportInputs, texts: Texts) -> Charts:
    by_size = [row["state"] for row in sorted(table.rows, key=lambda r: -r["registered"])]
    measures = ["registered", "present_both_days"]
    labels = {measure: texts.column(table.name, measure) for measure in measures}
    chart = alt.Chart(alt.Data(values=table.rows)).transform_fold(
        measures, as_=["measure", "candidates"],
    ).transform_calculate(
        label=f"{json.dumps(labels)}[datum.measure]",
    ).mark_bar().encode(
        y=alt.Y("state:N", sort=by_size, title=None),
        x=alt.X("candidates:Q", stack=None, title=texts.candidates_axis,
                axis=alt.Axis(format=",.0f", tickCount=4)),
        color=alt.Color("label:N", title=None, legend=alt.Legend(orient="bottom", columns=1),
                        scale=_colours([labels[m] for m in measures], [LIGHT, DARK])),
    ).properties(width=260, height=len(table.rows) * 16)
    return [chart]


def national_means(table: GoldTable) -> dict[str, float | None]:
    """Each area's mean over the states the table publishes, weighted by the candidates each
    state's mean is over."""
    means: dict[str, float | None] = {}
    for column, weight in WEIGHTS.items():
        pairs = [(row[column], row[weight]) for row in table.rows
                 if row[column] is not None and row[weight]]
        total = sum(count for _, count in pairs)
        means[column] = sum(mean * count for mean, count in pairs) / total if total else None
    return means


def state_maps(table: GoldTable, _: ReportInputs, texts: Texts) -> Charts:
    """One tile map per area, each state a tile in its approximate place, coloured by how many
    points its mean lies above or below the area's national mean.

    One fixed scale for all five maps (and every run): ±SCALE_POINTS, saturating beyond. The
    areas' means differ (CN's is below MT's), so each map measures from its own national mean;
    a point is a point in every area, so the same colour is the same difference everywhere,
    and a spread of a few points, which is noise between states, stays pale instead of filling
    the scale. The number on each tile is the difference itself; a state without a mean is a
    grey tile that says so."""
    by_state = {row["state"]: row for row in table.rows}
    national = national_means(table)
    dark_from = 0.6 * SCALE_POINTS
    charts = []
    for column, score in MEANS.items():
        rows = []
        for state, (x, y) in TILES.items():
            mean = (by_state.get(state) or {}).get(column)
            difference = None if mean is None or national[column] is None \
                else mean - national[column]
            rows.append({"state": state, "x": x, "y": y, "difference": difference,
                         "text": texts.no_data if difference is None
                         else texts.signed(difference, 0),
                         "dark": difference is not None and abs(difference) >= dark_from})
        charts.append(_tile_map(rows, texts, texts.areas[score],
                                texts.national_mean.format(
                                    mean=texts.number(national[column], 1))))
    return charts


def _tile_map(rows: list[dict[str, Any]], texts: Texts, title: str,
              subtitle: str) -> alt.TopLevelMixin:
    columns = max(x for x, _ in TILES.values()) + 1
    lines = max(y for _, y in TILES.values()) + 1
    base = alt.Chart().encode(
        x=alt.X("x:O", axis=None, scale=alt.Scale(domain=list(range(columns)),
                                                  paddingInner=0.06)),
        y=alt.Y("y:O", axis=None, scale=alt.Scale(domain=list(range(lines)),
                                                  paddingInner=0.06)))
    limit = SCALE_POINTS
    middle = json.dumps(texts.map_legend_middle)
    labels = (f"datum.value == 0 ? {middle} : "
              f"(datum.value <= {-limit} ? '≤ ' : datum.value >= {limit} ? '≥ +' : "
              f"datum.value > 0 ? '+' : '') + datum.label")
    tiles = base.mark_rect(cornerRadius=3).encode(
        color=alt.Color("difference:Q", scale=alt.Scale(
            domain=[-limit, 0, limit], range=[BELOW, MIDDLE, ABOVE], clamp=True),
            legend=alt.Legend(
                orient="bottom-left", direction="vertical", title=list(texts.map_legend_title),
                values=[-limit, -limit // 2, 0, limit // 2, limit], labelExpr=labels,
                gradientLength=2 * TILE + 20, gradientThickness=12, titleLimit=3 * TILE,
                offset=2, padding=0)),
    ).transform_filter("isValid(datum.difference)")
    blank = base.mark_rect(cornerRadius=3, color=NO_VALUE).transform_filter(
        "!isValid(datum.difference)")
    colour = alt.condition("datum.dark", alt.value("white"), alt.value(INK))
    names = base.mark_text(fontSize=FONT + 1, fontWeight="bold", dy=-10).encode(
        text="state:N", color=colour)
    values = base.mark_text(fontSize=FONT, dy=9).encode(text="text:N", color=colour) \
        .transform_filter("isValid(datum.difference)")
    missing = base.mark_text(fontSize=FONT, dy=5, lineHeight=FONT, lineBreak=" ",
                             color=INK) \
        .encode(text="text:N").transform_filter("!isValid(datum.difference)")
    return alt.layer(blank, tiles, names, values, missing, data=alt.Data(values=rows)).properties(
        width=columns * TILE, height=lines * TILE, title=alt.Title(title, subtitle=subtitle),
        view=alt.ViewBackground(stroke=None))


def _padded_domain(values: list[float], span: float) -> list[float]:
    middle = (min(values) + max(values)) / 2
    return [middle - span / 2, middle + span / 2]


def _span(groups: list[list[float]]) -> float:
    """One span, in points, that holds every group with room: the widest range, at least
    MIN_SPAN, rounded up to 10."""
    widest = max((max(values) - min(values) for values in groups if values), default=0)
    return max(MIN_SPAN, math.ceil((widest * 1.2 + 4) / 10) * 10)


def _means_dots(table: GoldTable, inputs: ReportInputs, texts: Texts, key: str,
                label_table: str, title: str) -> Charts:
    """A row per area, each category's dot in a lane of its own within it, so that no dot
    hides another however close their means."""
    rows = _long_means(table, texts, key)
    order = _order(inputs, label_table, sorted({row[key] for row in rows}))
    legend = alt.Legend(orient="bottom", columns=2)  # colour and shape: one legend
    chart = alt.Chart(alt.Data(values=rows)).mark_point(filled=True, size=70, opacity=1).encode(
        y=alt.Y("area:N", sort=_areas(texts), title=None, scale=alt.Scale(paddingInner=0.25),
                axis=alt.Axis(labelLimit=150)),
        yOffset=alt.YOffset(f"{key}:N", sort=order),
        x=alt.X("mean:Q", scale=alt.Scale(zero=False, nice=True), title=texts.mean_axis,
                axis=alt.Axis(format=",.0f", tickCount=3)),
        color=alt.Color(f"{key}:N", sort=order, title=title,
                        scale=_colours(order, CATEGORIES), legend=legend),
        shape=alt.Shape(f"{key}:N", sort=order, title=title, legend=legend,
                        scale=_shapes(order)),
    ).properties(width=180, height=len(MEANS) * (len(order) * 9 + 12))
    return [chart]


def by_income(table: GoldTable, inputs: ReportInputs, texts: Texts) -> Charts:
    rows = _long_means(table, texts, "income_band", "income_band_label")
    bands = [row["code"] for row in inputs.labels.get("label_q006", [])] or \
        sorted({row["income_band"] for row in rows})
    areas = _areas(texts)
    chart = alt.Chart(alt.Data(values=rows)).mark_line(point=True).encode(
        x=alt.X("income_band:O", sort=bands, title=texts.income_axis,
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("mean:Q", scale=alt.Scale(zero=False), title=texts.mean_axis,
                axis=alt.Axis(format=",.0f")),
        color=alt.Color("area:N", sort=areas, title=None, scale=_colours(areas, AREA_COLOURS),
                        legend=alt.Legend(orient="bottom", columns=2)),
    ).properties(width=17 * 16, height=240)
    return [chart]


def by_school(table: GoldTable, inputs: ReportInputs, texts: Texts) -> Charts:
    return _means_dots(table, inputs, texts, "school_type_label", "label_tp_escola",
                       texts.school_legend)


def by_sex_and_race(table: GoldTable, inputs: ReportInputs, texts: Texts) -> Charts:
    """One chart per area: a row per colour/race, the sexes' dots side by side in it. Every
    area's axis spans the same number of points."""
    rows = _long_means(table, texts, "sex_label", "race_label")
    races = _order(inputs, "label_tp_cor_raca", sorted({row["race_label"] for row in rows}))
    sexes = _order(inputs, "label_tp_sexo", sorted({row["sex_label"] for row in rows}))
    areas = [area for area in _areas(texts) if any(row["area"] == area for row in rows)]
    span = _span([[row["mean"] for row in rows if row["area"] == area] for area in areas])
    legend = alt.Legend(orient="top", direction="horizontal")  # colour and shape: one legend
    charts = []
    for area in areas:
        values = [row for row in rows if row["area"] == area]
        charts.append(alt.Chart(alt.Data(values=values)).mark_point(
            filled=True, size=60, opacity=1).encode(
            y=alt.Y("race_label:N", sort=races, title=None, scale=alt.Scale(paddingInner=0.2),
                    axis=alt.Axis(labelLimit=150)),
            yOffset=alt.YOffset("sex_label:N", sort=sexes),
            x=alt.X("mean:Q", title=texts.mean_axis,
                    scale=alt.Scale(domain=_padded_domain([v["mean"] for v in values], span),
                                    nice=False),
                    axis=alt.Axis(format=",.0f", tickCount=4)),
            color=alt.Color("sex_label:N", sort=sexes, title=texts.sex_legend,
                            scale=_colours(sexes, CATEGORIES), legend=legend),
            shape=alt.Shape("sex_label:N", sort=sexes, title=texts.sex_legend, legend=legend,
                            scale=_shapes(sexes)),
        ).properties(width=180, height=len(races) * (len(sexes) * 9 + 8), title=area))
    return charts


def essay_status(table: GoldTable, inputs: ReportInputs, texts: Texts) -> Charts:
    """Each status's share of the essays, labelled as a share."""
    order = _order(inputs, "label_tp_status_redacao",
                   sorted({row["essay_status_label"] for row in table.rows}))
    base = alt.Chart(alt.Data(values=table.rows)).transform_calculate(
        share="datum.share_pct / 100").encode(
        y=alt.Y("essay_status_label:N", sort=order, title=None, axis=alt.Axis(labelLimit=200)))
    bars = base.mark_bar(color=DARK).encode(
        x=alt.X("share:Q", title=texts.essay_axis, scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format=".0%", tickCount=4)))
    shares = base.mark_text(align="left", dx=4, color=INK).encode(
        x="share:Q", text=alt.Text("share:Q", format=".2%"))
    return [alt.layer(bars, shares).properties(width=120, height=len(table.rows) * 22)]


def histogram(table: GoldTable, _: ReportInputs, texts: Texts) -> Charts:
    """One chart per area, all on the same axes."""
    names = {code: texts.areas[column] for code, column in HISTOGRAM_AREAS.items()}
    rows = [{**row, "area_name": names.get(row["area"], row["area"]),
             "share": row["share_pct"] / 100} for row in table.rows]
    top = max((row["share"] for row in rows), default=0.1)
    areas = [name for name in names.values() if any(r["area_name"] == name for r in rows)] + \
        sorted({r["area_name"] for r in rows} - set(names.values()))
    return [alt.Chart(alt.Data(values=[row for row in rows if row["area_name"] == area]))
            .mark_bar(color=DARK).encode(
                x=alt.X("bin_start:Q", bin=alt.Bin(binned=True, step=50), title=texts.score_axis,
                        scale=alt.Scale(domain=[0, 1050]),
                        axis=alt.Axis(format=",.0f", values=[0, 250, 500, 750, 1000])),
                x2="bin_end:Q",
                y=alt.Y("share:Q", title=texts.score_share_axis,
                        scale=alt.Scale(domain=[0, math.ceil(top * 20) / 20]),
                        axis=alt.Axis(format=".0%", tickCount=4)),
            ).transform_calculate(bin_end="datum.bin_start + 50")
            .properties(width=220, height=110, title=area)
            for area in areas]
