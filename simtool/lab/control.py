"""``simtool lab``'s side of the lab process: start it detached, ask it things, stop it.

The lab lives in one folder (default ``/run/simtool-lab``, or ``$SIMTOOL_LAB_DIR``); see
``simtool.lab.daemon`` for what the folder holds and the requests.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import SimtoolError
from ..exitcodes import ExitCode
from .daemon import CONTROL, LOG_FILE, PID_FILE, socket_path
from .rig import missing_requirements

LAB_DIR_ENV = "SIMTOOL_LAB_DIR"
DEFAULT_LAB_DIR = Path("/run/simtool-lab")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0


class LabError(SimtoolError):
    """The lab cannot start, is not running, or refused a request (``problem`` says which)."""

    exit_code = ExitCode.NO_CARD

    def __init__(self, folder: Path, problem: str) -> None:
        super().__init__(f"lab {folder}: {problem}")
        self.folder = folder
        self.problem = problem


class LabRequestError(LabError):
    """The running lab refused a request (a bad ICCID, a slot already holding a card, …)."""

    exit_code = ExitCode.USAGE


def lab_dir(option: Path | None) -> Path:
    """The lab folder: the option, else ``$SIMTOOL_LAB_DIR``, else /run/simtool-lab."""
    if option is not None:
        return option
    return Path(os.environ.get(LAB_DIR_ENV) or DEFAULT_LAB_DIR)


def export_line(folder: Path) -> str:
    """The shell line that points PC/SC clients (simtool, pcsc_scan, pySim) at the lab."""
    return f"export PCSCLITE_CSOCK_NAME={socket_path(folder)}"


def _pid(folder: Path) -> int | None:
    try:
        return int((folder / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) has gone too
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def running(folder: Path) -> bool:
    """True when a lab process of ``folder`` is alive."""
    return _alive(_pid(folder))


def request(folder: Path, message: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
    """Send one request to the lab and return its answer.

    Raises LabError when no lab answers, LabRequestError when the lab refused the request.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        try:
            conn.connect(str(folder / CONTROL))
            conn.sendall(json.dumps(message).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError as exc:
            hint = "" if running(folder) else " (no lab running: `simtool lab start`)"
            raise LabError(folder, f"no answer from the lab: {exc.strerror or exc}{hint}") from None
    try:
        answer = json.loads(data)
    except ValueError:
        raise LabError(folder, "the lab answered something that is not JSON") from None
    if not answer.get("ok"):
        raise LabRequestError(folder, str(answer.get("error", "refused")))
    return dict(answer)


def _leftovers(folder: Path) -> list[int]:
    """Processes of a lab that died without cleaning up: pcscd (``-c FOLDER/rig/…``) and cards
    (``--state FOLDER/cards/…``), found by the folder in their command line."""
    marks = (f"{folder / 'rig'}/".encode(), f"{folder / 'cards'}/".encode())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if any(mark in cmdline for mark in marks):
            found.append(int(entry.name))
    return found


def _clean_up(folder: Path) -> None:
    """Stop the leftovers of a dead lab in ``folder`` (by pid) and remove the folder."""
    for pid in _leftovers(folder):
        try:
            os.kill(pid, 15)
        except OSError:
            pass
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(_alive(pid) for pid in _leftovers(folder)) and time.monotonic() < deadline:
        time.sleep(0.05)
    shutil.rmtree(folder, ignore_errors=True)


def _log_tail(folder: Path) -> str:
    try:
        lines = (folder / LOG_FILE).read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return lines[-1] if lines else "(empty log)"


def start(folder: Path) -> dict[str, Any]:
    """Start the lab process in ``folder`` (detached) and wait until it answers; returns its status.

    Raises LabError: not root / a part missing, a lab already running there, or it did not start.
    """
    reason = missing_requirements()
    if reason:
        raise LabError(folder, reason)
    if running(folder):
        raise LabRequestError(folder, f"a lab is already running (pid {_pid(folder)}); "
                                      "`simtool lab stop` first, or use it: `eval \"$(simtool lab env)\"`")
    if folder.exists():
        if not (folder / PID_FILE).exists() and any(folder.iterdir()):
            raise LabRequestError(folder, "the folder exists and is not a lab's: choose another --dir")
        _clean_up(folder)  # a lab that died without cleaning up
    folder.mkdir(mode=0o700, parents=True)
    with open(folder / LOG_FILE, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "simtool.lab.daemon", "--dir", str(folder)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            cwd=Path(__file__).resolve().parents[2],
        )
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            problem = _log_tail(folder)
            shutil.rmtree(folder, ignore_errors=True)
            raise LabError(folder, f"the lab did not start: {problem}")
        if (folder / CONTROL).exists():
            try:
                return request(folder, {"op": "status"})
            except LabError:
                pass
        if time.monotonic() > deadline:
            process.terminate()
            process.wait()
            shutil.rmtree(folder, ignore_errors=True)
            raise LabError(folder, f"the lab did not answer within {START_TIMEOUT:.0f} s")
        time.sleep(0.05)


def stop(folder: Path) -> bool:
    """Stop the lab in ``folder`` and wait until it has gone; False when none was running.

    Raises LabError when it does not go within STOP_TIMEOUT seconds.
    """
    pid = _pid(folder)
    if not _alive(pid):
        if (folder / PID_FILE).exists():
            _clean_up(folder)  # leftovers of a lab that died
        return False
    try:
        request(folder, {"op": "stop"})
    except LabError:
        if pid is not None:
            os.kill(pid, 15)
    deadline = time.monotonic() + STOP_TIMEOUT
    while _alive(pid):
        if time.monotonic() > deadline:
            raise LabError(folder, f"the lab (pid {pid}) did not stop within {STOP_TIMEOUT:.0f} s")
        time.sleep(0.05)
    return True
