"""The one error type the wifiq CLI turns into a one-line message and an exit status."""

from __future__ import annotations

from carrierkit.errors import ToolError


class WifiqError(ToolError):
    """Base of every error wifiq reports to the user; ``exit_code`` is the process status."""


class UsageError(WifiqError):
    """The command line or an input file asked for something impossible."""

    exit_code = 2
