"""PC/SC transport: the only module that imports pyscard.

It lists readers, picks one (index or name substring, from ``--reader`` or SIMTOOL_READER),
connects (exclusive unless asked to share), sends raw APDU bytes and returns ``(data, sw)``.
It knows nothing about GET RESPONSE or status words: that is the protocol layer's job.
PC/SC failures become the typed errors of ``simtool.card.errors`` (card removal its own).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Protocol

from smartcard import scard

from .errors import (
    CardRemovedError,
    NoCardError,
    NoReaderError,
    PcscUnavailableError,
    ReaderBusyError,
    TransportError,
)

READER_ENV = "SIMTOOL_READER"

_REMOVED = {scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_RESET_CARD,
            scard.SCARD_W_UNPOWERED_CARD}
_NO_SERVICE = {scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED}
_SCARD_PRESENT = 0x0004  # SCardStatus state bit (pcsclite.h); pyscard does not export it
REMOVAL_GRACE = 1.5  # seconds to let pcscd notice a pulled card before calling it another error


class CardConnection(Protocol):
    """What the protocol layer needs from a transport: raw APDU exchange and the ATR."""

    reader: str
    atr: bytes
    protocol: str

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """Send one APDU, return (response data, status word)."""
        ...

    def close(self) -> None:
        """Release the card."""
        ...


def _message(hresult: int) -> str:
    return f"{scard.SCardGetErrorMessage(hresult)} ({hresult & 0xFFFFFFFF:#010x})"


@dataclass
class _Context:
    handle: int

    @classmethod
    def establish(cls) -> "_Context":
        hresult, handle = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            raise PcscUnavailableError(_message(hresult))
        return cls(handle)

    def release(self) -> None:
        scard.SCardReleaseContext(self.handle)

    def readers(self) -> tuple[str, ...]:
        hresult, names = scard.SCardListReaders(self.handle, [])
        if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
            return ()
        if hresult in _NO_SERVICE:
            raise PcscUnavailableError(_message(hresult))
        if hresult != scard.SCARD_S_SUCCESS:
            raise TransportError("(none)", _message(hresult))
        return tuple(names)


def list_readers() -> tuple[str, ...]:
    """Names of the attached readers, in PC/SC order (the index ``--reader N`` refers to)."""
    ctx = _Context.establish()
    try:
        return ctx.readers()
    finally:
        ctx.release()


def pick_reader(readers: tuple[str, ...], selector: str | None) -> str:
    """Choose a reader: ``selector`` (else SIMTOOL_READER) is an index or a name substring.

    With no selector the first reader is used. Raises NoReaderError when nothing matches or
    a substring matches more than one reader.
    """
    if selector is None:
        selector = os.environ.get(READER_ENV) or None
    if not readers:
        raise NoReaderError(selector, readers)
    if selector is None:
        return readers[0]
    if selector.isdigit():
        index = int(selector)
        if index < len(readers):
            return readers[index]
        raise NoReaderError(selector, readers)
    hits = tuple(r for r in readers if selector.lower() in r.lower())
    if len(hits) != 1:
        raise NoReaderError(selector, readers, hits)
    return hits[0]


class PcscConnection:
    """A connected card in one reader (exclusive unless ``shared``)."""

    def __init__(self, ctx: _Context, reader: str, hcard: int, active: int) -> None:
        self._ctx = ctx
        self.reader = reader
        self._hcard: int | None = hcard
        self._pci = scard.SCARD_PCI_T0 if active == scard.SCARD_PROTOCOL_T0 else scard.SCARD_PCI_T1
        self.protocol = "T=0" if active == scard.SCARD_PROTOCOL_T0 else "T=1"
        hresult, _, _, _, atr = scard.SCardStatus(hcard)
        if hresult != scard.SCARD_S_SUCCESS:
            self.close()
            raise self._error(hresult)
        self.atr = bytes(atr)

    def _error(self, hresult: int, apdu: bytes = b"") -> Exception:
        if hresult in _REMOVED or not self._still_present():
            return CardRemovedError(self.reader, apdu[:4].hex().upper())
        return TransportError(self.reader, _message(hresult))

    def _still_present(self) -> bool:
        """After a failed exchange: is the card still there? pcscd often reports a pulled
        card as a failed transaction or an empty answer, and notices the removal only at its
        next poll, so this watches the reader for up to REMOVAL_GRACE seconds."""
        if self._hcard is None:
            return False
        deadline = time.monotonic() + REMOVAL_GRACE
        while True:
            hresult, _, state, _, _ = scard.SCardStatus(self._hcard)
            if hresult in _REMOVED or hresult == scard.SCARD_E_READER_UNAVAILABLE:
                return False
            if hresult != scard.SCARD_S_SUCCESS:
                return True  # another failure: the card is not known to be gone
            if not state & _SCARD_PRESENT:
                return False
            if time.monotonic() >= deadline:
                return True
            time.sleep(0.1)

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """Send one APDU as is; returns (data, sw). Raises CardRemovedError / TransportError."""
        hresult, response = scard.SCardTransmit(self._hcard, self._pci, list(apdu))
        if hresult != scard.SCARD_S_SUCCESS:
            raise self._error(hresult, apdu)
        if len(response) < 2:
            if not self._still_present():
                raise CardRemovedError(self.reader, apdu[:4].hex().upper())
            raise TransportError(self.reader, f"response of {len(response)} bytes has no status word")
        return bytes(response[:-2]), (response[-2] << 8) | response[-1]

    def close(self) -> None:
        """Disconnect (leaving the card powered) and release the PC/SC context."""
        if self._hcard is not None:
            scard.SCardDisconnect(self._hcard, scard.SCARD_LEAVE_CARD)
            self._hcard = None
        self._ctx.release()

    def __enter__(self) -> "PcscConnection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(selector: str | None = None, *, shared: bool = False) -> PcscConnection:
    """Connect to the card in the selected reader (T=0 or T=1, whichever the card offers).

    Raises NoReaderError, NoCardError, ReaderBusyError, PcscUnavailableError, TransportError.
    """
    ctx = _Context.establish()
    try:
        reader = pick_reader(ctx.readers(), selector)
        return _connect_in(ctx, reader, shared)
    except BaseException:
        ctx.release()
        raise


def _connect_in(ctx: _Context, reader: str, shared: bool) -> PcscConnection:
    mode = scard.SCARD_SHARE_SHARED if shared else scard.SCARD_SHARE_EXCLUSIVE
    hresult, hcard, active = scard.SCardConnect(
        ctx.handle, reader, mode, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
    )
    if hresult in (scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_REMOVED_CARD, scard.SCARD_W_UNRESPONSIVE_CARD):
        raise NoCardError(reader, _message(hresult))
    if hresult == scard.SCARD_E_SHARING_VIOLATION:
        raise ReaderBusyError(reader)
    if hresult != scard.SCARD_S_SUCCESS:
        raise TransportError(reader, _message(hresult))
    return PcscConnection(ctx, reader, hcard, active)


def wait_for_card(selector: str | None, *, present: bool, timeout: float | None) -> bool:
    """Block until a card is present (or absent, with ``present=False``) in the reader.

    Returns False when ``timeout`` seconds passed first. Uses SCardGetStatusChange, so it
    wakes as soon as pcscd notices the change.
    """
    ctx = _Context.establish()
    try:
        reader = pick_reader(ctx.readers(), selector)
        deadline = None if timeout is None else time.monotonic() + timeout
        state = scard.SCARD_STATE_UNAWARE
        while True:
            wait_ms = 1000 if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
            hresult, states = scard.SCardGetStatusChange(ctx.handle, min(wait_ms, 1000), [(reader, state)])
            if hresult == scard.SCARD_S_SUCCESS:
                _, state, _ = states[0]
                if bool(state & scard.SCARD_STATE_PRESENT) == present and not (
                    present and state & scard.SCARD_STATE_MUTE
                ):
                    return True
                state &= ~scard.SCARD_STATE_CHANGED
            elif hresult != scard.SCARD_E_TIMEOUT:
                raise TransportError(reader, _message(hresult))
            if deadline is not None and time.monotonic() >= deadline:
                return False
    finally:
        ctx.release()
