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

from dataclasses import dataclass

from .bytereader import ByteReader, FileSource
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


@dataclass(frozen=True)
class SigningBlock:
    """The block's position and its pairs as ``{id: (value_offset_in_file, value)}``."""

    offset: int
    size: int  # whole block, both size fields and the magic included
    pairs: dict[int, tuple[int, bytes]]

    def get(self, block_id: int) -> bytes | None:
        found = self.pairs.get(block_id)
        return found[1] if found else None

    def value_offset(self, block_id: int) -> int | None:
        found = self.pairs.get(block_id)
        return found[0] if found else None


def find_signing_block(src: FileSource, zs: ZipSections) -> SigningBlock | None:
    """Return the signing block in front of the central directory, or None when there is none
    (no magic there). Raises ApkError when a block is present but malformed."""
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
    block = src.read_at(start, size + 8, "APK Signing Block")
    header_size = int.from_bytes(block[:8], "little")
    if header_size != size:
        raise ApkError(src.path, f"APK Signing Block sizes disagree: header says {header_size}, "
                       f"footer says {size}", start)
    r = ByteReader(block[8 : size + 8 - 24], src.path, start + 8)
    pairs: dict[int, tuple[int, bytes]] = {}
    while r.remaining():
        pair_at = r.base + r.pos
        length = r.u64("APK Signing Block pair length")
        if length < 4 or length > r.remaining():
            raise ApkError(src.path, f"APK Signing Block pair length {length} is out of range "
                           f"({r.remaining()} bytes left)", pair_at)
        block_id = r.u32("APK Signing Block pair id")
        value_at = r.base + r.pos
        value = r.take(length - 4, f"APK Signing Block pair 0x{block_id:08x}")
        pairs.setdefault(block_id, (value_at, value))
    return SigningBlock(start, size + 8, pairs)
