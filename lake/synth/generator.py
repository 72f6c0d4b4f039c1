"""Synthetic ENEM 2019 microdata, written the way INEP packages the real download.

    write_zip(Path("enem.zip"), rows=100_000, layout="original", seed=7)

The zip holds `DADOS/MICRODADOS_ENEM_2019.csv` (136 columns for the original 2020 release, 76 for
the 2022 LGPD re-release; columns from `schema.py`), `DADOS/ITENS_PROVA_2019.csv` and small
`DICIONÁRIO/` and `LEIA-ME E DOCUMENTOS TÉCNICOS/` members. Like INEP's Windows-made archive,
member names are stored in code page 850 without the UTF-8 flag; the CSVs are latin-1, `;`,
LF, unquoted, with `.` decimals, whole numbers without `.0` and missing values as empty fields.

Values are sampled from `synth_profile.py` (aggregates of the real rows) so that frequencies,
null rates, means and the cross-field rules match the real file. Rows are generated in chunks
with vectorised pyarrow kernels, so memory stays constant up to the full 5,095,270 rows. Every
random number is a hash of (seed, row number, stream): the output depends only on the seed and
the row count, never on the chunk size.
"""

from __future__ import annotations

import math
import os
import random
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from jobs.enem.dictionary import DICTIONARY
from jobs.enem.schema import AREAS, LAYOUTS_BY_NAME, UF, Layout, age_band
from lake.synth import profile

LAYOUTS = {"original": ("microdados-original", "itens-original"),
           "lgpd": ("microdados-lgpd", "itens-lgpd")}
DEFAULT_SEED = 2019
DEFAULT_CHUNK_ROWS = 8192  # measured fastest here, and about 200 MB resident
FIRST_INSCRICAO = 190001000001
COMPRESS_LEVEL = 3  # Deflate: level 6 is 4x slower on these rows for a 13% smaller zip
MICRODADOS_MEMBER = "DADOS/MICRODADOS_ENEM_2019.csv"
ITENS_MEMBER = "DADOS/ITENS_PROVA_2019.csv"
DICTIONARY_MEMBER = "DICIONÁRIO/Dicionário_Microdados_Enem_2019.csv"
README_MEMBER = "LEIA-ME E DOCUMENTOS TÉCNICOS/Leia_Me_Enem_2019.txt"
MEMBER_DATE = (2021, 3, 8, 10, 0, 0)  # a fixed timestamp keeps the zip byte-for-byte repeatable
ENCODING = "latin-1"

# --- the tests: booklet colour and application of every CO_PROVA in the schema's domains -------

_COLOURS = {
    "CN": {503: "AZUL", 504: "AMARELA", 505: "CINZA", 506: "ROSA", 519: "LARANJA",
           523: "VERDE", 543: "AZUL", 544: "AMARELA", 545: "CINZA", 546: "ROSA"},
    "CH": {507: "AZUL", 508: "AMARELA", 509: "BRANCA", 510: "ROSA", 520: "LARANJA",
           524: "VERDE", 547: "AZUL", 548: "AMARELA", 549: "BRANCA", 550: "ROSA", 564: "LARANJA"},
    "LC": {511: "AZUL", 512: "AMARELA", 513: "ROSA", 514: "BRANCA", 521: "LARANJA",
           525: "VERDE", 551: "AZUL", 552: "AMARELA", 553: "ROSA", 554: "BRANCA", 565: "LARANJA"},
    "MT": {515: "AZUL", 516: "AMARELA", 517: "ROSA", 518: "CINZA", 522: "LARANJA",
           526: "VERDE", 555: "AZUL", 556: "AMARELA", 557: "ROSA", 558: "CINZA"},
}
_ADAPTED = ("LARANJA", "VERDE")  # read aloud (ledor) and sign language (Libras) versions
_REAPPLICATION_FROM = 540  # codes above are the re-application's tests (other items)
_FIRST_POSITION = {"LC": 1, "CH": 46, "CN": 91, "MT": 136}  # booklet numbering, day 1 then 2
_LANGUAGE_ITEMS = 5  # LC positions 1..5: English (TP_LINGUA 0) or Spanish (1)
_ABANDONED = ("MT", 1, 17, "Item com comportamento estatístico inadequado")


def answer_width(area: str) -> int:
    return 50 if area == "LC" else 45


