"""strongSwan's charon as a real IKEv2 responder (an ePDG stand-in) in throwaway namespaces.

Layout: a client namespace joined by one veth pair to each server namespace. Each server
namespace runs one charon (own ``strongswan.conf``, own vici socket, own ``/run`` through
``unshare --mount`` since the pid file is fixed at ``/var/run/charon.pid``) with one connection
per local address, each with its own proposals. nft rules in a server namespace drop or
reject UDP 500/4500 to chosen addresses. A server namespace may run no charon
(``ServerSpec.charon``) but a UDP service that is not IKE (:meth:`IkeLab.start_udp_service`).
Names carry the pid and a random tag; :meth:`close` stops every charon and service by its pid,
then deletes the namespaces. Charon logs (``flush_line``, so tests can read them at once) to
``charon.log`` in its directory.

Addresses are documentation ranges (RFC 5737 / RFC 3849).
"""

from __future__ import annotations

import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.rig.netns import REPO, run

CHARON = "/usr/lib/ipsec/charon"
SWANCTL = "/usr/sbin/swanctl"
#: Plugins of Debian's strongswan-charon that a responder up to IKE_SA_INIT needs.
PLUGINS = "random nonce aes sha1 sha2 hmac gmp kernel-netlink socket-default vici pem pkcs1 x509 pubkey"


