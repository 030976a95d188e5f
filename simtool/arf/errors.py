"""Errors of the ARF layers; each names the file and the problem in one line."""

from __future__ import annotations

from ..errors import SimtoolError
from ..exitcodes import ExitCode


class ArfFormatError(SimtoolError):
    """A file's bytes are not the PKCS#15 / SEAC structure they should be."""

    exit_code = ExitCode.DAMAGED_LIST

    def __init__(self, file: str, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.problem = problem


class ArfFileFullError(SimtoolError):
    """The new content does not fit in the file as the card created it (never resized)."""

    exit_code = ExitCode.USAGE

    def __init__(self, file: str, needed: int, size: int) -> None:
        super().__init__(f"{file} is full: the new content needs {needed} bytes, the file holds {size} "
                         "(simtool never resizes card files)")
        self.file = file
        self.needed = needed
        self.size = size


class ArfCardError(SimtoolError):
    """The card has no readable ARF (no PKCS#15 application, a missing file, a refused command)."""

    exit_code = ExitCode.CARD_REFUSED

    def __init__(self, what: str, problem: str) -> None:
        super().__init__(f"{what}: {problem}")
        self.what = what
        self.problem = problem


class ArfNoFreeRecordError(SimtoolError):
    """A linear fixed EF has fewer free (all FF) records than new entries (never resized)."""

    exit_code = ExitCode.USAGE

    def __init__(self, file: str, needed: int, free: int, count: int, record_size: int) -> None:
        super().__init__(f"{file} is full: {needed} new entr{'y needs' if needed == 1 else 'ies need'} a free record "
                         f"each, {free} of its {count} records ({record_size} bytes each) "
                         f"{'is' if free == 1 else 'are'} free (simtool never resizes card files)")
        self.file = file
        self.needed = needed
        self.free = free
        self.count = count
        self.record_size = record_size


class ArfRecordTooSmallError(SimtoolError):
    """An entry is longer than the records of the linear fixed EF it must go in."""

    exit_code = ExitCode.USAGE

    def __init__(self, file: str, entry: int, record_size: int) -> None:
        super().__init__(f"{file}: an entry of {entry} bytes does not fit its records of {record_size} bytes "
                         "(simtool never resizes card files)")
        self.file = file
        self.entry = entry
        self.record_size = record_size


class ArfAccfMismatchError(SimtoolError):
    """``--accf`` names a file, but the ACRF already has a carrier rule pointing at another ACCF
    (``--accf`` only names the ACCF of a new rule; simtool never re-points a rule)."""

    exit_code = ExitCode.USAGE

    def __init__(self, given: str, existing: str) -> None:
        super().__init__(f"--accf {given}: the ACRF already has a FFFFFFFFFFFF rule, its ACCF is {existing}; "
                         f"--accf only names the ACCF of a new rule (leave it out or give --accf {existing})")
        self.given = given
        self.existing = existing
