"""ARA-M application errors (exit statuses: 6 damaged answer, 7 verification failed,
8 rule refused because Android would not honour it, 2 bad rule file/options)."""

from __future__ import annotations

from ..card.statuswords import ApduError
from ..errors import SimtoolError, UsageError
from ..exitcodes import ExitCode


class AramNotFoundError(SimtoolError):
    """The card has no ARA-M application (SELECT answered ``sw``)."""

    exit_code = ExitCode.CARD_REFUSED

    def __init__(self, sw: int) -> None:
        super().__init__(f"no ARA-M application on this card (SELECT answered {sw:04X})")
        self.sw = sw


class DamagedAnswerError(SimtoolError):
    """The FF40 answer is incomplete, too long or malformed: never parsed into rules."""

    exit_code = ExitCode.DAMAGED_LIST

    def __init__(self, problem: str, announced: int | None, received: int) -> None:
        got = f"{received} of {announced} announced bytes" if announced is not None else f"{received} bytes"
        super().__init__(f"damaged rule list from the card ({problem}; {got}); no rules were parsed from it")
        self.problem = problem
        self.announced = announced
        self.received = received


_HINTS = {
    0x6984: "the open-source ARA-M applet refuses package names (CA), implicit/absent AIDs, "
    "rules of 128 bytes or more and, in the original applet, 32-byte hashes",
    0x6A89: "a rule with this REF-DO already exists; use `simtool aram apply` to replace it",
    0x6982: "the card wants ADM (--adm) or a GlobalPlatform secure channel first (--scp02/--scp03, docs/simtool-scp.md)",
    0x6A80: "the card refused a data object in the rule (some cards refuse DB or CA)",
    0x6581: "the card's rule memory is full",
    0x6700: "the card refused the length; keep each rule under 128 bytes for the open-source applet",
}


class StoreRefusedError(SimtoolError):
    """The card refused a STORE DATA; ``done`` counts the changes written before it."""

    exit_code = ExitCode.CARD_REFUSED

    def __init__(self, action: str, err: ApduError, done: int, total: int) -> None:
        hint = _HINTS.get(err.sw)
        msg = f"card refused to {action}: {err}" + (f" — {hint}" if hint else "")
        super().__init__(msg)
        self.action = action
        self.sw = err.sw
        self.done = done
        self.total = total


class AndroidRefusalError(SimtoolError):
    """A rule (or the resulting set) that Android would ignore; overridable with --force.

    ``problems`` holds one reason per refused rule (or the whole-set failure)."""

    exit_code = ExitCode.ANDROID_REFUSAL

    def __init__(self, problems: list[str] | tuple[str, ...]) -> None:
        super().__init__("; ".join(problems) + " (use --force to store it anyway)")
        self.problems = tuple(problems)


class VerificationError(SimtoolError):
    """The read-back does not hold exactly what was asked: ``missing`` wanted rules are not
    there, ``extra`` rules are there unasked (counts; None when not counted)."""

    exit_code = ExitCode.NOT_VERIFIED

    def __init__(self, message: str, missing: int | None = None, extra: int | None = None) -> None:
        super().__init__(message)
        self.missing = missing
        self.extra = extra


class RuleFileError(UsageError):
    """A rule file (JSON/TOML) that cannot be read; names the file and the entry."""


class OutputFileError(SimtoolError):
    """A file simtool was asked to write (``--log`` audit log, ``export`` output) cannot be
    written; ``what``, ``path`` and the OS reason."""

    exit_code = ExitCode.USAGE

    def __init__(self, what: str, path: str, reason: str) -> None:
        super().__init__(f"cannot write the {what} {path}: {reason}")
        self.what = what
        self.path = path
        self.reason = reason
