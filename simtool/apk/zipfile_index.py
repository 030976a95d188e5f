"""The ZIP structure an APK verifier needs: EOCD, central directory, entries' data streamed.

Layout of the end of an APK (offsets grow downwards)::

    +------------------------------+ 0
    | local file headers + data    |
    +------------------------------+ signing_block_offset (== cd_offset when unsigned)
    | APK Signing Block (optional) |
    +------------------------------+ cd_offset
    | central directory            |
    +------------------------------+ cd_offset + cd_size == eocd_offset (nothing in between)
    | EOCD (22 bytes + comment)    |
    +------------------------------+ file size

Only what is needed is read: the EOCD from the last 64 KiB, the central directory, and an
entry's data streamed through a bounded inflater. ZIP64 is rejected (Android's APK parsers do
not accept it either). Every inconsistency raises :class:`ApkError`.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from .bytereader import ByteReader, FileSource
from .errors import ApkError

EOCD_SIG = 0x06054B50
CD_SIG = 0x02014B50
LFH_SIG = 0x04034B50
ZIP64_LOCATOR_SIG = 0x07064B50
EOCD_MIN = 22
MAX_COMMENT = 0xFFFF
STREAM_CHUNK = 1 << 20
INFLATE_STEP = 1 << 20  # the most one inflate step may produce
# 65535 records of 46 bytes + a 255-byte name + 64 bytes of extra is under 24 MiB; a central
# directory claiming more is refused rather than read into memory.
MAX_CD = 32 << 20


@dataclass(frozen=True)
class ZipEntry:
    """One central-directory record: what is needed to find and inflate the entry's data."""

    name: str
    method: int
    flags: int
    crc32: int
    compressed_size: int
    uncompressed_size: int
    local_header_offset: int


@dataclass(frozen=True)
class ZipSections:
    """Where the central directory and the EOCD are."""

    cd_offset: int
    cd_size: int
    cd_entries: int
    eocd_offset: int
    eocd: bytes  # the whole EOCD record, comment included


def find_zip_sections(src: FileSource) -> ZipSections:
    """Locate the EOCD (the last record whose comment runs exactly to the end of the file) and
    check the central directory lies right before it. Raises ApkError."""
    if src.size < EOCD_MIN:
        raise ApkError(src.path, f"not a ZIP archive: {src.size} bytes is too short for an EOCD")
    tail_len = min(src.size, EOCD_MIN + MAX_COMMENT)
    tail_start = src.size - tail_len
    tail = src.read_at(tail_start, tail_len, "end of central directory")
    eocd_pos = -1
    for pos in range(tail_len - EOCD_MIN, -1, -1):
        if tail[pos : pos + 4] == b"PK\x05\x06":
            comment_len = struct.unpack_from("<H", tail, pos + 20)[0]
            if pos + EOCD_MIN + comment_len == tail_len:
                eocd_pos = pos
                break
    if eocd_pos < 0:
        raise ApkError(src.path, "not a ZIP archive: no end-of-central-directory record")
    eocd_offset = tail_start + eocd_pos
    eocd = tail[eocd_pos:]
    r = ByteReader(eocd, src.path, eocd_offset, 4)
    disk, cd_disk = r.u16("EOCD disk number"), r.u16("EOCD central directory disk")
    entries_here, entries = r.u16("EOCD entries on disk"), r.u16("EOCD total entries")
    cd_size, cd_offset = r.u32("EOCD central directory size"), r.u32("EOCD central directory offset")
    if eocd_offset >= 20 and src.read_at(eocd_offset - 20, 4, "ZIP64 locator") == struct.pack(
        "<I", ZIP64_LOCATOR_SIG
    ):
        raise ApkError(src.path, "ZIP64 archives are not supported (Android rejects them in APKs)",
                       eocd_offset - 20)
    if cd_offset == 0xFFFFFFFF or cd_size == 0xFFFFFFFF or entries == 0xFFFF and cd_size == 0:
        raise ApkError(src.path, "ZIP64 archives are not supported", eocd_offset)
    if disk != 0 or cd_disk != 0 or entries_here != entries:
        raise ApkError(src.path, "multi-disk ZIP archives are not supported", eocd_offset)
    if cd_offset > eocd_offset or cd_size > eocd_offset - cd_offset:
        raise ApkError(src.path, f"central directory ({cd_size} bytes at {cd_offset}) runs past "
                       f"the EOCD at {eocd_offset}: truncated or corrupt ZIP", eocd_offset)
    if cd_size > MAX_CD:
        raise ApkError(src.path, f"central directory of {cd_size} bytes is larger than the "
                       f"{MAX_CD} accepted", cd_offset)
    if cd_offset + cd_size != eocd_offset:
        raise ApkError(src.path, f"{eocd_offset - cd_offset - cd_size} bytes of garbage between "
                       "the central directory and the EOCD", cd_offset + cd_size)
    return ZipSections(cd_offset, cd_size, entries, eocd_offset, eocd)


