"""The real ENEM 2019 rows kept beside the project, never in it (INEP's microdata of AC, RR and
part of PA, in `../shared/enem2019/` or the folder ENEM2019_DIR names), and the 2022
re-release's layout derived from original-layout rows. The tests and bench/ read them; where the
folder is absent they skip, with the reason, or run on synthetic rows.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from jobs.enem.schema import LAYOUTS_BY_NAME, age_band

SHARED = Path(os.environ.get("ENEM2019_DIR",
                             Path(__file__).resolve().parent.parent.parent / "shared" / "enem2019"))
REAL_PARTS = ("microdados_enem_2019_pa_head220.csv.gz", "microdados_enem_2019_rr.csv.gz",
              "microdados_enem_2019_ac.csv.gz")
REAL_ROWS = 220 + 12_947 + 38_229


def real_rows_csv() -> bytes:
    """The real rows of ../shared/enem2019 as one MICRODADOS_ENEM_2019.csv (one header)."""
    chunks = []
    for index, part in enumerate(REAL_PARTS):
        lines = gzip.decompress((SHARED / part).read_bytes()).split(b"\n")
        chunks.extend(line for line in (lines if index == 0 else lines[1:]) if line)
    return b"\n".join(chunks) + b"\n"


def real_rows_available() -> bool:
    return all((SHARED / part).exists() for part in REAL_PARTS)


def to_lgpd(original_csv: bytes) -> bytes:
    """Derive the 76-column re-release from original-layout rows (age → age band)."""
    original = LAYOUTS_BY_NAME["microdados-original"].header
    lgpd = LAYOUTS_BY_NAME["microdados-lgpd"].header
    lines = original_csv.decode("iso-8859-1").rstrip("\n").split("\n")
    out = [";".join(lgpd)]
    for line in lines[1:]:
        row = dict(zip(original, line.split(";"), strict=True))
        row["TP_FAIXA_ETARIA"] = str(age_band(int(row["NU_IDADE"]))) if row["NU_IDADE"] else ""
        out.append(";".join(row[name] for name in lgpd))
    return ("\n".join(out) + "\n").encode("iso-8859-1")

