"""Read a ZIP archive front to back from a stream of byte chunks, one member at a time.

Why not `zipfile` or `stream-unzip`: `zipfile` needs a seekable file and cannot read Deflate64
(method 9), which INEP's Windows-made archives use for large members; `stream-unzip` inflates
Deflate64 in pure Python at about 2 MB/s. This reader walks the local headers in order, inflates
Deflate with zlib and Deflate64 with the C decoder of `zipfile-deflate64` (about 500 and 440 MB/s
here, memory flat; `inflate64` was as fast but kept every byte fed to it, see bench/README.md),
and checks every member's CRC-32 and sizes, then the central directory against what it read, so a
truncated or corrupt archive is an error, never a short file.

Supports ZIP64, data descriptors (bit 3), stored members, and member names in code page 850
without the UTF-8 flag (what Windows writes) as well as UTF-8 names.
"""

from __future__ import annotations

import struct
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

LOCAL_HEADER = b"PK\x03\x04"
CENTRAL_HEADER = b"PK\x01\x02"
DATA_DESCRIPTOR = b"PK\x07\x08"
END_OF_CENTRAL_DIRECTORY = b"PK\x05\x06"

STORED, DEFLATE, DEFLATE64 = 0, 8, 9
METHODS = {STORED: "stored", DEFLATE: "Deflate", DEFLATE64: "Deflate64"}
FLAG_ENCRYPTED, FLAG_DESCRIPTOR, FLAG_UTF8 = 0x1, 0x8, 0x800
ZIP64_EXTRA = 0x0001
# Compressed bytes per decoder call: small enough to keep each call's output around 1 MB.
FEED = 256 * 1024
# ZIP64 end record + locator + end record + the longest comment.
MAX_END_RECORDS = 56 + 20 + 22 + 65535


class ZipError(Exception):
    """The archive is not a ZIP, or is truncated or corrupt. The message is one sentence."""


@dataclass
class Member:
    """One archive member while it is being read. Iterate `chunks()` once for its bytes."""

    name: str
    method: int
    compressed_size: int | None
    size: int | None
    crc: int | None
    _reader: ZipReader = field(repr=False)
    read_size: int = 0
    read_crc: int = 0
    done: bool = False

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")

    def chunks(self) -> Iterator[bytes]:
        """The member's uncompressed bytes, verified against its CRC-32 and size at the end."""
        return self._reader._member_chunks(self)


