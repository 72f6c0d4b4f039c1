"""The analysts' report (`lake report`): the gold answers as one self-contained HTML page of
charts (Vega-Lite through altair, rendered to inline SVG) and tables, with tile maps of Brazil,
in Brazilian Portuguese or English (its words: `texts.py`)."""

from typing import Literal

Lang = Literal["pt-BR", "en"]
LANGS: tuple[Lang, ...] = ("pt-BR", "en")
DEFAULT_LANG: Lang = "pt-BR"
