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
