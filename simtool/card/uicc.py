"""Card-wide facts for ``simtool card info``: ICCID and which access-control applications exist.

ICCID is EF.ICCID (2FE2 under the MF), BCD with swapped nibbles. UICC commands (CLA 00) are
tried first; a card that refuses the class (6E00) is read with the GSM SIM class A0.
"""

from __future__ import annotations

from dataclasses import dataclass

from .protocol import Apdu, CardProtocol

ARA_D_AID = bytes.fromhex("A00000015144414300")
ARA_M_AID = bytes.fromhex("A00000015141434C00")
ARF_AID = bytes.fromhex("A000000063504B43532D3135")  # PKCS#15 application


@dataclass(frozen=True)
class CardInfo:
    """ATR, ICCID (None when unreadable) and which of ARA-D / ARA-M / ARF answer SELECT."""

    atr: bytes
    protocol: str
    iccid: str | None
    ara_d: bool
    ara_m: bool
    arf: bool


def decode_iccid(raw: bytes) -> str:
    """Swapped-nibble BCD to digits; filler nibbles F are dropped."""
    digits = []
    for b in raw:
        for nibble in (b & 0x0F, b >> 4):
            if nibble <= 9:
                digits.append(str(nibble))
    return "".join(digits)


def read_iccid(proto: CardProtocol) -> str | None:
    """Read EF.ICCID; returns None when the card has no such file or refuses both classes."""
    for cla, p2 in ((0x00, 0x0C), (0xA0, 0x00)):
        steps = (
            Apdu(cla, 0xA4, 0x00, p2, b"\x3f\x00"),
            Apdu(cla, 0xA4, 0x00, p2, b"\x2f\xe2"),
        )
        failed = False
        for step in steps:
            resp = proto.send(step)
            if resp.sw != 0x9000:
                failed = True
                break
        if failed:
            continue
        resp = proto.send(Apdu(cla, 0xB0, 0x00, 0x00, le=10))
        if resp.sw == 0x9000 and resp.data:
            return decode_iccid(resp.data)
    return None


def application_present(proto: CardProtocol, aid: bytes) -> bool:
    """True when SELECT of ``aid`` succeeds; 6A82 (and other refusals) mean absent."""
    resp = proto.send(Apdu(0x00, 0xA4, 0x04, 0x00, aid, 0x00))
    return resp.sw == 0x9000


def card_info(proto: CardProtocol) -> CardInfo:
    """Gather :class:`CardInfo`; raises the transport's errors (e.g. CardRemovedError)."""
    iccid = read_iccid(proto)
    return CardInfo(
        atr=proto.atr,
        protocol=getattr(proto.conn, "protocol", "?"),
        iccid=iccid,
        ara_d=application_present(proto, ARA_D_AID),
        ara_m=application_present(proto, ARA_M_AID),
        arf=application_present(proto, ARF_AID),
    )

