"""The ``--on-change`` command: run once after a refresh's change is committed (state and
outputs), without a shell; what happened is passed in ``WIFIQ_*`` environment variables.

The command line is split like a POSIX shell would (:func:`shlex.split`: quotes, no
expansions, no pipes); for shell features give ``sh -c '…'`` explicitly. Its standard output
goes to wifiq's standard error (wifiq's standard output carries only the report). A command
that fails (exit status not 0, killed, not found, over :data:`TIMEOUT` seconds) is reported
and run again by the next refresh.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping

from .errors import UsageError, WifiqError

TIMEOUT = 600.0
"""Seconds an on-change command may run before it is killed (and counted as failed)."""


class OnChangeError(WifiqError):
    """The on-change ``command`` failed (``reason``); it runs again on the next refresh."""

    exit_code = 1

    def __init__(self, command: str, reason: str) -> None:
        super().__init__(f"on-change command {command!r} {reason}; it runs again on the next "
                         "refresh")
        self.command = command
        self.reason = reason


def parse_command(command: str, option: str = "--on-change") -> list[str]:
    """The argument vector of ``command``; UsageError when it cannot be split, is empty or
    names a program that is not found (checked before any lookup)."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"{option} {command!r}: {exc}") from None
    if not argv:
        raise UsageError(f"{option}: an empty command")
    if shutil.which(argv[0]) is None:
        raise UsageError(f"{option} {command!r}: no program {argv[0]!r} (give an absolute path "
                         "or one on PATH)")
    return argv


def run_on_change(command: str, env: Mapping[str, str], timeout: float = TIMEOUT) -> None:
    """Run ``command`` with ``env`` added to the environment; raises OnChangeError."""
    argv = parse_command(command)
    try:
        sys.stdout.flush()
        done = subprocess.run(argv, env={**os.environ, **env}, stdin=subprocess.DEVNULL,
                              stdout=sys.stderr.fileno(), timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise OnChangeError(command, f"ran over {timeout:g} s and was killed") from None
    except OSError as exc:
        raise OnChangeError(command, f"could not start: {exc.strerror or exc}") from None
    if done.returncode != 0:
        how = (f"was killed by signal {-done.returncode}" if done.returncode < 0
               else f"exited with status {done.returncode}")
        raise OnChangeError(command, how)
