"""Stop a Python process exactly at a named point of wifiq/checkpoint.py (no timing guesses):
kill it there, or let it go on when the test says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from wifiq import checkpoint

from .netns import REPO


def start_paused(point: str, args: list[str], marker: Path, *,
                 env: Mapping[str, str] | None = None,
                 timeout: float = 120.0) -> subprocess.Popen[str]:
    """Start ``python *args`` (from the repository, this checkout first on the path, in
    ``env`` or this process's environment) and return it once it waits at ``point``. Delete
    ``marker`` to let it go on. Fails (the process killed) when it ends first or never gets
    there."""
    marker.unlink(missing_ok=True)
    base = dict(os.environ if env is None else env)
    base.update({"PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [base.get("PYTHONPATH")])]),
                 checkpoint.PAUSE_AT: point, checkpoint.MARKER: str(marker)})
    proc = subprocess.Popen([sys.executable, *args], env=base, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + timeout
        while not marker.exists():
            if proc.poll() is not None:
                raise AssertionError(f"ended before {point}: {proc.communicate()[1]}")
            assert time.monotonic() < deadline, f"did not reach {point}"
            time.sleep(0.02)
        assert marker.read_text() == point and proc.poll() is None
    except BaseException:
        proc.kill()
        proc.communicate(timeout=30)
        raise
    return proc


@contextmanager
def paused_at(point: str, args: list[str], marker: Path, *,
              env: Mapping[str, str] | None = None,
              timeout: float = 120.0) -> Iterator[subprocess.Popen[str]]:
    """:func:`start_paused` as a context: the process is killed on leaving if it still runs
    (a failing test never leaves it waiting)."""
    proc = start_paused(point, args, marker, env=env, timeout=timeout)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)


def resume(proc: subprocess.Popen[str], marker: Path, *,
           timeout: float = 60.0) -> tuple[str, str]:
    """Let a paused process go on (its marker deleted) and wait for it: (stdout, stderr)."""
    marker.unlink()
    return proc.communicate(timeout=timeout)


def kill_at(point: str, args: list[str], marker: Path, *,
            env: Mapping[str, str] | None = None, timeout: float = 120.0) -> None:
    """Run ``python *args`` until it reaches ``point``, then SIGKILL it. Fails when it ends
    first or never gets there."""
    proc = start_paused(point, args, marker, env=env, timeout=timeout)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
