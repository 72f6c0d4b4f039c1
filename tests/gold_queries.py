"""Saved queries the gold tests run, the columns a fake CTAS of each selects, and the CTAS text
the gold job sends."""

from __future__ import annotations

import re

MEDIA = """-- Média de matemática por UF da prova, presentes.
-- Population: every candidate present on day 2.
SELECT sg_uf_prova, avg(nu_nota_mt) AS media_mt, count(*) AS n
FROM microdados_enem_2019
WHERE tp_presenca_mt = 1
GROUP BY sg_uf_prova
ORDER BY sg_uf_prova;
"""
PRESENCA = "SELECT tp_presenca_mt, count(*) AS n FROM microdados_enem_2019 GROUP BY 1\n"
COLUMNS = {  # what each simulated CTAS "selects"
    "media": [{"Name": "sg_uf_prova", "Type": "string"}, {"Name": "media_mt", "Type": "double"},
              {"Name": "n", "Type": "bigint"}],
    "media_por_uf": [{"Name": "sg_uf_prova", "Type": "string"},
                     {"Name": "media_mt", "Type": "double"}],
    "presenca": [{"Name": "tp_presenca_mt", "Type": "int"}, {"Name": "n", "Type": "bigint"}],
}
CTAS_PATTERN = re.compile(
    r'CREATE TABLE "(?P<database>[^"]+)"\."(?P<table>[^"]+)" WITH \(format = \'PARQUET\', '
    r"write_compression = 'ZSTD', external_location = '(?P<location>[^']+)'\) AS\n"
    r"(?P<select>.*)\Z", re.DOTALL)
COUNT_PATTERN = re.compile(
    r'SELECT COUNT\(\*\) AS rows FROM "(?P<database>[^"]+)"\."(?P<table>[^"]+)"\Z')
