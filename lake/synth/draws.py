"""Random numbers and sampling for the synthetic rows. Every random number is a hash of (seed, row
number, stream): the output depends only on the seed and the row count, never on the chunk
size; sampling is vectorised with pyarrow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

DEFAULT_SEED = 2019
ENCODING = "latin-1"
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
