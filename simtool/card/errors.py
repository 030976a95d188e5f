"""Errors of the card layers; each carries the reader/command/status word it is about.

Exit statuses (documented in docs/simtool-aram.md): 3 no reader/card, 4 card removed,
5 the card refused a command, 9 ADM refused.
"""

from __future__ import annotations

from ..errors import SimtoolError
from ..exitcodes import ExitCode


class CardError(SimtoolError):
    """Base of every card-layer error."""

    exit_code = ExitCode.CARD_REFUSED


class PcscUnavailableError(CardError):
    """The PC/SC service could not be reached (pcscd not running, or no permission)."""

    exit_code = ExitCode.NO_CARD

    def __init__(self, detail: str) -> None:
        super().__init__(f"PC/SC service not available: {detail} (is pcscd running?)")
        self.detail = detail


class NoReaderError(CardError):
    """No reader is attached, none matches the selector, or (``matches``) a name substring
    matches more than one reader."""

    exit_code = ExitCode.NO_CARD

    def __init__(self, selector: str | None, readers: tuple[str, ...], matches: tuple[str, ...] = ()) -> None:
        listing = ", ".join(f"{i}: {r}" for i, r in enumerate(readers))
        if not readers:
            msg = "no smart card reader found"
        elif len(matches) > 1:
            msg = (f"reader {selector!r} matches {len(matches)} readers; give its index or more of "
                   f"its name: {listing}")
        else:
            msg = f"no reader matches {selector!r}; readers: {listing}"
        super().__init__(msg)
        self.selector = selector
        self.readers = readers
        self.matches = matches


class NoCardError(CardError):
    """The chosen reader holds no card (or the card does not answer)."""

    exit_code = ExitCode.NO_CARD

    def __init__(self, reader: str, detail: str = "") -> None:
        super().__init__(f"no card in reader {reader!r}" + (f": {detail}" if detail else ""))
        self.reader = reader


_COMMANDS = {0xA4: "SELECT", 0xB0: "READ BINARY", 0xCA: "GET DATA", 0xE2: "STORE DATA", 0x20: "VERIFY",
             0x70: "MANAGE CHANNEL", 0xC0: "GET RESPONSE", 0xF2: "STATUS"}


def command_name(header: str) -> str:
    """A command in words from its header in hex (``80E29000`` → ``STORE DATA``, ``80CAFF40`` →
    ``GET DATA FF40``); the hex itself when the instruction is not one simtool sends."""
    try:
        raw = bytes.fromhex(header[:8])
    except ValueError:
        return header
    if len(raw) < 4 or raw[1] not in _COMMANDS:
        return header
    name = _COMMANDS[raw[1]]
    return f"{name} {raw[2]:02X}{raw[3]:02X}" if raw[1] == 0xCA else name


class CardRemovedError(CardError):
    """The card went away in the middle of a command; nothing after ``apdu`` was sent."""

    exit_code = ExitCode.CARD_REMOVED

    def __init__(self, reader: str, apdu: str = "") -> None:
        where = f" during {command_name(apdu)}" if apdu else ""
        super().__init__(f"card removed from reader {reader!r}{where}")
        self.reader = reader
        self.apdu = apdu


class ReaderBusyError(CardError):
    """Another program holds the card (exclusive connection refused)."""

    exit_code = ExitCode.NO_CARD

    def __init__(self, reader: str) -> None:
        super().__init__(f"reader {reader!r} is in use by another program (try --shared)")
        self.reader = reader


class TransportError(CardError):
    """Any other PC/SC failure, with the library's message."""

    def __init__(self, reader: str, detail: str) -> None:
        super().__init__(f"PC/SC error on reader {reader!r}: {detail}")
        self.reader = reader
        self.detail = detail


class CardProtocolError(CardError):
    """The card broke the APDU protocol for ``command`` (header hex), e.g. endless 61xx or a
    MANAGE CHANNEL answer that is not a channel number; ``problem`` says how."""

    def __init__(self, command: str, problem: str) -> None:
        super().__init__(f"card answered {command} against the protocol: {problem}")
        self.command = command
        self.problem = problem


class ApduTooLongError(CardError):
    """Command data that does not fit a short APDU (at most 255 bytes)."""

    exit_code = ExitCode.USAGE

    def __init__(self, what: str, length: int) -> None:
        super().__init__(
            f"{what} is {length} bytes; a short APDU carries at most 255 (shorten the rule: "
            "fewer APDU filters or a shorter package name)"
        )
        self.what = what
        self.length = length
