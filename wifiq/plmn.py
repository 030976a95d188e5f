"""PLMN identities (MCC + MNC) as typed, validated values.

The MNC keeps the length it was given: ITU-T E.212 allows 2- or 3-digit MNCs and "57" and
"057" are different PLMNs (they share one ePDG FQDN, where the MNC is always padded to 3 digits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import UsageError

_SEPARATED = re.compile(r"(\d{3})\s*[-/ ]\s*(\d{2,3})")
_RUN = re.compile(r"\d{5,6}")
_SPLIT = re.compile(r"(\d+)\s*[-/ ]\s*(\d+)")


class InvalidPlmnError(UsageError):
    """A PLMN (MCC-MNC) text could not be parsed; ``text`` is the input, ``reason`` why."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"invalid PLMN {text!r}: {reason}")
        self.text = text
        self.reason = reason


@dataclass(frozen=True, order=True)
class Plmn:
    """A public land mobile network: 3-digit MCC and a 2- or 3-digit MNC kept as given.

    Raises :class:`InvalidPlmnError` when built with anything but those digit strings.
    """

    mcc: str
    mnc: str

    def __post_init__(self) -> None:
        if not (isinstance(self.mcc, str) and len(self.mcc) == 3 and self.mcc.isascii()
                and self.mcc.isdigit()):
            raise InvalidPlmnError(f"{self.mcc}-{self.mnc}", "the MCC must be 3 digits")
        if not (isinstance(self.mnc, str) and len(self.mnc) in (2, 3) and self.mnc.isascii()
                and self.mnc.isdigit()):
            raise InvalidPlmnError(f"{self.mcc}-{self.mnc}", "the MNC must be 2 or 3 digits")

    def __str__(self) -> str:
        return f"{self.mcc}-{self.mnc}"

    @property
    def mnc3(self) -> str:
        """The MNC padded to 3 digits, as DNS names under 3gppnetwork.org spell it."""
        return self.mnc.zfill(3)


def parse_plmn(text: str) -> Plmn:
    """Parse ``505-01``, ``505/01``, ``505 01`` or the run-together ``50501`` / ``310260``.

    A run of 5 digits is MCC + 2-digit MNC and a run of 6 is MCC + 3-digit MNC (the form
    Android's carrier config and SIM tools print), so the run-together form is unambiguous.
    Raises :class:`InvalidPlmnError` naming the input.
    """
    stripped = text.strip()
    match = _SEPARATED.fullmatch(stripped)
    if match and stripped.isascii():
        return Plmn(match.group(1), match.group(2))
    if _RUN.fullmatch(stripped) and stripped.isascii():
        return Plmn(stripped[:3], stripped[3:])
    if not stripped:
        raise InvalidPlmnError(text, "empty")
    parts = _SPLIT.fullmatch(stripped)
    if parts and stripped.isascii() and len(parts.group(1)) != 3:
        reason = "the MCC must be 3 digits"
    elif parts and stripped.isascii():
        reason = "the MNC must be 2 or 3 digits"
    else:
        reason = "expected MCC-MNC such as 505-01 (3-digit MCC, 2- or 3-digit MNC)"
    raise InvalidPlmnError(text, reason)


def parse_mcc(text: str) -> str:
    """Validate a mobile country code (3 ASCII digits); raises :class:`InvalidMccError`."""
    stripped = text.strip()
    if len(stripped) == 3 and stripped.isascii() and stripped.isdigit():
        return stripped
    raise InvalidMccError(text)


class InvalidMccError(UsageError):
    """An MCC was not 3 digits; ``text`` is the input."""

    def __init__(self, text: str) -> None:
        super().__init__(f"invalid MCC {text!r}: expected 3 digits such as 505")
        self.text = text
