"""Throwaway network namespaces for tests: a client, a router and a server joined by veth pairs.

Addresses are documentation ranges only (RFC 5737 / RFC 3849): client side 198.51.100.0/24 and
2001:db8:1::/64, server side 203.0.113.0/24 and 2001:db8:2::/64. Names carry the pid so runs
never collide; :meth:`Topology.close` deletes every namespace (veths go with them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

#: Repository root: probes run as ``python3 -m tests.rig.dscp_probe`` from here.
REPO = Path(__file__).resolve().parents[2]


def can_make_namespaces() -> str | None:
    """None if this process can create namespaces and the tools exist, else the reason why not."""
    if os.geteuid() != 0:
        return "needs root (ip netns / unshare --net)"
    for tool in ("ip", "nft", "unshare"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/setup installs iproute2, nftables, util-linux)"
    return None


def run(*argv: str, input_text: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing output; raise with its stderr when it fails and check is set."""
    proc = subprocess.run(list(argv), input=input_text, capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


@dataclass
class Topology:
    """client —veth— router —veth— server; the router forwards IPv4 and IPv6."""

    tag: str = field(default_factory=lambda: f"wq{os.getpid()}")
    server_addresses: tuple[str, ...] = ()
    created: list[str] = field(default_factory=list)

    @property
    def client(self) -> str:
        return f"{self.tag}-client"

    @property
    def router(self) -> str:
        return f"{self.tag}-router"

    @property
    def server(self) -> str:
        return f"{self.tag}-server"

    def ns(self, name: str, *argv: str, input_text: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a command inside one namespace."""
        return run("ip", "netns", "exec", name, *argv, input_text=input_text, check=check)

    def popen(self, name: str, *argv: str) -> subprocess.Popen[str]:
        """Start a long-running command inside a namespace (caller terminates and waits it)."""
        return subprocess.Popen(
            ["ip", "netns", "exec", name, *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )

    def open(self) -> "Topology":
        """Create the namespaces, links, addresses and routes."""
        for name in (self.client, self.router, self.server):
            run("ip", "netns", "add", name)
            self.created.append(name)
            self.ns(name, "ip", "link", "set", "lo", "up")
        run("ip", "link", "add", "wqc0", "netns", self.client, "type", "veth", "peer", "name", "wqr0", "netns", self.router)
        run("ip", "link", "add", "wqs0", "netns", self.server, "type", "veth", "peer", "name", "wqr1", "netns", self.router)
        plan = [
            (self.client, "wqc0", ["198.51.100.2/24", "2001:db8:1::2/64"]),
            (self.router, "wqr0", ["198.51.100.1/24", "2001:db8:1::1/64"]),
            (self.router, "wqr1", ["203.0.113.1/24", "2001:db8:2::1/64"]),
            (self.server, "wqs0", [*(f"{a}/24" for a in self.server_addresses if ":" not in a),
                                   *(f"{a}/64" for a in self.server_addresses if ":" in a)]),
        ]
        for name, dev, addresses in plan:
            for address in addresses:
                extra = ["nodad"] if ":" in address else []
                self.ns(name, "ip", "addr", "add", address, "dev", dev, *extra)
            self.ns(name, "ip", "link", "set", dev, "up")
        self.ns(self.router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        self.ns(self.router, "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1")
        self.ns(self.client, "ip", "route", "add", "default", "via", "198.51.100.1")
        self.ns(self.client, "ip", "-6", "route", "add", "default", "via", "2001:db8:1::1")
        self.ns(self.server, "ip", "route", "add", "default", "via", "203.0.113.1")
        self.ns(self.server, "ip", "-6", "route", "add", "default", "via", "2001:db8:2::1")
        return self

    def close(self) -> None:
        """Delete every namespace this topology created."""
        while self.created:
            run("ip", "netns", "delete", self.created.pop(), check=False)

    def __enter__(self) -> "Topology":
        try:
            return self.open()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()


def in_fresh_netns(script: str) -> subprocess.CompletedProcess[str]:
    """Run a shell script in a throwaway network namespace (``unshare --net``): nothing live changes."""
    return run("unshare", "--net", "sh", "-ec", script, check=False)