@dataclass(frozen=True)
class Item:
    code: int
    key: str
    skill: int
    a: float
    b: float
    c: float
    abandoned: str | None = None


@dataclass(frozen=True)
class Test:
    """One test booklet (CO_PROVA): its items in answer-string order.

    LC holds 50 items: the 5 English ones, the 5 Spanish ones, then positions 6..45.
    """

    code: int
    area: str
    colour: str
    items: tuple[Item, ...]

    @property
    def key(self) -> str:
        return "".join(item.key for item in self.items)

    def positions(self) -> list[tuple[int, int | None, Item]]:
        """(CO_POSICAO, TP_LINGUA, item) for every item."""
        first = _FIRST_POSITION[self.area]
        if self.area != "LC":
            return [(first + i, None, item) for i, item in enumerate(self.items)]
        english = [(first + i, 0, item) for i, item in enumerate(self.items[:5])]
        spanish = [(first + i, 1, item) for i, item in enumerate(self.items[5:10])]
        common = [(first + _LANGUAGE_ITEMS + i, None, item)
                  for i, item in enumerate(self.items[10:])]
        return english + spanish + common


def _new_items(rng: random.Random, count: int, codes: list[int]) -> list[Item]:
    return [Item(code=codes.pop(), key=rng.choice("ABCDE"), skill=rng.randint(1, 30),
                 a=round(rng.uniform(0.8, 4.0), 5),
                 b=round(min(4.0, max(-2.5, rng.gauss(1, 1))), 5),
                 c=round(rng.uniform(0.05, 0.35), 5)) for _ in range(count)]


@lru_cache(maxsize=1)
def tests() -> dict[str, tuple[Test, ...]]:
    """Every test of the schema's CO_PROVA domains, per area; the same for every seed."""
    rng = random.Random(DEFAULT_SEED)
    codes = rng.sample(range(10000, 99999), 1000)
    microdata = LAYOUTS_BY_NAME["microdados-original"]
    result = {}
    for area in AREAS:
        domain = microdata.column(f"CO_PROVA_{area}").values
        if set(domain) != set(_COLOURS[area]):
            raise ValueError(f"CO_PROVA_{area}: colours known for {sorted(_COLOURS[area])}, "
                             f"the schema allows {sorted(domain)}")
        banks = {application: _new_items(rng, answer_width(area), codes) for application in (1, 2)}
        if area == _ABANDONED[0]:
            bank = banks[_ABANDONED[1]]
            bank[_ABANDONED[2]] = replace(bank[_ABANDONED[2]], abandoned=_ABANDONED[3])
        area_tests: list[Test] = []
        first_order: dict[int, list[int]] = {}
        for code in sorted(domain):
            application = 2 if code > _REAPPLICATION_FROM else 1
            colour = _COLOURS[area][code]
            fixed = 10 if area == "LC" else 0
            if colour in _ADAPTED:  # the same order as the application's first booklet
                order = first_order[application]
            else:
                rest = list(range(fixed, answer_width(area)))
                rng.shuffle(rest)
                order = list(range(fixed)) + rest
                first_order.setdefault(application, order)
            bank = banks[application]
            area_tests.append(Test(code, area, colour, tuple(bank[i] for i in order)))
        result[area] = tuple(area_tests)
    return result


# --- random numbers ----------------------------------------------------------------------------

_U64 = pa.uint64()
_I32 = pa.int32()
_I64 = pa.int64()
_MASK64 = (1 << 64) - 1
_STREAM_BITS = 10  # streams per row: < 512 per-row draws, then 4 x 64 answer positions
_ANSWER_STREAMS = 512


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def _mix(counters: pa.Array) -> pa.Array:
    """splitmix64 of each uint64 counter, without the last step (which keeps the top bits)."""
    x = pc.add(counters, pa.scalar(0x9E3779B97F4A7C15, _U64))
    x = pc.multiply(pc.bit_wise_xor(x, pc.shift_right(x, pa.scalar(30, _U64))),
                    pa.scalar(0xBF58476D1CE4E5B9, _U64))
    return pc.multiply(pc.bit_wise_xor(x, pc.shift_right(x, pa.scalar(27, _U64))),
                       pa.scalar(0x94D049BB133111EB, _U64))


