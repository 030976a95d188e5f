"""Reading the whole rule list exactly: GET DATA FF40, FF60 continuations, and every check the
protocol allows before a byte of it is believed.

A list is returned only when (1) every piece is a short response (at most 256 bytes) and the
pieces add up to exactly the announced FF40 length; (2) a list that needed FF60 reads the same,
byte for byte, a second time; (3) it parses as REF-AR-DOs; and (4) when the pieces have the shape
of the open-source aram-applet's stale-byte case (255-byte pieces, then a last piece of 256:
L mod 255 = 251, L > 255, where the final byte is never written), the card confirms the last
rule with GET DATA FF50 (its REF-DO → its stored bytes). Anything else is a DamagedAnswerError
(exit 6) naming the damage; 6A88 or 6F00 to FF60 (the applet's buffer overflowing on a 259/260
byte rest) included. See docs/simtool-aram.md, "Exact reading".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..card.protocol import Response
from ..card.statuswords import error_for
from .errors import DamagedAnswerError
from .rules import TAG_ALL_REF_AR_DO, TAG_AR_DO, TAG_REF_DO, AccessRule
from .tlv import TlvError, parse_one, parse_tlvs, read_header

MAX_RESPONSE = 256  # a short-APDU response never carries more
MAX_CONTINUATIONS = 260  # FF60 rounds before we give up (64 KiB at 256 bytes each)
APPLET_CHUNK = 255  # the open-source applet cuts the FF40 answer in 255-byte pieces
APPLET_BROKEN = frozenset({0, 251, 252, 253, 254})  # L mod 255 where its chunking breaks

Send = Callable[[int, bytes], Response]
"""GET DATA with (tag, command data) on the session's channel."""


def applet_breaks_at(length: int) -> bool:
    """True when the open-source aram-applet cannot return a list of ``length`` bytes intact
    (REFERENCE §2): L = 253, 254 in one answer, L ≥ 255 with L mod 255 in {0, 251…254}."""
    return length >= 253 and length % APPLET_CHUNK in APPLET_BROKEN


@dataclass(frozen=True)
class RawList:
    """One FF40 read as it arrived: the whole TLV, the announced length, the piece sizes."""

    data: bytes
    announced: int
    pieces: tuple[int, ...]

    @property
    def value(self) -> bytes:
        return self.data[len(self.data) - self.announced:]


def damaged(problem: str, announced: int | None, received: int) -> DamagedAnswerError:
    """A DamagedAnswerError, with the applet hint when the size is one the applet breaks at."""
    if announced is not None and applet_breaks_at(announced):
        problem += (f"; L = {announced} (L mod 255 = {announced % APPLET_CHUNK}) is a size the "
                    "open-source ARA-M applet cannot return intact, and Android cannot read it either")
    return DamagedAnswerError(problem, announced, received)


def read_raw(send: Send) -> RawList | None:
    """FF40 and FF60 until the announced length has arrived; None when FF40 answers 6A88.

    Raises DamagedAnswerError for anything but exactly the announced bytes in short responses,
    and the status word's ApduError when FF40 itself is refused.
    """
    first = send(0xFF40, b"")
    if first.sw == 0x6A88:
        return None
    if first.sw != 0x9000:
        raise error_for(first.sw, "GET DATA FF40", first.data)
    data = first.data
    try:
        tag, length, body = read_header(data, 0, what="FF40 answer")
    except TlvError as exc:
        raise damaged(exc.problem, None, len(data)) from None
    if tag != TAG_ALL_REF_AR_DO:
        raise damaged(f"answer starts with tag {tag:X}, not FF40", length, len(data) - body)
    pieces = [len(data)]
    if len(data) > MAX_RESPONSE:
        raise damaged(f"one response of {len(data)} bytes (at most {MAX_RESPONSE})", length, len(data) - body)
    total = body + length
    while len(data) < total:
        if len(pieces) > MAX_CONTINUATIONS:
            raise damaged("too many FF60 continuations", length, len(data) - body)
        nxt = send(0xFF60, b"")
        got = len(data) - body
        if nxt.sw == 0x6A88 or (nxt.sw == 0x9000 and not nxt.data):
            raise damaged(f"card stopped early (FF60 answered {nxt.sw:04X})", length, got)
        if nxt.sw == 0x6F00:
            raise damaged("FF60 answered 6F00: the next piece overflowed the card's buffer", length, got)
        if nxt.sw != 0x9000:
            raise error_for(nxt.sw, "GET DATA FF60", nxt.data)
        pieces.append(len(nxt.data))
        if len(nxt.data) > MAX_RESPONSE:
            raise damaged(f"one FF60 response of {len(nxt.data)} bytes (at most {MAX_RESPONSE})", length,
                          got + len(nxt.data))
        data += nxt.data
    if len(data) > total:
        raise damaged(f"{len(data) - total} bytes more than announced", length, len(data) - body)
    return RawList(data, length, tuple(pieces))


