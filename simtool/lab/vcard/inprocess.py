"""A simulated card driven in this process: the card logic of simtool.lab.vcard behind the
CardConnection interface simtool's protocol layer uses, without pcscd or vpcd.

For sweeps over thousands of card states (every rule-list length) where starting a card process
per state would take minutes; the same VirtualCard answers as behind pcscd, so what differs is
only the PC/SC transport (covered by the end-to-end tests on a sample of the same states).
"""

from __future__ import annotations

from collections.abc import Sequence

from .ara_d import default_ara_d_rules
from .card import VirtualCard
from .context import CardContext
from .isd import IsdKeys
from .profiles import get_profile
from .state import CardMemory


class InProcessCard:
    """A CardConnection to one simulated card; ``memory`` is its state (rules in card order).

    ``remove_after_apdus=N``: the card is pulled after answering its Nth APDU (the next
    transmit raises ``removed``, e.g. simtool's CardRemovedError). ``ara_d_rules``: the ARA-D's
    REF-AR-DOs (None: the profile's default); ``empty_6a88``: an empty ARA-M answers 6A88."""

    protocol = "T=1"

    def __init__(self, profile: str, rules: Sequence[bytes] = (), *, capacity: int = 65536,
                 remove_after_apdus: int | None = None, removed: type[Exception] | None = None,
                 iccid: str = "89882110000000000019", isd_keys: IsdKeys | None = None,
                 ara_d_rules: Sequence[bytes] | None = None, empty_6a88: bool = False) -> None:
        self.profile = get_profile(profile)
        self.reader = f"in-process {profile}"
        self.atr = self.profile.atr
        self.protocol = "T=0" if self.profile.t0 else "T=1"
        if ara_d_rules is None:
            ara_d_rules = default_ara_d_rules() if self.profile.ara_d_rules else []
        self.memory = CardMemory(rules=list(rules), ara_d_rules=list(ara_d_rules))
        self.card = VirtualCard(CardContext(self.profile, self.memory, capacity=capacity, empty_6a88=empty_6a88),
                                iccid, b"12345678", 10, isd_keys)
        self.remove_after = remove_after_apdus
        self.removed = removed
        self.answered = 0

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        if self.remove_after is not None and self.answered >= self.remove_after:
            if self.removed is None:
                raise RuntimeError("card removed")
            raise self.removed(self.reader, apdu[:4].hex().upper())
        answer = self.card.transmit(apdu)
        self.answered += 1
        self.memory.apdus.clear()  # the card's APDU log is not needed in process (and grows)
        return answer[:-2], int.from_bytes(answer[-2:], "big")

    def close(self) -> None:
        pass
