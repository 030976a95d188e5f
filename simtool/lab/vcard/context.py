"""What every application on the simulated card shares: its profile, memory and settings."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .profiles import Profile
from .state import CardMemory


@dataclass
class CardContext:
    """Card-wide state. `adm_verified` is volatile: power-off or reset clears it."""

    profile: Profile
    memory: CardMemory
    capacity: int = 4096  # bytes of stored REF-AR-DOs before STORE DATA answers 6581
    empty_6a88: bool = False  # answer 6A88 instead of FF40 00 when no rule is stored
    adm_verified: bool = False
    kdd: bytes = bytes(10)  # key diversification data the ISD answers INITIALIZE UPDATE with
    drop_updates: frozenset[str] = frozenset()  # PKCS#15 file ids whose updates answer 9000, change nothing

    def new_refresh_tag(self) -> None:
        """Replace the refresh tag with a fresh random one (never the same as before)."""
        old = self.memory.refresh_tag
        while (tag := os.urandom(8)) == old:
            pass
        self.memory.refresh_tag = tag
