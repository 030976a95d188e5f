"""The one error type the wifiq CLI turns into a one-line message and an exit status."""

from __future__ import annotations


class WifiqError(Exception):
    """Base of every error wifiq reports to the user; ``exit_code`` is the process status."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(WifiqError):
    """The command line or an input file asked for something impossible."""

    exit_code = 2
