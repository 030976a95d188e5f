"""Fixtures: real knot servers on loopback serving a pub.3gppnetwork.org zone of the tests' own,
a silent UDP port (a dead resolver), and a ``wifiq`` runner (a subprocess per command)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.rig.knot import KnotServer, SilentPort, have_knot, zone

PARENT = "pub.3gppnetwork.org"

# 505-01: A and AAAA; its sos name is a CNAME inside the zone.
# 505-02: epdg is a CNAME out of the zone (to example.net, which knot also serves);
#         sos has only an A record (AAAA is NODATA).
# 505-03: no names at all (NXDOMAIN).
# 999-01: below mcc999, a zone listed with a missing file (SERVFAIL).
BASE_RECORDS = [
    "epdg.epc.mnc001.mcc505 IN A 203.0.113.10",
    "epdg.epc.mnc001.mcc505 IN AAAA 2001:db8::10",
    "sos.epdg.epc.mnc001.mcc505 IN CNAME epdg.epc.mnc001.mcc505",
    "epdg.epc.mnc002.mcc505 IN CNAME epdg.example.net.",
    "sos.epdg.epc.mnc002.mcc505 IN A 203.0.113.21",
    # 505-01's tracking-area (TAC 0x1b1a) and location-area (LAC 0x002a) ePDG names.
    "tac-lb1a.tac-hb1b.tac.epdg.epc.mnc001.mcc505 IN A 203.0.113.30",
    "lac002a.epdg.epc.mnc001.mcc505 IN AAAA 2001:db8::2a",
] + [f"epdg.epc.mnc009.mcc505 IN AAAA 2001:db8:9::{i:x}" for i in range(1, 81)]
# 505-09: 80 AAAA records, more than the 1232 bytes of a UDP answer: truncated, asked over TCP.
EXAMPLE_NET = ["epdg IN A 198.51.100.20", "epdg IN AAAA 2001:db8::20"]


def zones(records: list[str], serial: int = 1) -> dict[str, str | None]:
    return {
        PARENT: zone(PARENT, records, serial=serial),
        "example.net": zone("example.net", EXAMPLE_NET, serial=serial),
        f"mcc999.{PARENT}": None,
    }


@pytest.fixture
def knot(tmp_path: Path) -> Iterator[KnotServer]:
    if not have_knot():
        pytest.skip("knotd is not installed (scripts/setup installs the Debian package knot)")
    server = KnotServer(tmp_path / "knot1", zones(BASE_RECORDS)).start()
    yield server
    server.stop()


@pytest.fixture
def knot2(tmp_path: Path) -> Iterator[KnotServer]:
    """A second server whose 505-01 answer is a different subset (another ePDG site)."""
    if not have_knot():
        pytest.skip("knotd is not installed (scripts/setup installs the Debian package knot)")
    records = [r for r in BASE_RECORDS if not r.startswith("epdg.epc.mnc001.mcc505 IN A ")]
    records.append("epdg.epc.mnc001.mcc505 IN A 203.0.113.11")
    server = KnotServer(tmp_path / "knot2", zones(records)).start()
    yield server
    server.stop()


@pytest.fixture
def silent() -> Iterator[SilentPort]:
    port = SilentPort()
    yield port
    port.close()


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict:
        return json.loads(self.out)


class Wifiq:
    """Runs ``python -m wifiq.cli`` with private data/config dirs and a default state file."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.state = home / "state.sqlite"
        self.env = dict(os.environ, XDG_DATA_HOME=str(home / "data"),
                        XDG_CONFIG_HOME=str(home / "config"), HOME=str(home))

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "wifiq.cli", *args], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def __call__(self, *args: str, timeout: float = 60) -> Run:
        proc = self.popen(*args)
        out, err = proc.communicate(timeout=timeout)
        return Run(proc.returncode, out, err)

    def refresh(self, *args: str) -> Run:
        return self("refresh", "--state", str(self.state), "--timeout", "0.3", "--retries", "1",
                    *args)


@pytest.fixture
def wifiq(tmp_path: Path) -> Wifiq:
    home = tmp_path / "home"
    home.mkdir()
    return Wifiq(home)


def operator(doc: dict, plmn: str) -> dict:
    return next(op for op in doc["operators"] if op["plmn"] == plmn)
