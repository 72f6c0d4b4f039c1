"""The synthetic data's model: every table the generator samples, built once from the profile of
the real rows (`profile.py`), so that frequencies, null rates, means and the cross-field rules
match the real file."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa

from jobs.enem.schema import AREAS, UF, age_band
from lake.synth import profile
from lake.synth.booklets import Item, Test, answer_width, tests
from lake.synth.draws import _I32, _I64, Categorical, Table, _text


@dataclass(frozen=True)
class Geography:
    codes: pa.Array  # municipality code text, by municipality index
    names: pa.Array  # municipality name (latin-1), by municipality index
    state_of: pa.Array  # state index of each municipality
    first_of_state: pa.Array  # index of each state's first municipality
    municipality: Categorical  # municipality within state (condition: state index)
    state: Categorical
    uf_codes: pa.Array
    uf_acronyms: pa.Array
    relation: dict[str, Categorical]  # same municipality / same state / other state


def _geography() -> Geography:
    states = list(UF)
    codes, names, state_of, first, weights = [], [], [], [], []
    for index, uf in enumerate(states):
        first.append(len(codes))
        found = profile.MUNICIPALITIES[uf]
        codes += [code for code, _, _ in found]
        names += [name for _, name, _ in found]
        state_of += [index] * len(found)
        weights.append([count for _, _, count in found])
    relation = {kind: Categorical.build([[shares["same_municipality"], shares["same_state"],
                                          shares["other_state"]]])
                for kind, shares in profile.GEOGRAPHY.items()}
    acronyms = [UF[uf] for uf in states]
    return Geography(
        codes=_text(codes), names=_text(names), state_of=pa.array(state_of, pa.int32()),
        first_of_state=pa.array(first, pa.int32()), municipality=Categorical.build(weights),
        state=Categorical.build([[profile.UF_REGISTRATIONS[a] for a in acronyms]]),
        uf_codes=_text(states), uf_acronyms=_text(acronyms), relation=relation)


SITUATION_COLUMNS = ("TP_ST_CONCLUSAO", "TP_ANO_CONCLUIU", "TP_ESCOLA", "TP_ENSINO",
                     "IN_TREINEIRO")  # then: are the school columns filled (0/1)


@dataclass(frozen=True)
class Person:
    situation: Table  # SITUATION_COLUMNS and school columns filled, jointly
    situation_parts: list[pa.Array]  # the CSV field of each part, by situation index
    school_filled: pa.Array  # bool, by situation index
    school_type: pa.Array  # condition index of `school` tables (TP_ESCOLA), by situation
    age_condition: pa.Array  # index of (TP_ST_CONCLUSAO, TP_ANO_CONCLUIU), by situation index
    age: Table
    age_band: pa.Array
    age_group: pa.Array
    marital: Table
    marginals: dict[str, Table]
    school: dict[str, Table]
    flags: dict[str, float]


def _person() -> Person:
    situation = Table.marginal(profile.SITUATIONS)
    parts = [_text([s[i] for s in situation.values]) for i in range(len(SITUATION_COLUMNS))]
    age_keys = list(profile.AGES)
    age = Table.conditional(profile.AGES, age_keys)
    groups = [next((i for i, bound in enumerate(profile.AGE_GROUPS) if a <= bound),
                   len(profile.AGE_GROUPS)) for a in age.values]
    school_types = sorted({s[2] for s in situation.values})
    return Person(
        situation=situation, situation_parts=parts,
        school_filled=pa.array([bool(s[5]) for s in situation.values]),
        school_type=pa.array([school_types.index(s[2]) for s in situation.values], pa.int32()),
        age_condition=pa.array([age_keys.index((s[0], s[1])) for s in situation.values],
                               pa.int32()),
        age=age, age_band=_text([age_band(a) for a in age.values]),
        age_group=pa.array(groups, pa.int32()),
        marital=Table.conditional(profile.MARITAL_BY_AGE_GROUP,
                                  range(len(profile.AGE_GROUPS) + 1)),
        marginals={name: Table.marginal(pairs) for name, pairs in profile.MARGINALS.items()},
        school={name: Table.conditional(by_type, school_types)
                for name, by_type in profile.SCHOOL.items()},
        flags=dict(profile.FLAGS))


# Answer cells are drawn from lookup tables: each row's score bin and each cell's item (its key
# and how easy it is) select a run of ANSWER_SLOTS bytes holding right, wrong, blank and double
# marks in the real rows' proportions; 12 random bits per cell pick one byte of the run.
ANSWER_BITS = 12
ANSWER_SLOTS = 1 << ANSWER_BITS
EASE_LEVELS = (0.45, 0.6, 0.75, 0.9, 1.05, 1.25, 1.5, 1.8)  # P(right) multipliers of items
NINE_CLASS = len(EASE_LEVELS) * 5  # the cell class of the language not taken (LC)
CLASSES = NINE_CLASS + 1


@dataclass(frozen=True)
class AreaModel:
    tests: tuple[Test, ...]
    codes: pa.Array  # CO_PROVA text, by test index
    keys: pa.Array  # TX_GABARITO text, by test index
    quantiles: pa.Array  # score quantiles, by ability class * (steps + 1) + step
    zero_score: float
    variants: int  # answer-string variants of a test: 2 for LC (the language), else 1
    cell_class: pa.Array  # int64: slot offset of each cell's class, by variant * width + position
    row_stride: int  # slots per score-bin row of `table`
    table: pa.Array  # uint8 answer characters, by score row * row_stride + cell class + bits


def _ease_level(item: Item, mean_difficulty: float) -> int:
    """The EASE_LEVELS index nearest to how much easier than its test's average an item is."""
    ease = math.exp(-0.45 * (item.b - mean_difficulty))
    return min(range(len(EASE_LEVELS)), key=lambda i: abs(math.log(EASE_LEVELS[i] / ease)))


