"""One chart per business question, declared in Vega-Lite through altair, from the gold rows.
Categories are worded and ordered by INEP's label tables; areas are named as INEP's dictionary
names their tests."""

from __future__ import annotations

from typing import Any

import altair as alt

from jobs.enem.dictionary import DICTIONARY
from lake.report.sources import GoldTable, ReportInputs
from lake.report.tilemap import TILES

MEANS = {"mean_cn": "NU_NOTA_CN", "mean_ch": "NU_NOTA_CH", "mean_lc": "NU_NOTA_LC",
         "mean_mt": "NU_NOTA_MT", "mean_essay": "NU_NOTA_REDACAO"}
HISTOGRAM_AREAS = {"CN": "NU_NOTA_CN", "CH": "NU_NOTA_CH", "LC": "NU_NOTA_LC",
                   "MT": "NU_NOTA_MT", "ESSAY": "NU_NOTA_REDACAO"}  # score_histogram's `area`
WIDTH = 560
TILE = 22
LIGHT, DARK = "#c6d6ea", "#2c5f9e"
NO_VALUE = "#d9d9d9"  # a state with no mean on the map: its row withheld as a small group


def area_name(score_column: str) -> str:
    """`NU_NOTA_CN` -> `Ciências da Natureza`, from INEP's dictionary ("Nota da prova de …")."""
    description = DICTIONARY["MICRODADOS"][score_column]["description"]
    name = description.removeprefix("Nota da prova de ").strip()
    return name[:1].upper() + name[1:]


AREA_ORDER = [area_name(column) for column in MEANS.values()]


def _order(inputs: ReportInputs, label_table: str, labels: list[str]) -> list[str]:
    """`labels` in INEP's order (the label table's ordinal), unknown ones last."""
    known = [row["label"] for row in inputs.labels.get(label_table, [])]
    return [label for label in known if label in labels] + \
        sorted(label for label in labels if label not in known)


def _long_means(table: GoldTable, *keys: str) -> list[dict[str, Any]]:
    """One row per (gold row, area): the keys, the area's name and its mean."""
    return [{**{key: row[key] for key in keys}, "area": area_name(score), "mean": row[column]}
            for row in table.rows for column, score in MEANS.items() if row[column] is not None]


def participants(table: GoldTable, _: ReportInputs) -> alt.TopLevelMixin:
    by_size = [row["state"] for row in sorted(table.rows, key=lambda r: -r["registered"])]
    return alt.Chart(alt.Data(values=table.rows)).transform_fold(
        ["registered", "present_both_days"], as_=["measure", "candidates"],
    ).mark_bar().encode(
        y=alt.Y("state:N", sort=by_size, title=None),
        x=alt.X("candidates:Q", stack=None, title="candidates", axis=alt.Axis(format=",.0f")),
        color=alt.Color("measure:N", title=None, legend=alt.Legend(
                            orient="bottom", labelExpr="replace(datum.label, /_/g, ' ')"),
                        scale=alt.Scale(domain=["registered", "present_both_days"],
                                        range=[LIGHT, DARK])),
    ).properties(width=WIDTH - 60, height=27 * 14)


def state_map(table: GoldTable, _: ReportInputs) -> alt.TopLevelMixin:
    """Every state has its tile in every area; a state whose row gold withheld (too few
    candidates) or that has no mean there stays grey."""
    means = {(row["state"], row["area"]): row["mean"] for row in _long_means(table, "state")}
    rows = [{"state": state, "area": area_name(score), "column": column, "line": line,
             "mean": means.get((state, area_name(score)))}
            for state, (column, line) in TILES.items() for score in MEANS.values()]
    for area in {row["area"] for row in rows}:  # white names on the darker tiles
        known = [row["mean"] for row in rows if row["area"] == area and row["mean"] is not None]
        for row in rows:
            if row["area"] == area:
                row["dark"] = row["mean"] is not None and \
                    row["mean"] > min(known) + 0.6 * (max(known) - min(known))
    base = alt.Chart().encode(x=alt.X("column:O", axis=None), y=alt.Y("line:O", axis=None))
    blank = base.mark_rect(stroke="white", color=NO_VALUE)
    tiles = base.mark_rect(stroke="white").encode(
        color=alt.Color("mean:Q", scale=alt.Scale(scheme="blues", zero=False),
                        legend=alt.Legend(format=",.1f", title=None, orient="bottom")),
    ).transform_filter("isValid(datum.mean)")
    names = base.mark_text(fontSize=8).encode(
        text="state:N", color=alt.condition("datum.dark", alt.value("white"),
                                            alt.value("#102a43")))
    return alt.layer(blank, tiles, names, data=alt.Data(values=rows)).properties(
        width=7 * TILE, height=9 * TILE,
    ).facet(facet=alt.Facet("area:N", sort=AREA_ORDER, title=None), columns=3,
            ).resolve_scale(color="independent")


