"""BER-TLV codec (ISO/IEC 8825-1 subset used by GlobalPlatform SEAC) with hard limits.

Layout of one data object::

    tag: 1..3 bytes   first byte b5..b1 = 11111 -> more tag bytes follow while b8 = 1
                      first byte b6 = 1 -> constructed (value holds more TLVs)
    len: 1..4 bytes   00..7F short form; 81 LL, 82 LLLL, 83 LLLLLL long form
    value: len bytes

Parsing checks every length before reading, caps nesting depth and total size, and rejects
trailing bytes when asked to; every failure is a :class:`TlvError` with the offset.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SimtoolError

MAX_DEPTH = 8
MAX_LENGTH = 0xFFFF  # ARA-M answers are far below this; anything larger is hostile or damaged


class TlvError(SimtoolError):
    """Bytes that are not the BER-TLV we expected; ``offset`` is where reading stopped."""

    def __init__(self, what: str, offset: int, problem: str) -> None:
        super().__init__(f"{what}: {problem} at byte {offset}")
        self.what = what
        self.offset = offset
        self.problem = problem


@dataclass(frozen=True)
class Tlv:
    """One BER-TLV data object: ``tag`` as an int (e.g. 0xFF40) and its raw ``value`` bytes."""

    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        """True when the tag's first byte has b6 set (the value holds nested TLVs)."""
        return bool(_first_tag_byte(self.tag) & 0x20)

    def children(self, *, what: str = "TLV", depth: int = 1) -> tuple["Tlv", ...]:
        """Parse the value as a sequence of TLVs (for constructed objects); raises TlvError."""
        return parse_tlvs(self.value, what=what, depth=depth)

    def encode(self) -> bytes:
        """The canonical (minimal length) encoding of this object."""
        return encode_tlv(self.tag, self.value)


def _first_tag_byte(tag: int) -> int:
    size = max(1, (tag.bit_length() + 7) // 8)
    return (tag >> (8 * (size - 1))) & 0xFF


def encode_tag(tag: int) -> bytes:
    """The tag's bytes (1 to 3); raises ValueError for a tag that is not valid BER."""
    if tag < 0 or tag > 0xFFFFFF:
        raise ValueError(f"tag {tag:#x} out of range")
    raw = tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")
    if len(raw) > 1 and (raw[0] & 0x1F) != 0x1F:
        raise ValueError(f"tag {tag:#x}: multi-byte tag must start with xxx11111")
    if any(b & 0x80 == 0 for b in raw[1:-1]) or (len(raw) > 1 and raw[-1] & 0x80):
        raise ValueError(f"tag {tag:#x}: bad continuation bits")
    return raw


def encode_length(length: int) -> bytes:
    """Minimal BER length: short form below 128, else 81/82/83 + big-endian bytes."""
    if length < 0 or length > 0xFFFFFF:
        raise ValueError(f"length {length} out of range")
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def encode_tlv(tag: int, value: bytes) -> bytes:
    """Encode one TLV (minimal length form)."""
    return encode_tag(tag) + encode_length(len(value)) + value


def read_header(data: bytes, offset: int, *, what: str = "TLV") -> tuple[int, int, int]:
    """Read tag and length at ``offset``: returns (tag, length, value_offset).

    Does not check that the value itself is present (callers streaming an answer need the
    announced length first). Raises TlvError on a truncated or unsupported header.
    """
    start = offset
    if offset >= len(data):
        raise TlvError(what, offset, "missing tag")
    first = data[offset]
    tag = first
    offset += 1
    if first & 0x1F == 0x1F:
        for _ in range(2):
            if offset >= len(data):
                raise TlvError(what, offset, "truncated tag")
            b = data[offset]
            tag = (tag << 8) | b
            offset += 1
            if not b & 0x80:
                break
        else:
            raise TlvError(what, start, "tag longer than 3 bytes")
    if offset >= len(data):
        raise TlvError(what, offset, f"missing length of tag {tag:X}")
    lb = data[offset]
    offset += 1
    if lb < 0x80:
        length = lb
    elif lb == 0x80:
        raise TlvError(what, offset - 1, "indefinite length is not allowed")
    else:
        n = lb & 0x7F
        if n > 3:
            raise TlvError(what, offset - 1, f"{n}-byte length field")
        if offset + n > len(data):
            raise TlvError(what, offset, "truncated length")
        length = int.from_bytes(data[offset : offset + n], "big")
        offset += n
    if length > MAX_LENGTH:
        raise TlvError(what, start, f"length {length} over the {MAX_LENGTH}-byte limit")
    return tag, length, offset


def parse_one(data: bytes, offset: int = 0, *, what: str = "TLV") -> tuple[Tlv, int]:
    """Parse the TLV at ``offset``: returns it and the offset just past it. Raises TlvError."""
    tag, length, voff = read_header(data, offset, what=what)
    end = voff + length
    if end > len(data):
        raise TlvError(what, voff, f"tag {tag:X} announces {length} bytes, {len(data) - voff} present")
    return Tlv(tag, bytes(data[voff:end])), end


def parse_tlvs(data: bytes, *, what: str = "TLV", depth: int = 0) -> tuple[Tlv, ...]:
    """Parse a whole byte string as consecutive TLVs (no trailing bytes); raises TlvError.

    Constructed children are checked recursively down to MAX_DEPTH so a parsed sequence is
    known to be well-formed throughout.
    """
    if depth > MAX_DEPTH:
        raise TlvError(what, 0, f"nesting deeper than {MAX_DEPTH}")
    if len(data) > MAX_LENGTH + 8:
        raise TlvError(what, 0, f"{len(data)} bytes over the size limit")
    out: list[Tlv] = []
    offset = 0
    while offset < len(data):
        tlv, nxt = parse_one(data, offset, what=what)
        if tlv.constructed:
            try:
                parse_tlvs(tlv.value, what=what, depth=depth + 1)
            except TlvError as exc:
                # report the offset within the outer input
                raise TlvError(what, nxt - len(tlv.value) + exc.offset, exc.problem) from None
        out.append(tlv)
        offset = nxt
    return tuple(out)


def parse_single(data: bytes, tag: int, *, what: str = "TLV") -> Tlv:
    """Parse ``data`` as exactly one TLV with ``tag`` and nothing after it; raises TlvError."""
    tlvs = parse_tlvs(data, what=what)
    if len(tlvs) != 1:
        raise TlvError(what, 0, f"expected one {tag:X} object, found {len(tlvs)}")
    if tlvs[0].tag != tag:
        raise TlvError(what, 0, f"expected tag {tag:X}, found {tlvs[0].tag:X}")
    return tlvs[0]
