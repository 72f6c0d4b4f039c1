"""Build ZIP archives byte by byte, in the variants real archives come in.

Python's `zipfile` cannot write Deflate64, data descriptors on demand or cp850 names with every
option, so the tests assemble archives here. Deflate64 streams come from 7-Zip (Debian's
`p7zip-full`, installed by `.ci/run`): 7-Zip compresses, this module takes its raw stream.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

STORED, DEFLATE, DEFLATE64 = 0, 8, 9


def seven_zip() -> str | None:
    return shutil.which("7z") or shutil.which("7za")


def deflate64(data: bytes) -> bytes:
    """A raw Deflate64 stream of `data`, made by 7-Zip."""
    tool = seven_zip()
    if tool is None:
        raise RuntimeError("7-Zip is missing: apt-get install -y p7zip-full (.ci/run does)")
    with tempfile.TemporaryDirectory() as folder:
        source, archive = Path(folder, "member"), Path(folder, "a.zip")
        source.write_bytes(data)
        subprocess.run([tool, "a", "-tzip", "-mm=Deflate64", "-mx=1", str(archive), str(source)],
                       check=True, capture_output=True)
        blob = archive.read_bytes()
        info = zipfile.ZipFile(archive).infolist()[0]
        assert info.compress_type == DEFLATE64
        names, extra = struct.unpack_from("<HH", blob, info.header_offset + 26)
        start = info.header_offset + 30 + names + extra
        return blob[start:start + info.compress_size]


def compress(data: bytes, method: int) -> bytes:
    if method == STORED:
        return data
    if method == DEFLATE:
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        return packer.compress(data) + packer.flush()
    return deflate64(data)


@dataclass
class Entry:
    name: str
    data: bytes
    method: int = DEFLATE
    descriptor: bool = False  # sizes and CRC after the data (flag bit 3)
    zip64: bool = False  # sizes in a ZIP64 extra field
    utf8: bool = False  # name in UTF-8 with flag bit 11; else code page 850
    compressed: bytes | None = None  # precomputed stream, e.g. a Deflate64 one


def build(entries: list[Entry]) -> bytes:
    out = bytearray()
    central = bytearray()
    for entry in entries:
        body = entry.compressed if entry.compressed is not None else compress(entry.data,
                                                                             entry.method)
        crc, size, csize = zlib.crc32(entry.data), len(entry.data), len(body)
        name = entry.name.encode("utf-8" if entry.utf8 else "cp850")
        flags = (0x8 if entry.descriptor else 0) | (0x800 if entry.utf8 else 0)
        offset = len(out)
        extra = struct.pack("<HHQQ", 1, 16, size, csize) if entry.zip64 else b""
        if entry.descriptor:
            head_crc, head_size, head_csize = 0, 0, 0
        else:
            head_crc, head_size, head_csize = crc, size, csize
        if entry.zip64:
            head_size = head_csize = 0xFFFFFFFF
            if entry.descriptor:
                extra = struct.pack("<HHQQ", 1, 16, 0, 0)
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45 if entry.zip64 else 20, flags,
                           entry.method, 0, 0x21, head_crc, head_csize, head_size, len(name),
                           len(extra))
        out += name + extra + body
        if entry.descriptor:
            layout = "<4sIQQ" if entry.zip64 else "<4sIII"
            out += struct.pack(layout, b"PK\x07\x08", crc, csize, size)
        cextra = struct.pack("<HHQQQ", 1, 24, size, csize, offset) if entry.zip64 else b""
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 45, 45 if entry.zip64 else 20, flags,
            entry.method, 0, 0x21, crc, 0xFFFFFFFF if entry.zip64 else csize,
            0xFFFFFFFF if entry.zip64 else size, len(name), len(cextra), 0, 0, 0, 0,
            0xFFFFFFFF if entry.zip64 else offset)
        central += name + cextra
    start = len(out)
    out += central
    if any(entry.zip64 for entry in entries):
        zip64_end = len(out)
        out += struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, len(entries),
                           len(entries), len(central), start)
        out += struct.pack("<4sIQI", b"PK\x06\x07", 0, zip64_end, 1)
    out += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                       len(central), start, 0)
    return bytes(out)