def have_charon() -> str | None:
    """None when charon and swanctl are installed and namespaces can be made, else why not."""
    if os.geteuid() != 0:
        return "needs root (ip netns, unshare --mount)"
    for path in (CHARON, SWANCTL):
        if not Path(path).exists():
            return f"{path} is missing (scripts/setup installs strongswan-charon strongswan-swanctl)"
    for tool in ("ip", "nft", "unshare"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


@dataclass(frozen=True)
class Responder:
    """One connection of a charon: the local addresses it answers on (none: every address,
    ``%any``, none added by the lab) and its proposals."""

    addresses: tuple[str, ...]
    proposals: str


@dataclass(frozen=True)
class ServerSpec:
    """One server namespace: its link subnet index, charon settings and responders."""

    responders: tuple[Responder, ...]
    cookie_threshold: int = 0
    receive_delay_ms: int = 0
    nft_rules: tuple[str, ...] = ()
    plugins: str = PLUGINS
    #: more ``key = value`` lines for the ``charon`` section of strongswan.conf
    settings: tuple[str, ...] = ()
    #: False: no charon in this namespace (the addresses only, for another UDP service)
    charon: bool = True


@dataclass
class IkeLab:
    """The client namespace and the server namespaces, each with its charon."""

    servers: tuple[ServerSpec, ...]
    workdir: Path
    tag: str = field(default_factory=lambda: f"ik{os.getpid() % 100000}{secrets.token_hex(2)}")
    created: list[str] = field(default_factory=list)
    charons: list[subprocess.Popen[bytes]] = field(default_factory=list)
    services: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def client(self) -> str:
        return f"{self.tag}c"

    def server(self, index: int) -> str:
        return f"{self.tag}s{index}"

    def ns(self, name: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run("ip", "netns", "exec", name, *argv, check=check)

    def open(self) -> "IkeLab":
        self.workdir.mkdir(parents=True, exist_ok=True)
        run("ip", "netns", "add", self.client)
        self.created.append(self.client)
        self._quiet_ipv6(self.client)
        for index, spec in enumerate(self.servers):
            name = self.server(index)
            run("ip", "netns", "add", name)
            self.created.append(name)
            self._quiet_ipv6(name)
            near, far = f"ikc{index}", f"iks{index}"
            run("ip", "link", "add", near, "netns", self.client, "type", "veth", "peer", "name",
                far, "netns", name)
            v4, v6 = _subnets(index)
            self.ns(self.client, "ip", "addr", "add", f"{v4}.1/24", "dev", near)
            self.ns(self.client, "ip", "addr", "add", f"{v6}::1/64", "dev", near, "nodad")
            for responder in spec.responders:
                for address in responder.addresses:
                    plen = "64" if ":" in address else "24"
                    extra = ["nodad"] if ":" in address else []
                    self.ns(name, "ip", "addr", "add", f"{address}/{plen}", "dev", far, *extra)
            self.ns(self.client, "ip", "link", "set", near, "up")
            self.ns(name, "ip", "link", "set", far, "up")
            self._wait_up(self.client, near)
            self._wait_up(name, far)
            if spec.nft_rules:
                script = ("table inet lab {\n chain input {\n  type filter hook input priority 0\n"
                          + "".join(f"  {rule}\n" for rule in spec.nft_rules) + " }\n}\n")
                rules = self.workdir / f"{name}.nft"
                rules.write_text(script)
                self.ns(name, "nft", "-f", str(rules))
            if spec.charon:
                self._start_charon(index, spec)
        return self

    def start_udp_service(self, index: int, address: str, ports: tuple[int, ...],
                          mode: str) -> None:
        """Something that is not IKE answering on ``address`` (server ``index``, which runs no
        charon): ``echo`` sends every datagram back, ``text`` answers a line of text
        (:mod:`tests.rig.udp_service`). Stopped by :meth:`close`, by its pid."""
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.server(index), sys.executable, "-m",
             "tests.rig.udp_service", "--mode", mode, address, *map(str, ports)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
        self.services.append(proc)
        assert proc.stdout is not None and proc.stderr is not None
        ready, _, _ = select.select([proc.stdout], [], [], 10)
        if not ready or proc.stdout.readline().strip() != b"ready":
            _stop(proc)
            raise AssertionError(f"udp service on {address} did not start: "
                                 f"{proc.stderr.read().decode(errors='replace')[-2000:]}")

    def _quiet_ipv6(self, name: str) -> None:
        """Loopback up, and no duplicate address detection (link-local addresses included), so
        IPv6 works the moment a link is up."""
        self.ns(name, "ip", "link", "set", "lo", "up")
        for scope in ("all", "default"):
            self.ns(name, "sysctl", "-q", "-w", f"net.ipv6.conf.{scope}.accept_dad=0")

    def _wait_up(self, name: str, dev: str) -> None:
        """Wait until ``dev`` is up with a usable IPv6 link-local address (neighbour discovery
        needs one: before it, the first IPv6 replies are lost)."""
        deadline = time.monotonic() + 10
        while True:
            link = self.ns(name, "ip", "-o", "link", "show", "dev", dev).stdout
            local = self.ns(name, "ip", "-6", "-o", "addr", "show", "dev", dev, "scope",
                            "link").stdout
            if "state UP" in link and "fe80" in local and "tentative" not in local:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{dev} in {name} did not come up: {link} {local}")
            time.sleep(0.02)

    def _start_charon(self, index: int, spec: ServerSpec) -> None:
        name = self.server(index)
        home = self.workdir / name
        (home / "run").mkdir(parents=True)
        vici = home / "charon.vici"
        conf = home / "strongswan.conf"
        conf.write_text(
            "charon {\n"
            f"  load = {spec.plugins}\n"
            f"  cookie_threshold = {spec.cookie_threshold}\n"
            "  half_open_timeout = 600\n"
            # cookie_threshold and block_threshold act only with dos_protection on; off, the
            # per-peer limits never drop a busy prober's requests
            f"  dos_protection = {'yes' if spec.cookie_threshold else 'no'}\n"
            "  block_threshold = 100000\n"
            "  init_limit_half_open = 0\n"
            f"  receive_delay = {spec.receive_delay_ms}\n"
            "  install_routes = no\n"
            + "".join(f"  {line}\n" for line in spec.settings) +
            f"  plugins {{ vici {{ socket = unix://{vici} }} }}\n"
            f"  filelog {{ lab {{ path = {home / 'charon.log'}\n flush_line = yes\n default = 1\n ike = 2 }} }}\n"
            "}\n"
        )
        connections = []
        for number, responder in enumerate(spec.responders):
            connections.append(
                f"  c{number} {{\n    version = 2\n"
                f"    local_addrs = {','.join(responder.addresses) or '%any'}\n"
                "    remote_addrs = %any\n"
                f"    proposals = {responder.proposals}\n"
                "    local { auth = psk\n id = epdg.lab }\n"
                "    remote { auth = psk }\n  }\n")
        swanctl = home / "swanctl.conf"
        swanctl.write_text("connections {\n" + "".join(connections) + "}\n"
                           "secrets { ike-lab { secret = lab-only-not-a-secret } }\n")
        env = dict(os.environ, STRONGSWAN_CONF=str(conf))
        proc = subprocess.Popen(
            ["ip", "netns", "exec", name, "unshare", "--mount", "sh", "-c",
             f"mount --bind {home / 'run'} /run && exec {CHARON}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.charons.append(proc)
        deadline = time.monotonic() + 20
        while not _socket_ready(vici):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"charon in {name} did not start: "
                                     f"{_tail(home / 'charon.log')}")
            time.sleep(0.05)
        loaded = subprocess.run(
            [SWANCTL, "--load-conns", "--uri", f"unix://{vici}", "--file", str(swanctl)],
            env=env, capture_output=True, text=True, timeout=30)
        if loaded.returncode != 0:
            raise AssertionError(f"swanctl --load-conns failed: {loaded.stdout} {loaded.stderr}")

    def log(self, index: int) -> str:
        return _tail(self.workdir / self.server(index) / "charon.log", 100000)

    def close(self) -> None:
        for proc in self.charons + self.services:
            _stop(proc)
        self.charons.clear()
        self.services.clear()
        while self.created:
            run("ip", "netns", "delete", self.created.pop(), check=False)

    def __enter__(self) -> "IkeLab":
        try:
            return self.open()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()


def _subnets(index: int) -> tuple[str, str]:
    """The link subnets of server ``index``: 203.0.113.0/24 + 2001:db8:a::/64, then
    198.51.100.0/24 + 2001:db8:b::/64, then 192.0.2.0/24 + 2001:db8:c::/64, then
    198.18.200.0/24 (the benchmarking range, RFC 2544) + 2001:db8:d::/64."""
    return (("203.0.113", "2001:db8:a"), ("198.51.100", "2001:db8:b"),
            ("192.0.2", "2001:db8:c"), ("198.18.200", "2001:db8:d"))[index]


def server_address(index: int, host: int, v6: bool = False) -> str:
    v4, v6net = _subnets(index)
    return f"{v6net}::{host:x}" if v6 else f"{v4}.{host}"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process by its pid (SIGKILL after 10 s), its pipes closed."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def _socket_ready(path: Path) -> bool:
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(path))
            return True
        except OSError:
            return False


def _tail(path: Path, size: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return "(no log)"
