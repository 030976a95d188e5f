"""The ARF workflows behind ``simtool arf …`` on an open CardProtocol: list (both ways)."""

from __future__ import annotations

from ..card.protocol import CardProtocol
from .errors import ArfCardError
from .listing import ArfListing, build_listing
from .reader import SeacRead, read_android, read_seac


def list_arf(proto: CardProtocol) -> ArfListing:
    """Read the ARF the full SEAC way and Android's way; raises ArfCardError when neither finds
    a PKCS#15 application (the card has no ARF)."""
    seac: SeacRead | None
    try:
        seac = read_seac(proto)
        seac_error = seac.error
    except ArfCardError as exc:
        seac, seac_error = None, str(exc)
    android = read_android(proto)
    if seac is None and android.error:
        raise ArfCardError("ARF", f"{seac_error}")
    return build_listing(seac, seac_error, android)
