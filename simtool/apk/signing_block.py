"""The APK Signing Block: the id-value pairs between the ZIP entries and the central directory.

Layout (all integers little-endian)::

    signing_block_offset
    +------------------------------------------+
    | u64 size_of_block  (excludes this field) |
    +------------------------------------------+
    | pair: u64 len | u32 id | value (len - 4) |  v2 0x7109871a, v3 0xf05368c0,
    | pair: ...                                |  v3.1 0x1b93ad61, stamp 0x6dff800d, ...
    +------------------------------------------+
    | u64 size_of_block  (same value again)    |
    | magic "APK Sig Block 42" (16 bytes)      |
    +------------------------------------------+ cd_offset

so ``signing_block_offset = cd_offset - size_of_block - 8``. Both size fields must agree and the
block must fit in front of the central directory (apksig ``ApkUtilsLite.findApkSigningBlock``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .bytereader import FileSource
from .errors import ApkError
from .zipfile_index import ZipSections

MAGIC = b"APK Sig Block 42"
V2_BLOCK_ID = 0x7109871A
V3_BLOCK_ID = 0xF05368C0
V31_BLOCK_ID = 0x1B93AD61
VERITY_PADDING_ID = 0x42726577
SOURCE_STAMP_V1_ID = 0x2B09189E
SOURCE_STAMP_V2_ID = 0x6DFF800D
MAX_BLOCK = 64 << 20  # signing blocks are kilobytes; refuse to load a giant one


#: The pairs anything here reads. Only these are indexed (by offset); any other pair is
#: skipped over without being read, so a block of millions of tiny pairs costs no memory.
KNOWN_IDS = frozenset({V2_BLOCK_ID, V3_BLOCK_ID, V31_BLOCK_ID, SOURCE_STAMP_V2_ID})
#: A known pair's value is read into memory: signers, certificates and a lineage are kilobytes.
MAX_VALUE = 8 << 20
SCAN_WINDOW = 1 << 20
_PAIR_HEADER = struct.Struct("<QI")


@dataclass(frozen=True)
class SigningBlock:
    """The block's position and its known pairs as ``{id: (value_offset_in_file, value)}``
    (the first pair of each id, as apksig finds it)."""

    offset: int
    size: int  # whole block, both size fields and the magic included
    pairs: dict[int, tuple[int, bytes]]

    def get(self, block_id: int) -> bytes | None:
        found = self.pairs.get(block_id)
        return found[1] if found else None

    def value_offset(self, block_id: int) -> int | None:
        found = self.pairs.get(block_id)
        return found[0] if found else None


def _index_pairs(src: FileSource, start: int, end: int) -> dict[int, tuple[int, int]]:
    """Walk the pairs in ``[start, end)`` of the file, reading only their 12-byte headers
    (through a 1 MiB window), and return ``{id: (value_offset, value_length)}`` for the first
    pair of each known id. Raises ApkError on a pair that does not fit."""
    index: dict[int, tuple[int, int]] = {}
    window, window_at = b"", start
    pos = start
    while pos < end:
        left = end - pos
        if left < 8:
            raise ApkError(src.path, f"APK Signing Block pair length: length 8 exceeds the "
                           f"{left} bytes available", pos)
        if pos + 12 > window_at + len(window):
            window_at = pos
            window = src.read_at(pos, min(SCAN_WINDOW, left), "APK Signing Block")
        length, block_id = (_PAIR_HEADER.unpack_from(window, pos - window_at) if left >= 12
                            else (int.from_bytes(window[pos - window_at : pos - window_at + 8],
                                                 "little"), None))
        if length < 4 or length > left - 8:
            raise ApkError(src.path, f"APK Signing Block pair length {length} is out of range "
                           f"({left - 8} bytes left)", pos)
        if block_id is not None and block_id in KNOWN_IDS and block_id not in index:
            index[block_id] = (pos + 12, length - 4)
        pos += 8 + length
    return index


def find_signing_block(src: FileSource, zs: ZipSections) -> SigningBlock | None:
    """Return the signing block in front of the central directory, or None when there is none
    (no magic there). Raises ApkError when a block is present but malformed.

    Memory does not grow with the block: pair headers are read through a window and only the
    values of the known ids (each at most ``MAX_VALUE``) are read."""
    if zs.cd_offset < 32:
        return None
    footer = src.read_at(zs.cd_offset - 24, 24, "APK Signing Block footer")
    if footer[8:] != MAGIC:
        return None
    size = int.from_bytes(footer[:8], "little")
    footer_at = zs.cd_offset - 24
    if size < 24 or size > zs.cd_offset - 8:
        raise ApkError(src.path, f"APK Signing Block size {size} does not fit in front of the "
                       f"central directory at {zs.cd_offset}", footer_at)
    if size > MAX_BLOCK:
        raise ApkError(src.path, f"APK Signing Block of {size} bytes is larger than the "
                       f"{MAX_BLOCK} accepted", footer_at)
    start = zs.cd_offset - size - 8
    header_size = int.from_bytes(src.read_at(start, 8, "APK Signing Block header"), "little")
    if header_size != size:
        raise ApkError(src.path, f"APK Signing Block sizes disagree: header says {header_size}, "
                       f"footer says {size}", start)
    pairs: dict[int, tuple[int, bytes]] = {}
    for block_id, (value_at, length) in _index_pairs(src, start + 8, footer_at).items():
        if length > MAX_VALUE:
            raise ApkError(src.path, f"APK Signing Block pair 0x{block_id:08x} of {length} bytes "
                           f"is larger than the {MAX_VALUE} accepted", value_at - 12)
        pairs[block_id] = (value_at, src.read_at(value_at, length,
                                                 f"APK Signing Block pair 0x{block_id:08x}"))
    return SigningBlock(start, size + 8, pairs)