class _Buffered:
    """Pull-based reader over an iterator of chunks, with exact reads and push-back.

    Chunks are kept as memoryviews and handed out without copying: the archive's bytes pass
    through here once, so a copy per read would cost as much as a second pass.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._views: deque[memoryview] = deque()
        self._size = 0
        self.position = 0

    def _fill(self) -> bool:
        for chunk in self._chunks:
            if chunk:
                self._views.append(memoryview(chunk))
                self._size += len(chunk)
                return True
        return False

    def peek(self, n: int) -> bytes:
        while self._size < n and self._fill():
            pass
        head = bytearray()
        for view in self._views:
            if len(head) >= n:
                break
            head += view[:n - len(head)]
        return bytes(head)

    def read_exact(self, n: int, what: str) -> bytes:
        if len(self.peek(n)) < n:
            raise ZipError(f"the archive is truncated: it ends inside {what}")
        pieces = []
        while n:
            piece = self.read_some(n)
            pieces.append(piece)
            n -= len(piece)
        return b"".join(pieces)

    def read_some(self, limit: int) -> memoryview | bytes:
        """Up to `limit` bytes (at least one), or b"" at the end of the stream."""
        if not self._views and not self._fill():
            return b""
        view = self._views[0]
        if len(view) <= limit:
            self._views.popleft()
        else:
            self._views[0] = view[limit:]
            view = view[:limit]
        self._size -= len(view)
        self.position += len(view)
        return view

    def unread(self, data: bytes | memoryview) -> None:
        if data:
            self._views.appendleft(memoryview(data))
            self._size += len(data)
            self.position -= len(data)


def decode_name(raw: bytes, flags: int) -> str:
    """UTF-8 when the archive says so (bit 11), else code page 850, the ZIP default."""
    return raw.decode("utf-8" if flags & FLAG_UTF8 else "cp850")


def _zip64_sizes(extra: bytes, size: int, compressed: int) -> tuple[int, int, bool]:
    """Apply the ZIP64 extra field of a local header: (size, compressed size, had it)."""
    at = 0
    while at + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4:at + 4 + length]
        if tag == ZIP64_EXTRA:
            values = list(struct.unpack_from(f"<{len(body) // 8}Q", body))
            if size == 0xFFFFFFFF and values:
                size = values.pop(0)
            if compressed == 0xFFFFFFFF and values:
                compressed = values.pop(0)
            return size, compressed, True
        at += 4 + length
    return size, compressed, False


class ZipReader:
    """`for member in ZipReader(chunks): ...` yields members in archive order.

    A member's bytes must be taken (or not) before moving on: moving on skips what is left of
    it, still verifying it. After the last member the central directory is read and compared.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._stream = _Buffered(chunks)
        self._seen: list[Member] = []
        self._current: Member | None = None
        self._zip64_descriptor = False

    def __iter__(self) -> Iterator[Member]:
        head = self._stream.peek(512)
        if head[:4] != LOCAL_HEADER:
            if not head:
                raise ZipError("it is empty (0 bytes)")
            if head[:4] == END_OF_CENTRAL_DIRECTORY:
                raise ZipError("the archive is empty: it has no members")
            page = b"<html" in head.lower() or b"<!doctype" in head.lower()
            hint = ", it looks like an HTML page" if page else ""
            raise ZipError(f"it is not a ZIP archive{hint} (it starts with {head[:16]!r})")
        while True:
            if self._current is not None and not self._current.done:
                for _ in self._member_chunks(self._current):
                    pass
            signature = self._stream.peek(4)
            if signature == LOCAL_HEADER:
                self._current = self._local_header()
                yield self._current
            elif signature == CENTRAL_HEADER:
                self._central_directory()
                return
            elif len(signature) < 4:
                raise ZipError("the archive is truncated: its central directory is missing")
            else:
                raise ZipError(f"the archive is corrupt: unexpected bytes {signature!r} at "
                               f"offset {self._stream.position}")

    def _local_header(self) -> Member:
        header = self._stream.read_exact(30, "a member header")
        (_, _, flags, method, _, _, crc, compressed, size, name_length,
         extra_length) = struct.unpack("<4sHHHHHIIIHH", header)
        raw_name = self._stream.read_exact(name_length, "a member name")
        extra = self._stream.read_exact(extra_length, "a member header")
        name = decode_name(raw_name, flags)
        if flags & FLAG_ENCRYPTED:
            raise ZipError(f"member {name} is encrypted; give an archive without a password")
        if method not in METHODS:
            raise ZipError(f"member {name} uses compression method {method}; only stored, "
                           "Deflate and Deflate64 are supported")
        size, compressed, zip64 = _zip64_sizes(extra, size, compressed)
        self._zip64_descriptor = zip64
        if flags & FLAG_DESCRIPTOR:
            if method == STORED and not compressed:
                raise ZipError(f"member {name} is stored with a data descriptor, which cannot "
                               "be read as a stream")
            # Sizes and CRC follow the data; the local header's may be zero.
            return Member(name, method, compressed or None, size or None, None, self)
        return Member(name, method, compressed, size, crc, self)

    def _member_chunks(self, member: Member) -> Iterator[bytes]:
        if member.done:
            raise ZipError(f"member {member.name} was already read")
        if member.method == STORED:
            inflate = None
        elif member.method == DEFLATE:
            inflate = zlib.decompressobj(-15)
        else:
            from zipfile_deflate64.deflate64 import Deflate64  # C extension, needed only here

            inflate = Deflate64()
        data_start = self._stream.position
        remaining = member.compressed_size
        while not (inflate is not None and inflate.eof) and remaining != 0:
            data = self._stream.read_some(FEED if remaining is None else min(FEED, remaining))
            if not data:
                raise ZipError(f"the archive is truncated: it ends inside member {member.name}")
            if remaining is not None:
                remaining -= len(data)
            try:
                out = bytes(data) if inflate is None else inflate.decompress(data)
            except (zlib.error, ValueError) as error:
                raise ZipError(f"member {member.name} is corrupt ({error})") from None
            if out:
                member.read_size += len(out)
                member.read_crc = zlib.crc32(out, member.read_crc)
            if inflate is not None and inflate.eof:
                if member.method == DEFLATE:
                    unused = inflate.unused_data
                else:
                    unused = self._after_deflate64(member, data, data_start)
                self._stream.unread(unused)
                if remaining is not None:
                    remaining += len(unused)
            if out:
                yield out
        if inflate is not None and not inflate.eof:
            raise ZipError(f"member {member.name} is corrupt: its compressed data ends early")
        if remaining:
            raise ZipError(f"member {member.name} is corrupt: {remaining} compressed bytes "
                           "follow the end of its data")
        self._finish(member)

    def _after_deflate64(self, member: Member, last: bytes, data_start: int) -> bytes:
        """The bytes of `last` that follow the member's Deflate64 data.

        zlib reports them; the Deflate64 decoder does not. With sizes in the local header the
        reader never feeds past the data, so there are none. With a data descriptor, the end is
        where a descriptor begins whose compressed size, CRC and size all match what was read.
        """
        if member.compressed_size is not None:
            return b""
        last = bytes(last)
        last_start = self._stream.position - len(last)
        tail = last + self._stream.peek(28)
        width = 8 if self._zip64_descriptor else 4
        layout = f"<I{'QQ' if width == 8 else 'II'}"
        for at in range(len(last) + 1):
            skip = 4 if tail[at:at + 4] == DATA_DESCRIPTOR else 0
            fields = tail[at + skip:at + skip + 4 + 2 * width]
            if len(fields) < 4 + 2 * width:
                break
            crc, compressed, size = struct.unpack(layout, fields)
            if (compressed == last_start + at - data_start and crc == member.read_crc
                    and size == member.read_size):
                return last[at:]
        raise ZipError(f"member {member.name} is corrupt: no data descriptor matches its data")

    def _finish(self, member: Member) -> None:
        if member.crc is None:  # bit 3: CRC and sizes follow the data
            if self._stream.peek(4) == DATA_DESCRIPTOR:
                self._stream.read_exact(4, "a data descriptor")
            width = 8 if self._zip64_descriptor else 4
            body = self._stream.read_exact(4 + 2 * width, "a data descriptor")
            member.crc, _, size = struct.unpack(f"<I{'QQ' if width == 8 else 'II'}", body)
            member.size = member.size or size
            if size != member.size:
                raise ZipError(f"member {member.name} is corrupt: its sizes disagree")
        if member.read_crc != member.crc:
            raise ZipError(f"member {member.name} is corrupt: CRC-32 {member.read_crc:08x} "
                           f"does not match {member.crc:08x}")
        if member.read_size != member.size:
            raise ZipError(f"member {member.name} is corrupt: {member.read_size} bytes "
                           f"instead of {member.size}")
        member.done = True
        self._seen.append(member)

    def _central_directory(self) -> None:
        entries = []
        while self._stream.peek(4) == CENTRAL_HEADER:
            header = self._stream.read_exact(46, "the central directory")
            (_, _, _, flags, _, _, _, crc, _, _, name_length, extra_length,
             comment_length) = struct.unpack("<4sHHHHHHIIIHHH", header[:34])
            name = decode_name(self._stream.read_exact(name_length, "the central directory"),
                               flags)
            self._stream.read_exact(extra_length + comment_length, "the central directory")
            entries.append((name, crc))
        # What follows the entries is the end records; the archive must reach the last one.
        rest = bytearray()
        while len(rest) < MAX_END_RECORDS:
            data = self._stream.read_some(FEED)
            if not data:
                break
            rest += data
        end = rest.rfind(END_OF_CENTRAL_DIRECTORY)
        if end < 0 or len(rest) < end + 22:
            raise ZipError("the archive is truncated: its end record is missing")
        seen = [(m.name, m.crc) for m in self._seen]
        if entries != seen:
            raise ZipError(f"the archive is corrupt: its directory lists {len(entries)} "
                           f"members but {len(seen)} were read")
