"""Which columns are public and which restricted: the schema module's classification, checked
against INEP's two layout files, and the age band the public table derives."""

from __future__ import annotations

import pytest

from jobs.enem.schema import (
    DERIVED,
    LAYOUTS_BY_NAME,
    MICRODADOS_LGPD_COLUMNS,
    MICRODADOS_ORIGINAL_COLUMNS,
    PUBLIC_MICRODATA_COLUMNS,
    RESTRICTED_MICRODATA_COLUMNS,
    age_band,
    public_layout,
    restricted_columns,
    staged_select,
)
from lake.samples import SHARED

ORIGINAL, LGPD = LAYOUTS_BY_NAME["microdados-original"], LAYOUTS_BY_NAME["microdados-lgpd"]


def layout_file(name: str) -> list[str]:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"INEP's layout file {path} is not here (it is not part of the repository)")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def test_the_layouts_are_inep_s_two_releases() -> None:
    assert list(MICRODADOS_ORIGINAL_COLUMNS) == layout_file("layout_original_2020.txt")
    assert list(MICRODADOS_LGPD_COLUMNS) == layout_file("layout_lgpd_2022.txt")


def test_public_columns_are_the_re_release_and_the_rest_is_restricted() -> None:
    lgpd = layout_file("layout_lgpd_2022.txt")
    original = layout_file("layout_original_2020.txt")
    assert list(PUBLIC_MICRODATA_COLUMNS) == lgpd and len(lgpd) == 76
    assert list(RESTRICTED_MICRODATA_COLUMNS) == [c for c in original if c not in lgpd]
    assert len(RESTRICTED_MICRODATA_COLUMNS) == 61
    assert {"NU_IDADE", "CO_MUNICIPIO_RESIDENCIA", "CO_ESCOLA", "IN_GESTANTE",
            "IN_DEFICIENCIA_MENTAL"} <= set(RESTRICTED_MICRODATA_COLUMNS)
    assert "IN_TREINEIRO" in PUBLIC_MICRODATA_COLUMNS  # the one flag INEP kept


def test_each_layout_knows_its_public_and_restricted_columns() -> None:
    assert public_layout(ORIGINAL) is LGPD and public_layout(LGPD) is LGPD
    assert [c.name for c in restricted_columns(ORIGINAL)] == list(RESTRICTED_MICRODATA_COLUMNS)
    assert restricted_columns(LGPD) == ()
    for items in ("itens-original", "itens-lgpd"):  # the items are about tests, not people
        assert restricted_columns(LAYOUTS_BY_NAME[items]) == ()


def test_the_public_table_of_either_release_has_the_re_release_s_columns() -> None:
    """The staged table of a release has its columns and the public ones it lacks, derived, in
    the re-release's places: dropping the restricted columns leaves exactly the public layout,
    in order (processing copies it so)."""
    assert set(LGPD.header) - set(ORIGINAL.header) == set(DERIVED) == {"TP_FAIXA_ETARIA"}
    items = staged_select(ORIGINAL)
    assert len(items) == 137 and items[2].endswith(" AS `tp_faixa_etaria`")
    names = [item.rsplit("`", 2)[1] for item in items]
    restricted = {c.lower() for c in RESTRICTED_MICRODATA_COLUMNS}
    assert [n for n in names if n not in restricted] == [c.output for c in LGPD.columns]
    assert staged_select(LGPD) == [f"`{c.output}`" for c in LGPD.columns]


@pytest.mark.parametrize(("age", "band"), [
    (10, 1), (16, 1), (17, 2), (18, 3), (25, 10), (26, 11), (30, 11), (31, 12), (35, 12),
    (36, 13), (66, 19), (70, 19), (71, 20), (100, 20)])
def test_inep_s_age_bands(age: int, band: int) -> None:
    """TP_FAIXA_ETARIA (../shared/enem2019/README.md): 1 under 17, 2..10 ages 17..25, 11 for
    26-30, then 5-year bands, 20 over 70."""
    assert age_band(age) == band
