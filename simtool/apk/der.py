"""A small bounded BER/DER reader: enough ASN.1 for X.509 names, PKCS#7 SignedData and JKS.

Why our own: digests and signatures are over the bytes exactly as stored (BER included), so we
need each element's raw encoding, not a re-encoding; and hostile input must end in ApkError,
never a RecursionError or an allocation sized by a length field. Lengths are checked against the
bytes present, nesting is capped at ``MAX_DEPTH``, indefinite lengths are accepted (BER).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ApkError

MAX_DEPTH = 32

# Universal tags used by callers.
INTEGER, BIT_STRING, OCTET_STRING, NULL, OID = 0x02, 0x03, 0x04, 0x05, 0x06
SEQUENCE, SET = 0x30, 0x31


@dataclass(frozen=True)
class Tlv:
    """One element: ``tag`` is the identifier octet (class + constructed bit + number < 31),
    ``raw`` the whole encoding, ``content`` the value bytes, ``offset`` its position in the input."""

    tag: int
    raw: bytes
    content: bytes
    offset: int

    @property
    def constructed(self) -> bool:
        return bool(self.tag & 0x20)

    def children(self, path: str, depth: int = 0) -> list[Tlv]:
        """The elements inside a constructed element (raises ApkError when it is not one)."""
        if not self.constructed:
            raise ApkError(path, f"ASN.1 element with tag 0x{self.tag:02x} is not constructed",
                           self.offset)
        return parse_all(self.content, path, self.offset + len(self.raw) - len(self.content),
                         depth + 1)

    def expect(self, tag: int, path: str, what: str) -> Tlv:
        if self.tag != tag:
            raise ApkError(path, f"{what}: expected ASN.1 tag 0x{tag:02x}, found 0x{self.tag:02x}",
                           self.offset)
        return self


def _read_header(data: bytes, pos: int, path: str, base: int) -> tuple[int, int, int | None]:
    """Return (tag, header_length, content_length or None for indefinite) at ``pos``."""
    if pos + 2 > len(data):
        raise ApkError(path, "truncated ASN.1 header", base + pos)
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise ApkError(path, "ASN.1 high tag numbers are not supported", base + pos)
    first = data[pos + 1]
    if first < 0x80:
        return tag, 2, first
    if first == 0x80:
        if not tag & 0x20:
            raise ApkError(path, "indefinite length on a primitive ASN.1 element", base + pos)
        return tag, 2, None
    count = first & 0x7F
    if count > 4 or pos + 2 + count > len(data):
        raise ApkError(path, f"ASN.1 length of {count} bytes is not supported", base + pos)
    length = int.from_bytes(data[pos + 2 : pos + 2 + count], "big")
    return tag, 2 + count, length


def parse_one(data: bytes, pos: int, path: str, base: int = 0, depth: int = 0) -> Tlv:
    """Parse the element at ``data[pos:]``; ``base`` is ``data``'s offset in the file."""
    if depth > MAX_DEPTH:
        raise ApkError(path, f"ASN.1 nested deeper than {MAX_DEPTH} levels", base + pos)
    tag, hlen, length = _read_header(data, pos, path, base)
    start = pos + hlen
    if length is None:  # BER indefinite: children until the 00 00 end-of-contents marker
        cur = start
        while True:
            if cur + 2 > len(data):
                raise ApkError(path, "unterminated indefinite-length ASN.1 element", base + pos)
            if data[cur] == 0 and data[cur + 1] == 0:
                break
            cur += len(parse_one(data, cur, path, base, depth + 1).raw)
        return Tlv(tag, bytes(data[pos : cur + 2]), bytes(data[start:cur]), base + pos)
    if length > len(data) - start:
        raise ApkError(path, f"ASN.1 length {length} exceeds the {len(data) - start} bytes "
                       "available", base + pos)
    end = start + length
    return Tlv(tag, bytes(data[pos:end]), bytes(data[start:end]), base + pos)


def parse_all(data: bytes, path: str, base: int = 0, depth: int = 0) -> list[Tlv]:
    """Parse consecutive elements filling ``data`` exactly."""
    out: list[Tlv] = []
    pos = 0
    while pos < len(data):
        tlv = parse_one(data, pos, path, base, depth)
        out.append(tlv)
        pos += len(tlv.raw)
    return out


def parse_single(data: bytes, path: str, what: str) -> Tlv:
    """Parse ``data`` as exactly one element (trailing bytes are an error)."""
    tlv = parse_one(data, 0, path)
    if len(tlv.raw) != len(data):
        raise ApkError(path, f"{what}: {len(data) - len(tlv.raw)} trailing bytes after ASN.1 "
                       "element", len(tlv.raw))
    return tlv


def decode_oid(content: bytes) -> str:
    """Dotted form of an OBJECT IDENTIFIER's content octets."""
    parts: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    if not parts:
        return ""
    first = parts[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(p) for p in head + parts[1:])


def decode_int(content: bytes) -> int:
    return int.from_bytes(content, "big", signed=True) if content else 0
