"""Bounded little-endian readers over bytes already in memory and over an open file.

The lowest byte-reading level of ``simtool.apk``: every read checks the length it is about to
take against the bytes actually available, so a 4 GiB length field is rejected instead of being
allocated, and every failure is one :class:`ApkError` naming the file, the offset and the field.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from .errors import ApkError


#: Signers, signatures, digests, certificates, attributes of an APK Signature Scheme block:
#: real ones hold a handful (v2 allows 10 signers; there are ~10 signature algorithms).
MAX_SEQUENCE = 64


@dataclass
class ByteReader:
    """Reads fields out of ``data`` from ``pos``; ``base`` is ``data``'s offset in the file (for
    error messages) and ``path`` names the file. Raises ApkError on any short read."""

    data: bytes | memoryview
    path: str
    base: int = 0
    pos: int = 0

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def fail(self, what: str) -> ApkError:
        return ApkError(self.path, what, self.base + self.pos)

    def take(self, n: int, what: str) -> bytes:
        """The next ``n`` bytes; raises ApkError when fewer remain (``what`` names the field)."""
        if n < 0 or n > self.remaining():
            raise self.fail(f"{what}: length {n} exceeds the {self.remaining()} bytes available")
        out = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return out

    def u16(self, what: str) -> int:
        return struct.unpack("<H", self.take(2, what))[0]

    def u32(self, what: str) -> int:
        return struct.unpack("<I", self.take(4, what))[0]

    def u64(self, what: str) -> int:
        return struct.unpack("<Q", self.take(8, what))[0]

    def prefixed(self, what: str) -> ByteReader:
        """A sub-reader over a ``u32 length``-prefixed value (the APK Signature Scheme framing)."""
        length = self.u32(f"{what} length")
        start = self.base + self.pos
        return ByteReader(self.take(length, what), self.path, start)

    def prefixed_bytes(self, what: str) -> bytes:
        return bytes(self.prefixed(what).data)

    def sequence(self, what: str, limit: int = MAX_SEQUENCE) -> list[ByteReader]:
        """The items of a ``u32 length``-prefixed sequence of ``u32 length``-prefixed items;
        more than ``limit`` of them is an ApkError (read one by one, so a sequence of two
        million empty items costs nothing before it is refused)."""
        outer = self.prefixed(what)
        items: list[ByteReader] = []
        while outer.remaining():
            if len(items) == limit:
                raise outer.fail(f"{what}: more than {limit} items")
            items.append(outer.prefixed(f"{what} item #{len(items) + 1}"))
        return items


class FileSource:
    """Random access to a file with every read bounded by the file's size.

    Holds only the file handle; ``read_at`` returns exactly ``n`` bytes or raises ApkError.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self._fh = open(path, "rb")  # noqa: SIM115 - closed by close()/context manager
            self.size = os.fstat(self._fh.fileno()).st_size
        except OSError as exc:
            raise ApkError(path, f"cannot open: {exc.strerror or exc}") from None

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._fh.close()

    def read_at(self, offset: int, n: int, what: str) -> bytes:
        """Exactly ``n`` bytes at ``offset``; raises ApkError past the end or on an I/O error."""
        if offset < 0 or n < 0 or offset + n > self.size:
            raise ApkError(self.path, f"{what}: {n} bytes at {offset} run past the end of the "
                           f"{self.size}-byte file", offset if offset >= 0 else None)
        try:
            data = os.pread(self._fh.fileno(), n, offset)
        except OSError as exc:
            raise ApkError(self.path, f"{what}: read failed: {exc.strerror or exc}", offset) from None
        if len(data) != n:
            raise ApkError(self.path, f"{what}: file shrank while reading", offset)
        return data

    def reader_at(self, offset: int, n: int, what: str) -> ByteReader:
        return ByteReader(self.read_at(offset, n, what), self.path, offset)
