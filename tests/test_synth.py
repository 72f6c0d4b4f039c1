"""The synthetic ENEM generator: INEP's packaging, the layouts' headers and CSV format, seeds."""

from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path

import pytest

from jobs.enem.schema import AREAS, LAYOUTS_BY_NAME
from lake.synth import archive as synth
from lake.synth import model, profile
from tests.synth_data import (
    SEED,
    STAT_ROWS,
    member,
)

UTF8_FLAG = 0x800


# --- packaging ---------------------------------------------------------------------------------

def central_directory_names(path: Path) -> list[tuple[bytes, int]]:
    """(raw name bytes, general purpose flags) of every central directory entry."""
    data = path.read_bytes()
    end = data.rindex(b"PK\x05\x06")  # end of central directory record
    entries_count, _, at = struct.unpack_from("<HII", data, end + 10)
    assert at != 0xFFFFFFFF, "a small test archive needs no ZIP64 end record"
    entries = []
    for _ in range(entries_count):
        assert data[at:at + 4] == b"PK\x01\x02"
        flags = struct.unpack_from("<H", data, at + 8)[0]
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, at + 28)
        entries.append((data[at + 46:at + 46 + name_length], flags))
        at += 46 + name_length + extra_length + comment_length
    return entries


def local_extra_ids(path: Path, info: zipfile.ZipInfo) -> list[int]:
    """Header ids of the extra fields in a member's local file header."""
    with path.open("rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
        assert header[:4] == b"PK\x03\x04"
        name_length, extra_length = struct.unpack_from("<HH", header, 26)
        f.seek(name_length, 1)
        extra = f.read(extra_length)
    ids, at = [], 0
    while at + 4 <= len(extra):
        header_id, size = struct.unpack_from("<HH", extra, at)
        ids.append(header_id)
        at += 4 + size
    return ids


def test_zip_layout_like_inep(original_zip: Path) -> None:
    with zipfile.ZipFile(original_zip, metadata_encoding="cp850") as archive:
        infos = {info.filename: info for info in archive.infolist()}
        assert archive.testzip() is None
    assert set(infos) == {synth.MICRODADOS_MEMBER, synth.ITENS_MEMBER, synth.DICTIONARY_MEMBER,
                          synth.README_MEMBER}
    assert any(name.startswith("DICIONÁRIO/") for name in infos)
    assert any(name.startswith("LEIA-ME E DOCUMENTOS TÉCNICOS/") for name in infos)
    assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in infos.values())
    assert 1 in local_extra_ids(original_zip, infos[synth.MICRODADOS_MEMBER]), \
        "the big member's local header carries a ZIP64 extra field"


def test_member_names_are_cp850_without_utf8_flag(original_zip: Path) -> None:
    entries = central_directory_names(original_zip)
    assert len(entries) == 4
    names = []
    for raw, flags in entries:
        assert not flags & UTF8_FLAG, raw
        names.append(raw.decode("cp850"))
    assert "DICIONÁRIO/Dicionário_Microdados_Enem_2019.csv" in names
    assert b"DICION\xb5RIO/" in b"".join(raw for raw, _ in entries)  # 0xB5 is Á in cp850
    with zipfile.ZipFile(original_zip) as archive:  # local headers agree (no UTF-8 flag either)
        for info in archive.infolist():
            assert not info.flag_bits & UTF8_FLAG


@pytest.mark.parametrize("layout", ["original", "lgpd"])
def test_headers_are_the_schemas(layout: str, original_zip: Path, lgpd_zip: Path) -> None:
    path = original_zip if layout == "original" else lgpd_zip
    micro = member(path, synth.MICRODADOS_MEMBER).split(b"\n", 1)[0].decode("latin-1")
    itens = member(path, synth.ITENS_MEMBER).split(b"\n", 1)[0].decode("latin-1")
    assert tuple(micro.split(";")) == LAYOUTS_BY_NAME[f"microdados-{layout}"].header
    assert tuple(itens.split(";")) == LAYOUTS_BY_NAME[f"itens-{layout}"].header
    assert len(micro.split(";")) == (136 if layout == "original" else 76)


def test_csv_format(original_zip: Path) -> None:
    data = member(original_zip, synth.MICRODADOS_MEMBER)
    assert b"\r" not in data and b'"' not in data
    assert data.endswith(b"\n") and data.count(b"\n") == STAT_ROWS + 1
    header, *lines = data.decode("latin-1").splitlines()
    names = header.split(";")
    assert all(line.count(";") == len(names) - 1 for line in lines)
    scores = [names.index(f"NU_NOTA_{a}") for a in AREAS]
    found = [line.split(";")[i] for line in lines for i in scores]
    one_decimal = re.compile(r"(0|[1-9][0-9]{0,3})(\.[1-9])?")  # 466, 472.9, 0; never 466.0
    assert all(one_decimal.fullmatch(value) for value in found if value)
    assert "0" in found and "" in found


def test_accents_are_latin1(original_zip: Path) -> None:
    data = member(original_zip, synth.MICRODADOS_MEMBER)
    text = data.decode("latin-1")
    assert "Santarém" in text and "Mãe do Rio" in text
    assert "Ã©" not in text and "Ã£" not in text, "UTF-8 bytes read as latin-1 (mojibake)"
    assert "Santarém".encode("latin-1") in data and "Santarém".encode() not in data
    names = {name for found in profile.MUNICIPALITIES.values() for _, name, _ in found}
    assert {"Santarém", "Mãe do Rio"} <= names
    assert "Mãe do Rio".encode("latin-1") in model.model().geography.names.to_pylist()


def test_seed_makes_bytes_repeatable(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a.zip", tmp_path / "b.zip", tmp_path / "c.zip"
    synth.write_zip(first, 3_000, "original", seed=5)
    synth.write_zip(second, 3_000, "original", seed=5)
    synth.write_zip(other, 3_000, "original", seed=6)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()


@pytest.mark.parametrize("rows, chunk_rows", [(5_000, 999), (5_000, 4096), (40, 1)])
def test_chunk_size_does_not_change_the_rows(rows: int, chunk_rows: int) -> None:
    whole = b"".join(synth.microdata_chunks(rows, "original", SEED, chunk_rows=rows))
    assert b"".join(synth.microdata_chunks(rows, "original", SEED, chunk_rows)) == whole


def age_band(age: int) -> int:
    """TP_FAIXA_ETARIA as INEP defines it."""
    if age < 17:
        return 1
    if age <= 25:
        return age - 15  # 2..10
    if age <= 30:
        return 11
    if age > 70:
        return 20
    return 12 + (age - 31) // 5  # 31-35 .. 66-70: 12..19


def test_lgpd_is_the_original_without_the_dropped_columns() -> None:
    original = b"".join(synth.microdata_chunks(2_000, "original", SEED)).decode("latin-1")
    lgpd = b"".join(synth.microdata_chunks(2_000, "lgpd", SEED)).decode("latin-1")
    original_rows = [dict(zip(original.splitlines()[0].split(";"), line.split(";"), strict=True))
                     for line in original.splitlines()]
    lgpd_rows = [dict(zip(lgpd.splitlines()[0].split(";"), line.split(";"), strict=True))
                 for line in lgpd.splitlines()]
    for before, after in zip(original_rows[1:], lgpd_rows[1:], strict=True):
        assert {k: v for k, v in after.items() if k != "TP_FAIXA_ETARIA"} == \
            {k: before[k] for k in after if k != "TP_FAIXA_ETARIA"}
        assert int(after["TP_FAIXA_ETARIA"]) == age_band(int(before["NU_IDADE"]))
