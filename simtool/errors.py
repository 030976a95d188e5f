"""The one error type the simtool CLI turns into a one-line message and an exit status.

Every module raises a subclass carrying structured fields; ``str(err)`` is the one-line
message shown to the user (it names the problem and the input).
"""

from __future__ import annotations

from carrierkit.errors import ToolError

from .exitcodes import ExitCode


class SimtoolError(ToolError):
    """Base of every error simtool reports to the user (``exit_code``: the process status)."""


class UsageError(SimtoolError):
    """The command line or an input file asked for something impossible."""

    exit_code = ExitCode.USAGE

