"""What SCP02 and SCP03 share: security levels, the wrapper a CardProtocol runs commands
through, and ``open_secure_channel`` (INITIALIZE UPDATE → card cryptogram check → EXTERNAL
AUTHENTICATE).

Layering: a ``SecureChannel`` wraps command APDUs and unwraps responses; ``CardProtocol.send``
calls it for every command on the channel it was opened on, *before* T=0 handling, so GET
RESPONSE rounds (never wrapped) and logical channels work as without it. Sessions above
(ARA-M, ISD) do not know whether they run over a secure channel.

Safety: the card cryptogram is checked before EXTERNAL AUTHENTICATE is sent, so keys that do
not match cost the card no attempt; a refused EXTERNAL AUTHENTICATE is never retried.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from .scperrors import SecureChannelError

if TYPE_CHECKING:
    from .gpkeys import StaticKeys
    from .protocol import Apdu, CardProtocol, Response

log = logging.getLogger("simtool.card.apdu")

C_MAC = 0x01
C_DEC = 0x02
R_MAC = 0x10
R_ENC = 0x20

LEVELS = {  # the --security-level names
    "mac": C_MAC,
    "mac+enc": C_MAC | C_DEC,
    "mac+enc+rmac": C_MAC | C_DEC | R_MAC,
    "mac+enc+rmac+renc": C_MAC | C_DEC | R_MAC | R_ENC,
}
_VALID_LEVELS = {0x01, 0x03, 0x11, 0x13, 0x33}


def level_name(level: int) -> str:
    """``mac+enc`` style name of a security level byte (hex when it has no name)."""
    for name, value in LEVELS.items():
        if value == level:
            return name
    return f"0x{level:02X}"


def check_level(level: int, scp: str) -> None:
    """Refuse a level GP does not define, or one the protocol does not offer here."""
    if level not in _VALID_LEVELS:
        raise SecureChannelError(f"security level 0x{level:02X} is not one GP defines "
                                 "(C-MAC, C-DEC, R-MAC, R-ENC combinations 01/03/11/13/33)", scp=scp)
    if scp == "SCP02" and level & (R_MAC | R_ENC):
        raise SecureChannelError(f"{scp} here offers C-MAC and C-DEC only (R-MAC and R-ENC are SCP03): "
                                 f"security level {level_name(level)} refused", scp=scp)


def sm_cla(cla: int) -> int:
    """CLA with the secure-messaging indication: b3 for the first interindustry/GP classes,
    b6 for the further interindustry class (logical channels 4–19)."""
    return cla | 0x20 if cla & 0x40 else cla | 0x04


def random_challenge(length: int) -> bytes:
    return os.urandom(length)


class SecureChannel(Protocol):
    """An open secure channel session: wraps commands and unwraps responses of one channel."""

    scp: str
    kvn: int
    level: int
    channel: int

    def wrap(self, apdu: Apdu) -> Apdu:
        """The APDU as sent: C-MAC appended, data enciphered at C-DEC."""
        ...

    def unwrap(self, command: Apdu, response: Response) -> Response:
        """The response as the application meant it: R-MAC checked and removed, R-ENC
        deciphered; raises ResponseMacError when it does not check."""
        ...


@dataclass(frozen=True)
class ChannelInfo:
    """What the card said in INITIALIZE UPDATE (for --json and messages): no secrets."""

    scp: str
    kvn: int
    level: int
    channel: int
    kdd: bytes
    sequence_counter: bytes
    i_param: int | None
    kcvs: dict[str, str]


def open_secure_channel(proto: CardProtocol, scp: str, keys: StaticKeys, level: int, *, channel: int = 0,
                        host_challenge: bytes | None = None, s16: bool = False, i_param: int = 0x55) -> ChannelInfo:
    """Authenticate to the security domain selected on ``channel`` and install the session on
    ``proto`` (every later command on that channel is wrapped). Raises SecureChannelError
    (CardCryptogramMismatchError before anything but INITIALIZE UPDATE was sent)."""
    from . import scp02, scp03  # the two protocols import this module

    check_level(level, scp)
    if scp == "SCP02":
        return scp02.open_scp02(proto, keys, level, channel=channel, host_challenge=host_challenge,
                                i_param=i_param)
    if scp == "SCP03":
        return scp03.open_scp03(proto, keys, level, channel=channel, host_challenge=host_challenge, s16=s16)
    raise SecureChannelError(f"unknown secure channel protocol {scp!r} (SCP02 or SCP03)")