def _hash_uniform(counters: pa.Array) -> pa.Array:
    """A double in [0, 1) from the top 53 bits of each counter's hash."""
    bits = pc.shift_right(_mix(counters), pa.scalar(11, _U64))
    return pc.multiply(pc.cast(bits, pa.float64()), 2.0 ** -53)


@lru_cache(maxsize=8)
def _arange(n: int, type_: pa.DataType = _I64) -> pa.Array:
    return pa.array(range(n), type_)


@lru_cache(maxsize=8)
def _repeat_index(n: int, width: int) -> tuple[pa.Array, pa.Array]:
    """(row, position) of each of the n * width cells of a fixed-width text column."""
    cells = _arange(n * width, pa.int32())
    rows = pc.divide(cells, width)  # integer division
    return rows, pc.subtract(cells, pc.multiply(rows, width))


@lru_cache(maxsize=8)
def _offsets(n: int, width: int) -> pa.Buffer:
    return pa.array(range(0, (n + 1) * width, width), pa.int32()).buffers()[1]


class Draws:
    """Uniform numbers of rows first_row .. first_row + n - 1, one array per named stream."""

    def __init__(self, seed: int, first_row: int, n: int) -> None:
        self.n = n
        rows = pc.add(_arange(n, _U64), pa.scalar(first_row, _U64))
        base = pc.shift_left(rows, pa.scalar(_STREAM_BITS, _U64))
        self._base = pc.add(base, pa.scalar(_splitmix64(seed), _U64))
        self._streams: dict[str, int] = {}

    def uniform(self, name: str) -> pa.Array:
        stream = self._streams.setdefault(name, len(self._streams))
        if stream >= _ANSWER_STREAMS:
            raise RuntimeError("too many random streams per row")
        return _hash_uniform(pc.add(self._base, pa.scalar(stream, _U64)))

    def cell_bits(self, area_index: int, width: int, bits: int) -> pa.Array:
        """`bits` random bits (int64) per cell of an answer string (n * width, row by row)."""
        rows, _ = _repeat_index(self.n, width)
        counters = pc.add(pc.take(self._base, rows), _cell_streams(self.n, width, area_index))
        return pc.cast(pc.shift_right(_mix(counters), pa.scalar(64 - bits, _U64)), _I64)


@lru_cache(maxsize=8)
def _cell_streams(n: int, width: int, area_index: int) -> pa.Array:
    _, positions = _repeat_index(n, width)
    return pc.add(pc.cast(positions, _U64), pa.scalar(_ANSWER_STREAMS + 64 * area_index, _U64))


# --- sampling ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Categorical:
    """Walker alias tables: one distribution per condition, all over the same `width` outcomes."""

    width: int
    prob: pa.Array
    alias: pa.Array

    @classmethod
    def build(cls, weights_by_condition: Sequence[Sequence[float]]) -> Categorical:
        width = max(len(weights) for weights in weights_by_condition)
        prob: list[float] = []
        alias: list[int] = []
        for weights in weights_by_condition:
            p, a = _alias_table(list(weights) + [0.0] * (width - len(weights)))
            prob += p
            alias += a
        return cls(width, pa.array(prob, pa.float64()), pa.array(alias, pa.int32()))

    def sample(self, u: pa.Array, condition: pa.Array | None = None) -> pa.Array:
        """The outcome index (int32) of each uniform u, under each row's condition index."""
        x = pc.multiply(u, float(self.width))
        whole = pc.floor(x)
        index = pc.cast(whole, pa.int32())
        flat = index if condition is None else pc.add(pc.multiply(condition, self.width), index)
        keep = pc.less(pc.subtract(x, whole), pc.take(self.prob, flat))
        return pc.if_else(keep, index, pc.take(self.alias, flat))


def _alias_table(weights: list[float]) -> tuple[list[float], list[int]]:
    total = sum(weights)
    if total <= 0:
        raise ValueError("a distribution needs a positive weight")
    n = len(weights)
    scaled = [w * n / total for w in weights]
    prob, alias = [1.0] * n, list(range(n))
    small = [i for i, s in enumerate(scaled) if s < 1]
    large = [i for i, s in enumerate(scaled) if s >= 1]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s], alias[s] = scaled[s], g
        scaled[g] -= 1 - scaled[s]
        (small if scaled[g] < 1 else large).append(g)
    return prob, alias


def _distribution(pairs: Sequence[tuple[object, float]]) -> tuple[list, list[float]]:
    return [v for v, _ in pairs], [float(w) for _, w in pairs]


