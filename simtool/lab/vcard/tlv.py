"""A small BER-TLV codec for the card side (GP SEAC data objects): strict, bounded, no recursion."""

from __future__ import annotations

from dataclasses import dataclass


class TlvError(ValueError):
    """Malformed BER-TLV; the card answers 6A80."""


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes

    def encode(self) -> bytes:
        return encode_tlv(self.tag, self.value)


def encode_length(n: int) -> bytes:
    """Minimal BER length: 1 byte below 128, else 81/82/83 + big-endian length."""
    if n < 0x80:
        return bytes([n])
    size = (n.bit_length() + 7) // 8
    if size > 3:
        raise TlvError(f"length {n} is too long for this card")
    return bytes([0x80 | size]) + n.to_bytes(size, "big")


def encode_tag(tag: int) -> bytes:
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode_tlv(tag: int, value: bytes) -> bytes:
    return encode_tag(tag) + encode_length(len(value)) + value


def read_tlv(data: bytes, pos: int) -> tuple[Tlv, int]:
    """Read one TLV at `pos`; returns it and the position after it. Raises TlvError."""
    if pos >= len(data):
        raise TlvError(f"tag expected at offset {pos}, data ends")
    start = pos
    tag = data[pos]
    pos += 1
    if tag & 0x1F == 0x1F:
        for _ in range(3):
            if pos >= len(data):
                raise TlvError(f"tag at offset {start} is cut off")
            tag = (tag << 8) | data[pos]
            pos += 1
            if not data[pos - 1] & 0x80:
                break
        else:
            raise TlvError(f"tag at offset {start} is longer than 4 bytes")
    if pos >= len(data):
        raise TlvError(f"length of tag {tag:X} at offset {start} is missing")
    first = data[pos]
    pos += 1
    if first < 0x80:
        length = first
    elif first in (0x81, 0x82, 0x83):
        size = first & 0x7F
        if pos + size > len(data):
            raise TlvError(f"length of tag {tag:X} at offset {start} is cut off")
        length = int.from_bytes(data[pos : pos + size], "big")
        pos += size
    else:
        raise TlvError(f"length byte {first:02X} of tag {tag:X} at offset {start} is not supported")
    if pos + length > len(data):
        left = len(data) - pos
        raise TlvError(f"tag {tag:X} at offset {start} announces {length} bytes, {left} left")
    return Tlv(tag, data[pos : pos + length]), pos + length


def parse_tlvs(data: bytes) -> list[Tlv]:
    """All TLVs one level deep in `data` (which must be nothing but TLVs). Raises TlvError."""
    items = []
    pos = 0
    while pos < len(data):
        item, pos = read_tlv(data, pos)
        items.append(item)
    return items


def parse_one(data: bytes) -> Tlv:
    """Exactly one TLV and nothing after it. Raises TlvError."""
    item, end = read_tlv(data, 0)
    if end != len(data):
        raise TlvError(f"{len(data) - end} bytes after tag {item.tag:X}")
    return item
