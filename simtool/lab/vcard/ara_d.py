"""An ARA-D that holds rules (profiles ``arad-aram``, ``arad-arf``), answering what Android asks it.

Android's ``UiccCarrierPrivilegeRules`` opens a logical channel to ``A00000015144414300`` and
sends the same ``GET DATA 80 CA FF 40 00`` (then ``FF 60`` until the ALL-REF-AR-DO is whole) as
to the ARA-M. This application answers exactly those from ``CardMemory.ara_d_rules`` (the card's
state file), ``FF40 00`` when it holds none; every other GET DATA tag answers 6A88 and any other
command 6D00: nothing writes ARA-D rules over the card interface, so tests and the lab seed
them in the state file (a new card starts with ``default_ara_d_rules``).
"""

from __future__ import annotations

import hashlib

from .apdu import INS_GET_DATA, SW_DATA_NOT_FOUND, SW_INS_NOT_SUPPORTED, ClassByte, Command, Response, status
from .aram_spec import SpecAram
from .tlv import encode_tlv

LAB_ARA_D_HASH = hashlib.sha1(b"carrierkit lab ARA-D rule").digest()


def default_ara_d_rules() -> list[bytes]:
    """A new ARA-D card's rules: one REF-AR-DO granting ``LAB_ARA_D_HASH`` (any package)."""
    ref_do = encode_tlv(0xE1, encode_tlv(0xC1, LAB_ARA_D_HASH))
    ar_do = encode_tlv(0xE3, encode_tlv(0xDB, bytes(7) + b"\x01"))
    return [encode_tlv(0xE2, ref_do + ar_do)]


class AraD(SpecAram):
    """One selection of the ARA-D on one logical channel: GET DATA FF40 / FF60 only."""

    name = "ara-d"
    empty_answer_6a88 = False  # an empty ARA-D answers FF40 00

    def stored(self) -> list[bytes]:
        return self.ctx.memory.ara_d_rules

    def process(self, cmd: Command, cla: ClassByte) -> Response:
        if cmd.ins != INS_GET_DATA:
            return status(SW_INS_NOT_SUPPORTED)
        if (cmd.p1, cmd.p2) not in ((0xFF, 0x40), (0xFF, 0x60)):
            return status(SW_DATA_NOT_FOUND)
        return super().process(cmd, cla)