def _cell_classes(area: str, area_tests: tuple[Test, ...]) -> list[int]:
    """Class of every cell: ease level * 5 + key letter; NINE_CLASS for the language not taken."""
    width = answer_width(area)
    classes = []
    for test in area_tests:
        mean = sum(item.b for item in test.items) / len(test.items)
        cells = [_ease_level(item, mean) * 5 + "ABCDE".index(item.key) for item in test.items]
        if area != "LC":
            classes += cells
            continue
        for language in (0, 1):  # cells 0..4 English, 5..9 Spanish
            other = range(5, 10) if language == 0 else range(5)
            classes += [NINE_CLASS if i in other else cells[i] for i in range(width)]
    return classes


def _slots(counts: dict[bytes, float]) -> bytes:
    """ANSWER_SLOTS bytes with each character's share of them (largest remainders)."""
    total = sum(counts.values())
    exact = {c: n * ANSWER_SLOTS / total for c, n in counts.items()}
    whole = {c: int(x) for c, x in exact.items()}
    left = ANSWER_SLOTS - sum(whole.values())
    for c in sorted(exact, key=lambda c: whole[c] - exact[c])[:left]:
        whole[c] += 1
    return b"".join(c * n for c, n in whole.items())


def _answer_table(rates: Sequence[tuple[float, float, float]]) -> bytes:
    """Rows: the score bins, then a blank-sheet row; columns: CLASSES runs of slots."""
    rows = []
    for right, blank, double in rates:
        for level in EASE_LEVELS:
            p = min(right * level, 0.99)
            for key in "ABCDE":
                wrong = (1 - p) * (1 - blank - double) / 4
                counts = {key.encode(): p, b".": (1 - p) * blank, b"*": (1 - p) * double}
                counts.update({k.encode(): wrong for k in "ABCDE" if k != key})
                rows.append(_slots(counts))
        rows.append(b"9" * ANSWER_SLOTS)
    rows.append((b"." * ANSWER_SLOTS * NINE_CLASS) + b"9" * ANSWER_SLOTS)
    return b"".join(rows)


def _area_model(area: str) -> AreaModel:
    area_tests = tests()[area]
    table = _answer_table(profile.ANSWER_RATES[area])
    return AreaModel(
        tests=area_tests, codes=_text([t.code for t in area_tests]),
        keys=_text([t.key for t in area_tests]),
        quantiles=pa.array([q for qs in profile.SCORE_QUANTILES[area] for q in qs], pa.float64()),
        zero_score=profile.ZERO_SCORE[area],
        variants=2 if area == "LC" else 1,
        cell_class=pa.array([c * ANSWER_SLOTS for c in _cell_classes(area, area_tests)], _I64),
        row_stride=CLASSES * ANSWER_SLOTS,
        table=pa.Array.from_buffers(pa.uint8(), len(table), [None, pa.py_buffer(table)]))


