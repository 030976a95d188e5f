"""Which addresses ``wifiq probe`` sends to (``wifiq/probe/targets.py``, docs/wifiq-probe.md
"Which addresses are probed"): ``--address`` refusals (exit 2, one line, nothing sent), IPv6
link-local with a real zone between two namespaces, and DNS answers from the state that are no
ePDG's (``not_probed``, stored) while a listener on this host would have answered them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.knot import NamespaceKnot, have_knot, zone
from tests.rig.netns import REPO, can_make_namespaces, run
from wifiq.errors import UsageError
from wifiq.holddown import AddressState
from wifiq.probe import Outcome, Probe, ProbePolicy
from wifiq.probe.targets import not_probed, not_probed_reason, parse_address
from wifiq.store import StateStore

SINKHOLE = "not an ePDG's (a DNS sinkhole or misconfiguration)"

REFUSED = [
    ("0.0.0.0", ": an unspecified (any) address, not an ePDG's"),
    ("::", ": an unspecified (any) address, not an ePDG's"),
    ("::ffff:0.0.0.0", ": an unspecified (any) address, not an ePDG's"),
    ("255.255.255.255", ": a broadcast or reserved (240.0.0.0/4) address, not an ePDG's"),
    ("240.0.0.1", ": a broadcast or reserved (240.0.0.0/4) address, not an ePDG's"),
    ("224.0.0.1", ": a multicast address, not an ePDG's"),
    ("239.255.255.250", ": a multicast address, not an ePDG's"),
    ("ff02::1", ": a multicast address, not an ePDG's"),
    ("ff0e::101", ": a multicast address, not an ePDG's"),
    ("::ffff:224.0.0.1", ": a multicast address, not an ePDG's"),
    ("fe80::1%nosuchif", ": no network interface 'nosuchif' on this host"),
    ("fe80::1%4000000000", ": no network interface '4000000000' on this host"),
    ("fe80::1", ": a link-local address without a zone (give the interface, as fe80::1%eth0)"),
    ("epdg.example.net", " is not an IPv4 or IPv6 address"),
    ("1.2.3", " is not an IPv4 or IPv6 address"),
]


# -- pure: the checks --------------------------------------------------------------------------


@pytest.mark.parametrize("text, problem", REFUSED)
def test_parse_address_refuses(text: str, problem: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_address(text)
    assert str(info.value) == f"--address {text!r}{problem}"
    assert info.value.exit_code == 2


@pytest.mark.parametrize("text, canonical", [
    ("192.0.2.1", "192.0.2.1"), (" 2001:DB8::0:1 ", "2001:db8::1"),
    ("127.0.0.1", "127.0.0.1"), ("::1", "::1"),  # a responder on this host: the user's choice
    ("169.254.1.1", "169.254.1.1"), ("10.0.0.1", "10.0.0.1"),
    ("fe80::1%lo", "fe80::1%lo"), ("fe80::1%1", "fe80::1%1"),  # lo is interface 1
])
def test_parse_address_accepts(text: str, canonical: str) -> None:
    assert parse_address(text) == canonical


@pytest.mark.parametrize("address, kind", [
    ("0.0.0.0", "an unspecified (any)"), ("::", "an unspecified (any)"),
    ("127.0.0.1", "a loopback"), ("127.53.0.1", "a loopback"), ("::1", "a loopback"),
    ("::ffff:127.0.0.1", "a loopback"), ("224.0.0.1", "a multicast"), ("ff02::1", "a multicast"),
    ("255.255.255.255", "a broadcast or reserved (240.0.0.0/4)"),
    ("169.254.10.1", "a link-local"), ("fe80::1", "a link-local"),
])
def test_state_addresses_that_are_not_probed(address: str, kind: str) -> None:
    assert not_probed_reason(address) == f"{kind} address, {SINKHOLE}"


@pytest.mark.parametrize("address", ["192.0.2.1", "10.1.2.3", "100.64.0.1", "2001:db8::1",
                                     "fd00::1", "::ffff:192.0.2.1"])
def test_state_addresses_that_are_probed(address: str) -> None:
    assert not_probed_reason(address) == ""


def test_not_probed_result() -> None:
    result = not_probed("0.0.0.0", 4500, "not probed: why")
    assert result.outcome is Outcome.NOT_PROBED and not result.outcome.reachable
    doc = result.to_json()
    assert (doc["outcome"], doc["reachable"], doc["rtt_ms"], doc["requests"], doc["detail"]) == (
        "not_probed", False, None, 0, "not probed: why")


@pytest.mark.parametrize("retries, detail", [(0, "no reply to 1 request"),
                                             (1, "no reply to 2 requests")])
def test_silent_detail_counts_requests_in_words(retries: int, detail: str) -> None:
    probe = Probe("192.0.2.1", 500, source=("192.0.2.2", 40000),
                  policy=ProbePolicy(retries=retries))
    now = 10.0
    while probe.next_request(now) is not None:
        probe.on_timeout()
        now += 2
    assert (probe.result().outcome, probe.result().detail) == (Outcome.SILENT, detail)


# -- the CLI -----------------------------------------------------------------------------------


def wifiq(*args: str, netns: str | None = None,
          home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
           **({"HOME": str(home), "XDG_DATA_HOME": str(home / "data")} if home else {})}
    prefix = ["ip", "netns", "exec", netns] if netns else []
    return subprocess.run([*prefix, sys.executable, "-m", "wifiq.cli", *args], env=env,
                          capture_output=True, text=True, timeout=60, cwd=REPO)


@pytest.mark.parametrize("text, problem", REFUSED)
def test_cli_refuses_the_address_before_sending(text: str, problem: str, tmp_path: Path) -> None:
    """One line naming the input, exit 2, nothing on stdout (and nothing probed: the check
    runs before the config, the state or a socket is opened)."""
    proc = wifiq("probe", "--address", "192.0.2.1", "--address", text, "--timeout", "0.01",
                 home=tmp_path)
    assert (proc.returncode, proc.stdout) == (2, ""), proc.stderr
    assert proc.stderr == f"wifiq: error: --address {text!r}{problem}\n"


LINK_READY = """
import socket, time
sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
sock.connect(socket.getaddrinfo("fe80::b%wql0", 500, socket.AF_INET6, socket.SOCK_DGRAM, 0,
                                socket.AI_NUMERICHOST)[0][4])
