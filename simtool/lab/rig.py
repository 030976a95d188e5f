"""A real PC/SC stack for tests and ``simtool lab``: pcscd with the vpcd virtual reader, and simulated cards in it.

    with PcscRig() as rig:
        card = rig.insert_card("spec", rules=[bytes.fromhex("E22F…")])
        subprocess.run(["simtool", "aram", "list"], env=rig.env)
        card.state()["apdus"]

How it works (docs/testing-pcsc.md has the picture):
- pcscd runs in its own mount and network namespaces (`unshare --mount --net --propagation
  private`): a private /run (bind-mounted from the rig's folder, so its socket is reachable from
  outside at STATEDIR/run/pcscd/pcscd.comm) and a private loopback where vpcd listens on the
  slot ports PORT (slot 0) and PORT+1 (slot 1). The namespace is new, so every port is free.
- A card is a `python -m simtool.lab.vcard` process started with `nsenter -t PCSCD -n` once pcscd
  has switched namespace; it connects to its slot's port. Card removal = that process exits.
- Clients find pcscd through PCSCLITE_CSOCK_NAME, which libpcsclite reads once per process.
  `rig.env` points straight at this rig's socket (for subprocesses). In this process the rig
  points os.environ at a per-process symlink it re-targets, so several rigs one after another
  (one per test module) all work; one rig at a time serves this process.
Requires root (unshare, nsenter). Every process started is stopped and waited for on exit.
Debugging: CARRIERKIT_PCSCD_DEBUG=1 makes pcscd log every APDU, CARRIERKIT_KEEP_RIG=1 keeps the
rig's folder (pcscd.log, cardN.log, state files) after it closes.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
READER_NAME = "Virtual PCD"
# the folder holding the simtool package: the card runs as `python -m simtool.lab.vcard` from it
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
PROCESS_SOCKET = Path(tempfile.gettempdir()) / f"carrierkit-pcscd-{os.getpid()}.comm"
BASE_PORT = 35963
START_TIMEOUT = 10.0
# pcscd's event thread asks vpcd "card present?" every 400 ms (PCSCLITE_STATUS_POLL_RATE) and
# keeps its own idea of the slot. A slot must stay empty for one whole poll before the next
# card goes in, or that thread may never see the gap (see _settle_after_removal).
EMPTY_SLOT_SETTLE = 0.45
DEBUG_ENV = "CARRIERKIT_PCSCD_DEBUG"  # set: pcscd logs every APDU to STATEDIR/pcscd.log
KEEP_ENV = "CARRIERKIT_KEEP_RIG"  # set: the rig's folder (logs, state files) is kept on close

_rig_numbers = itertools.count(1)
_live_processes: list[subprocess.Popen] = []
_active_rigs: list["PcscRig"] = []  # started, not closed; the last one serves this process


class RigError(RuntimeError):
    """The rig could not start or drive a part (message says which, with its log)."""


def _stop(process: subprocess.Popen, timeout: float = 5.0) -> None:
    """SIGTERM, wait; SIGKILL, wait. Never leaves a zombie."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process in _live_processes:
        _live_processes.remove(process)


@atexit.register
def _stop_leftovers() -> None:
    for process in list(_live_processes):
        _stop(process, 1.0)


def missing_requirements() -> str | None:
    """Why the rig cannot run on this machine, or None when it can."""
    if os.geteuid() != 0:
        return "the PC/SC rig needs root: pcscd runs in private mount+net namespaces (unshare)"
    for tool in ("unshare", "nsenter", "pcscd", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian: apt install pcscd vsmartcard-vpcd iproute2 util-linux)"
    if not VPCD_DRIVER.exists():
        return f"{VPCD_DRIVER} is missing: apt install vsmartcard-vpcd"
    return None


def _scard() -> Any:
    from smartcard import scard  # imported late: PCSCLITE_CSOCK_NAME must be set first

    return scard


