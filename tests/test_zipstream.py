"""The streaming ZIP reader on every layout real archives use, fed in awkward chunk sizes."""

from __future__ import annotations

import itertools
import struct

import pytest

from jobs.ingest.zipstream import ZipError, ZipReader
from tests.zip_builder import DEFLATE, DEFLATE64, STORED, Entry, build, seven_zip

CSV = b"NU_INSCRICAO;NO_MUNICIPIO\n" + b"".join(b"%d;S\xe3o Paulo\n" % i for i in range(30_000))


def read_all(blob: bytes, chunk: int) -> dict[str, bytes]:
    pieces = (blob[i:i + chunk] for i in range(0, len(blob), chunk))
    return {member.name: b"".join(member.chunks()) for member in ZipReader(pieces)}


def needs_7z(method: int) -> None:
    if method == DEFLATE64 and seven_zip() is None:
        pytest.skip("7-Zip is missing (apt-get install -y p7zip-full; .ci/run installs it)")


LAYOUTS = [(method, descriptor, zip64)
           for method, descriptor, zip64 in itertools.product(
               (STORED, DEFLATE, DEFLATE64), (False, True), (False, True))
           if not (method == STORED and descriptor)]


@pytest.mark.parametrize(("method", "descriptor", "zip64"), LAYOUTS)
@pytest.mark.parametrize("chunk", [7, 65_536, 10_000_000])
def test_every_layout_reads_back_exactly(method: int, descriptor: bool, zip64: bool,
                                         chunk: int) -> None:
    needs_7z(method)
    if chunk == 7 and method == DEFLATE64:
        chunk = 4099  # still unaligned; 7-byte feeds make the C decoder's test take minutes
    blob = build([
        Entry("DICIONÁRIO/leia.txt", b"ol\xe1\n", method=DEFLATE),
        Entry("DADOS/MICRODADOS_ENEM_2019.csv", CSV, method, descriptor, zip64),
        Entry("PROVAS E GABARITOS/prova.pdf", b"%PDF" * 500, method, descriptor, zip64),
    ])
    assert read_all(blob, chunk) == {
        "DICIONÁRIO/leia.txt": b"ol\xe1\n",
        "DADOS/MICRODADOS_ENEM_2019.csv": CSV,
        "PROVAS E GABARITOS/prova.pdf": b"%PDF" * 500,
    }


def test_names_are_cp850_unless_flagged_utf8() -> None:
    blob = build([Entry("DICIONÁRIO/Dicionário.csv", b"a"),
                  Entry("LEIA-ME E DOCUMENTOS TÉCNICOS/ç.txt", b"b", utf8=True)])
    assert list(read_all(blob, 1024)) == ["DICIONÁRIO/Dicionário.csv",
                                         "LEIA-ME E DOCUMENTOS TÉCNICOS/ç.txt"]
    # Á is 0xB5 in code page 850 (cp437, zipfile's default, would read it as "╡").
    assert b"DICION\xb5RIO" in blob


def test_members_not_taken_are_still_verified() -> None:
    blob = bytearray(build([Entry("a.pdf", b"x" * 10_000, STORED), Entry("b.csv", b"h\n1\n")]))
    blob[200] ^= 0xFF  # inside a.pdf's stored bytes
    with pytest.raises(ZipError, match=r"member a.pdf is corrupt: CRC-32 [0-9a-f]{8} does not "
                                       r"match [0-9a-f]{8}"):
        for _ in ZipReader([bytes(blob)]):
            pass


@pytest.mark.parametrize(("cut", "message"), [
    (10, "the archive is truncated: it ends inside a member header"),
    (2_000, "the archive is truncated: it ends inside member DADOS/x.csv"),
    (-40, "the archive is truncated: it ends inside the central directory"),
    (-10, "the archive is truncated: its end record is missing"),
])
def test_truncation_anywhere_is_an_error(cut: int, message: str) -> None:
    blob = build([Entry("DADOS/x.csv", CSV)])
    with pytest.raises(ZipError, match=message):
        read_all(blob[:cut], 4096)


def test_a_directory_that_disagrees_with_the_members_is_corrupt() -> None:
    blob = build([Entry("a.csv", b"1\n"), Entry("b.csv", b"2\n")])
    with pytest.raises(ZipError, match="its directory lists 2 members but 1 were read"):
        read_all(build([Entry("a.csv", b"1\n")])[:-22 - 46 - 5] + blob[blob.index(
            b"PK\x01\x02"):], 4096)


@pytest.mark.parametrize(("blob", "message"), [
    (b"", "it is empty"),
    (b"<!DOCTYPE html><html><body>404</body></html>", "it looks like an HTML page"),
    (b"Rar!\x1a\x07\x00", r"it is not a ZIP archive \(it starts with b'Rar!"),
    (struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0, 0, 0, 0, 0), "has no members"),
])
def test_not_a_zip(blob: bytes, message: str) -> None:
    with pytest.raises(ZipError, match=message):
        read_all(blob, 4096)


def test_encrypted_and_unknown_methods_are_named() -> None:
    blob = bytearray(build([Entry("DADOS/x.csv", b"1\n", STORED)]))
    blob[6] |= 0x1  # encrypted flag
    with pytest.raises(ZipError, match="member DADOS/x.csv is encrypted"):
        read_all(bytes(blob), 4096)
    blob = bytearray(build([Entry("DADOS/x.csv", b"1\n", STORED)]))
    blob[8] = 14  # LZMA
    with pytest.raises(ZipError, match="uses compression method 14; only stored, Deflate and "
                                       "Deflate64 are supported"):
        read_all(bytes(blob), 4096)


def test_a_corrupt_deflate64_member_is_an_error() -> None:
    needs_7z(DEFLATE64)
    blob = bytearray(build([Entry("DADOS/x.csv", CSV, DEFLATE64)]))
    blob[len(blob) // 2] ^= 0x55
    with pytest.raises(ZipError, match="member DADOS/x.csv is corrupt"):
        read_all(bytes(blob), 65_536)
