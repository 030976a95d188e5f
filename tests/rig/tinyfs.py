"""A tiny tmpfs in a private mount namespace: a real "disk full" (ENOSPC) or a real read-only
file system for durability tests, seen only by commands run inside it (:meth:`TinyFs.run`).

The namespace lives as long as its holder process (``unshare --mount`` + ``sleep``); ``stop()``
ends it, and with it the mount. Nothing outside the namespace sees the tmpfs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

UNSHARE = shutil.which("unshare") or "/usr/bin/unshare"
NSENTER = shutil.which("nsenter") or "/usr/bin/nsenter"


class TinyFs:
    """A tmpfs of ``size`` bytes mounted on ``directory`` inside its own mount namespace."""

    def __init__(self, directory: Path, size: int = 64 * 1024) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.holder = subprocess.Popen(
            [UNSHARE, "--mount", "--propagation", "private", "sh", "-c",
             f"mount -t tmpfs -o size={size} tmpfs '{self.dir}' && echo ready && exec sleep 3600"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert self.holder.stdout is not None
        line = self.holder.stdout.readline()
        if line.strip() != "ready":
            self.stop()
            raise RuntimeError(f"tmpfs not mounted: {line!r}")

    def run(self, argv: Sequence[str], env: Mapping[str, str] | None = None,
            **kwargs: object) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside the namespace (it sees the tmpfs) in this process's working
        directory (entering a mount namespace would reset it to /); output captured as text."""
        return subprocess.run(  # type: ignore[call-overload, no-any-return]
            [NSENTER, "-t", str(self.holder.pid), "-m", f"--wd={os.getcwd()}", "--", *argv],
            env=env,
            capture_output=True, text=True, timeout=120, **kwargs)

    def fill(self) -> None:
        """Fill the file system to the last byte (a file ``filler``)."""
        self.run(["sh", "-c", f"cat /dev/zero > '{self.dir}/filler'"])

    def free(self) -> None:
        self.run(["rm", "-f", f"{self.dir}/filler"])

    def read_only(self) -> None:
        done = self.run(["mount", "-o", "remount,ro", str(self.dir)])
        assert done.returncode == 0, done.stderr

    def stop(self) -> None:
        if self.holder.poll() is None:
            self.holder.kill()
        self.holder.communicate(timeout=30)
