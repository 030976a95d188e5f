"""Peak resident memory of one command, measured without counting the caller's own memory.

Linux counts in a child's ``ru_maxrss`` the RSS of the process image it replaced by ``exec``:
a child forked straight from a big pytest process would report pytest's size. So the command
is started from this small script (run as its own interpreter), which reads the command's peak
from ``os.wait4`` and writes it, in KiB, to the file given first::

    python -m tests.rig.peak_rss PEAK_FILE COMMAND [ARG...]   # exits with COMMAND's status
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    peak_file, command = Path(argv[0]), argv[1:]
    proc = subprocess.Popen(command)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak_file.write_text(f"{usage.ru_maxrss}\n")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
