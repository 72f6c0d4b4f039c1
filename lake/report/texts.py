"""Every word the analysts' page says, in Brazilian Portuguese (the default) and in English: one
`Texts` per language, and no word of the page anywhere else in `lake/report/` (its errors on the
command line stay in English, as every `lake` command's do).

What the page shows from the data keeps the data's words: INEP's labels (`Pública`, `Sem
problemas`, the income bands), the gold tables' column names (under each table header), run
ids, paths and rejection reasons. The areas are named in Portuguese as INEP's dictionary names
them. Each known query's question and population are written here in Portuguese; in English,
and for a query this table does not know, they are the query's header comment
(`queries/<name>.sql`), which stays the one English source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jobs.enem.dictionary import DICTIONARY
from jobs.errors import UsageError
from lake.report import DEFAULT_LANG, LANGS, Lang
from lake.report.numbers import formatted

__all__ = ["DEFAULT_LANG", "EN", "LANGS", "PT_BR", "TEXTS", "Lang", "Texts", "check_lang",
           "texts_for"]

SCORE_COLUMNS = ("NU_NOTA_CN", "NU_NOTA_CH", "NU_NOTA_LC", "NU_NOTA_MT", "NU_NOTA_REDACAO")


def inep_area(score_column: str) -> str:
    """`NU_NOTA_CN` -> `Ciências da Natureza`, from INEP's dictionary ("Nota da prova de …")."""
    description = DICTIONARY["MICRODADOS"][score_column]["description"]
    name = description.removeprefix("Nota da prova de ").strip()
    return name[:1].upper() + name[1:]