def _text(values: Sequence[object]) -> pa.Array:
    """CSV fields (latin-1 bytes; None = empty field) for a list of values."""
    return pa.array([None if v is None else _field(v) for v in values], pa.binary())


def _field(value: object) -> bytes:
    if isinstance(value, float):
        return repr(value).removesuffix(".0").encode()
    return str(value).encode(ENCODING)


def _where(mask: pa.Array, values: pa.Array) -> pa.Array:
    return pc.if_else(mask, values, pa.scalar(None, values.type))


def _numbers(text: pa.Array) -> pa.Array:
    return pc.cast(pc.cast(text, pa.string()), _I32)


def _int_text(values: pa.Array) -> pa.Array:
    return pc.cast(pc.cast(values, pa.string()), pa.binary())


@dataclass(frozen=True)
class Table:
    """A categorical column: its sampler, and each outcome's value and CSV field."""

    sampler: Categorical
    values: list
    text: pa.Array

    @classmethod
    def marginal(cls, pairs: Sequence[tuple[object, float]]) -> Table:
        values, weights = _distribution(pairs)
        return cls(Categorical.build([weights]), values, _text(values))

    @classmethod
    def conditional(cls, by_condition: dict[object, Sequence[tuple[object, float]]],
                    conditions: Sequence[object]) -> Table:
        """One distribution per condition, in `conditions` order (missing: the pooled one)."""
        values = sorted({v for pairs in by_condition.values() for v, _ in pairs}, key=repr)
        pooled = {v: 0.0 for v in values}
        for pairs in by_condition.values():
            for v, w in pairs:
                pooled[v] += w
        rows = []
        for condition in conditions:
            counts = dict(by_condition.get(condition, ()))
            source = counts if sum(counts.values()) > 0 else pooled
            rows.append([float(source.get(v, 0.0)) for v in values])
        return cls(Categorical.build(rows), values, _text(values))

    def sample(self, u: pa.Array, condition: pa.Array | None = None) -> pa.Array:
        return self.sampler.sample(u, condition)

    def column(self, index: pa.Array) -> pa.Array:
        return pc.take(self.text, index)

    def numbers(self, type_: pa.DataType = _I32) -> pa.Array:
        return pa.array(self.values, type_)


# --- the model: every table the generator samples, built once from the profile -----------------

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


# --- one chunk of rows -------------------------------------------------------------------------

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


# --- files -------------------------------------------------------------------------------------

def _layout(layout: str, index: int) -> Layout:
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}: use one of {', '.join(LAYOUTS)}")
    return LAYOUTS_BY_NAME[LAYOUTS[layout][index]]


def header_line(layout: str) -> bytes:
    return (";".join(_layout(layout, 0).header) + "\n").encode(ENCODING)


