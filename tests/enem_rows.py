"""Build ENEM CSV text for tests: valid rows of any layout (the real rows: lake/samples.py)."""

from __future__ import annotations

from jobs.enem.schema import LAYOUTS_BY_NAME, Layout

_PRESENT = {
    "NU_ANO": "2019", "NU_IDADE": "18", "TP_FAIXA_ETARIA": "3", "TP_SEXO": "F",
    "CO_MUNICIPIO_RESIDENCIA": "1506807", "NO_MUNICIPIO_RESIDENCIA": "Santarém",
    "CO_UF_RESIDENCIA": "15", "SG_UF_RESIDENCIA": "PA",
    "CO_MUNICIPIO_NASCIMENTO": "1504059", "NO_MUNICIPIO_NASCIMENTO": "Mãe do Rio",
    "CO_UF_NASCIMENTO": "15", "SG_UF_NASCIMENTO": "PA",
    "CO_MUNICIPIO_PROVA": "1506807", "NO_MUNICIPIO_PROVA": "Santarém", "CO_UF_PROVA": "15",
    "SG_UF_PROVA": "PA", "TP_ST_CONCLUSAO": "2", "TP_ANO_CONCLUIU": "0", "TP_ESCOLA": "2",
    "TP_ENSINO": "1", "IN_TREINEIRO": "0", "TP_STATUS_REDACAO": "1", "TP_LINGUA": "0",
    "NU_NOTA_COMP1": "120", "NU_NOTA_COMP2": "120", "NU_NOTA_COMP3": "100",
    "NU_NOTA_COMP4": "120", "NU_NOTA_COMP5": "100", "NU_NOTA_REDACAO": "560",
    "NU_NOTA_CN": "465.3", "NU_NOTA_CH": "0", "NU_NOTA_LC": "554", "NU_NOTA_MT": "448.3",
    "CO_PROVA_CN": "503", "CO_PROVA_CH": "507", "CO_PROVA_LC": "511", "CO_PROVA_MT": "515",
    "Q005": "4",
}
# School fields are empty for most candidates (no school code declared).
_EMPTY_PREFIXES = ("CO_ESCOLA", "CO_MUNICIPIO_ESC", "NO_MUNICIPIO_ESC", "CO_UF_ESC", "SG_UF_ESC",
                   "TP_DEPENDENCIA_ADM_ESC", "TP_LOCALIZACAO_ESC", "TP_SIT_FUNC_ESC")


def _default(name: str, layout: Layout) -> str:
    column = layout.column(name)
    if name in _PRESENT:
        return _PRESENT[name]
    if name.startswith(_EMPTY_PREFIXES):
        return ""
    if name.startswith("TP_PRESENCA_"):
        return "1"
    if name.startswith("IN_"):
        return "0"
    if name.startswith("TX_RESPOSTAS_"):
        return "99999" + ("ABCDE*." * 7)[:45] if name.endswith("LC") else "ABCDE" * 9
    if name.startswith("TX_GABARITO_"):
        return "ABCDE" * (10 if name.endswith("LC") else 9)
    if column.values is not None:
        return str(column.values[0])
    if column.minimum is not None:
        return str(int(column.minimum))
    return "x"


def microdata_line(layout_name: str = "microdados-original", number: int = 1,
                   **overrides: str) -> str:
    """One valid line of the microdata (overrides by column name, e.g. NU_NOTA_MT="1200")."""
    layout = LAYOUTS_BY_NAME[layout_name]
    values = {name: _default(name, layout) for name in layout.header}
    values["NU_INSCRICAO"] = str(190_000_000_000 + number)
    values.update(overrides)
    return ";".join(values[name] for name in layout.header)


def microdata_csv(lines: list[str], layout_name: str = "microdados-original",
                  newline: str = "\n") -> bytes:
    header = ";".join(LAYOUTS_BY_NAME[layout_name].header)
    return (newline.join([header, *lines]) + newline).encode("iso-8859-1")


def itens_csv(layout_name: str = "itens-original", rows: int = 45) -> bytes:
    layout = LAYOUTS_BY_NAME[layout_name]
    values = {"CO_POSICAO": None, "SG_AREA": "CN", "CO_ITEM": "12345", "TX_GABARITO": "B",
              "CO_HABILIDADE": "7", "TX_COR": "AZUL", "CO_PROVA": "503", "TP_LINGUA": "",
              "IN_ITEM_ADAPTADO": "0", "IN_ITEM_ABAN": "0", "TX_MOTIVO_ABAN": "",
              "NU_PARAM_A": "2.51", "NU_PARAM_B": "1.03", "NU_PARAM_C": "0.17"}
    lines = [";".join(layout.header)]
    for position in range(1, rows + 1):
        values["CO_POSICAO"] = str(position)
        lines.append(";".join(values[name] for name in layout.header))
    return ("\n".join(lines) + "\n").encode("iso-8859-1")
