"""The lab process: one PcscRig (pcscd + vpcd in private namespaces) that outlives the command
which started it, driven over a unix socket (``simtool lab insert|remove|status|stop``).

    python -m simtool.lab.daemon --dir DIR

DIR (mode 0700) holds ``lab.pid``, ``lab.log`` (this process's output), ``control.sock`` (the
requests, mode 0600), ``cards/ICCID.json`` (each card's memory: a card pulled and inserted again
keeps its rules) and ``rig/`` (pcscd's folder; its socket is ``rig/run/pcscd/pcscd.comm``, what
PCSCLITE_CSOCK_NAME must name). One JSON request per connection, one JSON answer:

    {"op": "status"}
    {"op": "insert", "iccid": "8988…", "profile": "spec", "rules": ["E2…"], "slot": 0}
    {"op": "remove", "slot": 0}
    {"op": "stop"}

Answers are ``{"ok": true, …}`` or ``{"ok": false, "error": "one line"}``. SIGTERM stops too.
On stop every card and pcscd are stopped and waited for, and DIR is removed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from .rig import PcscRig, RigError
from .vcard.profiles import PROFILES

CONTROL = "control.sock"
PID_FILE = "lab.pid"
LOG_FILE = "lab.log"
RIG_DIR = "rig"
CARDS_DIR = "cards"
MAX_REQUEST = 1 << 20


def socket_path(folder: Path) -> Path:
    """Where pcscd's socket of the lab in ``folder`` is (the value of PCSCLITE_CSOCK_NAME)."""
    return folder / RIG_DIR / "run" / "pcscd" / "pcscd.comm"


class Lab:
    """The rig plus what the lab remembers: which ICCID is which kind of card, in which slot."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        (folder / RIG_DIR).mkdir(mode=0o700)
        (folder / CARDS_DIR).mkdir(mode=0o700, exist_ok=True)
        self.rig = PcscRig(folder=folder / RIG_DIR)
        self.profiles: dict[str, str] = {}  # ICCID -> profile of every card seen
        self.slots: dict[int, str] = {}  # slot -> ICCID of the card in it

    def start(self) -> None:
        self.rig.start()

    def close(self) -> None:
        self.rig.close()

    def status(self) -> dict[str, Any]:
        slots = []
        for slot, reader in enumerate(self.rig.reader_names):
            handle = self.rig.cards.get(slot)
            present = handle is not None and handle.running
            iccid = self.slots.get(slot) if present else None
            slots.append({"slot": slot, "reader": reader, "iccid": iccid,
                          "profile": self.profiles.get(iccid) if iccid else None})
        return {"socket": str(self.rig.socket), "pid": os.getpid(), "slots": slots,
                "cards": dict(sorted(self.profiles.items()))}

    def insert(self, iccid: str, profile: str | None, rules: list[str], slot: int) -> dict[str, Any]:
        """Insert card ``iccid`` (the same card again when it was seen before: its memory stays)."""
        known = self.profiles.get(iccid)
        if known and profile and profile != known:
            raise ValueError(f"card {iccid} is a {known!r} card, not {profile!r}")
        if known and rules:
            raise ValueError(f"card {iccid} was inserted before and keeps its own rules "
                             "(give a new --iccid for a card with other rules)")
        chosen = known or profile or "spec"
        if chosen not in PROFILES:
            raise ValueError(f"unknown card profile {chosen!r}; known: {', '.join(PROFILES)}")
        for other, held in self.slots.items():
            handle = self.rig.cards.get(other)
            if held == iccid and handle is not None and handle.running:
                raise ValueError(f"card {iccid} is already in slot {other}")
        handle = self.rig.cards.get(slot)
        if handle is not None and handle.running:
            raise ValueError(f"slot {slot} already holds card {self.slots.get(slot)}; remove it first")
        state = self.folder / CARDS_DIR / f"{iccid}.json"
        self.rig.insert_card(chosen, slot=slot, state_file=state, iccid=iccid,
                             rules=[bytes.fromhex(r) for r in rules])
        self.profiles[iccid] = chosen
        self.slots[slot] = iccid
        return {"slot": slot, "reader": self.rig.reader_names[slot], "iccid": iccid, "profile": chosen,
                "again": known is not None}

    def remove(self, slot: int) -> dict[str, Any]:
        handle = self.rig.cards.get(slot)
        if handle is None or not handle.running:
            raise ValueError(f"slot {slot} holds no card")
        self.rig.remove_card(slot)
        return {"slot": slot, "iccid": self.slots.pop(slot, None)}

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "status":
            return self.status()
        if op == "insert":
            return self.insert(str(request["iccid"]), request.get("profile"), list(request.get("rules", [])),
                               int(request.get("slot", 0)))
        if op == "remove":
            return self.remove(int(request.get("slot", 0)))
        raise ValueError(f"unknown request {op!r}")


class _Stop(Exception):
    pass


def serve(folder: Path) -> int:
    """Run the lab in ``folder`` until asked to stop; 0 after a clean stop, 1 when it could not start."""
    def on_term(signum: int, frame: Any) -> None:
        raise _Stop()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the operator's Ctrl-C is for their command
    (folder / PID_FILE).write_text(f"{os.getpid()}\n")
    lab = Lab(folder)
    control = folder / CONTROL
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        lab.start()
        old_umask = os.umask(0o177)
        try:
            server.bind(str(control))
        finally:
            os.umask(old_umask)
        server.listen(4)
        print(f"lab ready: PCSCLITE_CSOCK_NAME={lab.rig.socket}", flush=True)
        while True:
            conn, _ = server.accept()
            with conn:
                stop = _answer(lab, conn)
            if stop:
                break
    except _Stop:
        pass
    except (RigError, OSError) as err:
        print(f"lab: {err}", flush=True)
        return 1
    finally:
        server.close()
        lab.close()
        if (folder / PID_FILE).exists():
            shutil.rmtree(folder, ignore_errors=True)
    return 0


def _answer(lab: Lab, conn: socket.socket) -> bool:
    """Read one request from ``conn`` and answer it; True when it asked the lab to stop."""
    conn.settimeout(10)
    data = b""
    try:
        while not data.endswith(b"\n") and len(data) < MAX_REQUEST:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        request = json.loads(data)
        if not isinstance(request, dict):
            raise ValueError("a request is a JSON object")
        if request.get("op") == "stop":
            conn.sendall(b'{"ok": true}\n')
            return True
        answer: dict[str, Any] = {"ok": True, **lab.handle(request)}
    except (ValueError, KeyError, RigError) as err:
        answer = {"ok": False, "error": str(err)}
    except OSError:
        return False
    try:
        conn.sendall(json.dumps(answer).encode() + b"\n")
    except OSError:
        pass
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simtool.lab.daemon", description=__doc__)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    return serve(args.dir)


if __name__ == "__main__":
    sys.exit(main())