def _means_dots(table: GoldTable, inputs: ReportInputs, key: str, label_table: str,
                title: str) -> alt.TopLevelMixin:
    rows = _long_means(table, key)
    order = _order(inputs, label_table, sorted({row[key] for row in rows}))
    return alt.Chart(alt.Data(values=rows)).mark_point(filled=True, size=70).encode(
        y=alt.Y("area:N", sort=AREA_ORDER, title=None),
        x=alt.X("mean:Q", scale=alt.Scale(zero=False), title="mean score",
                axis=alt.Axis(format=",.0f")),
        color=alt.Color(f"{key}:N", sort=order, title=title,
                        legend=alt.Legend(orient="bottom", columns=2)),
    ).properties(width=WIDTH - 160, height=170)


def by_income(table: GoldTable, inputs: ReportInputs) -> alt.TopLevelMixin:
    rows = _long_means(table, "income_band", "income_band_label")
    bands = [row["code"] for row in inputs.labels.get("label_q006", [])] or \
        sorted({row["income_band"] for row in rows})
    return alt.Chart(alt.Data(values=rows)).mark_line(point=True).encode(
        x=alt.X("income_band:O", sort=bands, title="monthly family income band (Q006)",
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("mean:Q", scale=alt.Scale(zero=False), title="mean score",
                axis=alt.Axis(format=",.0f")),
        color=alt.Color("area:N", sort=AREA_ORDER, title=None,
                        legend=alt.Legend(orient="bottom", columns=3)),
    ).properties(width=WIDTH - 60, height=260)


def by_school(table: GoldTable, inputs: ReportInputs) -> alt.TopLevelMixin:
    return _means_dots(table, inputs, "school_type_label", "label_tp_escola", "school type")


def by_sex_and_race(table: GoldTable, inputs: ReportInputs) -> alt.TopLevelMixin:
    rows = _long_means(table, "sex_label", "race_label")
    races = _order(inputs, "label_tp_cor_raca", sorted({row["race_label"] for row in rows}))
    sexes = _order(inputs, "label_tp_sexo", sorted({row["sex_label"] for row in rows}))
    return alt.Chart(alt.Data(values=rows)).mark_point(filled=True, size=45).encode(
        y=alt.Y("race_label:N", sort=races, title=None),
        x=alt.X("mean:Q", scale=alt.Scale(zero=False), title=None,
                axis=alt.Axis(format=",.0f", tickCount=4)),
        color=alt.Color("sex_label:N", sort=sexes, title=None,
                        legend=alt.Legend(orient="bottom")),
        shape=alt.Shape("sex_label:N", sort=sexes, legend=None),
    ).properties(width=150, height=130).facet(
        facet=alt.Facet("area:N", sort=AREA_ORDER, title=None), columns=3,
    ).resolve_axis(x="independent")


def essay_status(table: GoldTable, inputs: ReportInputs) -> alt.TopLevelMixin:
    order = _order(inputs, "label_tp_status_redacao",
                   sorted({row["essay_status_label"] for row in table.rows}))
    base = alt.Chart(alt.Data(values=table.rows)).encode(
        y=alt.Y("essay_status_label:N", sort=order, title=None))
    bars = base.mark_bar(color=DARK).encode(
        x=alt.X("essays:Q", title="essays", axis=alt.Axis(format=",.0f")))
    shares = base.mark_text(align="left", dx=4, fontSize=10).encode(
        x="essays:Q", text=alt.Text("share_pct:Q", format=",.2f"))
    return alt.layer(bars, shares).properties(width=WIDTH - 220, height=len(table.rows) * 22)


def histogram(table: GoldTable, _: ReportInputs) -> alt.TopLevelMixin:
    names = {code: area_name(column) for code, column in HISTOGRAM_AREAS.items()}
    rows = [{**row, "area_name": names.get(row["area"], row["area"])} for row in table.rows]
    return alt.Chart(alt.Data(values=rows)).mark_bar(color=DARK).encode(
        x=alt.X("bin_start:Q", bin=alt.Bin(binned=True, step=50), title="score",
                axis=alt.Axis(format=",.0f", tickCount=5)),
        x2="bin_end:Q",
        y=alt.Y("share_pct:Q", title="% of scores", axis=alt.Axis(format=",.0f")),
    ).transform_calculate(bin_end="datum.bin_start + 50").properties(
        width=150, height=110,
    ).facet(facet=alt.Facet("area_name:N", sort=AREA_ORDER, title=None), columns=3,
            ).resolve_axis(x="independent")
