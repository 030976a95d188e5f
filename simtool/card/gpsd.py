"""Writing to an application through its security domain (GP Card Specification §11.5, §11.11).

A locked ARA-M (sysmocom's applet after ``aram_lock``, commercial cards) takes STORE DATA only
from its security domain: SELECT the ISD → open a secure channel → INSTALL [for
personalization] naming the application → STORE DATA, which the ISD hands to it. ``SdAccess``
holds what that needs (protocol, level, where the keys come from); ``open_route`` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .keysource import KeySource
from .protocol import Apdu, CardProtocol, channel_cla
from .scperrors import ExternalAuthenticateRefusedError, SecureChannelError
from .securechannel import ChannelInfo, level_name, open_secure_channel
from .statuswords import describe
from .uicc import read_iccid

ISD_AID = bytes.fromhex("A000000151000000")  # GP's Issuer Security Domain (the usual default)


@dataclass(frozen=True)
class SdAccess:
    """How to reach an application through a security domain."""

    scp: str  # "SCP02" or "SCP03"
    level: int
    keys: KeySource
    sd_aid: bytes = ISD_AID
    s16: bool = False
    on_open: Callable[[ChannelInfo], None] | None = field(default=None, compare=False)  # e.g. show KCVs
    # cards (ICCID) that refused EXTERNAL AUTHENTICATE with these settings in this run: never again
    refused: set[str] = field(default_factory=set, compare=False, repr=False)

    def describe(self) -> str:
        return (f"{self.scp} at KVN 0x{self.keys.kvn:02X}, security level {level_name(self.level)}, keys from "
                f"{self.keys.origin}")


def select_sd(proto: CardProtocol, aid: bytes, channel: int = 0) -> None:
    resp = proto.send(Apdu(channel_cla(0x00, channel), 0xA4, 0x04, 0x00, aid, le=0))
    if resp.sw != 0x9000:
        raise SecureChannelError(f"SELECT of the security domain {aid.hex().upper()} answered {describe(resp.sw)}")


def install_for_personalization(proto: CardProtocol, aid: bytes, channel: int = 0) -> None:
    """INSTALL [for personalization] of ``aid``: the ISD passes the next STORE DATA to it."""
    data = b"\x00\x00" + bytes([len(aid)]) + aid + b"\x00\x00\x00"
    resp = proto.send(Apdu(channel_cla(0x80, channel), 0xE6, 0x20, 0x00, data, le=0), write=True)
    if resp.sw != 0x9000:
        raise SecureChannelError(f"INSTALL [for personalization] of {aid.hex().upper()} answered "
                                 f"{describe(resp.sw)}")


def open_route(proto: CardProtocol, access: SdAccess, target_aid: bytes, *, channel: int = 0) -> ChannelInfo:
    """Select the security domain, authenticate (card cryptogram checked first, never retried)
    and INSTALL [for personalization] ``target_aid``; later commands on ``channel`` are wrapped
    until the next SELECT (``proto.close_secure_channel()``). The ICCID is read first: it picks
    per-card keys, and a card that refused EXTERNAL AUTHENTICATE once with this ``access`` (a
    ``--watch`` run re-inserting it) is not tried again."""
    iccid = read_iccid(proto)
    if iccid is not None and iccid in access.refused:
        raise SecureChannelError(f"card {iccid} refused EXTERNAL AUTHENTICATE earlier in this run: not trying "
                                 "again (each failure brings it closer to locking; check the keys first)",
                                 scp=access.scp, kvn=access.keys.kvn)
    keys = access.keys.keys_for(iccid)
    select_sd(proto, access.sd_aid, channel)
    try:
        info = open_secure_channel(proto, access.scp, keys, access.level, channel=channel, s16=access.s16)
    except ExternalAuthenticateRefusedError:
        if iccid is not None:
            access.refused.add(iccid)
        raise
    if access.on_open is not None:
        access.on_open(info)
    install_for_personalization(proto, target_aid, channel)
    return info
