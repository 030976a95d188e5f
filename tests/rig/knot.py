"""Start a real knotd on a free loopback port (127.0.0.1 and ::1) serving zones a test writes.

A zone given as ``None`` is listed with a missing file: knot answers SERVFAIL for every name
below it (how tests make a failing subtree). ``reload()`` re-reads changed zone files (``knotc
reload``), as an operator changing its ePDG addresses. :class:`SilentPort` is a bound UDP socket
that never answers: a dead resolver. Everything started here is stopped by ``stop()``/``close()``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import dns.message
import dns.query
import dns.rcode

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
KNOTC = shutil.which("knotc") or "/usr/sbin/knotc"


def free_port() -> int:
    """A port free for UDP and TCP on both 127.0.0.1 and ::1 (checked by binding all four)."""
    for _ in range(100):
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        held = [probe]
        try:
            for family, kind, host in (
                (socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1"),
                (socket.AF_INET6, socket.SOCK_DGRAM, "::1"),
                (socket.AF_INET6, socket.SOCK_STREAM, "::1"),
            ):
                s = socket.socket(family, kind)
                held.append(s)
                s.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise RuntimeError("no free loopback port for knot")


class KnotServer:
    """One knotd process with its own directory, port, control socket and zones."""

    def __init__(self, directory: Path, zones: dict[str, str | None]) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.zones = dict(zones)
        self.port = free_port()
        self.conf = self.dir / "knot.conf"
        self.log = self.dir / "knotd.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def zone_file(self, domain: str) -> Path:
        return self.dir / f"{domain}.zone"

    def write_zone(self, domain: str, text: str) -> None:
        self.zone_file(domain).write_text(text)

    def start(self) -> "KnotServer":
        self._write_config()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [KNOTD, "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_ready()
        return self

    def set_zones(self, zones: dict[str, str | None]) -> None:
        """Serve these zones instead (config rewritten, then ``knotc reload``)."""
        self.zones = dict(zones)
        for path in self.dir.glob("*.zone"):
            if path.name[: -len(".zone")] not in self.zones or self.zones[path.name[:-5]] is None:
                path.unlink()
        self._write_config()
        self.reload()

    def _write_config(self) -> None:
        for domain, text in self.zones.items():
            if text is not None:
                self.write_zone(domain, text)
        zone_lines = "\n".join(
            f"  - domain: {d}\n    file: {self.zone_file(d).name}" for d in self.zones
        )
        self.conf.write_text(
            "server:\n"
            f"  rundir: {self.dir}\n"
            f"  listen: [127.0.0.1@{self.port}, ::1@{self.port}]\n"
            "  udp-workers: 2\n  tcp-workers: 1\n  background-workers: 1\n"
            f"database:\n  storage: {self.dir}\n"
            f"control:\n  listen: {self.dir}/knot.sock\n"
            "log:\n  - target: stderr\n    any: info\n"
            "template:\n  - id: default\n"
            f"    storage: {self.dir}\n    zonefile-sync: -1\n    journal-content: none\n"
            f"zone:\n{zone_lines}\n"
        )

    def _wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until every zone with a file answers its SOA (knot loads zones after binding)."""
        deadline = time.monotonic() + timeout
        for domain, text in self.zones.items():
            if text is None:
                continue
            query = dns.message.make_query(domain, "SOA")
            while True:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"knotd exited: {self.log.read_text()[-2000:]}")
                try:
                    answer = dns.query.udp(query, "127.0.0.1", port=self.port, timeout=0.2)
                    if answer.rcode() == dns.rcode.NOERROR and answer.answer:
                        break
                except (dns.exception.Timeout, OSError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"knotd not ready: {self.log.read_text()[-2000:]}")
                time.sleep(0.05)

    def reload(self) -> None:
        """Re-read the zone files (``knotc reload``) and wait until the new serials answer."""
        subprocess.run(
            [KNOTC, "-c", str(self.conf), "-t", "10", "reload"], check=True, capture_output=True
        )
        self._wait_serials()

    def _wait_serials(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        for domain, _ in self.zones.items():
            path = self.zone_file(domain)
            if not path.exists():
                continue
            want = _serial_in(path.read_text())
            query = dns.message.make_query(domain, "SOA")
            while True:
                try:
                    answer = dns.query.udp(query, "127.0.0.1", port=self.port, timeout=0.2)
                    if answer.answer and answer.answer[0][0].serial == want:
                        break
                except (dns.exception.Timeout, OSError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"knotd did not load serial {want} of {domain}")
                time.sleep(0.05)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def address6(self) -> str:
        return f"[::1]:{self.port}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def _serial_in(zone_text: str) -> int:
    """The serial of a zone written by :func:`zone` (the number after ``SOA ... ns. host.``)."""
    for line in zone_text.splitlines():
        fields = line.split()
        if "SOA" in fields:
            return int(fields[fields.index("SOA") + 3])
    raise ValueError("zone text has no SOA line")


def zone(origin: str, records: list[str], *, serial: int = 1, ttl: int = 300) -> str:
    """Zone file text for ``origin`` with an SOA, an NS and ``records`` (relative or absolute)."""
    head = [
        f"$ORIGIN {origin}.",
        f"$TTL {ttl}",
        f"@ 3600 IN SOA ns.{origin}. hostmaster.{origin}. {serial} 3600 600 86400 60",
        f"@ 3600 IN NS ns.{origin}.",
        "ns IN A 127.0.0.1",
    ]
    return "\n".join(head + records) + "\n"


class SilentPort:
    """A bound UDP socket on loopback that reads nothing and answers nothing: a dead resolver."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self.sock.close()


def have_knot() -> bool:
    return os.access(KNOTD, os.X_OK)


class NamespaceKnot(KnotServer):
    """knotd started inside a network namespace (on its loopback), checked with kdig there:
    the resolver of a wifiq run in that namespace (``ip netns exec``)."""

    def __init__(self, directory: Path, zones: dict[str, str | None], netns: str) -> None:
        super().__init__(directory, zones)
        self.netns = netns

    def start(self) -> "NamespaceKnot":
        self._write_config()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(["ip", "netns", "exec", self.netns, KNOTD, "-c",
                                          str(self.conf)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        for domain in (d for d, text in self.zones.items() if text is not None):
            while True:
                answer = subprocess.run(
                    ["ip", "netns", "exec", self.netns, "kdig", "+short", "+timeout=1", "-p",
                     str(self.port), "@127.0.0.1", "SOA", domain], capture_output=True, text=True)
                if answer.stdout.strip():
                    break
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"knotd not ready: {self.log.read_text()[-2000:]}")
                time.sleep(0.05)
        return self
