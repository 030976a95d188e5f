"""ADM verification (VERIFY, key reference 0A = ADM1) that never spends the last attempts.

Before sending the key it asks how many attempts remain (VERIFY without data answers 63Cx)
and refuses when fewer than ``min_tries`` are left, so a wrong key in a script cannot block
the card. The key itself is never logged (the protocol layer redacts VERIFY data).
"""

from __future__ import annotations

from ..errors import SimtoolError
from ..exitcodes import ExitCode
from .protocol import Apdu, CardProtocol
from .statuswords import error_for

ADM1 = 0x0A
MIN_TRIES = 3


class AdmError(SimtoolError):
    """ADM verification refused or failed; ``tries_left`` when the card said."""

    exit_code = ExitCode.ADM

    def __init__(self, message: str, tries_left: int | None = None) -> None:
        super().__init__(message)
        self.tries_left = tries_left


def parse_adm_key(text: str) -> bytes:
    """ADM key from text: 16 hex digits, or up to 8 ASCII digits (padded with FF like pySim).

    Raises AdmError naming the problem (never the key).
    """
    text = text.strip()
    if len(text) == 16:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    if 0 < len(text) <= 8 and text.isascii() and text.isdigit():  # "٨" is a digit, not ASCII
        return text.encode("ascii").ljust(8, b"\xff")
    raise AdmError(f"ADM key must be 16 hex digits or up to 8 ASCII decimal digits (got "
                   f"{len(text)} characters)")


def tries_left(proto: CardProtocol, key_ref: int = ADM1) -> int | None:
    """Remaining attempts (63Cx), or None when the key is already verified (9000)."""
    resp = proto.send(Apdu(0x00, 0x20, 0x00, key_ref))
    if resp.sw == 0x9000:
        return None
    if resp.sw & 0xFFF0 == 0x63C0:
        return resp.sw & 0x0F
    if resp.sw == 0x6983:
        return 0
    raise error_for(resp.sw, "VERIFY (attempts query)")


def verify_adm(proto: CardProtocol, key: bytes, *, key_ref: int = ADM1, min_tries: int = MIN_TRIES) -> None:
    """Verify ``key`` unless fewer than ``min_tries`` attempts remain; raises AdmError.

    The MF is selected first: with an applet selected on the channel, a Java Card routes
    VERIFY to the applet instead of the card OS.
    """
    proto.send(Apdu(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00"))
    left = tries_left(proto, key_ref)
    if left is None:
        return
    if left < min_tries:
        raise AdmError(
            f"ADM key has only {left} attempt(s) left (< {min_tries}): refusing to try, "
            "unblock the card with its PUK/vendor tool first", left
        )
    resp = proto.send(Apdu(0x00, 0x20, 0x00, key_ref, key), write=True)
    if resp.sw == 0x9000:
        return
    if resp.sw & 0xFFF0 == 0x63C0:
        raise AdmError(f"wrong ADM key: {resp.sw & 0x0F} attempt(s) left", resp.sw & 0x0F)
    if resp.sw == 0x6983:
        raise AdmError("ADM key blocked", 0)
    raise error_for(resp.sw, "VERIFY ADM")
