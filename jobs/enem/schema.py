"""ENEM 2019: both releases of both files, every column's type, value domain and description.

The one place this knowledge lives. Descriptions and categorical values come from INEP's
dictionary (`dictionary.py`, generated); ranges, patterns, cross-field rules and the columns the
dictionary lacks (the 2022 re-release) are written here, each checked against the real rows.
Output column names are the source names in lower case.
"""

from __future__ import annotations

from dataclasses import dataclass

from jobs.enem.dictionary import DICTIONARY

# The 27 federative units, code -> acronym (IBGE).
UF = {11: "RO", 12: "AC", 13: "AM", 14: "RR", 15: "PA", 16: "AP", 17: "TO", 21: "MA", 22: "PI",
      23: "CE", 24: "RN", 25: "PB", 26: "PE", 27: "AL", 28: "SE", 29: "BA", 31: "MG", 32: "ES",
      33: "RJ", 35: "SP", 41: "PR", 42: "SC", 43: "RS", 50: "MS", 51: "MT", 52: "GO", 53: "DF"}
AREAS = ("CN", "CH", "LC", "MT")


@dataclass(frozen=True)
class Column:
    """One column: its Spark/Athena type and what values it may hold (None = no check)."""

    name: str
    type: str  # "bigint" | "int" | "double" | "string"
    description: str
    values: tuple | None = None
    minimum: float | None = None
    maximum: float | None = None
    multiple_of: int | None = None
    pattern: str | None = None  # a full-match regular expression, for strings

    @property
    def output(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Rule:
    """A cross-field rule as a SQL boolean (lower-case columns); a row fails when it is false."""

    name: str
    description: str
    sql: str
    columns: tuple[str, ...]


# --- column definitions ------------------------------------------------------------------------

_DOUBLE = {"NU_NOTA_CN", "NU_NOTA_CH", "NU_NOTA_LC", "NU_NOTA_MT", "NU_PARAM_A", "NU_PARAM_B",
           "NU_PARAM_C"}
_BIGINT = {"NU_INSCRICAO"}
# The dictionary calls these numeric but their codes are letters, or the reverse.
_STRING = {"Q004"}
_INT = {"CO_UF_PROVA"}

_EXTRA_DESCRIPTIONS = {  # columns of the 2022 re-release, absent from the 2019 dictionary
    "TP_FAIXA_ETARIA": "Faixa etária (1: menor de 17 anos; 2 a 10: 17 a 25 anos; 11: 26 a 30; "
                       "depois faixas de 5 anos; 20: maior de 70)",
    "IN_ITEM_ABAN": "Indica se o item foi abandonado",
    "TX_MOTIVO_ABAN": "Motivo do abandono do item",
    "NU_PARAM_A": "Parâmetro de discriminação do item (TRI)",
    "NU_PARAM_B": "Parâmetro de dificuldade do item (TRI)",
    "NU_PARAM_C": "Parâmetro de acerto casual do item (TRI)",
}


def _domain(name: str) -> dict:
    """Ranges and patterns by column family; checked against the real rows (zero rejections)."""
    if name.startswith("SG_UF_"):
        return {"values": tuple(UF.values())}
    if name.startswith("CO_UF_"):
        return {"values": tuple(UF)}
    if name.startswith("CO_MUNICIPIO_"):
        return {"minimum": 1100000, "maximum": 5399999}
    if name.startswith("NU_NOTA_COMP"):
        return {"minimum": 0, "maximum": 200, "multiple_of": 20}
    if name == "NU_NOTA_REDACAO":
        return {"minimum": 0, "maximum": 1000, "multiple_of": 20}
    if name.startswith("NU_NOTA_"):
        return {"minimum": 0, "maximum": 1000}
    if name.startswith("TX_RESPOSTAS_"):
        return {"pattern": r"[A-E*.9]{50}" if name.endswith("LC") else r"[A-E*.]{45}"}
    if name.startswith("TX_GABARITO_"):
        return {"pattern": r"[A-E]{50}" if name.endswith("LC") else r"[A-E]{45}"}
    return {
        "NU_INSCRICAO": {"minimum": 1, "maximum": 999999999999},
        "NU_ANO": {"values": (2019,)},
        "NU_IDADE": {"minimum": 10, "maximum": 100},  # the dictionary: others are left empty
        "CO_ESCOLA": {"minimum": 10000000, "maximum": 99999999},
        "TP_FAIXA_ETARIA": {"minimum": 1, "maximum": 20},
        "IN_ITEM_ABAN": {"values": (0, 1)},
        # Censo Escolar also uses 4 (closed the year before): it occurs in the real rows.
        "TP_SIT_FUNC_ESC": {"values": (1, 2, 3, 4)},
    }.get(name, {})


def _column(file: str, name: str) -> Column:
    entry = DICTIONARY[file].get(name, {})
    kind = entry.get("kind", "")
    if name in _DOUBLE:
        type_ = "double"
    elif name in _BIGINT:
        type_ = "bigint"
    elif name in _STRING:
        type_ = "string"
    elif name in _INT:
        type_ = "int"
    elif kind:
        type_ = "int" if kind == "Numérica" else "string"
    else:  # not in the 2019 dictionary: INEP's prefixes say what it is
        type_ = "int" if name.startswith(("TP_", "IN_", "NU_", "CO_")) else "string"
    categories = entry.get("categories") or {}
    domain = _domain(name)
    if categories and "values" not in domain:
        domain["values"] = tuple(categories)
    description = entry.get("description") or _EXTRA_DESCRIPTIONS.get(name, name)
    return Column(name=name, type=type_, description=description, **domain)


# --- layouts -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Layout:
    """One release of one file: its columns in order, and the rules its rows obey."""

    name: str
    table: str
    columns: tuple[Column, ...]
    rules: tuple[Rule, ...]
    partition_by: tuple[str, ...] = ()
    key: tuple[str, ...] = ()  # columns that identify a row in rejection reports
    sort_by: tuple[str, ...] = ()
    """Order within a partition: similar rows side by side compress better (measured in bench/)."""
    plain: tuple[str, ...] = ()
    """Columns whose values hardly repeat, written without a dictionary: the Parquet writer would
    build one for each file and drop it (measured in bench/)."""
    public_layout: str | None = None
    """The layout analysts get from a file of this one (the 2022 re-release's columns); None when
    every column of this layout is public (see `public_layout` below)."""

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name.upper())