def stale_byte_shape(pieces: tuple[int, ...]) -> bool:
    """The applet's L mod 255 = 251 shape: 255-byte pieces, then one of 256 bytes."""
    return len(pieces) >= 2 and pieces[-1] == MAX_RESPONSE and all(p == APPLET_CHUNK for p in pieces[:-1])


def first_difference(a: bytes, b: bytes) -> int:
    """Index of the first byte where ``a`` and ``b`` differ (the shorter length if one is a prefix)."""
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def _ff50_value(data: bytes) -> bytes | None:
    """The value of an FF50 answer; also the applet's form with a one-byte length ≥ 0x80."""
    if len(data) >= 3 and data[:2] == b"\xFF\x50" and data[2] == len(data) - 3:
        return data[3:]
    try:
        tlv, end = parse_one(data, 0, what="FF50 answer")
    except TlvError:
        return None
    return tlv.value if tlv.tag == 0xFF50 and end == len(data) else None


def confirm_last_rule(send: Send, raw: RawList, rules: tuple[AccessRule, ...]) -> None:
    """Ask the card for the last rule by its REF-DO (GET DATA FF50) and compare it with the
    bytes the list gave; raises DamagedAnswerError unless the card confirms them."""
    last = rules[-1].raw
    received = len(raw.value)
    try:
        parts = parse_tlvs(parse_one(last, 0, what="last rule")[0].value, what="last rule")
    except TlvError:
        parts = ()
    ref = next((p for p in parts if p.tag == TAG_REF_DO), None)
    ar = next((p for p in parts if p.tag == TAG_AR_DO), None)
    shape = (f"the last FF60 answer was {MAX_RESPONSE} bytes after {len(raw.pieces) - 1} of "
             f"{APPLET_CHUNK}, the shape in which the open-source ARA-M applet never writes the final byte")
    if ref is None:
        raise damaged(f"{shape}, and the last rule has no REF-DO to confirm it with", raw.announced, received)
    resp = send(0xFF50, ref.encode())
    if resp.sw != 0x9000:
        raise damaged(f"{shape}; the card could not confirm the last rule (FF50 answered {resp.sw:04X})",
                      raw.announced, received)
    value = _ff50_value(resp.data)
    if value is not None and (value == last or (ar is not None and value == ar.encode())):
        return
    theirs = value if value is not None else resp.data
    ours = last if value is None or value[:1] == last[:1] else (ar.encode() if ar else last)
    at = first_difference(ours, theirs)
    raise damaged(f"{shape}; GET DATA FF50 does not confirm the last rule (byte {at} of it: list "
                  f"{ours[at:at + 1].hex().upper() or '-'}, FF50 {theirs[at:at + 1].hex().upper() or '-'}): "
                  "the list's final byte is stale (or another rule shares its REF-DO)", raw.announced, received)
