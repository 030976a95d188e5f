"""DNS messages on the wire, only as far as resolving addresses needs, and fast.

dnspython's full ``Message.from_wire`` costs ~200 µs an answer here, more than the whole budget
of a query at kdig's rate, so the driver encodes its queries and decodes answers with this
module; TCP answers and tests go through dnspython and :func:`response_from_message`, and the
tests check both paths agree (also on knot's real answers, mutated). Layout (RFC 1035 §4.1): a
12-byte header (ID, flags, four counts), then question, answer, authority and additional
sections; names are labels or 2-byte pointers. Of the additional section only an EDNS OPT
record's extended RCODE is read.

Every read checks the length first; a pointer may only point backwards and at most 64 are
followed; anything malformed raises :class:`WireError` with the offset.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

import dns.flags
import dns.message
import dns.name
import dns.rrset

TYPE_A, TYPE_NS, TYPE_CNAME, TYPE_SOA, TYPE_AAAA, TYPE_OPT = 1, 2, 5, 6, 28, 41
CLASS_IN = 1
RCODE_NOERROR, RCODE_SERVFAIL, RCODE_NXDOMAIN, RCODE_REFUSED = 0, 2, 3, 5
_FLAG_QR, _FLAG_AA, _FLAG_TC, _FLAG_RD, _FLAG_RA = 0x8000, 0x0400, 0x0200, 0x0100, 0x0080
_MAX_POINTERS = 64
_MAX_TTL = 0x7FFFFFFF
_HEADER = struct.Struct("!HHHHHH")
#: Bytes of the EDNS0 OPT record that ends every query of :func:`encode_query`.
OPT_RECORD_SIZE = 11
_RR = struct.Struct("!HHIH")


class WireError(ValueError):
    """A malformed DNS message: ``offset`` where reading failed and what was ``expected``."""

    def __init__(self, offset: int, expected: str) -> None:
        super().__init__(f"malformed DNS message at byte {offset}: expected {expected}")
        self.offset = offset
        self.expected = expected


@dataclass(frozen=True)
class Record:
    """One resource record of class IN. ``data``: the address (A, AAAA), the target (CNAME), the
    MINIMUM field as decimal text (SOA), or '' for types wifiq does not read."""

    owner: str
    rdtype: int
    ttl: int
    data: str


@dataclass(frozen=True)
class Response:
    """The parts of an answer the decisions use; names are lower case without the final dot.

    ``authoritative`` is the AA flag, ``recursion_available`` the RA flag (the server
    recurses); ``authority`` holds the SOA of a negative answer or the NS records of a
    referral (NS records carry no data here: their owner is what the decisions read).
    """

    qid: int
    rcode: int
    authoritative: bool
    truncated: bool
    qname: str
    qtype: int
    answer: tuple[Record, ...]
    authority: tuple[Record, ...]
    recursion_available: bool = False


def encode_name(name: str) -> bytes:
    """A host name in wire form; raises WireError for an empty label or one over 63 bytes."""
    out = bytearray()
    for label in name.rstrip(".").split(".") if name.strip(".") else ():
        raw = label.encode("ascii")
        if not 0 < len(raw) < 64:
            raise WireError(len(out), f"a label of 1-63 bytes in {name!r}")
        out.append(len(raw))
        out += raw
    out.append(0)
    if len(out) > 255:
        raise WireError(255, f"a name of at most 255 bytes, not {name!r}")
    return bytes(out)


def encode_query(qid: int, qname: str, qtype: int, *, payload: int = 1232) -> bytes:
    """A recursive query (RD set) with an EDNS0 OPT record advertising ``payload`` bytes."""
    header = _HEADER.pack(qid, _FLAG_RD, 1, 0, 0, 1)
    opt = b"\x00" + struct.pack("!HHIH", TYPE_OPT, payload, 0, 0)  # OPT_RECORD_SIZE bytes
    return header + encode_name(qname) + struct.pack("!HH", qtype, CLASS_IN) + opt


#: Label bytes printed as they are; any other byte takes the slow path of :func:`_escape`.
_PLAIN = b"abcdefghijklmnopqrstuvwxyz0123456789-_*"
_SPECIAL = b'"().;\\@$'


def _escape(label: bytes) -> str:
    """A label's text as dnspython writes it (RFC 1035 §5.1): ``\\.`` for special characters,
    ``\\DDD`` for bytes that are not printable ASCII — so both decoders name things alike."""
    return "".join(
        "\\" + chr(b) if b in _SPECIAL else chr(b) if 0x20 < b < 0x7F else f"\\{b:03d}"
        for b in label
    )


def _read_name(wire: bytes, offset: int) -> tuple[str, int]:
    """Decode the name at ``offset``; return it and the offset after it (pointers followed)."""
    labels: list[str] = []
    end = -1
    pointers = 0
    length = len(wire)
    total = 0
    while True:
        if offset >= length:
            raise WireError(offset, "a label length")
        size = wire[offset]
        if size >= 0xC0:
            if offset + 1 >= length:
                raise WireError(offset, "a 2-byte name pointer")
            target = ((size & 0x3F) << 8) | wire[offset + 1]
            if end < 0:
                end = offset + 2
            pointers += 1
            if target >= offset or pointers > _MAX_POINTERS:
                raise WireError(offset, "a name pointer to an earlier offset")
            offset = target
            continue
        if size > 63:
            raise WireError(offset, "a label length below 64")
        offset += 1
        if size == 0:
            break
        if offset + size > length:
            raise WireError(offset, f"{size} label bytes")
        total += size + 1
        if total > 255:
            raise WireError(offset, "a name of at most 255 bytes")
        raw = wire[offset : offset + size].lower()
        labels.append(_escape(raw) if raw.translate(None, _PLAIN) else raw.decode("ascii"))
        offset += size
    return ".".join(labels), (end if end >= 0 else offset)


def _read_records(wire: bytes, offset: int, count: int) -> tuple[tuple[Record, ...], int]:
    records = []
    for _ in range(count):
        owner, offset = _read_name(wire, offset)
        if offset + 10 > len(wire):
            raise WireError(offset, "a record's type, class, TTL and length")
        rdtype, rdclass, ttl, rdlength = _RR.unpack_from(wire, offset)
        offset += 10
        end = offset + rdlength
        if end > len(wire):
            raise WireError(offset, f"{rdlength} bytes of record data")
        if rdclass == CLASS_IN:
            if ttl > _MAX_TTL:  # RFC 2181 §8: a TTL with the top bit set means 0
                ttl = 0
            records.append(Record(owner, rdtype, ttl, _read_data(wire, offset, end, rdtype)))
        offset = end
    return tuple(records), offset


def _read_data(wire: bytes, offset: int, end: int, rdtype: int) -> str:
    size = end - offset
    if rdtype == TYPE_A:
        if size != 4:
            raise WireError(offset, "4 bytes of an A record")
        return "%d.%d.%d.%d" % tuple(wire[offset:end])
    if rdtype == TYPE_AAAA:
        if size != 16:
            raise WireError(offset, "16 bytes of an AAAA record")
        return ipaddress.IPv6Address(wire[offset:end]).compressed
    if rdtype == TYPE_CNAME:
        target, after = _read_name(wire, offset)
        if after != end:
            raise WireError(offset, "a CNAME target filling its record")
        return target
    if rdtype == TYPE_SOA:
        _, after = _read_name(wire, offset)
        _, after = _read_name(wire, after)
        if after + 20 != end:
            raise WireError(after, "the five 32-bit SOA fields")
        return str(struct.unpack_from("!I", wire, after + 16)[0])
    return ""


def _extended_rcode_bits(wire: bytes, offset: int, count: int) -> int:
    """The upper RCODE bits an EDNS OPT record of the additional section carries (RFC 6891
    §6.1.3: the top byte of its TTL), shifted into place; 0 without an OPT record. Only the
    record headers are read (their data is skipped), but every one must be complete."""
    bits = 0
    for _ in range(count):
        _, offset = _read_name(wire, offset)
        if offset + 10 > len(wire):
            raise WireError(offset, "a record's type, class, TTL and length")
        rdtype, _, ttl, rdlength = _RR.unpack_from(wire, offset)
        offset += 10 + rdlength
        if offset > len(wire):
            raise WireError(offset - rdlength, f"{rdlength} bytes of record data")
        if rdtype == TYPE_OPT:
            bits = (ttl >> 24) << 4
    return bits


def parse_response(wire: bytes) -> Response:
    """Decode an answer's header, question, answer and authority sections, and the extended
    RCODE of an EDNS OPT record in the additional section (so BADVERS is never NOERROR).

    Raises WireError when the bytes are not a well-formed DNS response with one question.
    """
    if len(wire) < 12:
        raise WireError(len(wire), "a 12-byte header")
    qid, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(wire)
    if not flags & _FLAG_QR:
        raise WireError(2, "the QR flag of a response")
    if qdcount != 1:
        raise WireError(4, "exactly one question")
    qname, offset = _read_name(wire, 12)
    if offset + 4 > len(wire):
        raise WireError(offset, "the question's type and class")
    qtype = struct.unpack_from("!H", wire, offset)[0]
    answer, offset = _read_records(wire, offset + 4, ancount)
    authority, offset = _read_records(wire, offset, nscount)
    rcode = (flags & 0x0F) | _extended_rcode_bits(wire, offset, arcount)
    return Response(
        qid=qid,
        rcode=rcode,
        authoritative=bool(flags & _FLAG_AA),
        truncated=bool(flags & _FLAG_TC),
        qname=qname,
        qtype=qtype,
        answer=answer,
        authority=authority,
        recursion_available=bool(flags & _FLAG_RA),
    )


def response_from_message(message: dns.message.Message) -> Response:
    """The same :class:`Response` from a dnspython message (TCP answers, made-up test answers)."""

    def text(name: dns.name.Name) -> str:  # as parse_response: lower case, root is ""
        return name.to_text(omit_final_dot=True).lower() if name.labels != (b"",) else ""

    def records(section: list[dns.rrset.RRset]) -> tuple[Record, ...]:
        out = []
        for rrset in section:
            if rrset.rdclass != CLASS_IN:
                continue
            owner = text(rrset.name)
            for rdata in rrset:
                if rrset.rdtype in (TYPE_A, TYPE_AAAA):
                    data = ipaddress.ip_address(rdata.address).compressed
                elif rrset.rdtype == TYPE_CNAME:
                    data = text(rdata.target)
                elif rrset.rdtype == TYPE_SOA:
                    data = str(rdata.minimum)
                else:
                    data = ""
                out.append(Record(owner, int(rrset.rdtype), rrset.ttl, data))
        return tuple(out)

    question = message.question[0] if message.question else None
    return Response(
        qid=message.id,
        rcode=message.rcode(),
        authoritative=bool(message.flags & dns.flags.AA),
        truncated=bool(message.flags & dns.flags.TC),
        qname=text(question.name) if question is not None else "",
        qtype=int(question.rdtype) if question is not None else 0,
        answer=records(message.answer),
        authority=records(message.authority),
        recursion_available=bool(message.flags & dns.flags.RA),
    )