sock.settimeout(0.1)
deadline = time.monotonic() + 10
while True:
    sock.send(b"ready?")
    try:
        if sock.recv(64) == b"ready?":
            break
    except OSError:
        if time.monotonic() > deadline:
            raise
"""


@pytest.fixture
def link() -> Iterator[tuple[str, str]]:
    """Two namespaces joined by one veth: the client's end ``wql0`` with fe80::a and
    192.0.2.31, the server's with fe80::b and 192.0.2.30; an echo service (tests/rig/
    udp_service.py) on UDP 500 and 4500 of every address of the server (``::``)."""
    reason = can_make_namespaces()
    if reason:
        pytest.skip(reason)
    client, server = f"wq{os.getpid()}-llc", f"wq{os.getpid()}-lls"
    made: list[str] = []
    echo = None
    try:
        for name in (client, server):
            run("ip", "netns", "add", name)
            made.append(name)
            run("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
        run("ip", "link", "add", "wql0", "netns", client, "type", "veth", "peer", "name",
            "wql1", "netns", server)
        for name, dev, v6, v4 in ((client, "wql0", "fe80::a/64", "192.0.2.31/24"),
                                  (server, "wql1", "fe80::b/64", "192.0.2.30/24")):
            run("ip", "netns", "exec", name, "ip", "addr", "add", v6, "dev", dev, "nodad")
            run("ip", "netns", "exec", name, "ip", "addr", "add", v4, "dev", dev)
            run("ip", "netns", "exec", name, "ip", "link", "set", dev, "up")
        echo = subprocess.Popen(["ip", "netns", "exec", server, sys.executable, "-m",
                                 "tests.rig.udp_service", "--mode", "echo", "::", "500", "4500"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
        assert echo.stdout is not None and echo.stdout.readline() == "ready\n"
        # a fresh veth drops datagrams for a few hundred ms (IPv6 still configuring the link):
        # wait until one goes to the echo and back
        run("ip", "netns", "exec", client, sys.executable, "-c", LINK_READY)
        yield client, server
    finally:
        if echo is not None:
            echo.terminate()
            echo.communicate(timeout=10)
        for name in made:
            run("ip", "netns", "delete", name, check=False)


@pytest.mark.parametrize("phone_ports", [False, True], ids=["ephemeral", "phone-ports"])
def test_link_local_with_a_zone_is_probed(link: tuple[str, str], phone_ports: bool) -> None:
    """fe80::b%wql0 from the client namespace reaches the server's echo over the link (the
    request comes back: ``malformed``, reachable); without the zone it is refused."""
    client, _ = link
    extra = ["--phone-ports"] if phone_ports else []
    proc = wifiq("probe", "--address", "fe80::b%wql0", "--json", "--timeout", "0.3",
                 "--retries", "0", *extra, netns=client)
    assert proc.returncode == 0, proc.stderr
    got = [(r["address"], r["port"], r["outcome"], r["requests"], r["detail"])
           for r in json.loads(proc.stdout)["results"]]
    echoed = "the request came back unchanged: an echo, not an IKE responder"
    assert got == [("fe80::b%wql0", 500, "malformed", 1, echoed),
                   ("fe80::b%wql0", 4500, "malformed", 1, echoed)]
    refused = wifiq("probe", "--address", "fe80::b", netns=client)
    assert refused.returncode == 2 and "link-local address without a zone" in refused.stderr


def test_subnet_broadcast_says_broadcast_not_firewall(link: tuple[str, str]) -> None:
    """A subnet's broadcast address cannot be told from its syntax: the kernel refuses the
    send (EACCES, no SO_BROADCAST), and the detail says so rather than blaming a firewall."""
    client, _ = link
    run("ip", "netns", "exec", client, "ip", "addr", "add", "198.51.100.1/24", "brd", "+",
        "dev", "wql0")
    proc = wifiq("probe", "--address", "198.51.100.255", "--port", "500", "--json",
                 "--timeout", "0.2", "--retries", "0", netns=client)
    assert proc.returncode == 1, proc.stderr
    [result] = json.loads(proc.stdout)["results"]
    assert (result["outcome"], result["requests"], result["detail"]) == (
        "unreachable", 0, "not sent: a broadcast address (EACCES), or a local security policy")


LOGGING_ECHO = """
import selectors, socket
selector = selectors.DefaultSelector()
for port in (500, 4500):
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", port))
    selector.register(sock, selectors.EVENT_READ, port)