def read_central_directory(src: FileSource, zs: ZipSections) -> list[ZipEntry]:
    """Parse every central-directory record. Raises ApkError on any inconsistency."""
    r = src.reader_at(zs.cd_offset, zs.cd_size, "central directory")
    out: list[ZipEntry] = []
    for index in range(zs.cd_entries):
        if r.u32("central directory record signature") != CD_SIG:
            raise ApkError(src.path, f"central directory record #{index + 1} has a bad signature",
                           r.base + r.pos - 4)
        r.take(4, "versions")
        flags, method = r.u16("flags"), r.u16("compression method")
        r.take(4, "time and date")
        crc, csize, usize = r.u32("CRC-32"), r.u32("compressed size"), r.u32("uncompressed size")
        nlen, xlen, clen = r.u16("name length"), r.u16("extra length"), r.u16("comment length")
        r.take(8, "disk and attributes")
        lho = r.u32("local header offset")
        raw_name = r.take(nlen, "entry name")
        r.take(xlen, "extra field")
        r.take(clen, "entry comment")
        if 0xFFFFFFFF in (csize, usize, lho):
            raise ApkError(src.path, "ZIP64 entries are not supported", r.base + r.pos)
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        if lho + csize > zs.cd_offset:
            raise ApkError(src.path, f"entry {name!r} data runs into the central directory", lho)
        out.append(ZipEntry(name, method, flags, crc, csize, usize, lho))
    if r.remaining():
        raise ApkError(src.path, f"{r.remaining()} unexpected bytes at the end of the central "
                       "directory", r.base + r.pos)
    return out


def entry_data_offset(src: FileSource, entry: ZipEntry) -> int:
    """Offset of the entry's (compressed) data, after its local file header."""
    r = src.reader_at(entry.local_header_offset, 30, f"local header of {entry.name!r}")
    if r.u32("local header signature") != LFH_SIG:
        raise ApkError(src.path, f"entry {entry.name!r} has no local file header",
                       entry.local_header_offset)
    r.take(22, "local header fields")
    nlen, xlen = r.u16("name length"), r.u16("extra length")
    start = entry.local_header_offset + 30 + nlen + xlen
    if start + entry.compressed_size > src.size:
        raise ApkError(src.path, f"entry {entry.name!r} data runs past the end of the file", start)
    return start


class EntryInflater:
    """Turns an entry's stored bytes into its content, checking the declared sizes.

    ``feed`` takes consecutive pieces of the compressed data and yields the uncompressed content
    in pieces of at most ``INFLATE_STEP`` bytes (zlib's ``max_length``; the input not yet
    inflated waits in ``unconsumed_tail``). So memory is bounded by design: a 1 MiB piece of a
    zip bomb that inflates to a gigabyte is a thousand 1 MiB steps, each hashed and dropped
    before the next, never one gigabyte-sized buffer. Output beyond ``entry.uncompressed_size``
    (or ``limit``) is an error at the step that crosses it.
    """

    def __init__(self, path: str, entry: ZipEntry, limit: int | None = None) -> None:
        if entry.method not in (0, 8):
            raise ApkError(path, f"entry {entry.name!r} uses unsupported compression method "
                           f"{entry.method}")
        self.path, self.entry = path, entry
        self.limit = entry.uncompressed_size if limit is None else min(limit, entry.uncompressed_size)
        self.produced = 0
        self._z = zlib.decompressobj(-15) if entry.method == 8 else None

    def _count(self, n: int) -> None:
        self.produced += n
        if self.produced > self.limit:
            raise ApkError(self.path, f"entry {self.entry.name!r} inflates past "
                           f"{self.limit} bytes")

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The uncompressed bytes for the next piece of stored data, in steps of at most
        ``INFLATE_STEP``; raises ApkError past the declared size or on a corrupt stream."""
        if self._z is None:
            self._count(len(data))
            if data:
                yield data
            return
        pending = data
        while pending and not self._z.eof:
            try:
                out = self._z.decompress(pending, INFLATE_STEP)
            except zlib.error as exc:
                raise ApkError(self.path, f"entry {self.entry.name!r} does not inflate: {exc}") from None
            pending = self._z.unconsumed_tail
            self._count(len(out))
            if out:
                yield out

    def finish(self) -> None:
        """Check the data ended cleanly and produced exactly the declared size."""
        if self._z is not None:
            try:
                tail = self._z.flush()  # every input was drained by feed: at most a few bytes
            except zlib.error as exc:
                raise ApkError(self.path, f"entry {self.entry.name!r} does not inflate: {exc}") from None
            self._count(len(tail))
            if not self._z.eof:
                raise ApkError(self.path, f"entry {self.entry.name!r}: compressed data is truncated")
        if self.produced != self.entry.uncompressed_size:
            raise ApkError(self.path, f"entry {self.entry.name!r} holds {self.produced} bytes, "
                           f"not the declared {self.entry.uncompressed_size}")


def iter_entry(src: FileSource, entry: ZipEntry, chunk: int = STREAM_CHUNK) -> Iterator[bytes]:
    """Yield an entry's uncompressed content in bounded pieces."""
    start = entry_data_offset(src, entry)
    inflater = EntryInflater(src.path, entry)
    done = 0
    while done < entry.compressed_size:
        n = min(chunk, entry.compressed_size - done)
        yield from inflater.feed(src.read_at(start + done, n, f"data of {entry.name!r}"))
        done += n
    inflater.finish()


def read_entry(src: FileSource, entry: ZipEntry, limit: int, what: str) -> bytes:
    """The whole uncompressed content of a small entry (a manifest, a signature file); an entry
    declaring more than ``limit`` bytes is refused before anything is read."""
    if entry.uncompressed_size > limit:
        raise ApkError(src.path, f"{what} {entry.name!r} declares {entry.uncompressed_size} "
                       f"bytes, more than the {limit} accepted")
    return b"".join(iter_entry(src, entry))
