"""The 2019 exam's booklets: the colour and application of every CO_PROVA in the schema's domains,
and the items of each test."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from functools import lru_cache

from jobs.enem.schema import AREAS, LAYOUTS_BY_NAME
from lake.synth.draws import DEFAULT_SEED

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
