"""Command APDUs as the card sees them: ISO 7816-4 short APDU cases, class byte, status words."""

from __future__ import annotations

from dataclasses import dataclass

# Status words the card answers with (ISO 7816-4 and GP SEAC v1.1 §4.1.2.2 / §5.1.2.2).
SW_OK = 0x9000
SW_STORED_UNKNOWN_DISCARDED = 0x6382
SW_MEMORY_FULL = 0x6581
SW_WRONG_LENGTH = 0x6700
SW_CHANNEL_NOT_SUPPORTED = 0x6881
SW_SM_NOT_SUPPORTED = 0x6882
SW_CHAINING_NOT_SUPPORTED = 0x6884
SW_DO_NOT_SUPPORTED = 0x6981
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_AUTH_BLOCKED = 0x6983
SW_DATA_INVALID = 0x6984
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_NO_CURRENT_EF = 0x6986
SW_WRONG_DATA = 0x6A80
SW_FUNCTION_NOT_SUPPORTED = 0x6A81
SW_FILE_NOT_FOUND = 0x6A82
SW_NOT_ENOUGH_MEMORY = 0x6A84
SW_WRONG_P1P2 = 0x6A86
SW_DATA_NOT_FOUND = 0x6A88
SW_CONFLICT = 0x6A89
SW_WRONG_OFFSET = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_UNKNOWN = 0x6F00

INS_GET_RESPONSE = 0xC0
INS_MANAGE_CHANNEL = 0x70
INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_VERIFY = 0x20
INS_GET_DATA = 0xCA
INS_STORE_DATA = 0xE2


class ApduFormatError(Exception):
    """A command the card cannot even frame; `sw` is what it answers."""

    def __init__(self, sw: int, reason: str) -> None:
        super().__init__(reason)
        self.sw = sw


@dataclass(frozen=True)
class Command:
    """One short command APDU. `le` is None when absent, 256 for a `00` Le byte."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None

    @property
    def case(self) -> int:
        """ISO 7816-3 case: 1 no data, 2 Le only, 3 Lc+data, 4 Lc+data+Le."""
        if not self.data:
            return 1 if self.le is None else 2
        return 3 if self.le is None else 4


def parse_command(raw: bytes) -> Command:
    """Frame `raw` as a short APDU; raises ApduFormatError(6700) otherwise (extended too)."""
    if len(raw) < 4:
        raise ApduFormatError(SW_WRONG_LENGTH, f"{len(raw)}-byte command is shorter than a header")
    cla, ins, p1, p2 = raw[:4]
    if len(raw) == 4:
        return Command(cla, ins, p1, p2, b"", None)
    p3 = raw[4]
    if len(raw) == 5:
        return Command(cla, ins, p1, p2, b"", p3 or 256)
    if p3 == 0:
        raise ApduFormatError(SW_WRONG_LENGTH, "extended-length APDUs are not supported")
    if len(raw) == 5 + p3:
        return Command(cla, ins, p1, p2, raw[5:], None)
    if len(raw) == 6 + p3:
        return Command(cla, ins, p1, p2, raw[5:-1], raw[-1] or 256)
    raise ApduFormatError(SW_WRONG_LENGTH, f"Lc {p3} does not match {len(raw) - 5} bytes after it")


@dataclass(frozen=True)
class ClassByte:
    """What a CLA byte says (ISO 7816-4 §5.4.1): channel, proprietary class, SM, chaining."""

    channel: int
    proprietary: bool
    secure_messaging: bool
    chaining: bool


def decode_cla(cla: int) -> ClassByte | None:
    """Decode CLA; None for a class this card does not know (answered 6E00).

    00–1F / 80–BF: channels 0–3 in b2b1; 40–7F / C0–FE: channels 4–19 in b4–b1.
    """
    if cla == 0xFF:
        return None
    high = cla & 0xE0
    if high in (0x00, 0x80, 0xA0):
        return ClassByte(cla & 0x03, bool(cla & 0x80), bool(cla & 0x0C), bool(cla & 0x10))
    if cla & 0x40:
        return ClassByte(4 + (cla & 0x0F), bool(cla & 0x80), bool(cla & 0x20), bool(cla & 0x10))
    return None


@dataclass(frozen=True)
class Response:
    """A response APDU: data then SW1 SW2."""

    data: bytes = b""
    sw: int = SW_OK

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")


def status(sw: int) -> Response:
    """A response with no data."""
    return Response(b"", sw)