def microdata_chunks(rows: int, layout: str, seed: int = DEFAULT_SEED,
                     chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[bytes]:
    """MICRODADOS_ENEM_2019.csv piece by piece: the header, then one piece per chunk.

    The next chunk is generated on a second thread while the caller consumes this one (pyarrow
    and zlib release the GIL), with at most two chunks in memory.
    """
    if rows < 0 or chunk_rows < 1:
        raise ValueError("rows must be >= 0 and chunk_rows >= 1")
    header = _layout(layout, 0).header
    yield header_line(layout)
    starts = list(range(0, rows, chunk_rows))
    with ThreadPoolExecutor(max_workers=1) as pool:
        def submit(start: int) -> Future:
            return pool.submit(chunk_csv, seed, start, min(chunk_rows, rows - start), header)

        pending = submit(starts[0]) if starts else None
        for following in starts[1:] + [None]:
            data = pending.result()
            pending = submit(following) if following is not None else None
            yield data


def itens_csv(layout: str) -> bytes:
    """ITENS_PROVA_2019.csv of the release: one row per item of every test."""
    columns = _layout(layout, 1).header
    lines = [";".join(columns)]
    for area in AREAS:
        for test in tests()[area]:
            for position, language, item in test.positions():
                adapted = test.colour in _ADAPTED and item.code % 6 == 0
                values = {
                    "CO_POSICAO": position, "SG_AREA": area, "CO_ITEM": item.code,
                    "TX_GABARITO": item.key, "CO_HABILIDADE": item.skill,
                    "IN_ITEM_ABAN": int(item.abandoned is not None),
                    "TX_MOTIVO_ABAN": item.abandoned,
                    "NU_PARAM_A": None if item.abandoned else item.a,
                    "NU_PARAM_B": None if item.abandoned else item.b,
                    "NU_PARAM_C": None if item.abandoned else item.c,
                    "TX_COR": test.colour, "CO_PROVA": test.code, "TP_LINGUA": language,
                    "IN_ITEM_ADAPTADO": int(adapted)}
                lines.append(";".join("" if values[c] is None else _field(values[c]).decode(
                    ENCODING) for c in columns))
    return ("\n".join(lines) + "\n").encode(ENCODING)


def dictionary_csv(layout: str) -> bytes:
    """A small data dictionary of both files of the release (name; description; type; values)."""
    lines = ["ARQUIVO;NOME DA VARIÁVEL;DESCRIÇÃO;TIPO;CATEGORIAS"]
    for index, file in enumerate(("MICRODADOS", "ITENS_PROVA")):
        for column in _layout(layout, index).columns:
            categories = DICTIONARY[file].get(column.name, {}).get("categories") or {}
            listed = " | ".join(f"{code}={label}" for code, label in categories.items())
            fields = (file, column.name, column.description, column.type, listed)
            lines.append(";".join(f.replace(";", ",") for f in fields))
    return ("\n".join(lines) + "\n").encode(ENCODING)


def readme_text(rows: int, layout: str, seed: int) -> bytes:
    text = (
        "DADOS SINTÉTICOS - NÃO SÃO OS MICRODADOS REAIS DO INEP\n\n"
        f"Gerado por lake/synth/generator.py: {rows} linhas, leiaute '{layout}', semente {seed}.\n"
        "Formato igual ao do arquivo do INEP (CSV latin-1, separador ';'); os valores são\n"
        "sorteados de frequências agregadas de linhas reais e não descrevem nenhum participante.\n")
    return text.encode(ENCODING)


class Cp850ZipInfo(zipfile.ZipInfo):
    """A member whose name is stored in code page 850 without the UTF-8 flag (bit 11).

    That is how Windows tools write the real archive; zipfile would write UTF-8 and set the flag.
    """

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # noqa: N802 - zipfile's hook
        return self.filename.encode("cp850"), self.flag_bits & ~0x800


def _member(name: str) -> Cp850ZipInfo:
    info = Cp850ZipInfo(name, date_time=MEMBER_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 0  # MS-DOS/Windows
    info.external_attr = 0x20  # the archive attribute
    if "compress_level" in zipfile.ZipInfo.__slots__:  # Python 3.13+
        info.compress_level = COMPRESS_LEVEL
    else:
        info._compresslevel = COMPRESS_LEVEL
    return info


@dataclass(frozen=True)
class Result:
    path: Path
    rows: int
    layout: str
    seed: int
    seconds: float
    csv_bytes: int
    zip_bytes: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def write_zip(out: Path, rows: int, layout: str, seed: int = DEFAULT_SEED,
              chunk_rows: int = DEFAULT_CHUNK_ROWS,
              progress: Callable[[int], None] | None = None) -> Result:
    """Write the synthetic release to `out` atomically (a temporary name, then a rename)."""
    _layout(layout, 0)
    if rows < 1:
        raise ValueError("rows must be at least 1")
    started = time.perf_counter()
    out = Path(out)
    partial = out.with_name(f".{out.name}.{os.getpid()}.part")
    csv_bytes = 0
    try:
        with zipfile.ZipFile(partial, "w", allowZip64=True) as archive:
            with archive.open(_member(MICRODADOS_MEMBER), "w", force_zip64=True) as member:
                done = -1
                for piece in microdata_chunks(rows, layout, seed, chunk_rows):
                    member.write(piece)
                    csv_bytes += len(piece)
                    done += piece.count(b"\n")
                    if progress is not None and done > 0:
                        progress(done)
            archive.writestr(_member(ITENS_MEMBER), itens_csv(layout))
            archive.writestr(_member(DICTIONARY_MEMBER), dictionary_csv(layout))
            archive.writestr(_member(README_MEMBER), readme_text(rows, layout, seed))
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Result(out, rows, layout, seed, time.perf_counter() - started, csv_bytes,
                  out.stat().st_size)
