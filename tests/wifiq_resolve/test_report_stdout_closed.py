"""A refresh started with standard output closed (``>&-``) says so in one line (exit 1) and
reports its change on the next run: no traceback, nothing lost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.rig.faultdns import FaultDns

NAME = "epdg.epc.mnc001.mcc505.pub.3gppnetwork.org"


def test_a_refresh_with_stdout_closed_is_one_line_and_the_change_is_reported_later(
        wifiq, tmp_path: Path):
    with FaultDns("recursive", {NAME: ["192.0.2.1"]}) as server:
        args = ["refresh", "--plmn", "505-01", "--resolver", server.address,
                "--state", str(wifiq.state), "--timeout", "0.5", "--retries", "0"]
        closed = subprocess.run(
            ["sh", "-c", '"$0" -m wifiq.cli "$@" >&-', sys.executable, *args],
            env=wifiq.env, stderr=subprocess.PIPE, text=True, timeout=60)
        again = wifiq(*args)
    assert "Traceback" not in closed.stderr, closed.stderr
    lines = [line for line in closed.stderr.splitlines() if line.strip()]
    assert closed.returncode == 1
    assert any("standard output is closed" in line for line in lines), lines
    assert again.code in (0, 3), again.err
    assert "not reported when they happened" in again.out and "192.0.2.1" in again.out
