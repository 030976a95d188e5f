"""The suite's DNS guard (tests/rig/guard_site/sitecustomize.py, installed by tests/conftest.py)
catches a test that would use the machine's resolver, in pytest and in the processes it starts.

Each case triggers the guard on purpose, checks it fired, then takes its log line back so the
suite-wide check after the test does not fail this test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dns.resolver
import pytest

from tests.conftest import dns_guard


@pytest.fixture
def guard_log() -> Iterator[Path]:
    """The guard's log; whatever the test adds to it is checked by the test and then removed."""
    log = Path(os.environ["CARRIERKIT_DNS_GUARD_LOG"])
    size = log.stat().st_size
    yield log
    with log.open("r+", encoding="utf-8") as fh:
        fh.truncate(size)


def _added(log: Path, since: int) -> str:
    with log.open(encoding="utf-8") as fh:
        fh.seek(since)
        return fh.read()


def test_reading_the_system_resolver_configuration_fails(guard_log: Path, tmp_path: Path):
    start = guard_log.stat().st_size
    with pytest.raises(dns_guard.SystemResolverUsed, match="/etc/resolv.conf"):
        dns.resolver.Resolver()
    assert "/etc/resolv.conf" in _added(guard_log, start)
    own = tmp_path / "resolv.conf"  # a file of the test's own is fine
    own.write_text("nameserver 127.0.0.1\n")
    assert [str(n) for n in dns.resolver.Resolver(filename=str(own)).nameservers] == ["127.0.0.1"]


def test_a_dns_packet_off_loopback_fails_before_it_is_sent(guard_log: Path):
    start = guard_log.stat().st_size
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        with pytest.raises(dns_guard.SystemResolverUsed, match="192.0.2.53 port 53"):
            sock.sendto(b"\0" * 12, ("192.0.2.53", 53))
        with pytest.raises(dns_guard.SystemResolverUsed):
            sock.connect(("192.0.2.53", 853))
        sock.sendto(b"\0" * 12, ("127.0.0.1", 9))  # loopback: allowed
    assert "192.0.2.53 port 53" in _added(guard_log, start)


def test_a_wifiq_process_without_a_resolver_is_caught(guard_log: Path, tmp_path: Path):
    """``wifiq resolve`` with no --resolver reads /etc/resolv.conf: the guard in the subprocess
    stops it before any query and logs it, whatever the process's exit status."""
    start = guard_log.stat().st_size
    env = dict(os.environ, HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, "-m", "wifiq.cli", "resolve", "--plmn", "505-01",
                             "--timeout", "0.2", "--retries", "0"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "carrierkit test guard" in err
    added = _added(guard_log, start)
    assert f"pid {proc.pid}: " in added and "/etc/resolv.conf" in added
