"""Status words: one table gives each its name and meaning; errors are typed from it.

``error_for(sw, command)`` returns an instance of the ApduError subclass named in the table
(e.g. ``ReferencedDataNotFound`` for 6A88), so callers can catch by name or test ``err.sw``.
The ARA-M meanings follow GP SEAC v1.1 (as listed in pySim ``ara_m.py``).
"""

from __future__ import annotations

from .errors import CardError

# sw (or sw1 with 0xXX00 and a mask of 0xFF00), class name, meaning
_TABLE: tuple[tuple[int, int, str, str], ...] = (
    (0x6381, 0xFFFF, "RuleAlreadyExists", "stored, but an access rule already exists"),
    (0x6382, 0xFFFF, "UnknownTagDiscarded", "stored, but an unknown BER-TLV was discarded"),
    (0x63C0, 0xFFF0, "VerificationFailed", "verification failed (low nibble: attempts left)"),
    (0x6581, 0xFFFF, "MemoryFailure", "memory problem (card full?)"),
    (0x6700, 0xFFFF, "WrongLength", "wrong length in Lc"),
    (0x6881, 0xFFFF, "LogicalChannelNotSupported", "logical channel not supported"),
    (0x6981, 0xFFFF, "DoNotSupported", "data object not supported by the ARA-M"),
    (0x6982, 0xFFFF, "SecurityStatusNotSatisfied", "security status not satisfied (ADM or secure channel needed)"),
    (0x6983, 0xFFFF, "AuthenticationBlocked", "authentication method blocked"),
    (0x6984, 0xFFFF, "ReferenceDataNotUsable", "rules updated / reference data not usable (open-source applet: refused rule)"),
    (0x6985, 0xFFFF, "ConditionsNotSatisfied", "conditions of use not satisfied"),
    (0x6999, 0xFFFF, "AppletSelectFailed", "applet selection failed"),
    (0x6A80, 0xFFFF, "IncorrectData", "incorrect values in the command data"),
    (0x6A81, 0xFFFF, "FunctionNotSupported", "function not supported"),
    (0x6A82, 0xFFFF, "NotFound", "file or application not found"),
    (0x6A84, 0xFFFF, "RulesChanged", "rules have been updated and must be read again"),
    (0x6A86, 0xFFFF, "IncorrectP1P2", "incorrect P1 P2"),
    (0x6A88, 0xFFFF, "ReferencedDataNotFound", "referenced data not found"),
    (0x6A89, 0xFFFF, "ConflictingRule", "a rule with this REF-DO already exists (conflict)"),
    (0x6D00, 0xFFFF, "InsNotSupported", "instruction not supported"),
    (0x6E00, 0xFFFF, "ClassNotSupported", "class (CLA) not supported"),
    (0x6F00, 0xFFFF, "UnknownCardError", "no precise diagnosis"),
)


class ApduError(CardError):
    """The card answered a status word other than success; ``sw`` and ``command`` say which."""

    meaning = "unexpected status word"

    def __init__(self, sw: int, command: str = "", data: bytes = b"") -> None:
        self.sw = sw
        self.command = command
        self.data = data
        self.name = type(self).__name__
        on = f" to {command}" if command else ""
        super().__init__(f"card answered {sw:04X} ({self.meaning}){on}")


def _make(name: str, meaning: str) -> type[ApduError]:
    return type(name, (ApduError,), {"meaning": meaning, "__doc__": f"Status word: {meaning}."})


_CLASSES: tuple[tuple[int, int, type[ApduError]], ...] = tuple(
    (sw, mask, _make(name, meaning)) for sw, mask, name, meaning in _TABLE
)
globals().update({cls.__name__: cls for _, _, cls in _CLASSES})


def lookup(sw: int) -> type[ApduError]:
    """The ApduError subclass for ``sw`` (ApduError itself when the table lacks it)."""
    for value, mask, cls in _CLASSES:
        if sw & mask == value:
            return cls
    return ApduError


def describe(sw: int) -> str:
    """``"6A88 referenced data not found"`` style text for messages and docs."""
    if sw == 0x9000:
        return "9000 success"
    return f"{sw:04X} {lookup(sw).meaning}"


def error_for(sw: int, command: str = "", data: bytes = b"") -> ApduError:
    """An exception instance for ``sw`` named from the table."""
    return lookup(sw)(sw, command, data)


def table() -> tuple[tuple[str, str, str], ...]:
    """(status word pattern, error name, meaning) rows, for docs and ``--help``."""
    rows = []
    for sw, mask, cls in _CLASSES:
        pattern = f"{sw:04X}" if mask == 0xFFFF else f"{sw >> 4:03X}x"
        rows.append((pattern, cls.__name__, cls.meaning))
    return tuple(rows)