print("ready", flush=True)
while True:
    for key, _ in selector.select():
        data, peer = key.fileobj.recvfrom(65535)
        print(peer[0], key.data, flush=True)
        key.fileobj.sendto(data, peer)
"""

SINKHOLES = ("0.0.0.0", "127.0.0.1", "224.0.0.1", "255.255.255.255", "169.254.0.1", "::",
             "::1", "fe80::b", "ff02::1")


def test_state_sinkholes_are_not_probed_but_stored(link: tuple[str, str], tmp_path: Path) -> None:
    """A state whose ePDG names resolved to sinkhole answers and one real address. An echo on
    the client's own UDP 500/4500 (``::``, both families) logging every datagram would answer
    127.0.0.1, ::1 and 0.0.0.0 had they been probed — it does answer ``--address 127.0.0.1``.
    From the state they end as ``not_probed`` and it receives nothing more; the real address is
    probed; the run is stored and ``wifiq history`` shows the not_probed spans."""
    client, _ = link
    local = subprocess.Popen(["ip", "netns", "exec", client, sys.executable, "-c", LOGGING_ECHO],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert local.stdout is not None and local.stdout.readline() == "ready\n"
        state = tmp_path / "s.sqlite"
        addresses = ("192.0.2.30", *SINKHOLES)
        with StateStore(state) as store:
            store.record_refresh(
                refreshed_at=1.0, finished_at=1.0, status="changed", wifiq_version="t",
                lookups=[], replaced_names=["epdg.example"], changes=[],
                active=[AddressState("epdg.example", a, 6 if ":" in a else 4, 1.0, 1.0)
                        for a in addresses],
                name_plmns=[("epdg.example", "505-01", "epdg")])
        direct = wifiq("probe", "--address", "127.0.0.1", "--json", "--timeout", "0.3",
                       "--retries", "0", netns=client, home=tmp_path)
        assert [r["outcome"] for r in json.loads(direct.stdout)["results"]] == ["malformed"] * 2
        proc = wifiq("probe", "--plmn", "505-01", "--state", str(state), "--json",
                     "--timeout", "0.3", "--retries", "0", netns=client, home=tmp_path)
    finally:
        local.terminate()
        received = local.communicate(timeout=10)[0].splitlines()
    assert sorted(received) == ["::ffff:127.0.0.1 4500", "::ffff:127.0.0.1 500"]  # direct only
    assert proc.returncode == 4, proc.stderr
    doc = json.loads(proc.stdout)
    got = {(r["address"], r["port"]): (r["outcome"], r["requests"], r["rtt_ms"])
           for r in doc["results"]}
    assert doc["status"] == "partial" and len(got) == 2 * len(addresses)
    assert got.pop(("192.0.2.30", 500))[0] == got.pop(("192.0.2.30", 4500))[0] == "malformed"
    assert set(got.values()) == {("not_probed", 0, None)}
    reasons = {r["address"]: r["detail"] for r in doc["results"] if r["outcome"] == "not_probed"}
    assert reasons["0.0.0.0"] == f"an unspecified (any) address, {SINKHOLE}"
    assert reasons["127.0.0.1"] == f"a loopback address, {SINKHOLE}"
    assert reasons["fe80::b"] == f"a link-local address, {SINKHOLE}"
    assert proc.stderr == (f"wifiq: {2 * len(SINKHOLES)} of {2 * len(addresses)} not probed: "
                           "the state's address is no ePDG's (a DNS sinkhole or "
                           "misconfiguration)\n")
    history = wifiq("history", "--plmn", "505-01", "--state", str(state), "--json",
                    home=tmp_path)
    assert history.returncode == 0, history.stderr
    reach = json.loads(history.stdout)["operators"][0]["reachability"]
    stored = {(r["address"], r["port"]): (r["latest"]["outcome"], r["probed"], r["reachable"])
              for r in reach}
    assert stored[("0.0.0.0", 500)] == stored[("::1", 4500)] == ("not_probed", 1, 0)
    assert stored[("192.0.2.30", 500)] == ("malformed", 1, 1)
    text = wifiq("history", "--plmn", "505-01", "--state", str(state), home=tmp_path)
    assert any("not_probed x1" in line and "a loopback address" in line
               for line in text.stdout.splitlines()), text.stdout


def test_refresh_probe_stores_sinkhole_answers_as_not_probed(link: tuple[str, str],
                                                             tmp_path: Path) -> None:
    """Inside the client namespace (were they probed, nothing would leave it), knot answers the ePDG name with 0.0.0.0, 127.0.0.1, 224.0.0.1 and ::1:
    ``refresh --probe`` stores the addresses (DNS is DNS) and ends their probes as
    ``not_probed`` without sending anything; the news says so once, the next unchanged
    refresh is silent."""
    if not have_knot():
        pytest.skip("knotd is not installed")
    parent = "pub.3gppnetwork.org"
    records = ["epdg.epc.mnc001.mcc505 IN A 0.0.0.0", "epdg.epc.mnc001.mcc505 IN A 127.0.0.1",
               "epdg.epc.mnc001.mcc505 IN A 224.0.0.1", "epdg.epc.mnc001.mcc505 IN AAAA ::1"]
    client, _ = link
    knot = NamespaceKnot(tmp_path / "knot", {parent: zone(parent, records)}, client).start()
    try:
        refresh = ["refresh", "--plmn", "505-01", "--kind", "epdg", "--resolver",
                   f"127.0.0.1:{knot.port}", "--state", str(tmp_path / "s.sqlite"),
                   "--timeout", "1", "--probe"]
        first = wifiq(*refresh, netns=client, home=tmp_path)
        second = wifiq(*refresh, "--json", netns=client, home=tmp_path)
        third = wifiq(*refresh, netns=client, home=tmp_path)
    finally:
        knot.stop()
    assert first.returncode == 3, first.stderr  # changed: four addresses added
    news = [line for line in first.stdout.splitlines() if line.startswith("reachability:")]
    assert len(news) == 8
    assert (f"reachability: 0.0.0.0 port 500 not_probed (first probe): an unspecified (any) "
            f"address, {SINKHOLE}") in news
    assert second.returncode == 0, second.stderr
    probes = json.loads(second.stdout)["probes"]
    assert probes["status"] == "failed"
    got = {(r["address"], r["port"]): (r["outcome"], r["requests"], r["detail"])
           for r in probes["results"]}
    assert got[("224.0.0.1", 4500)] == ("not_probed", 0, f"a multicast address, {SINKHOLE}")
    assert got[("::1", 500)] == ("not_probed", 0, f"a loopback address, {SINKHOLE}")
    assert {a for a, _ in got} == {"0.0.0.0", "127.0.0.1", "224.0.0.1", "::1"}
    assert {o for o, _, _ in got.values()} == {"not_probed"} and len(got) == 8
    # no news for an unchanged not_probed: the cron refresh stays quiet
    assert (third.returncode, third.stdout) == (0, ""), third.stderr