class CardHandle:
    """One inserted card: its process and its state file."""

    def __init__(self, rig: "PcscRig", slot: int, process: subprocess.Popen, state_file: Path,
                 log_file: Path) -> None:
        self.rig = rig
        self.slot = slot
        self.process = process
        self.state_file = state_file
        self.log_file = log_file

    def state(self) -> dict:
        """The card's persisted state: rules (hex REF-AR-DOs, card order), refresh_tag, apdus
        ([command hex, response hex] in order), adm_tries_left, removed."""
        return json.loads(self.state_file.read_text())

    def wait_removed(self, timeout: float = 5) -> None:
        """Wait until the card process has gone and pcscd reports the slot empty.

        Raises RigError when either does not happen within `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise RigError(f"card in slot {self.slot} still running after {timeout} s") from None
        if self.process in _live_processes:
            _live_processes.remove(self.process)
        self.rig._emptied_at[self.slot] = time.monotonic()
        left = max(0.1, deadline - time.monotonic())
        self.rig._wait_state(self.slot, present=False, timeout=left)

    @property
    def running(self) -> bool:
        return self.process.poll() is None


class PcscRig:
    """pcscd + vpcd (two slots) in private namespaces; a context manager (see module doc)."""

    def __init__(self, port: int = BASE_PORT, *, folder: Path | None = None) -> None:
        """``folder``: an existing empty folder to use (``simtool lab``); default a new temp one."""
        reason = missing_requirements()
        if reason:
            raise RigError(reason)
        self.port = port
        self.dir = folder if folder is not None else Path(
            tempfile.mkdtemp(prefix=f"ckpcsc-{os.getpid()}-{next(_rig_numbers)}-"))
        self.socket = self.dir / "run" / "pcscd" / "pcscd.comm"
        self.env: dict[str, str] = {}
        self.reader_names: list[str] = []
        self.pcscd: subprocess.Popen | None = None
        self.cards: dict[int, CardHandle] = {}
        self._context = None
        self._card_numbers = itertools.count(1)
        self._emptied_at: dict[int, float] = {}  # slot -> when its last card process exited

    # lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> "PcscRig":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start pcscd in its namespaces and wait until both vpcd slots are listed.

        Raises RigError (with pcscd's log) when pcscd exits or lists no readers in time.
        """
        (self.dir / "run").mkdir()
        conf = self.dir / "reader.conf.d"
        conf.mkdir()
        (conf / "vpcd").write_text(
            f'FRIENDLYNAME "{READER_NAME}"\nDEVICENAME   /dev/null:{self.port}\n'
            f"LIBPATH      {VPCD_DRIVER}\nCHANNELID    {self.port}\n"
        )
        verbosity = "--debug --apdu" if os.environ.get(DEBUG_ENV) else "--error"
        script = (f"ip link set lo up && mount --bind {self.dir}/run /run && "
                  f"exec pcscd --foreground {verbosity} -c {conf}")
        with open(self.dir / "pcscd.log", "wb") as log:
            self.pcscd = subprocess.Popen(
                ["unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", script],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        _live_processes.append(self.pcscd)
        own_netns = os.readlink("/proc/self/ns/net")
        deadline = time.monotonic() + START_TIMEOUT
        while not self.socket.exists() or self._netns(self.pcscd.pid) == own_netns:
            if self.pcscd.poll() is not None:
                raise RigError(f"pcscd exited with {self.pcscd.returncode}: "
                               f"{self._log('pcscd.log')}")
            if time.monotonic() > deadline:
                raise RigError(f"pcscd did not start in {START_TIMEOUT} s: "
                               f"{self._log('pcscd.log')}")
            time.sleep(0.005)
        self.env = dict(os.environ, PCSCLITE_CSOCK_NAME=str(self.socket))
        _active_rigs.append(self)
        self._use_in_this_process()
        scard = _scard()
        while True:
            hr, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if hr == scard.SCARD_S_SUCCESS:
                self._context = context
                hr, readers = scard.SCardListReaders(context, [])
                if hr == scard.SCARD_S_SUCCESS and len(readers) >= 2:
                    self.reader_names = sorted(r for r in readers if r.startswith(READER_NAME))
                    if len(self.reader_names) >= 2:
                        break
            if time.monotonic() > deadline:
                raise RigError(f"pcscd lists no vpcd readers: {self._log('pcscd.log')}")
            time.sleep(0.01)

    def close(self) -> None:
        """Stop every card, then pcscd; wait for all of them; remove the rig's folder."""
        for handle in list(self.cards.values()):
            _stop(handle.process)
        self.cards.clear()
        if self._context is not None:
            scard = _scard()
            scard.SCardReleaseContext(self._context)
            self._context = None
        if self.pcscd is not None:
            _stop(self.pcscd)
        if self in _active_rigs:
            _active_rigs.remove(self)
            if _active_rigs:
                _active_rigs[-1]._use_in_this_process()  # the rig that served before us
            else:
                try:
                    PROCESS_SOCKET.unlink()
                except FileNotFoundError:
                    pass
        if not os.environ.get(KEEP_ENV):
            shutil.rmtree(self.dir, ignore_errors=True)

    def _use_in_this_process(self) -> None:
        """Point this process's PC/SC client (via the per-process symlink) at this rig.

        libpcsclite checks that the socket path exists before every call, so the symlink must
        always lead to a running pcscd while a rig is open."""
        tmp = PROCESS_SOCKET.with_name(PROCESS_SOCKET.name + ".new")
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(self.socket)
        os.replace(tmp, PROCESS_SOCKET)
        os.environ["PCSCLITE_CSOCK_NAME"] = str(PROCESS_SOCKET)

    @staticmethod
    def _netns(pid: int) -> str | None:
        try:
            return os.readlink(f"/proc/{pid}/ns/net")
        except OSError:
            return None

    def _log(self, name: str) -> str:
        try:
            return (self.dir / name).read_text(errors="replace").strip()[-2000:] or "(empty log)"
        except OSError:
            return "(no log)"

    # cards -----------------------------------------------------------------------------
    def insert_card(self, profile: str = "spec", *, slot: int = 0, state_file: Path | None = None,
                    rules: Sequence[bytes] = (), iccid: str = "89882110000000000019",
                    remove_after_apdus: int | None = None, adm_key: bytes | None = None,
                    adm_tries: int = 10, capacity: int = 4096,
                    empty_6a88: bool = False, write_delay: float = 0.0,
                    isd_keys: tuple[bytes, bytes, bytes] | None = None, isd_tries: int = 3,
                    drop_updates: Sequence[str] = ()) -> CardHandle:
        """Start a simulated card in `slot`; returns once pcscd reports it present.

        `rules` are hex-free bytes of REF-AR-DOs (E2…) in the card's order, for a new card;
        with an existing `state_file` the card is that card re-inserted (rules must be empty).
        `remove_after_apdus=N`: the card is pulled right after answering its Nth APDU.
        `capacity`: bytes of rules before STORE answers 6581; `empty_6a88`: GET DATA FF40
        answers 6A88 instead of FF40 00 when the card holds no rule; `write_delay`: seconds the
        card waits before answering each STORE DATA (a slow card: Ctrl-C or a pull mid-write).
        `drop_updates`: PKCS#15 file ids (hex) whose UPDATE BINARY/RECORD answer 9000 and
        change nothing (what reading back after a write must catch).
        Raises RigError (card exited, never seen present) and ValueError (bad arguments).
        """
        if slot not in (0, 1):
            raise ValueError(f"slot must be 0 or 1, not {slot}")
        if self.pcscd is None:
            raise RigError("the rig is not started")
        previous = self.cards.get(slot)
        if previous is not None:
            if previous.running:
                raise ValueError(f"slot {slot} already holds a card; remove_card({slot}) first")
            previous.wait_removed()  # it pulled itself: let pcscd see the slot empty first
        self._settle_after_removal(slot)
        number = next(self._card_numbers)
        state_file = Path(state_file) if state_file else self.dir / f"card{number}-slot{slot}.json"
        if adm_key is not None and len(adm_key) != 8:
            raise ValueError(f"adm_key must be 8 bytes, not {len(adm_key)}")
        if rules and state_file.exists():
            raise ValueError(f"rules given but {state_file} exists "
                             "(a re-inserted card keeps its own)")
        config = {
            "profile": profile, "iccid": iccid, "rules": [bytes(r).hex() for r in rules],
            "adm_key": adm_key.hex() if adm_key else None, "adm_tries": adm_tries,
            "capacity": capacity, "empty_6a88": empty_6a88,
            "remove_after_apdus": remove_after_apdus, "write_delay": write_delay,
            "isd_keys": [k.hex() for k in isd_keys] if isd_keys else None, "isd_tries": isd_tries,
            "drop_updates": list(drop_updates),
        }
        config_file = self.dir / f"card{number}.config.json"
        fd = os.open(config_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(config, out)
        log_file = self.dir / f"card{number}.log"
        with open(log_file, "wb") as log:
            process = subprocess.Popen(
                ["nsenter", "-t", str(self.pcscd.pid), "-n",
                 sys.executable, "-m", "simtool.lab.vcard", "--port", str(self.port + slot),
                 "--config", str(config_file), "--state", str(state_file)],
                cwd=PACKAGE_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        _live_processes.append(process)
        handle = CardHandle(self, slot, process, state_file, log_file)
        self.cards[slot] = handle
        try:
            self._wait_state(slot, present=True, timeout=START_TIMEOUT, process=process)
        except RigError:
            _stop(process)
            del self.cards[slot]
            raise
        return handle

    def remove_card(self, slot: int = 0) -> None:
        """Pull the card out of `slot` (its process exits); returns once pcscd sees it absent.

        Raises ValueError when no card was inserted there, RigError when pcscd never sees it go.
        """
        handle = self.cards.pop(slot, None)
        if handle is None:
            raise ValueError(f"no card was inserted in slot {slot}")
        _stop(handle.process)
        self._emptied_at[slot] = time.monotonic()
        self._wait_state(slot, present=False, timeout=START_TIMEOUT)

    def _settle_after_removal(self, slot: int) -> None:
        """Keep `slot` empty for one poll of pcscd's event thread before a card goes in.

        Why: when a client dies holding a connection, pcscd resets the card (SCardDisconnect
        with SCARD_RESET_CARD). If that reset fails (vpcd answers "not present" during it) pcscd
        writes ABSENT into the reader state itself, and the event thread's own copy still says
        PRESENT. A card removed and re-inserted within one 400 ms poll is then never seen to go
        (PRESENT -> PRESENT for the thread), so the state stays ABSENT for good and
        insert_card times out. An empty poll makes the thread see ABSENT, then the new card.
        """
        emptied = self._emptied_at.pop(slot, None)
        if emptied is not None:
            left = EMPTY_SLOT_SETTLE - (time.monotonic() - emptied)
            if left > 0:
                time.sleep(left)

    def remove_all_cards(self) -> None:
        """Pull every card still inserted (fixture teardown between tests)."""
        for slot in list(self.cards):
            handle = self.cards[slot]
            if handle.running:
                self.remove_card(slot)
            else:
                self.cards.pop(slot)
                if handle.process in _live_processes:
                    _stop(handle.process)
                self._emptied_at.setdefault(slot, time.monotonic())
                self._wait_state(slot, present=False, timeout=START_TIMEOUT)

    def _wait_state(self, slot: int, *, present: bool, timeout: float,
                    process: subprocess.Popen | None = None) -> None:
        """Block until pcscd reports slot `slot` present / empty (SCardGetStatusChange)."""
        scard = _scard()
        reader = self.reader_names[slot]
        want = scard.SCARD_STATE_PRESENT if present else scard.SCARD_STATE_EMPTY
        deadline = time.monotonic() + timeout
        known = scard.SCARD_STATE_UNAWARE
        while True:
            left_ms = int(max(0.0, deadline - time.monotonic()) * 1000)
            wait_ms = 100 if process is not None else left_ms
            hr, states = scard.SCardGetStatusChange(self._context, wait_ms, [(reader, known)])
            if hr == scard.SCARD_S_SUCCESS:
                _, event, _ = states[0]
                if event & want and not (present and event & scard.SCARD_STATE_MUTE):
                    return
                known = event & ~scard.SCARD_STATE_CHANGED
            elif hr != scard.SCARD_E_TIMEOUT:
                message = scard.SCardGetErrorMessage(hr)
                raise RigError(f"SCardGetStatusChange on {reader!r}: {message}")
            if process is not None and process.poll() is not None:
                raise RigError(f"card process exited with {process.returncode}: "
                               f"{self._card_log(process)}")
            if time.monotonic() > deadline:
                what = "present" if present else "absent"
                raise RigError(f"pcscd did not report slot {slot} {what} within {timeout} s")

    def _card_log(self, process: subprocess.Popen) -> str:
        for handle in self.cards.values():
            if handle.process is process:
                return handle.log_file.read_text(errors="replace").strip()[-2000:] or "(empty log)"
        return "(no log)"