DAYS = {"day1": ("CH", "LC"), "day2": ("CN", "MT")}  # the areas of each exam day


@dataclass(frozen=True)
class Exam:
    presence: Table  # the four TP_PRESENCA (CN, CH, LC, MT), jointly
    presence_text: dict[str, pa.Array]  # TP_PRESENCA of an area, by presence outcome
    day_tests: dict[str, Table]  # the tests taken on each day (DAYS), jointly
    test_index: dict[str, pa.Array]  # an area's test index (AreaModel.tests), by day outcome
    ability: Categorical  # condition: income group and school type (see _ability)
    areas: dict[str, AreaModel]
    essay_status: Table
    essay_class: Categorical  # condition: ability class
    components: dict[str, Table]  # condition: essay class


SCHOOL_TYPES = (1, 2, 3, 4)  # TP_ESCOLA
ABILITY_PRIOR_ROWS = 30.0


def _ability() -> Categorical:
    """Ability class by income group and school type (condition: group * 4 + TP_ESCOLA - 1).

    Each cell's counts are shrunk towards its income group's distribution, which alone stands
    for cells the profile leaves out (too few real rows).
    """
    cells = profile.ABILITY_BY_INCOME_AND_SCHOOL
    weights = []
    classes = len(next(iter(cells.values())))
    for group in range(profile.TOP_INCOME_GROUP + 1):
        pooled = [0.0] * classes
        for (g, _), counts in cells.items():
            pooled = [p + c if g == group else p for p, c in _pairs(pooled, counts)]
        prior = [ABILITY_PRIOR_ROWS * p / sum(pooled) for p in pooled]
        for school in SCHOOL_TYPES:
            counts = cells.get((group, school), (0,) * classes)
            weights.append([c + p for c, p in _pairs(counts, prior)])
    return Categorical.build(weights)


def _pairs(first: Sequence[float], second: Sequence[float]) -> list[tuple[float, float]]:
    if len(first) != len(second):
        raise ValueError("distributions of different lengths")
    return [(first[i], second[i]) for i in range(len(first))]


def _exam() -> Exam:
    essay_classes = sorted(profile.ESSAY_CLASS_BY_ABILITY)
    presence = Table.marginal(profile.PRESENCE)
    day_tests = {"day1": Table.marginal(profile.TESTS_DAY1),
                 "day2": Table.marginal(profile.TESTS_DAY2)}
    areas = {area: _area_model(area) for area in AREAS}
    test_index = {}
    for day, day_areas in DAYS.items():
        for i, area in enumerate(day_areas):
            codes = [t.code for t in areas[area].tests]
            test_index[area] = pa.array([codes.index(pair[i]) for pair in day_tests[day].values],
                                        _I32)
    return Exam(
        presence=presence,
        presence_text={area: _text([p[i] for p in presence.values])
                       for i, area in enumerate(AREAS)},
        day_tests=day_tests, test_index=test_index, ability=_ability(), areas=areas,
        essay_status=Table.marginal(profile.ESSAY_STATUS),
        essay_class=Categorical.build([profile.ESSAY_CLASS_BY_ABILITY[k]
                                       for k in essay_classes]),
        components={name: Table.conditional(by_class, essay_classes)
                    for name, by_class in profile.ESSAY_COMPONENTS.items()})


@dataclass(frozen=True)
class Questionnaire:
    income: Table  # Q006
    income_group: pa.Array  # by Q006 outcome index
    questions: dict[str, Table]  # condition: income group


def _questionnaire() -> Questionnaire:
    income = Table.marginal(profile.MARGINALS["Q006"])
    groups = [profile.INCOME_GROUPS.get(letter, profile.TOP_INCOME_GROUP)
              for letter in income.values]
    conditions = range(profile.TOP_INCOME_GROUP + 1)
    return Questionnaire(
        income=income, income_group=pa.array(groups, pa.int32()),
        questions={q: Table.conditional(by_group, conditions)
                   for q, by_group in profile.QUESTIONS.items()})


@dataclass(frozen=True)
class Model:
    geography: Geography
    person: Person
    questionnaire: Questionnaire
    exam: Exam


@lru_cache(maxsize=1)
def model() -> Model:
    return Model(_geography(), _person(), _questionnaire(), _exam())
