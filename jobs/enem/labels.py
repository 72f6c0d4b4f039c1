"""Label tables from INEP's dictionary, so queries join a label instead of repeating CASE.

Each table is `label_<column>` with `code` (the column's own type, so the join needs no cast),
`label` (INEP's wording) and `ordinal` (the dictionary's order: income bands A..Q stay in order).
The processing job writes them (one small Parquet file each, pyarrow) beside the data tables
in the processed zone, where the crawler
(or `lake crawl`) catalogs them like any other table: the same in AWS and on one machine.
"""

from __future__ import annotations

from dataclasses import dataclass

from jobs.contract import label_table
from jobs.enem.dictionary import DICTIONARY
from jobs.enem.schema import LAYOUTS_BY_NAME

# Columns worth a label table: the ones analysts group by.
LABELLED = ("TP_SEXO", "TP_ESTADO_CIVIL", "TP_COR_RACA", "TP_NACIONALIDADE", "TP_ST_CONCLUSAO",
            "TP_ESCOLA", "TP_ENSINO", "TP_DEPENDENCIA_ADM_ESC", "TP_LOCALIZACAO_ESC",
            "TP_LINGUA", "TP_STATUS_REDACAO", "Q001", "Q002", "Q006")
# One table serves the four presence columns (TP_PRESENCA_CN/CH/LC/MT share their codes).
PRESENCE = "TP_PRESENCA_CN"


@dataclass(frozen=True)
class LabelTable:
    name: str
    code_type: str
    """"int" or "string": the labelled column's type in the processed tables."""
    rows: tuple[tuple[object, str, int], ...]
    """(code, label, ordinal)."""
    description: str


def _column_type(column: str) -> str:
    for layout in (LAYOUTS_BY_NAME["microdados-original"], LAYOUTS_BY_NAME["microdados-lgpd"]):
        for candidate in layout.columns:
            if candidate.name == column:
                return candidate.type
    raise KeyError(column)


def _from_dictionary(column: str, name: str) -> LabelTable:
    entry = DICTIONARY["MICRODADOS"][column]
    rows = tuple((code, label, ordinal) for ordinal, (code, label) in
                 enumerate(entry["categories"].items(), start=1))
    return LabelTable(name, _column_type(column), rows, entry["description"])


def _age_bands() -> LabelTable:
    """TP_FAIXA_ETARIA (2022 re-release only; not in the 2019 dictionary), from INEP's note."""
    labels = ["Menor de 17 anos", *(f"{age} anos" for age in range(17, 26))]
    labels += [f"Entre {low} e {low + 4} anos" for low in range(26, 70, 5)]
    labels.append("Maior de 70 anos")
    rows = tuple((band, label, band) for band, label in enumerate(labels, start=1))
    return LabelTable(label_table("TP_FAIXA_ETARIA"), "int", rows, "Faixa etária")


def label_parquet(label: LabelTable) -> bytes:
    """The table as one Parquet file (deterministic bytes, so an unchanged table is not
    rewritten)."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    code = pa.int32() if label.code_type == "int" else pa.string()
    schema = pa.schema([pa.field("code", code, nullable=False),
                        pa.field("label", pa.string(), nullable=False),
                        pa.field("ordinal", pa.int32(), nullable=False)])
    table = pa.Table.from_pylist([{"code": c, "label": text, "ordinal": n}
                                  for c, text, n in label.rows], schema=schema)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def label_tables() -> tuple[LabelTable, ...]:
    tables = [_from_dictionary(column, label_table(column)) for column in LABELLED]
    tables.append(_from_dictionary(PRESENCE, label_table("TP_PRESENCA")))
    tables.append(_age_bands())
    return tuple(sorted(tables, key=lambda table: table.name))
