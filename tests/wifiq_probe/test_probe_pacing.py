"""The driver's politeness on loopback: requests to one address are spaced by ``1 / rate``
(over all its ports and retries), concurrency bounds the probes in flight, and Ctrl-C ends a
run at once (status 130) leaving no state change."""

from __future__ import annotations

import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from wifiq.probe import Outcome, ProbeOptions, ProbePolicy, probe

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux


class SilentListeners:
    """``count`` UDP ports on each of ``hosts`` (loopback addresses) that read and never
    answer, noting when each datagram came and to which (host, port)."""

    def __init__(self, count: int, hosts: tuple[str, ...] = ("127.0.0.1",)) -> None:
        self.socks: list[socket.socket] = []
        for _ in range(count):
            port = 0
            for host in hosts:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self.socks.append(sock)
                sock.bind((host, port))
                sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                port = sock.getsockname()[1]
        self.ports = tuple(dict.fromkeys(s.getsockname()[1] for s in self.socks))
        self.arrivals: list[tuple[float, tuple[str, int]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        """Arrival times from the kernel (SO_TIMESTAMPNS), so a slow reader changes nothing."""
        while not self._stop.is_set():
            ready, _, _ = select.select(self.socks, [], [], 0.05)
            for sock in ready:
                _, ancillary, _, _ = sock.recvmsg(4096, 64)
                stamp = next(data for level, kind, data in ancillary
                             if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS)
                seconds, nanoseconds = struct.unpack("qq", stamp[:16])
                self.arrivals.append((seconds + nanoseconds / 1e9, sock.getsockname()))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self.socks:
            sock.close()


def test_requests_to_one_address_are_spaced_by_the_rate() -> None:
    listeners = SilentListeners(3)
    try:
        options = ProbeOptions(ports=listeners.ports, rate=5.0,
                               policy=ProbePolicy(timeout=0.1, retries=1))
        results = probe(["127.0.0.1"], options)
    finally:
        listeners.close()
    assert [r.outcome for r in results] == [Outcome.SILENT] * 3
    assert [r.requests for r in results] == [2, 2, 2]
    times = sorted(t for t, _ in listeners.arrivals)
    assert len(times) == 6 and {p for _, (_, p) in listeners.arrivals} == set(listeners.ports)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.199, gaps  # 1 / rate (kernel arrival times on loopback)


def test_an_address_ports_wait_for_the_rate_not_the_other_addresses() -> None:
    """Every address's first port, then every address's second: the second request to an
    address waits ``1 / rate`` for its first, while the other addresses' go on (in plan
    order, one at a time, each address's second port held the whole run back)."""
    hosts = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
    listeners = SilentListeners(2, hosts)
    try:
        options = ProbeOptions(ports=listeners.ports, rate=2.0, concurrency=1,
                               policy=ProbePolicy(timeout=0.05, retries=0))
        results = probe(list(hosts), options)
    finally:
        listeners.close()
    assert [(r.address, r.port) for r in results] == [
        (h, p) for h in hosts for p in listeners.ports]  # results stay in plan order
    arrivals = sorted(listeners.arrivals)
    assert [dest for _, dest in arrivals] == [(h, p) for p in listeners.ports for h in hosts]
    for host in hosts:
        first, second = (t for t, (h, _) in arrivals if h == host)
        assert second - first >= 0.499  # 1 / rate to one address
    # plan order would take 3 x (0.5 s wait + 0.05 s timeout): ~1.65 s
    assert arrivals[-1][0] - arrivals[0][0] < 1.0, arrivals


def test_concurrency_one_is_one_probe_at_a_time() -> None:
    listeners = SilentListeners(2)
    try:
        options = ProbeOptions(ports=listeners.ports, rate=1000.0, concurrency=1,
                               policy=ProbePolicy(timeout=0.3, retries=0))
        probe(["127.0.0.1"], options)
    finally:
        listeners.close()
    times = sorted(t for t, _ in listeners.arrivals)
    assert len(times) == 2 and times[1] - times[0] >= 0.28  # the second waited for the first


def test_ctrl_c_ends_the_run(tmp_path: Path) -> None:
    listeners = SilentListeners(1)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wifiq.cli", "probe", "--address", "127.0.0.1", "--port",
             str(listeners.ports[0]), "--timeout", "30"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
        deadline = time.monotonic() + 30
        while not listeners.arrivals and time.monotonic() < deadline:
            time.sleep(0.02)
        assert listeners.arrivals, "the probe never sent"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        listeners.close()
    assert proc.returncode == 130, err
    assert out == "" and "Traceback" not in err