_SPECIAL_NEEDS = (
    "IN_BAIXA_VISAO IN_CEGUEIRA IN_SURDEZ IN_DEFICIENCIA_AUDITIVA IN_SURDO_CEGUEIRA "
    "IN_DEFICIENCIA_FISICA IN_DEFICIENCIA_MENTAL IN_DEFICIT_ATENCAO IN_DISLEXIA IN_DISCALCULIA "
    "IN_AUTISMO IN_VISAO_MONOCULAR IN_OUTRA_DEF IN_GESTANTE IN_LACTANTE IN_IDOSO "
    "IN_ESTUDA_CLASSE_HOSPITALAR IN_SEM_RECURSO IN_BRAILLE IN_AMPLIADA_24 IN_AMPLIADA_18 IN_LEDOR "
    "IN_ACESSO IN_TRANSCRICAO IN_LIBRAS IN_TEMPO_ADICIONAL IN_LEITURA_LABIAL "
    "IN_MESA_CADEIRA_RODAS IN_MESA_CADEIRA_SEPARADA IN_APOIO_PERNA IN_GUIA_INTERPRETE "
    "IN_COMPUTADOR IN_CADEIRA_ESPECIAL IN_CADEIRA_CANHOTO IN_CADEIRA_ACOLCHOADA IN_PROVA_DEITADO "
    "IN_MOBILIARIO_OBESO IN_LAMINA_OVERLAY IN_PROTETOR_AURICULAR IN_MEDIDOR_GLICOSE "
    "IN_MAQUINA_BRAILE IN_SOROBAN IN_MARCA_PASSO IN_SONDA IN_MEDICAMENTOS IN_SALA_INDIVIDUAL "
    "IN_SALA_ESPECIAL IN_SALA_ACOMPANHANTE IN_MOBILIARIO_ESPECIFICO IN_MATERIAL_ESPECIFICO "
    "IN_NOME_SOCIAL").split()
_EXAM = (
    "CO_MUNICIPIO_PROVA NO_MUNICIPIO_PROVA CO_UF_PROVA SG_UF_PROVA "
    "TP_PRESENCA_CN TP_PRESENCA_CH TP_PRESENCA_LC TP_PRESENCA_MT "
    "CO_PROVA_CN CO_PROVA_CH CO_PROVA_LC CO_PROVA_MT NU_NOTA_CN NU_NOTA_CH NU_NOTA_LC NU_NOTA_MT "
    "TX_RESPOSTAS_CN TX_RESPOSTAS_CH TX_RESPOSTAS_LC TX_RESPOSTAS_MT TP_LINGUA "
    "TX_GABARITO_CN TX_GABARITO_CH TX_GABARITO_LC TX_GABARITO_MT TP_STATUS_REDACAO "
    "NU_NOTA_COMP1 NU_NOTA_COMP2 NU_NOTA_COMP3 NU_NOTA_COMP4 NU_NOTA_COMP5 NU_NOTA_REDACAO").split()
_QUESTIONS = [f"Q{n:03d}" for n in range(1, 26)]
_SCHOOL = ("CO_MUNICIPIO_ESC NO_MUNICIPIO_ESC CO_UF_ESC SG_UF_ESC TP_DEPENDENCIA_ADM_ESC "
           "TP_LOCALIZACAO_ESC TP_SIT_FUNC_ESC").split()

