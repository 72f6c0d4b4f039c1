"""Synthetic ENEM 2019 archives, written the way INEP packages the real download.

    write_zip(Path("enem.zip"), rows=100_000, layout="original", seed=7)

The zip holds `DADOS/MICRODADOS_ENEM_2019.csv` (136 columns for the original 2020 release, 76 for
the 2022 LGPD re-release; columns from `schema.py`), `DADOS/ITENS_PROVA_2019.csv` and small
`DICIONÁRIO/` and `LEIA-ME E DOCUMENTOS TÉCNICOS/` members. Like INEP's Windows-made archive,
member names are stored in code page 850 without the UTF-8 flag; the CSVs are latin-1, `;`,
LF, unquoted, with `.` decimals, whole numbers without `.0` and missing values as empty fields.
"""

from __future__ import annotations

import os
import time
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from jobs.enem.dictionary import DICTIONARY
from jobs.enem.schema import AREAS, LAYOUTS_BY_NAME, Layout
from jobs.errors import UsageError, UserError
from lake.synth.booklets import _ADAPTED, tests
from lake.synth.draws import DEFAULT_SEED, ENCODING, _field
from lake.synth.rows import chunk_csv

LAYOUTS = {"original": ("microdados-original", "itens-original"),
           "lgpd": ("microdados-lgpd", "itens-lgpd")}
DEFAULT_CHUNK_ROWS = 8192  # measured fastest here, and about 200 MB resident
COMPRESS_LEVEL = 3  # Deflate: level 6 is 4x slower on these rows for a 13% smaller zip
MICRODADOS_MEMBER = "DADOS/MICRODADOS_ENEM_2019.csv"
ITENS_MEMBER = "DADOS/ITENS_PROVA_2019.csv"
DICTIONARY_MEMBER = "DICIONÁRIO/Dicionário_Microdados_Enem_2019.csv"
README_MEMBER = "LEIA-ME E DOCUMENTOS TÉCNICOS/Leia_Me_Enem_2019.txt"
MEMBER_DATE = (2021, 3, 8, 10, 0, 0)  # a fixed timestamp keeps the zip byte-for-byte repeatable


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
        f"Gerado por lake/synth/archive.py: {rows} linhas, leiaute '{layout}', semente {seed}.\n"
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


def check_layout(layout: str) -> str:
    """`layout` if it is one of the two releases; UsageError naming them otherwise."""
    if layout not in LAYOUTS:
        raise UsageError(f"--layout {layout!r} is unknown: use {' or '.join(LAYOUTS)}")
    return layout


def check_request(out: Path, rows: int, layout: str) -> None:
    """UsageError naming the option to fix, unless `rows` of `layout` can be written to `out`."""
    check_layout(layout)
    if rows < 1:
        raise UsageError(f"--rows {rows}: give at least 1 row")
    folder = out.parent
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder; give a file name such as {out}/enem.zip")
    if not folder.is_dir():
        raise UsageError(f"--out {out}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: folder {folder} is not writable")


def synthesize(out: Path, rows: int, layout: str, seed: int = DEFAULT_SEED,
               progress: Callable[[int], None] | None = None) -> Result:
    """`write_zip` for a person: a bad request is a UsageError, a failed write a UserError."""
    check_request(out, rows, layout)
    try:
        return write_zip(out, rows, layout, seed, progress=progress)
    except OSError as error:
        raise UserError(f"cannot write {out}: {error.strerror or error}") from None
