"""``wifiq probe`` against strongSwan's charon (a real IKEv2 responder) in namespaces the test
makes: accepted, NO_PROPOSAL_CHOSEN, INVALID_KE_PAYLOAD (retried with the named group), a
cookie demanded, UDP 500 dropped, UDP 4500 dropped, ICMP port unreachable; another error
notify (a charon that cannot compute the DH group it chose) and something that is not IKE
answering (an echo service, a text banner); IPv4 and IPv6. REDIRECT: charon cannot send it in
IKE_SA_INIT; libreswan's pluto does, in ``test_probe_pluto.py`` (docs/wifiq-probe.md, "Tests")."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from wifiq.holddown import AddressState
from wifiq.store import StateStore
from tests.rig.charon import PLUGINS, IkeLab, Responder, ServerSpec, have_charon, server_address
from tests.rig.netns import REPO

ACCEPT = "aes256-sha256-modp2048"
#: host number of each role's address on server 0 (IPv4 .N, IPv6 ::N in hex)
ROLES = {"accept": 10, "refuse": 11, "other_group": 12, "drop500": 13, "drop4500": 14,
         "reject": 15, "phone_only": 16}
COOKIE_HOST = 20
#: (server, host) of the roles on the other servers: a charon without the gmp plugin (it
#: proposes MODP groups it cannot compute), and a namespace with no charon where a UDP service
#: that is not IKE answers
ELSEWHERE = {"broken_dh": (2, 30), "echo": (3, 40), "text": (3, 41)}
#: the plugins of a charon that has no MODP implementation (gmp is its only one here)
NO_MODP = " ".join(p for p in PLUGINS.split() if p != "gmp")


def addr(role: str, v6: bool, server: int = 0) -> str:
    if role in ELSEWHERE:
        server, host = ELSEWHERE[role]
        return server_address(server, host, v6)
    return server_address(server, ROLES.get(role, COOKIE_HOST), v6)


def both(role: str, server: int = 0) -> tuple[str, ...]:
    return addr(role, False, server), addr(role, True, server)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IkeLab]:
    reason = have_charon()
    if reason is not None:
        pytest.skip(reason)
    drops = [f"ip daddr {addr('drop500', False)} udp dport 500 drop",
             f"ip6 daddr {addr('drop500', True)} udp dport 500 drop",
             f"ip daddr {addr('drop4500', False)} udp dport 4500 drop",
             f"ip6 daddr {addr('drop4500', True)} udp dport 4500 drop",
             f"ip daddr {addr('reject', False)} udp dport {{ 500, 4500 }} reject",
             f"ip6 daddr {addr('reject', True)} udp dport {{ 500, 4500 }} reject",
             # a firewall that passes IKE only between the well-known ports, as from a phone
             f"ip daddr {addr('phone_only', False)} udp dport 500 udp sport != 500 drop",
             f"ip daddr {addr('phone_only', False)} udp dport 4500 udp sport != 4500 drop"]
    servers = (
        ServerSpec(
            responders=(
                Responder(both("accept") + both("drop500") + both("drop4500") + both("reject")
                          + (addr("phone_only", False),), ACCEPT),
                Responder(both("refuse"), "aes192-sha256-modp2048"),
                Responder(both("other_group"), "aes256-sha256-modp1536"),
            ),
            nft_rules=tuple(drops)),
        ServerSpec(responders=(Responder(both("cookie", 1), ACCEPT),), cookie_threshold=1),
        ServerSpec(responders=(Responder(both("broken_dh"), ACCEPT),), plugins=NO_MODP),
        ServerSpec(responders=(Responder(both("echo") + both("text"), ""),), charon=False),
    )
    with IkeLab(servers, tmp_path_factory.mktemp("ikelab")) as made:
        for role in ("echo", "text"):
            for v6 in (False, True):
                made.start_udp_service(ELSEWHERE[role][0], addr(role, v6), (500, 4500), role)
        yield made


def wifiq_probe(lab: IkeLab, *args: str) -> tuple[int, str, str]:
    proc = subprocess.run(
        ["ip", "netns", "exec", lab.client, sys.executable, "-m", "wifiq.cli", "probe",
         "--timeout", "0.5", "--retries", "1", *args],
        capture_output=True, text=True, timeout=120, cwd=REPO)
    return proc.returncode, proc.stdout, proc.stderr


def results(out: str) -> dict[tuple[str, int], dict]:
    return {(r["address"], r["port"]): r for r in json.loads(out)["results"]}


@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
def test_every_outcome(lab: IkeLab, v6: bool) -> None:
    roles = ["accept", "refuse", "other_group", "drop500", "drop4500", "reject"]
    args = [a for role in roles for a in ("--address", addr(role, v6))]
    code, out, err = wifiq_probe(lab, *args, "--json")
    assert code == 4, err
    assert json.loads(out)["status"] == "partial"
    got = results(out)
    expected = {
        "accept": ("answered", "answered"),
        "refuse": ("no_proposal_chosen", "no_proposal_chosen"),
        "other_group": ("answered", "answered"),
        "drop500": ("silent", "answered"),
        "drop4500": ("answered", "silent"),
        "reject": ("unreachable", "unreachable"),
    }
    for role, (on500, on4500) in expected.items():
        a = addr(role, v6)
        assert (got[(a, 500)]["outcome"], got[(a, 4500)]["outcome"]) == (on500, on4500), role
    for port in (500, 4500):
        accepted = got[(addr("accept", v6), port)]
        assert accepted["chosen"] == "aes-cbc-256/hmac-sha2-256-128/prf-hmac-sha2-256/modp14"
        assert accepted["rtt_ms"] > 0 and accepted["requests"] == 1 and accepted["reachable"]
        assert "NAT_DETECTION_SOURCE_IP" in accepted["notifies"]
        other = got[(addr("other_group", v6), port)]
        assert other["group"] == 5 and other["steps"] == ["INVALID_KE_PAYLOAD 5"]
        assert other["chosen"].endswith("/modp5") and other["requests"] == 2
        refused = got[(addr("refuse", v6), port)]
        assert refused["notifies"] == ["NO_PROPOSAL_CHOSEN"] and refused["reachable"]
        rejected = got[(addr("reject", v6), port)]
        assert rejected["detail"] == "ICMP port unreachable" and not rejected["reachable"]
    silent = got[(addr("drop500", v6), 500)]
    assert silent["requests"] == 2 and silent["rtt_ms"] is None and not silent["reachable"]
    assert "4 of 12 probes got no IKEv2 reply" in err
    log = lab.log(0)
    assert "IKE_AUTH" not in log  # never past IKE_SA_INIT


@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
def test_cookie_is_returned(lab: IkeLab, v6: bool) -> None:
    target = addr("cookie", v6, 1)
    # the first exchange stays half open on the responder (cookie_threshold = 1) ...
    first = wifiq_probe(lab, "--address", target, "--port", "500", "--json")
    assert first[0] in (0,), first[2]
    # ... so the next request is answered with a COOKIE, and the resend with it is answered
    code, out, err = wifiq_probe(lab, "--address", target, "--port", "500", "--json")
    assert code == 0, err
    result = results(out)[(target, 500)]
    assert result["outcome"] == "answered" and result["steps"] == ["COOKIE"]
    assert result["requests"] == 2


def test_phone_ports_pass_a_well_known_ports_firewall(lab: IkeLab) -> None:
    target = addr("phone_only", False)
    code, out, err = wifiq_probe(lab, "--address", target, "--json")
    assert code == 1, err  # from ephemeral ports: dropped
    assert {r["outcome"] for r in json.loads(out)["results"]} == {"silent"}
    both_targets = ["--address", target, "--address", addr("accept", False)]
    code, out, err = wifiq_probe(lab, *both_targets, "--phone-ports", "--json")
    assert code == 0, err  # 500->500 and 4500->4500, several sockets sharing each port
    got = results(out)
    assert {r["outcome"] for r in got.values()} == {"answered"} and len(got) == 4


def test_text_output_and_exit_statuses(lab: IkeLab) -> None:
    code, out, err = wifiq_probe(lab, "--address", addr("accept", False), "--address",
                                 addr("accept", True))
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 4 and all(" answered " in line for line in lines)
    assert err == ""
    code, out, err = wifiq_probe(lab, "--address", addr("reject", True), "--json")
    assert code == 1 and json.loads(out)["status"] == "failed"


def test_charon_rig_stops_cleanly(tmp_path: Path) -> None:
    """The rig leaves no namespace and no charon behind."""
    reason = have_charon()
    if reason is not None:
        pytest.skip(reason)
    lab = IkeLab((ServerSpec(responders=(Responder((server_address(0, 10),), ACCEPT),)),),
                 tmp_path)
    with lab:
        pids = [p.pid for p in lab.charons]
        names = list(lab.created)
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not any(name in listed for name in names)
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists()


def make_state(path: Path, addresses: tuple[str, ...]) -> None:
    """A state whose refresh found ``addresses`` for 505-01's ePDG name."""
    name = "epdg.epc.mnc001.mcc505.pub.3gppnetwork.org"
    with StateStore(path) as store:
        store.record_refresh(
            refreshed_at=1.0, finished_at=1.0, status="changed", wifiq_version="test",
            lookups=[], replaced_names=[name], changes=[],
            active=[AddressState(name, a, 6 if ":" in a else 4, 1.0, 1.0) for a in addresses],
            name_plmns=[(name, "505-01", "epdg")])


