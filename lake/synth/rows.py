"""One chunk of synthetic rows: people, places, exams, answers and the essay, as columns, then as
CSV text in a layout's column order. Chunks keep memory constant up to the full 5,095,270 rows."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from jobs.enem.schema import AREAS
from lake.synth import profile
from lake.synth.booklets import answer_width
from lake.synth.draws import (
    _I64,
    Draws,
    _arange,
    _int_text,
    _numbers,
    _offsets,
    _repeat_index,
    _where,
)
from lake.synth.model import (
    ANSWER_BITS,
    DAYS,
    SCHOOL_TYPES,
    SITUATION_COLUMNS,
    AreaModel,
    Exam,
    Geography,
    Model,
    model,
)

FIRST_INSCRICAO = 190001000001
Columns = dict[str, pa.Array]


def _place(draws: Draws, geo: Geography, kind: str, municipality: pa.Array,
           state: pa.Array) -> tuple[pa.Array, pa.Array]:
    """A municipality (and state) related to a reference place as often as in the real rows."""
    relation = geo.relation[kind].sample(draws.uniform(f"{kind}.relation"))
    same_state = _municipality_in(geo, state, draws.uniform(f"{kind}.same_state"))
    other = geo.state.sample(draws.uniform(f"{kind}.state"))
    other_state = _municipality_in(geo, other, draws.uniform(f"{kind}.other_state"))
    chosen = pc.if_else(pc.equal(relation, 0), municipality,
                        pc.if_else(pc.equal(relation, 1), same_state, other_state))
    return chosen, pc.take(geo.state_of, chosen)


def _municipality_in(geo: Geography, state: pa.Array, u: pa.Array) -> pa.Array:
    local = geo.municipality.sample(u, state)
    return pc.add(pc.take(geo.first_of_state, state), local)


def _place_columns(geo: Geography, suffix: str, municipality: pa.Array, state: pa.Array,
                   mask: pa.Array | None = None) -> Columns:
    columns = {f"CO_MUNICIPIO_{suffix}": pc.take(geo.codes, municipality),
               f"NO_MUNICIPIO_{suffix}": pc.take(geo.names, municipality),
               f"CO_UF_{suffix}": pc.take(geo.uf_codes, state),
               f"SG_UF_{suffix}": pc.take(geo.uf_acronyms, state)}
    if mask is None:
        return columns
    return {name: _where(mask, values) for name, values in columns.items()}


def _school_code(draws: Draws, geo: Geography, state: pa.Array) -> pa.Array:
    """An 8-digit INEP school code: the state code, then a school number."""
    number = pc.cast(pc.floor(pc.multiply(draws.uniform("school.code"), 60000.0)), pa.int64())
    state_code = pc.cast(pc.cast(pc.take(geo.uf_codes, state), pa.string()), pa.int64())
    return _int_text(pc.add(pc.multiply(state_code, 1_000_000), pc.add(number, 1000)))


def _people(draws: Draws, m: Model, first_row: int) -> tuple[Columns, pa.Array]:
    """Everything but the exam; also returns the Q006 income group of each row."""
    geo, person, quest = m.geography, m.person, m.questionnaire
    n = draws.n
    numbers = pc.add(_arange(n), first_row + FIRST_INSCRICAO)
    columns: Columns = {"NU_INSCRICAO": _int_text(numbers),
                        "NU_ANO": pa.repeat(pa.scalar(b"2019"), n)}

    exam_state = geo.state.sample(draws.uniform("exam.state"))
    exam_place = _municipality_in(geo, exam_state, draws.uniform("exam.municipality"))
    columns.update(_place_columns(geo, "PROVA", exam_place, exam_state))
    home, home_state = _place(draws, geo, "residence", exam_place, exam_state)
    columns.update(_place_columns(geo, "RESIDENCIA", home, home_state))

    for name, table in person.marginals.items():
        if name != "Q006":
            columns[name] = table.column(table.sample(draws.uniform(name)))
    born_here = pc.equal(columns["TP_NACIONALIDADE"], pa.scalar(b"1"))
    birth, birth_state = _place(draws, geo, "birth", home, home_state)
    columns.update(_place_columns(geo, "NASCIMENTO", birth, birth_state, born_here))

    situation = person.situation.sample(draws.uniform("situation"))
    for i, name in enumerate(SITUATION_COLUMNS):
        columns[name] = pc.take(person.situation_parts[i], situation)
    age = person.age.sample(draws.uniform("age"), pc.take(person.age_condition, situation))
    columns["NU_IDADE"] = person.age.column(age)
    columns["TP_FAIXA_ETARIA"] = pc.take(person.age_band, age)
    marital = person.marital.sample(draws.uniform("marital"), pc.take(person.age_group, age))
    columns["TP_ESTADO_CIVIL"] = person.marital.column(marital)

    filled = pc.take(person.school_filled, situation)
    school, school_state = _place(draws, geo, "school", home, home_state)
    columns.update(_place_columns(geo, "ESC", school, school_state, filled))
    columns["CO_ESCOLA"] = _where(filled, _school_code(draws, geo, school_state))
    school_type = pc.take(person.school_type, situation)
    for name, table in person.school.items():
        columns[name] = _where(filled, table.column(table.sample(draws.uniform(name),
                                                                 school_type)))
    for name, rate in person.flags.items():
        hit = pc.less(draws.uniform(name), rate)
        columns[name] = pc.if_else(hit, pa.scalar(b"1"), pa.scalar(b"0"))

    income = quest.income.sample(draws.uniform("Q006"))
    columns["Q006"] = quest.income.column(income)
    group = pc.take(quest.income_group, income)
    for name, table in quest.questions.items():
        columns[name] = table.column(table.sample(draws.uniform(name), group))
    return columns, group


def _scores(draws: Draws, area: str, model_: AreaModel, ability: pa.Array) -> pa.Array:
    """Scores (double, one decimal) from the ability class's quantiles; some exact zeros."""
    steps = profile.QUANTILE_STEPS
    x = pc.multiply(draws.uniform(f"{area}.score"), float(steps))
    whole = pc.floor(x)
    index = pc.add(pc.multiply(ability, steps + 1), pc.cast(whole, pa.int32()))
    low = pc.take(model_.quantiles, index)
    high = pc.take(model_.quantiles, pc.add(index, 1))
    score = pc.add(low, pc.multiply(pc.subtract(x, whole), pc.subtract(high, low)))
    tenths = pc.round(pc.multiply(score, 10.0))
    zero = pc.less(draws.uniform(f"{area}.zero"), model_.zero_score)
    tenths = pc.if_else(zero, 0.0, tenths)
    return pc.divide(tenths, 10.0)


