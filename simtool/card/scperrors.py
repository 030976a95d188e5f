"""Errors of the GlobalPlatform secure channel layer (SCP02/SCP03).

Each names the key version (KVN) and the protocol; none ever carries a key, only key check
values (KCV), which are safe to show and let a user compare with the vendor's key sheet.
"""

from __future__ import annotations

from ..errors import SimtoolError
from ..exitcodes import ExitCode


class SecureChannelError(SimtoolError):
    """The secure channel could not be opened or broke while in use."""

    exit_code = ExitCode.SECURE_CHANNEL

    def __init__(self, message: str, *, scp: str = "", kvn: int | None = None) -> None:
        super().__init__(message)
        self.scp = scp
        self.kvn = kvn


class CardCryptogramMismatchError(SecureChannelError):
    """INITIALIZE UPDATE's card cryptogram is not what our keys give: the card holds other keys
    for this KVN (or a diversification is missing). EXTERNAL AUTHENTICATE was NOT sent, so the
    card counted no failed attempt; nothing is retried."""

    def __init__(self, scp: str, kvn: int, kcvs: str) -> None:
        super().__init__(
            f"{scp} card cryptogram mismatch at KVN 0x{kvn:02X}: the card holds other keys than "
            f"these (KCV {kcvs}); EXTERNAL AUTHENTICATE not sent, nothing retried", scp=scp, kvn=kvn)
        self.kcvs = kcvs


class ExternalAuthenticateRefusedError(SecureChannelError):
    """The card refused EXTERNAL AUTHENTICATE (it counted a failed attempt); never retried."""

    def __init__(self, scp: str, kvn: int, sw: int, kcvs: str) -> None:
        blocked = " (security domain locked)" if sw == 0x6983 else ""
        # the card cryptogram matched, so the key it is made from is right (SCP02: ENC, SCP03: MAC)
        suspect = " (the card cryptogram matched: check the MAC key)" if scp == "SCP02" and sw == 0x6300 else ""
        super().__init__(
            f"{scp} EXTERNAL AUTHENTICATE refused with {sw:04X}{blocked} at KVN 0x{kvn:02X}{suspect} (KCV "
            f"{kcvs}); not retried: each failure brings the card closer to locking its security "
            "domain", scp=scp, kvn=kvn)
        self.sw = sw


class ResponseMacError(SecureChannelError):
    """A response's R-MAC is missing or wrong, or its R-ENC data does not decrypt: the answer
    cannot be trusted and the session is over."""


def init_update_refused(scp: str, kvn: int, sw: int) -> SecureChannelError:
    """INITIALIZE UPDATE refused: no such key set, locked domain, or not a security domain."""
    why = {0x6A88: "no key set with this version on the card",
           0x6983: "the security domain is locked (too many failed authentications)",
           0x6982: "security status not satisfied",
           0x6D00: "the selected application is not a security domain",
           0x6700: "wrong host challenge length (SCP03 S8 takes 8 bytes, S16 16: try with or without --scp03-s16)"}.get(sw, "refused")
    return SecureChannelError(f"{scp} INITIALIZE UPDATE at KVN 0x{kvn:02X} answered {sw:04X}: {why}", scp=scp, kvn=kvn)
