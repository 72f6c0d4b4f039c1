"""Saved queries the gold tests run, the columns a fake CTAS of each selects, and the CTAS text
the gold job sends."""

from __future__ import annotations

import re

# Names its group size in the header (the column is `n`).
MEDIA = """-- Média de matemática por UF da prova, presentes.
-- Population: every candidate present on day 2.
-- Group size: n.
SELECT sg_uf_prova, avg(nu_nota_mt) AS media_mt, count(*) AS n
FROM microdados_enem_2019
WHERE tp_presenca_mt = 1
GROUP BY sg_uf_prova
ORDER BY sg_uf_prova;
"""
# Follows the convention: its group size is `candidates`.
PRESENCA = ("SELECT tp_presenca_mt, count(*) AS candidates FROM microdados_enem_2019 "
            "GROUP BY 1\n")
# Names no group size: the gold step refuses it.
NO_GROUP_SIZE = "SELECT sg_uf_prova, count(*) AS n FROM microdados_enem_2019 GROUP BY 1\n"
COLUMNS = {  # what each simulated CTAS "selects"
    "media": [{"Name": "sg_uf_prova", "Type": "string"}, {"Name": "media_mt", "Type": "double"},
              {"Name": "n", "Type": "bigint"}],
    "media_por_uf": [{"Name": "sg_uf_prova", "Type": "string"},
                     {"Name": "media_mt", "Type": "double"}, {"Name": "n", "Type": "bigint"}],
    "presenca": [{"Name": "tp_presenca_mt", "Type": "int"},
                 {"Name": "candidates", "Type": "bigint"}],
}
CTAS_PATTERN = re.compile(
    r'CREATE TABLE "(?P<database>[^"]+)"\."(?P<table>[^"]+)" WITH \(format = \'PARQUET\', '
    r"write_compression = 'ZSTD', external_location = '(?P<location>[^']+)'\) AS\n"
    r"(?P<select>.*)\Z", re.DOTALL)
COUNT_PATTERN = re.compile(
    r'SELECT COUNT\(\*\) AS rows FROM "(?P<database>[^"]+)"\."(?P<table>[^"]+)"\Z')
# What the CTAS runs: the saved query, less its small groups (jobs/gold/privacy.py).
PUBLISHED_PATTERN = re.compile(
    r"SELECT \* FROM \(\n(?P<select>.*)\n\) AS answers\nWHERE (?P<condition>[^\n]*)\Z",
    re.DOTALL)
# The count of the groups a query withheld: the saved query once more, counted.
WITHHELD_PATTERN = re.compile(
    r"SELECT COUNT\(\*\) AS groups, (?P<counts>[^\n]*)\nFROM \(\n(?P<select>.*)\n\) AS "
    r"answers\Z", re.DOTALL)
