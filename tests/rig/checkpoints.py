"""Kill a Python process exactly at a named point of wifiq/checkpoint.py (no timing guesses)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from wifiq import checkpoint

from .netns import REPO


def kill_at(point: str, args: list[str], marker: Path, *, timeout: float = 120.0) -> None:
    """Run ``python *args`` (from the repository, this checkout first on the path) until it
    reaches ``point``, then SIGKILL it. Fails when it ends first or never gets there."""
    marker.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
               [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
           checkpoint.PAUSE_AT: point, checkpoint.MARKER: str(marker)}
    proc = subprocess.Popen([sys.executable, *args], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + timeout
        while not marker.exists():
            assert proc.poll() is None, f"ended before {point}: {proc.communicate()[1]}"
            assert time.monotonic() < deadline, f"did not reach {point}"
            time.sleep(0.02)
        assert marker.read_text() == point
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