MICRODADOS_ORIGINAL_COLUMNS = (
    "NU_INSCRICAO NU_ANO CO_MUNICIPIO_RESIDENCIA NO_MUNICIPIO_RESIDENCIA CO_UF_RESIDENCIA "
    "SG_UF_RESIDENCIA NU_IDADE TP_SEXO TP_ESTADO_CIVIL TP_COR_RACA TP_NACIONALIDADE "
    "CO_MUNICIPIO_NASCIMENTO NO_MUNICIPIO_NASCIMENTO CO_UF_NASCIMENTO SG_UF_NASCIMENTO "
    "TP_ST_CONCLUSAO TP_ANO_CONCLUIU TP_ESCOLA TP_ENSINO IN_TREINEIRO CO_ESCOLA").split() + \
    _SCHOOL + _SPECIAL_NEEDS + _EXAM + _QUESTIONS
MICRODADOS_LGPD_COLUMNS = (
    "NU_INSCRICAO NU_ANO TP_FAIXA_ETARIA TP_SEXO TP_ESTADO_CIVIL TP_COR_RACA TP_NACIONALIDADE "
    "TP_ST_CONCLUSAO TP_ANO_CONCLUIU TP_ESCOLA TP_ENSINO IN_TREINEIRO").split() + \
    _SCHOOL + _EXAM + _QUESTIONS
ITENS_ORIGINAL_COLUMNS = ("CO_POSICAO SG_AREA CO_ITEM TX_GABARITO CO_HABILIDADE TX_COR CO_PROVA "
                          "TP_LINGUA IN_ITEM_ADAPTADO").split()
ITENS_LGPD_COLUMNS = ("CO_POSICAO SG_AREA CO_ITEM TX_GABARITO CO_HABILIDADE IN_ITEM_ABAN "
                      "TX_MOTIVO_ABAN NU_PARAM_A NU_PARAM_B NU_PARAM_C TX_COR CO_PROVA TP_LINGUA "
                      "IN_ITEM_ADAPTADO").split()


def _microdata_rules() -> tuple[Rule, ...]:
    rules = []
    for area in AREAS:
        a = area.lower()
        rules.append(Rule(
            f"presence_{a}", f"{area}: scores, answers and test code exist only if present (1)",
            f"(tp_presenca_{a} = 1) = (nu_nota_{a} IS NOT NULL) AND "
            f"(nu_nota_{a} IS NULL) = (tx_respostas_{a} IS NULL) AND "
            f"(nu_nota_{a} IS NULL) = (co_prova_{a} IS NULL)",
            (f"tp_presenca_{a}", f"nu_nota_{a}", f"tx_respostas_{a}", f"co_prova_{a}")))
    comps = [f"nu_nota_comp{n}" for n in range(1, 6)]
    rules.append(Rule(
        "essay_total", "the essay score is the sum of its five components",
        f"nu_nota_redacao IS NULL OR nu_nota_redacao = {' + '.join(comps)}",
        ("nu_nota_redacao", *comps)))
    rules.append(Rule(
        "essay_status", "an essay whose status is not 1 (valid) scores 0",
        "tp_status_redacao IS NULL OR tp_status_redacao = 1 OR nu_nota_redacao = 0",
        ("tp_status_redacao", "nu_nota_redacao")))
    rules.append(Rule(
        "essay_day1", "the essay is scored exactly when the candidate sat day 1 (LC present)",
        "(tp_presenca_lc = 1) = (tp_status_redacao IS NOT NULL)",
        ("tp_presenca_lc", "tp_status_redacao")))
    rules.append(Rule(
        "exam_state", "the exam state code matches the exam municipality",
        "co_uf_prova = CAST(FLOOR(co_municipio_prova / 100000) AS INT)",
        ("co_uf_prova", "co_municipio_prova")))
    return tuple(rules)


def _layout(name: str, file: str, table: str, names: list[str], plain: tuple[str, ...] = (),
            **kwargs) -> Layout:
    """A layout of these columns; of the `plain` columns, those it has."""
    present = {n.lower() for n in names}
    return Layout(name=name, table=table, columns=tuple(_column(file, n) for n in names),
                  plain=tuple(c for c in plain if c in present), **kwargs)


# --- who may read a column (README: Who sees what) ----------------------------------------------
# Public: exactly the columns of INEP's 2022 re-release of the microdata, whichever release was
# ingested. Restricted: every other column of the original release, the 61 INEP withdrew in May
# 2022 to comply with the LGPD (residence, birth, exact age, school code, disability, pregnancy
# and other special-needs flags). tests/test_schema.py checks both lists against INEP's layout
# files. From the original release, the public table derives what the re-release added:
# TP_FAIXA_ETARIA, INEP's age band of NU_IDADE (`age_band`, `age_band_sql`).
PUBLIC_MICRODATA_COLUMNS = tuple(MICRODADOS_LGPD_COLUMNS)
RESTRICTED_MICRODATA_COLUMNS = tuple(c for c in MICRODADOS_ORIGINAL_COLUMNS
                                     if c not in PUBLIC_MICRODATA_COLUMNS)