def _answers(draws: Draws, area_index: int, model_: AreaModel, test: pa.Array,
             score: pa.Array, present: pa.Array, language: pa.Array) -> pa.Array:
    """TX_RESPOSTAS: one byte per cell from the answer table (null when not present)."""
    area = AREAS[area_index]
    width = answer_width(area)
    n = draws.n
    rows, positions = _repeat_index(n, width)
    bins = len(profile.ANSWER_RATES[area])
    score_bin = pc.cast(pc.min_element_wise(pc.floor(pc.divide(score, profile.ANSWER_BIN)),
                                            bins - 1), _I64)
    score_row = pc.if_else(pc.equal(score, 0.0), bins, score_bin)  # blank sheet
    row_start = pc.multiply(score_row, model_.row_stride)
    variant = test if model_.variants == 1 else pc.add(pc.multiply(test, 2), language)
    cell = pc.add(pc.take(pc.multiply(variant, width), rows), positions)
    index = pc.add(pc.add(pc.take(row_start, rows), pc.take(model_.cell_class, cell)),
                   draws.cell_bits(area_index, width, ANSWER_BITS))
    data = pc.take(model_.table, index).buffers()[1]
    valid = present.buffers()[1]
    nulls = n - pc.sum(present).as_py()
    return pa.Array.from_buffers(pa.binary(), n, [valid, _offsets(n, width), data],
                                 null_count=nulls)