@dataclass(frozen=True)
class Texts:
    """The page's words in one language. Templates take `str.format` fields."""

    lang: Lang
    format_locale: str
    """vl-convert's number format for the charts (d3-format's locale)."""
    decimal_mark: str
    thousands_mark: str

    # the page
    title: str
    heading: str
    built_from: str  # {origin} {generated}
    glue_origin: str  # {gold} {database}: the origin of a stack's page
    no_run: str
    run: str  # {run_id} {finished} {ingestions}
    run_columns: tuple[str, str, str, str, str]

    # what the small-group rule withheld ({least}, {count}, {columns}, {where})
    withheld_no_record: str
    withheld_none: str
    withheld_one: str
    withheld_many: str
    and_word: str
    or_word: str

    # the charts
    areas: dict[str, str]
    """Score column (`NU_NOTA_CN`) -> the area's name."""
    candidates_axis: str
    mean_axis: str
    income_axis: str
    school_legend: str
    sex_legend: str
    essay_axis: str
    score_axis: str
    score_share_axis: str
    national_mean: str  # {mean}
    map_legend_title: tuple[str, ...]
    """The tile maps' colour legend, one line per item."""
    map_legend_middle: str
    """The legend's 0: the national mean."""
    no_data: str
    """A state's tile with no mean: its row withheld, or no candidates there."""
    chart_label: str
    """What a screen reader says of a section's charts (their numbers are in its table)."""
    notes: dict[str, str] = field(default_factory=dict)
    """Query -> a sentence under its chart saying how to read it ({limit}: the maps' scale)."""

    # the tables and the questions
    columns: dict[str, str] = field(default_factory=dict)
    """Gold column -> its header; a column not here is shown by its name."""
    query_columns: dict[tuple[str, str], str] = field(default_factory=dict)
    """(query, column) -> its header where one query means something else by the column."""
    queries: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Query -> (question, population); a query not here says its header comment."""

    def number(self, value: float | int | None, decimals: int) -> str:
        return formatted(value, decimals, self.decimal_mark, self.thousands_mark)

    def signed(self, value: float, decimals: int) -> str:
        """`+12`, `−3` (a minus sign, as the charts' legends print it), `0`."""
        text = self.number(abs(value), decimals)
        if text.strip("0,.") == "":
            return text
        return ("+" if value > 0 else "\u2212") + text

    def column(self, query: str, column: str) -> str:
        return self.query_columns.get((query, column)) or self.columns.get(column, column)

    def question(self, query: str, header: tuple[str, str]) -> tuple[str, str]:
        """The section's question and population: this table's, else the query's header."""
        return self.queries.get(query, header)


PT_BR = Texts(
    lang="pt-BR",
    format_locale="pt-BR",
    decimal_mark=",",
    thousands_mark=".",
    title="ENEM 2019: as respostas do lago de dados",
    heading="ENEM 2019: o desempenho dos participantes no Brasil",
    built_from="Gerado a partir de {origin} em {generated} (UTC).",
    glue_origin="{gold} (banco de dados do Glue {database})",
    no_run="Nenhum resumo de execução do processamento foi encontrado.",
    run="Execução do processamento {run_id}, concluída em {finished}; ingestões: {ingestions}.",
    run_columns=("tabela", "linhas lidas", "gravadas", "rejeitadas", "rejeitadas por motivo"),
    withheld_no_record=("Grupos pequenos: esta tabela não tem registro do que foi omitido (foi "
                        "publicada antes de os grupos pequenos serem omitidos); execute de novo "
                        "a etapa gold."),
    withheld_none="Grupos pequenos: nenhum omitido; todo grupo tem ao menos {least} {columns}.",
    withheld_one=("Grupos pequenos: 1 grupo omitido, com menos de {least} {where}; seus números "
                  "não são publicados."),
    withheld_many=("Grupos pequenos: {count} grupos omitidos, cada um com menos de {least} "
                   "{where}; seus números não são publicados."),
    and_word="e",
    or_word="ou",
    areas={column: inep_area(column) for column in SCORE_COLUMNS},
    candidates_axis="participantes",
    mean_axis="nota média",
    income_axis="faixa de renda familiar mensal (Q006)",
    school_legend="tipo de escola",
    sex_legend="sexo",
    essay_axis="% das redações",
    score_axis="nota",
    score_share_axis="% das notas da área",
    national_mean="média nacional: {mean}",
    map_legend_title=("pontos acima (+) ou", "abaixo (−) da média", "nacional da área"),
    map_legend_middle="média nacional",
    no_data="sem dados",
    chart_label="Gráfico da pergunta acima; os números estão na tabela abaixo.",
    notes={
        "mean_scores_by_state": (
            "Cada quadrado é uma UF, no seu lugar aproximado no mapa. A cor e o número dão a "
            "diferença, em pontos, entre a média da UF e a média nacional da área (a média das "
            "UFs ponderada pelo número de participantes com nota na área). As cinco áreas usam "
            "a mesma escala, fixa, de −{limit} a +{limit} pontos: a mesma cor é a mesma "
            "diferença em todos os mapas, e uma diferença de poucos pontos fica quase branca. "
            "Uma diferença maior que {limit} pontos tem a cor do extremo da escala. Em cinza, "
            "“sem dados”: a UF não tem média publicada (grupo pequeno omitido ou sem "
            "participantes)."),
        "mean_scores_by_sex_and_race": (
            "Um gráfico por área; os eixos têm a mesma amplitude em pontos, para que a mesma "
            "distância seja a mesma diferença em todas as áreas."),
        "score_histogram": (
            "Um gráfico por área, todos com os mesmos eixos: faixas de 50 pontos e o "
            "percentual das notas da área em cada faixa."),
    },
    columns={
        "state": "UF",
        "registered": "inscritos",
        "practice_takers": "treineiros",
        "present_day1": "presentes no 1º dia",
        "present_day2": "presentes no 2º dia",
        "present_both_days": "presentes nos dois dias",
        "attendance_pct": "% presentes nos dois dias",
        "candidates_day2": "participantes no 2º dia",
        "candidates_essay": "redações corrigidas",
        "candidates": "participantes",
        "mean_cn": "média CN",
        "mean_ch": "média CH",
        "mean_lc": "média LC",
        "mean_mt": "média MT",
        "mean_essay": "média Redação",
        "income_band": "Q006",
        "income_band_label": "renda familiar mensal",
        "school_type": "TP_ESCOLA",
        "school_type_label": "tipo de escola",
        "sex": "TP_SEXO",
        "sex_label": "sexo",
        "race": "TP_COR_RACA",
        "race_label": "cor/raça",
        "essay_status": "TP_STATUS_REDACAO",
        "essay_status_label": "situação da redação",
        "essays": "redações",
        "share_pct": "% das redações",
        "area": "área",
        "bin_start": "início da faixa",
    },
    query_columns={
        ("score_histogram", "share_pct"): "% das notas da área",
        ("score_histogram", "candidates"): "notas",
    },
    queries={
        "participants_by_state": (
            "Quantos se inscreveram no ENEM 2019 em cada UF, e quantos de fato fizeram as "
            "provas?",
            "UF: SG_UF_PROVA (onde as provas foram aplicadas). População: todas as inscrições; "
            "os treineiros (IN_TREINEIRO = 1) estão incluídos e também contados à parte. "
            "Presente no 1º dia = fez a prova de LC (Linguagens e Códigos, com CH e a "
            "redação); no 2º dia = fez a de MT (com CN); nos dois dias = presente nas quatro "
            "provas. Participantes eliminados (TP_PRESENCA = 2) contam como ausentes."),
        "mean_scores_by_state": (
            "Qual é a nota média por área (CN, CH, LC, MT e redação) em cada UF?",
            "UF: SG_UF_PROVA. População: participantes que não são treineiros "
            "(IN_TREINEIRO = 0); a média de cada área é sobre quem tem nota nela (presente "
            "naquela prova); a média da redação é sobre quem teve a redação corrigida "
            "(presente no 1º dia), com as redações anuladas valendo 0."),
        "mean_scores_by_income": (
            "Como a nota média por área varia com a renda familiar mensal (Q006)?",
            "População: participantes que não são treineiros (IN_TREINEIRO = 0) e responderam "
            "à Q006, de todas as UFs; a média de cada área é sobre quem tem nota nela; a média "
            "da redação é sobre as redações corrigidas (anuladas valem 0). Faixas de A "
            "(nenhuma renda) a Q (acima de R$ 19.960,00), em reais de 2019."),
        "mean_scores_by_school_type": (
            "Qual é a nota média por área, por tipo de escola do ensino médio (TP_ESCOLA)?",
            "População: participantes que não são treineiros (IN_TREINEIRO = 0), de todas as "
            "UFs; a média de cada área é sobre quem tem nota nela; a média da redação é sobre "
            "as redações corrigidas (anuladas valem 0). “Não Respondeu” (1) reúne sobretudo "
            "quem concluiu o ensino médio antes de 2019."),
        "mean_scores_by_sex_and_race": (
            "Qual é a nota média por área, por sexo (TP_SEXO) e cor/raça (TP_COR_RACA)?",
            "População: participantes que não são treineiros (IN_TREINEIRO = 0), de todas as "
            "UFs; a média de cada área é sobre quem tem nota nela; a média da redação é sobre "
            "as redações corrigidas (anuladas valem 0). Cor/raça autodeclarada na inscrição "
            "(0 = não declarada)."),
        "essay_status": (
            "Qual foi a situação das redações na correção (TP_STATUS_REDACAO: sem problemas, "
            "anulada, em branco, fuga ao tema, …)?",
            "População: todo participante cuja redação tem situação (presente no 1º dia), "
            "treineiros incluídos; o percentual é dessas redações; a média da redação é a nota "
            "média em cada situação (toda situação diferente de 1 vale 0)."),
        "score_histogram": (
            "Como as notas de cada área se distribuem (faixas de 50 pontos)?",
            "População: participantes que não são treineiros (IN_TREINEIRO = 0) com nota na "
            "área (presentes); na redação, as anuladas entram com 0. O início da faixa é o seu "
            "limite inferior (uma nota de exatamente 1000 cai na faixa 1000); o percentual é "
            "das notas da área."),
    },
)

EN = Texts(
    lang="en",
    format_locale="en-US",
    decimal_mark=".",
    thousands_mark=",",
    title="ENEM 2019: the lake's answers",
    heading="ENEM 2019: how the candidates did across Brazil",
    built_from="Built from {origin} on {generated} (UTC).",
    glue_origin="{gold} (Glue database {database})",
    no_run="No processing run summary was found.",
    run="Processing run {run_id}, finished {finished}; ingestions {ingestions}.",
    run_columns=("table", "rows read", "written", "rejected", "rejected by reason"),
    withheld_no_record=("Small groups: this table has no record of what was withheld (it was "
                        "published before small groups were withheld); run the gold step "
                        "again."),
    withheld_none="Small groups: none withheld; every group has at least {least} {columns}.",
    withheld_one=("Small groups: 1 group withheld, with fewer than {least} {where}; its numbers "
                  "are not published."),
    withheld_many=("Small groups: {count} groups withheld, each with fewer than {least} "
                   "{where}; their numbers are not published."),
    and_word="and",
    or_word="or",
    areas={"NU_NOTA_CN": "Natural Sciences", "NU_NOTA_CH": "Human Sciences",
           "NU_NOTA_LC": "Languages and Codes", "NU_NOTA_MT": "Mathematics",
           "NU_NOTA_REDACAO": "Essay"},
    candidates_axis="candidates",
    mean_axis="mean score",
    income_axis="monthly family income band (Q006)",
    school_legend="school type",
    sex_legend="sex",
    essay_axis="% of essays",
    score_axis="score",
    score_share_axis="% of the area's scores",
    national_mean="national mean: {mean}",
    map_legend_title=("points above (+) or", "below (−) the area's", "national mean"),
    map_legend_middle="national mean",
    no_data="no data",
    chart_label="Chart of the question above; its numbers are in the table below.",
    notes={
        "mean_scores_by_state": (
            "Each square is a state, in its approximate place on the map. Its colour and "
            "number give the difference, in points, between the state's mean and the area's "
            "national mean (the states' means weighted by the candidates with a score in the "
            "area). All five areas share one fixed scale, −{limit} to +{limit} points: the "
            "same colour is the same difference on every map, and a difference of a few "
            "points stays almost white. A difference beyond {limit} points takes the colour "
            "of the scale's end. Grey, “no data”: the state has no published mean (a small "
            "group withheld, or no candidates)."),
        "mean_scores_by_sex_and_race": (
            "One chart per area; the axes span the same number of points, so the same "
            "distance is the same difference in every area."),
        "score_histogram": (
            "One chart per area, all on the same axes: 50-point bins and the share of the "
            "area's scores in each."),
    },
    columns={
        "state": "state",
        "registered": "registered",
        "practice_takers": "practice takers",
        "present_day1": "present on day 1",
        "present_day2": "present on day 2",
        "present_both_days": "present on both days",
        "attendance_pct": "% present on both days",
        "candidates_day2": "candidates on day 2",
        "candidates_essay": "marked essays",
        "candidates": "candidates",
        "mean_cn": "mean CN",
        "mean_ch": "mean CH",
        "mean_lc": "mean LC",
        "mean_mt": "mean MT",
        "mean_essay": "mean essay",
        "income_band": "Q006",
        "income_band_label": "monthly family income",
        "school_type": "TP_ESCOLA",
        "school_type_label": "school type",
        "sex": "TP_SEXO",
        "sex_label": "sex",
        "race": "TP_COR_RACA",
        "race_label": "colour/race",
        "essay_status": "TP_STATUS_REDACAO",
        "essay_status_label": "essay status",
        "essays": "essays",
        "share_pct": "% of essays",
        "area": "area",
        "bin_start": "bin start",
    },
    query_columns={
        ("score_histogram", "share_pct"): "% of the area's scores",
        ("score_histogram", "candidates"): "scores",
    },
)

TEXTS: dict[str, Texts] = {texts.lang: texts for texts in (PT_BR, EN)}
assert tuple(TEXTS) == LANGS, "one Texts per language the report speaks"


def check_lang(lang: str) -> str:
    if lang not in TEXTS:
        raise UsageError(f"--lang {lang!r}: use one of {', '.join(LANGS)}")
    return lang


def texts_for(lang: str) -> Texts:
    return TEXTS[check_lang(lang)]