def test_addresses_from_the_state(lab: IkeLab, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    make_state(state, (addr("accept", False), addr("refuse", True)))
    code, out, err = wifiq_probe(lab, "--plmn", "505-01", "--state", str(state), "--json")
    assert code == 0, err
    got = results(out)
    assert set(got) == {(addr("accept", False), 500), (addr("accept", False), 4500),
                        (addr("refuse", True), 500), (addr("refuse", True), 4500)}
    assert got[(addr("refuse", True), 500)]["outcome"] == "no_proposal_chosen"
    assert got[(addr("accept", False), 500)]["names"] == [
        "epdg.epc.mnc001.mcc505.pub.3gppnetwork.org"]


BEYOND = {
    "broken_dh": ("error_notify", "INVALID_KE_PAYLOAD asks for DH group 14, the group of the KE "
                                  "sent: the responder cannot use the group it chose"),
    "echo": ("malformed", "the request came back unchanged: an echo, not an IKE responder"),
    "text": ("malformed", "malformed IKE message at byte"),
}


@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
def test_error_notify_and_malformed_from_real_responders(lab: IkeLab, v6: bool) -> None:
    args = [a for role in BEYOND for a in ("--address", addr(role, v6))]
    code, out, err = wifiq_probe(lab, *args, "--json")
    assert code == 0, err  # all reachable: something answered on every address and port
    got = results(out)
    assert len(got) == 6
    for role, (outcome, detail) in BEYOND.items():
        for port in (500, 4500):
            result = got[(addr(role, v6), port)]
            assert (result["outcome"], result["reachable"]) == (outcome, True), (role, port)
            assert result["detail"].startswith(detail), (role, port, result["detail"])
            assert result["rtt_ms"] is not None and result["rtt_ms"] > 0
    broken = got[(addr("broken_dh", v6), 500)]
    assert broken["notifies"] == ["INVALID_KE_PAYLOAD"] and broken["requests"] == 1
    # charon's own account: it chose MODP_2048 from the offer and has no implementation of it
    assert "DH group MODP_2048 unacceptable, requesting MODP_2048" in lab.log(2)
    # the probe waited out its resends for a real reply after the stray datagrams
    assert got[(addr("echo", v6), 4500)]["requests"] == 2


def test_error_notify_and_malformed_are_stored(lab: IkeLab, tmp_path: Path) -> None:
    """From the state's addresses, the run is stored and ``wifiq history`` shows it."""
    state = tmp_path / "state.sqlite"
    targets = (addr("broken_dh", False), addr("echo", True), addr("text", False))
    make_state(state, targets)
    code, out, err = wifiq_probe(lab, "--plmn", "505-01", "--state", str(state), "--json")
    assert code == 0, err
    history = subprocess.run(
        [sys.executable, "-m", "wifiq.cli", "history", "--plmn", "505-01", "--state",
         str(state), "--json"], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert history.returncode == 0, history.stderr
    reach = {(r["address"], r["port"]): r
             for r in json.loads(history.stdout)["operators"][0]["reachability"]}
    expected = {(addr("broken_dh", False), p): "error_notify" for p in (500, 4500)}
    expected |= {(a, p): "malformed" for a in targets[1:] for p in (500, 4500)}
    assert {k: v["latest"]["outcome"] for k, v in reach.items()} == expected
    assert all(v["probed"] == 1 and v["reachable"] == 1 for v in reach.values())
    assert reach[(addr("echo", True), 500)]["latest"]["detail"] == BEYOND["echo"][1]