MICRODADOS_PARTITIONS = ("nu_ano", "sg_uf_prova")
# Absent candidates first (their exam columns are empty), then by test booklet and town.
MICRODADOS_SORT = ("tp_presenca_cn", "tp_presenca_ch", "co_prova_cn", "co_prova_ch",
                   "co_municipio_prova")
# Nearly one value per row: the registration number, the school, the four answer strings.
MICRODADOS_PLAIN = ("nu_inscricao", "co_escola", "tx_respostas_cn", "tx_respostas_ch",
                    "tx_respostas_lc", "tx_respostas_mt")
LAYOUTS = (
    _layout("microdados-original", "MICRODADOS", "microdados_enem_2019",
            MICRODADOS_ORIGINAL_COLUMNS, rules=_microdata_rules(),
            partition_by=MICRODADOS_PARTITIONS, key=("NU_INSCRICAO",), sort_by=MICRODADOS_SORT,
            plain=MICRODADOS_PLAIN, public_layout="microdados-lgpd"),
    _layout("microdados-lgpd", "MICRODADOS", "microdados_enem_2019", MICRODADOS_LGPD_COLUMNS,
            rules=_microdata_rules(), partition_by=MICRODADOS_PARTITIONS, key=("NU_INSCRICAO",),
            sort_by=MICRODADOS_SORT, plain=MICRODADOS_PLAIN),
    _layout("itens-original", "ITENS_PROVA", "itens_prova_2019", ITENS_ORIGINAL_COLUMNS,
            rules=(), key=("CO_PROVA", "CO_POSICAO")),
    _layout("itens-lgpd", "ITENS_PROVA", "itens_prova_2019", ITENS_LGPD_COLUMNS, rules=(),
            key=("CO_PROVA", "CO_POSICAO")),
)
LAYOUTS_BY_NAME = {layout.name: layout for layout in LAYOUTS}


def age_band(age: int) -> int:
    """TP_FAIXA_ETARIA of the 2022 re-release for an age: 1 under 17, 2..10 for 17..25, 11 for
    26..30, then 5-year bands up to 20 (over 70)."""
    if age < 17:
        return 1
    if age <= 25:
        return age - 15
    if age <= 30:
        return 11
    return min(20, 12 + (age - 31) // 5)


def age_band_sql(age: str) -> str:
    """`age_band` as a SQL expression of the column `age` (NULL stays NULL)."""
    return (f"CAST(CASE WHEN {age} IS NULL THEN NULL WHEN {age} < 17 THEN 1 "
            f"WHEN {age} <= 25 THEN {age} - 15 WHEN {age} <= 30 THEN 11 "
            f"ELSE least(20, 12 + floor(({age} - 31) / 5)) END AS INT)")


# Public columns a release lacks, and how its public table derives them: SQL over its columns.
DERIVED = {"TP_FAIXA_ETARIA": age_band_sql("nu_idade")}


def public_layout(layout: Layout) -> Layout:
    """The layout of the public table made from a file of `layout`."""
    return LAYOUTS_BY_NAME[layout.public_layout] if layout.public_layout else layout


def restricted_columns(layout: Layout) -> tuple[Column, ...]:
    """The columns of `layout` that are not public: none for a public layout."""
    public = set(public_layout(layout).header)
    return tuple(column for column in layout.columns if column.name not in public)


def staged_select(layout: Layout) -> list[str]:
    """SQL select items of the table staged from rows of `layout`: its columns, with the public
    columns it lacks derived (DERIVED) and placed where the public layout has them, after the
    column they follow there. Dropping the restricted columns from it then leaves exactly the
    public layout, in its order (what processing copies to the processed zone)."""
    items = [f"`{column.output}`" for column in layout.columns]
    public = public_layout(layout)
    have = set(layout.header)
    for index, column in enumerate(public.columns):
        if column.name in have:
            continue
        after = public.columns[index - 1].output
        position = next(i for i, item in enumerate(items) if item.endswith(f"`{after}`")) + 1
        items.insert(position, f"{DERIVED[column.name]} AS `{column.output}`")
    return items


def detect_layout(header: list[str] | tuple[str, ...]) -> Layout | None:
    """The layout whose columns are exactly `header` (case and surrounding blanks ignored)."""
    wanted = tuple(field.strip().upper() for field in header)
    return next((layout for layout in LAYOUTS if layout.header == wanted), None)
