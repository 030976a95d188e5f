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


MAX_CHILDREN = 4096  # certificates, bags, attributes: real structures hold a handful
MAX_INT_BYTES = 64  # serial numbers are at most 20 bytes; counts and versions a few


@dataclass(frozen=True)
class Tlv:
    """One element: ``tag`` is the identifier octet (class + constructed bit + number < 31).

    The element points into the buffer it was parsed from (``buf``, shared by every element of
    one parse: nothing is copied while walking a structure); ``raw`` (the whole encoding) and
    ``content`` (the value bytes) are copied out when asked for; ``offset`` is the element's
    position in the file."""

    tag: int
    buf: bytes
    start: int  # in buf
    content_start: int
    content_end: int
    end: int
    base: int  # buf's offset in the file

    @property
    def raw(self) -> bytes:
        return self.buf[self.start : self.end]

    @property
    def content(self) -> bytes:
        return self.buf[self.content_start : self.content_end]

    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def offset(self) -> int:
        return self.base + self.start

    @property
    def constructed(self) -> bool:
        return bool(self.tag & 0x20)

    def children(self, path: str, depth: int = 0) -> list[Tlv]:
        """The elements inside a constructed element (raises ApkError when it is not one, or
        when it holds more than ``MAX_CHILDREN``)."""
        if not self.constructed:
            raise ApkError(path, f"ASN.1 element with tag 0x{self.tag:02x} is not constructed",
                           self.offset)
        return _parse_range(self.buf, self.content_start, self.content_end, path, self.base,
                            depth + 1)

    def expect(self, tag: int, path: str, what: str) -> Tlv:
        if self.tag != tag:
            raise ApkError(path, f"{what}: expected ASN.1 tag 0x{tag:02x}, found 0x{self.tag:02x}",
                           self.offset)
        return self


def _read_header(data: bytes, pos: int, stop: int, path: str,
                 base: int) -> tuple[int, int, int | None]:
    """Return (tag, header_length, content_length or None for indefinite) at ``pos``."""
    if pos + 2 > stop:
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
    if count > 4 or pos + 2 + count > stop:
        raise ApkError(path, f"ASN.1 length of {count} bytes is not supported", base + pos)
    length = int.from_bytes(data[pos + 2 : pos + 2 + count], "big")
    return tag, 2 + count, length


def _parse_at(data: bytes, pos: int, stop: int, path: str, base: int, depth: int) -> Tlv:
    """The element at ``data[pos:stop]``."""
    if depth > MAX_DEPTH:
        raise ApkError(path, f"ASN.1 nested deeper than {MAX_DEPTH} levels", base + pos)
    tag, hlen, length = _read_header(data, pos, stop, path, base)
    start = pos + hlen
    if length is None:  # BER indefinite: children until the 00 00 end-of-contents marker
        cur = start
        while True:
            if cur + 2 > stop:
                raise ApkError(path, "unterminated indefinite-length ASN.1 element", base + pos)
            if data[cur] == 0 and data[cur + 1] == 0:
                break
            cur = _parse_at(data, cur, stop, path, base, depth + 1).end
        return Tlv(tag, data, pos, start, cur, cur + 2, base)
    if length > stop - start:
        raise ApkError(path, f"ASN.1 length {length} exceeds the {stop - start} bytes "
                       "available", base + pos)
    return Tlv(tag, data, pos, start, start + length, start + length, base)


def _parse_range(data: bytes, pos: int, stop: int, path: str, base: int, depth: int) -> list[Tlv]:
    out: list[Tlv] = []
    while pos < stop:
        if len(out) == MAX_CHILDREN:
            raise ApkError(path, f"ASN.1 element holds more than {MAX_CHILDREN} elements",
                           base + pos)
        tlv = _parse_at(data, pos, stop, path, base, depth)
        out.append(tlv)
        pos = tlv.end
    return out


def parse_one(data: bytes, pos: int, path: str, base: int = 0, depth: int = 0) -> Tlv:
    """Parse the element at ``data[pos:]``; ``base`` is ``data``'s offset in the file."""
    return _parse_at(bytes(data), pos, len(data), path, base, depth)


def parse_all(data: bytes, path: str, base: int = 0, depth: int = 0) -> list[Tlv]:
    """Parse consecutive elements filling ``data`` exactly."""
    return _parse_range(bytes(data), 0, len(data), path, base, depth)


def parse_single(data: bytes, path: str, what: str) -> Tlv:
    """Parse ``data`` as exactly one element (trailing bytes are an error)."""
    tlv = parse_one(data, 0, path)
    if tlv.size != len(data):
        raise ApkError(path, f"{what}: {len(data) - tlv.size} trailing bytes after ASN.1 "
                       "element", tlv.size)
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


def decode_int(content: bytes, path: str = "", offset: int | None = None) -> int:
    """A signed INTEGER's value; more than ``MAX_INT_BYTES`` bytes is an ApkError (no count,
    version or serial number is that long, and a huge one could not even be printed)."""
    if len(content) > MAX_INT_BYTES:
        raise ApkError(path, f"ASN.1 INTEGER of {len(content)} bytes is too large", offset)
    return int.from_bytes(content, "big", signed=True) if content else 0
