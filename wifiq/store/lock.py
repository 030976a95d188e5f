"""One refresh at a time per state file: an exclusive ``flock`` on ``<state>.lock``.

The kernel drops the lock when the process dies (even by SIGKILL), so a killed refresh never
leaves a stale lock behind. A second refresh polls for up to ``wait`` seconds, then gives up
with :class:`StateBusyError`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from ..errors import WifiqError
from .db import StateError

_POLL = 0.1


class StateBusyError(WifiqError):
    """Another process holds the refresh lock of ``path`` for longer than ``waited`` seconds."""

    exit_code = 1

    def __init__(self, path: Path, waited: float) -> None:
        super().__init__(
            f"another wifiq refresh is using {path} (waited {waited:g} s; "
            "use --wait SECONDS to wait longer)"
        )
        self.path = path
        self.waited = waited


class RefreshLock:
    """Context manager holding the exclusive lock of a state file; raises StateBusyError, or
    StateError when the lock file cannot be created."""

    def __init__(self, state_path: Path, wait: float) -> None:
        self.path = Path(f"{state_path}.lock")
        self.state_path = state_path
        self.wait = wait
        self._fd: int | None = None

    def __enter__(self) -> "RefreshLock":
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # a parent that is a file, a read-only place, …
            raise StateError(self.state_path, f"cannot create {self.path}: "
                             f"{exc.strerror or exc}") from None
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise StateBusyError(self.state_path, self.wait) from None
                time.sleep(_POLL)
        # The pid is only a hint for people; the flock is the lock. On a full disk writing it
        # fails, and the state file's own write then says so in one line.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