def _exams(draws: Draws, m: Model, ability_condition: pa.Array,
           language_text: pa.Array) -> Columns:
    exam = m.exam
    columns: Columns = {}
    pattern = exam.presence.sample(draws.uniform("presence"))
    presence = {area: pc.take(exam.presence_text[area], pattern) for area in AREAS}
    tests_of = {}
    for day, areas in DAYS.items():
        pair = exam.day_tests[day].sample(draws.uniform(f"{day}.tests"))
        for area in areas:
            tests_of[area] = pc.take(exam.test_index[area], pair)
    ability = exam.ability.sample(draws.uniform("ability"), ability_condition)
    language = _numbers(language_text)
    for index, area in enumerate(AREAS):
        area_model = exam.areas[area]
        present = pc.equal(presence[area], pa.scalar(b"1"))
        score = _scores(draws, area, area_model, ability)
        test = tests_of[area]
        columns[f"TP_PRESENCA_{area}"] = presence[area]
        columns[f"CO_PROVA_{area}"] = _where(present, pc.take(area_model.codes, test))
        columns[f"NU_NOTA_{area}"] = _where(present, pc.cast(pc.cast(score, pa.string()),
                                                             pa.binary()))
        columns[f"TX_GABARITO_{area}"] = _where(present, pc.take(area_model.keys, test))
        columns[f"TX_RESPOSTAS_{area}"] = _answers(draws, index, area_model, test, score,
                                                   present, language)
    columns.update(_essay(draws, exam, ability, pc.equal(presence["LC"], pa.scalar(b"1"))))
    return columns


def _essay(draws: Draws, exam: Exam, ability: pa.Array, day1: pa.Array) -> Columns:
    status = exam.essay_status.sample(draws.uniform("essay.status"))
    status_text = exam.essay_status.column(status)
    valid = pc.equal(status_text, pa.scalar(b"1"))
    essay_class = exam.essay_class.sample(draws.uniform("essay.class"), ability)
    columns: Columns = {"TP_STATUS_REDACAO": _where(day1, status_text)}
    total = None
    for name, table in exam.components.items():
        points = pc.take(table.numbers(), table.sample(draws.uniform(name), essay_class))
        points = pc.if_else(valid, points, 0)
        total = points if total is None else pc.add(total, points)
        columns[name] = _where(day1, _int_text(points))
    columns["NU_NOTA_REDACAO"] = _where(day1, _int_text(total))
    return columns


def chunk_columns(seed: int, first_row: int, n: int) -> Columns:
    """Every column of both layouts for rows first_row .. first_row + n - 1 (CSV fields)."""
    m = model()
    draws = Draws(seed, first_row, n)
    columns, income_group = _people(draws, m, first_row)
    school = pc.subtract(_numbers(columns["TP_ESCOLA"]), SCHOOL_TYPES[0])
    condition = pc.add(pc.multiply(income_group, len(SCHOOL_TYPES)), school)
    columns.update(_exams(draws, m, condition, columns["TP_LINGUA"]))
    return columns


def chunk_csv(seed: int, first_row: int, n: int, header: Sequence[str]) -> bytes:
    """Rows first_row .. first_row + n - 1 as CSV lines (no header)."""
    if n == 0:
        return b""
    columns = chunk_columns(seed, first_row, n)
    fields = [columns[name] for name in header]
    lines = pc.binary_join_element_wise(*fields, b";", null_handling="replace",
                                        null_replacement=b"")
    lines = pc.binary_join_element_wise(lines, pa.scalar(b""), b"\n")
    _, offsets, data = lines.buffers()
    ends = pa.Array.from_buffers(pa.int32(), n + 1, [None, offsets], offset=lines.offset)
    return data[ends[0].as_py():ends[n].as_py()].to_pybytes()
