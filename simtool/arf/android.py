"""What Android's ``UiccPkcs15`` (telephony, Android 7+) makes of the ARF: a byte-faithful model.

Android opens a logical channel to the PKCS#15 AID, selects file id 4300 (``00 A4 00 04 02``)
and reads it with one ``00 B0 00 00 00`` (so at most the first 256 bytes count), then:

- ACRF: walks ``30`` objects; a rule whose value starts with ``A0`` has its AID read
  (``A0 { 04 aid }``, nothing else inside); when the AID is ``FFFFFFFFFFFF`` the rest of the
  rule must be exactly ``30 { 04 path }`` and that path is remembered — the **last** such rule
  wins. Other targets (``81 00`` default, ``82 00`` all) are skipped. A parse error (also the
  ``FF`` padding) ends the walk, keeping what was found so far.
- the path is sent as the data of a SELECT with length 2: only a 2-byte file id works.
- ACCF: walks ``30 { 04 hash }`` objects; an empty hash is skipped; any other shape (``30 00``
  included) or the padding ends the walk, keeping the hashes before it.

The hashes become rules without a package name; one matches an app when it equals the SHA-1 or
SHA-256 of a signing certificate (so only 20- and 32-byte hashes can ever match).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..aram.android import AndroidTlvError, android_tlv
from .files import CARRIER_AID

ANDROID_READ_SIZE = 256


@dataclass(frozen=True)
class AndroidAcrf:
    """The ACCF path Android follows (None: none found) and why it stopped where it did."""

    accf_path: bytes | None
    carrier_rules: int
    stopped: str | None


@dataclass(frozen=True)
class AndroidAccf:
    """The hashes Android keeps from an ACCF, in order, and why it stopped (None: at the end)."""

    hashes: tuple[bytes, ...]
    stopped: str | None


def _stop_note(rest: bytes, exc: AndroidTlvError) -> str | None:
    """Why the walk ended; None when what was left is only the file's FF/00 padding."""
    if rest and all(b == rest[0] for b in rest) and rest[0] in (0xFF, 0x00):
        return None
    return str(exc)


def android_acrf(data: bytes) -> AndroidAcrf:
    """parseAcrf on what one READ BINARY returned."""
    rest = data[:ANDROID_READ_SIZE]
    found: bytes | None = None
    count = 0
    stopped = None
    while rest:
        before = rest
        try:
            _, rule, rest = android_tlv(rest, b"\x30", False)
            if rule.startswith(b"\xa0"):
                _, target, after = android_tlv(rule, b"\xa0", False)
                _, aid, _ = android_tlv(target, b"\x04", True)
                if aid == CARRIER_AID:
                    _, seq, _ = android_tlv(after, b"\x30", True)
                    _, path, _ = android_tlv(seq, b"\x04", True)
                    found = path
                    count += 1
        except AndroidTlvError as exc:
            stopped = _stop_note(before, exc)
            break
    return AndroidAcrf(found, count, stopped)


def android_accf(data: bytes) -> AndroidAccf:
    """parseAccf on what one READ BINARY returned."""
    rest = data[:ANDROID_READ_SIZE]
    hashes: list[bytes] = []
    stopped = None
    while rest:
        before = rest
        try:
            _, cond, rest = android_tlv(rest, b"\x30", False)
            _, cert, _ = android_tlv(cond, b"\x04", True)
            if cert:
                hashes.append(cert)
        except AndroidTlvError as exc:
            stopped = _stop_note(before, exc)
            break
    return AndroidAccf(tuple(hashes), stopped)


def android_can_select(path: bytes) -> bool:
    """Android's SELECT carries the path with a fixed length of 2: only a bare file id works."""
    return len(path) == 2
