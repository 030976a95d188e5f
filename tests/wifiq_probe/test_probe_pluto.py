"""``wifiq probe`` against libreswan's pluto (a real IKEv2 responder, ``tests/rig/pluto.py``)
sending REDIRECT (RFC 5685) in its IKE_SA_INIT response: ``redirected`` with the gateway pluto
names (an IPv4 address, an IPv6 address, a name: the three gateway identity types), on IPv4 and
IPv6, UDP 500 and 4500, each verified by the nonce pluto echoes (the request's Ni, RFC 5685);
stored by ``wifiq probe`` and ``refresh --probe`` and shown by ``wifiq history``. A pluto per
test, in namespaces the test makes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.rig.charon import IkeLab, Responder, ServerSpec, server_address
from tests.rig.knot import NamespaceKnot, have_knot, zone
from tests.rig.netns import REPO
from tests.rig.pluto import REDIRECT_LOG, Pluto, have_pluto, start_pluto
from tests.wifiq_probe.test_probe_charon import make_state, results, wifiq_probe
from tests.wifiq_probe.test_probe_history import wifiq
from wifiq.probe.ike import REDIRECT, parse_message, parse_redirect

V4 = server_address(0, 50)
V6 = server_address(0, 50, True)
NAME = "epdg.epc.mnc001.mcc505.pub.3gppnetwork.org"
#: where pluto sends the phones: one gateway of each identity type (RFC 5685 §10)
GATEWAYS = {"ipv4": "198.51.100.77", "ipv6": "2001:db8:ff::77",
            "fqdn": "epdg2.epc.mnc001.mcc505.pub.3gppnetwork.org"}


@contextmanager
def redirecting(workdir: Path, gateway: str) -> Iterator[tuple[IkeLab, Pluto]]:
    """A client namespace and a server namespace (V4, V6) where pluto redirects to ``gateway``."""
    reason = have_pluto()
    if reason is not None:
        pytest.skip(reason)
    servers = (ServerSpec(responders=(Responder((V4, V6), ""),), charon=False),)
    with IkeLab(servers, workdir) as lab:
        yield lab, start_pluto(lab, 0, gateway)


@pytest.mark.parametrize("kind", sorted(GATEWAYS))
def test_redirected_by_pluto(tmp_path: Path, kind: str) -> None:
    gateway = GATEWAYS[kind]
    with redirecting(tmp_path, gateway) as (lab, pluto):
        code, out, err = wifiq_probe(lab, "--address", V4, "--address", V6, "--json")
        log = pluto.log()
    assert code == 0, err  # redirected is reachable: an IKEv2 responder answered
    assert json.loads(out)["status"] == "ok"
    got = results(out)
    assert set(got) == {(a, p) for a in (V4, V6) for p in (500, 4500)}
    for key, result in got.items():
        # redirected, not malformed: the REDIRECT echoed the probe's Ni (a REDIRECT without it,
        # or with another nonce, ends as malformed: test_ike_codec.py)
        assert (result["outcome"], result["reachable"]) == ("redirected", True), key
        assert result["detail"] == f"redirected to {gateway}", key
        assert result["notifies"] == ["REDIRECT"] and result["chosen"] is None, key
        assert result["requests"] == 1 and result["steps"] == [] and result["rtt_ms"] > 0, key
    # pluto's own account: four IKE_SA_INITs, each answered with REDIRECT, from both families
    assert log.count(REDIRECT_LOG) == 4, log[-3000:]
    assert "packet from 203.0.113.1:" in log and "packet from [2001:db8:a::1]:" in log


#: Run in the client namespace: one IKE_SA_INIT with the Ni given in hex (argv[3]) to
#: (argv[1], argv[2]), the reply printed in hex.
EXCHANGE = """
import secrets, socket, sys
from wifiq.probe.ike import encode_sa_init, android_proposals, random_ke
host, port, nonce = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(5)
sock.connect((host, port))
sock.send(encode_sa_init(spi_i=secrets.token_bytes(8), nonce=nonce, ke_group=14,
                         ke_data=random_ke(14), proposals=android_proposals(),
                         source=sock.getsockname()[:2], destination=(host, port)))
print(sock.recv(65535).hex())
"""


@pytest.mark.parametrize("size", [16, 32, 256])
def test_pluto_echoes_the_request_nonce(tmp_path: Path, size: int) -> None:
    """What the probe's check rests on, seen on the wire: pluto's REDIRECT carries, after the
    gateway, exactly the Ni of the request it answers (16, 32 and 256 bytes: RFC 7296's bounds
    and the probe's own size), a different one for each request."""
    with redirecting(tmp_path, GATEWAYS["ipv6"]) as (lab, _):
        for host in (V4, V6):
            echoed = []
            for fill in (0x11, 0xEE):
                nonce = bytes([fill]) * (size - 1) + bytes([size % 256])
                proc = subprocess.run(
                    ["ip", "netns", "exec", lab.client, sys.executable, "-c", EXCHANGE, host,
                     "500", nonce.hex()], capture_output=True, text=True, timeout=30, cwd=REPO)
                assert proc.returncode == 0, proc.stderr
                notify = parse_message(bytes.fromhex(proc.stdout.strip())).notify(REDIRECT)
                assert notify is not None
                redirect = parse_redirect(notify.data)
                assert redirect.gateway == GATEWAYS["ipv6"]
                echoed.append(redirect.nonce)
                assert redirect.nonce == nonce, (host, size)
            assert echoed[0] != echoed[1]


#: a namespace beside pluto's where a UDP service sends REDIRECTs that are not verified
#: (tests/rig/udp_service.py): without the nonce, with another nonce
UNVERIFIED = {"redirect-no-nonce": (server_address(1, 60), server_address(1, 60, True)),
              "redirect-other-nonce": (server_address(1, 61), server_address(1, 61, True))}


def test_unverified_redirects_are_malformed_beside_pluto(tmp_path: Path) -> None:
    """One run: pluto's REDIRECTs (they echo the Ni) are ``redirected``; a REDIRECT without the
    nonce or with another is ``malformed`` naming what was wrong, never ``redirected`` to the
    gateway it names, after the probe waited out its resend for a verified reply. Both are
    reachable: status ok, exit 0, as for every other ``malformed``."""
    reason = have_pluto()
    if reason is not None:
        pytest.skip(reason)
    servers = (ServerSpec(responders=(Responder((V4, V6), ""),), charon=False),
               ServerSpec(responders=(Responder(sum(UNVERIFIED.values(), ()), ""),),
                          charon=False))
    with IkeLab(servers, tmp_path) as lab:
        start_pluto(lab, 0, GATEWAYS["ipv4"])
        for mode, addresses in UNVERIFIED.items():
            for address in addresses:
                lab.start_udp_service(1, address, (500, 4500), mode)
        targets = (V4, V6) + sum(UNVERIFIED.values(), ())
        code, out, err = wifiq_probe(lab, *(a for t in targets for a in ("--address", t)),
                                     "--json")
    assert code == 0, err
    assert json.loads(out)["status"] == "ok"
    got = results(out)
    assert len(got) == 12
    expected_detail = {
        "redirect-no-nonce": "unverified REDIRECT (gateway 198.51.100.99) without Nonce Data",
        "redirect-other-nonce": "unverified REDIRECT (gateway 198.51.100.99) whose Nonce Data "
                                "(32 bytes) is not the Ni of this probe's request"}
    for port in (500, 4500):
        for address in (V4, V6):
            assert got[(address, port)]["outcome"] == "redirected"
            assert got[(address, port)]["requests"] == 1
        for mode, addresses in UNVERIFIED.items():
            for address in addresses:
                result = got[(address, port)]
                assert (result["outcome"], result["reachable"]) == ("malformed", True), mode
                assert result["detail"].startswith(expected_detail[mode]), result["detail"]
                assert result["notifies"] == ["REDIRECT"] and result["requests"] == 2


def test_redirected_text_output(tmp_path: Path) -> None:
    with redirecting(tmp_path, GATEWAYS["fqdn"]) as (lab, _):
        code, out, err = wifiq_probe(lab, "--address", V6, "--port", "4500")
    assert (code, err) == (0, "")
    [line] = out.splitlines()
    assert line.split()[:3] == [V6, "4500", "redirected"]
    assert line.endswith(f"redirected to {GATEWAYS['fqdn']}")


def test_redirected_is_stored_and_in_history(tmp_path: Path) -> None:
    """From the state's addresses: the run is stored, ``wifiq history --json`` shows it."""
    state = tmp_path / "state.sqlite"
    make_state(state, (V4, V6))
    with redirecting(tmp_path / "lab", GATEWAYS["ipv6"]) as (lab, _):
        for _ in range(2):
            code, out, err = wifiq_probe(lab, "--plmn", "505-01", "--state", str(state),
                                         "--json")
            assert code == 0, err
    history = wifiq(None, tmp_path, "history", "--plmn", "505-01", "--state", str(state),
                    "--json")
    assert history.returncode == 0, history.stderr
    reach = {(r["address"], r["port"]): r
             for r in json.loads(history.stdout)["operators"][0]["reachability"]}
    assert set(reach) == {(a, p) for a in (V4, V6) for p in (500, 4500)}
    detail = f"redirected to {GATEWAYS['ipv6']}"
    for key, entry in reach.items():
        assert (entry["probed"], entry["reachable"]) == (2, 2), key
        assert (entry["latest"]["outcome"], entry["latest"]["detail"]) == ("redirected", detail)
        [span] = entry["spans"]  # the same answer twice: one span
        assert (span["outcome"], span["probes"], span["detail"]) == ("redirected", 2, detail)
        assert span["notifies"] == ["REDIRECT"] and span["refresh_run"] is None


def test_refresh_probe_redirected(tmp_path: Path) -> None:
    """``refresh --probe``: knot (in the client namespace) names pluto's addresses; the probes
    are stored with the refresh, and ``history`` shows them."""
    if not have_knot():
        pytest.skip("knotd is not installed (scripts/setup installs knot)")
    parent = "pub.3gppnetwork.org"
    records = [f"epdg.epc.mnc001.mcc505 IN A {V4}", f"epdg.epc.mnc001.mcc505 IN AAAA {V6}"]
    state = str(tmp_path / "state.sqlite")
    with redirecting(tmp_path / "lab", GATEWAYS["ipv4"]) as (lab, _):
        knot = NamespaceKnot(tmp_path / "knot", {parent: zone(parent, records)}, lab.client)
        knot.start()
        try:
            refresh = wifiq(lab, tmp_path, "refresh", "--plmn", "505-01", "--kind", "epdg",
                            "--resolver", f"127.0.0.1:{knot.port}", "--state", state,
                            "--timeout", "1", "--probe", "--json")
        finally:
            knot.stop()
    assert refresh.returncode == 3, refresh.stderr  # changed: two addresses added
    probes = json.loads(refresh.stdout)["probes"]
    assert probes["status"] == "ok"
    detail = f"redirected to {GATEWAYS['ipv4']}"
    assert {(r["address"], r["port"]): (r["outcome"], r["detail"]) for r in probes["results"]} \
        == {(a, p): ("redirected", detail) for a in (V4, V6) for p in (500, 4500)}
    assert all(r["names"] == [NAME] for r in probes["results"])
    history = wifiq(None, tmp_path, "history", "--plmn", "505-01", "--state", state, "--json")
    assert history.returncode == 0, history.stderr
    reach = json.loads(history.stdout)["operators"][0]["reachability"]
    assert len(reach) == 4
    assert {(r["latest"]["outcome"], r["latest"]["refresh_run"]) for r in reach} == {
        ("redirected", 1)}
    text = wifiq(None, tmp_path, "history", "--plmn", "505-01", "--state", state).stdout
    span_lines = [x for x in text.splitlines() if "redirected x1" in x]
    assert len(span_lines) == 4 and all(detail in x and "(refresh 1)" in x for x in span_lines)


def test_pluto_rig_stops_cleanly(tmp_path: Path) -> None:
    """The rig leaves no namespace, no pluto and no mount behind (the bind mount of the unpacked
    tree lives only in pluto's own mount namespace)."""
    with redirecting(tmp_path, GATEWAYS["ipv4"]) as (lab, pluto):
        names = list(lab.created)
        assert Path(f"/proc/{pluto.pid}").exists()
        assert not Path("/usr/libexec/ipsec").exists()  # not in this mount namespace
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not any(name in listed for name in names)
    assert not Path(f"/proc/{pluto.pid}").exists()
    assert "shutting down" in pluto.log()  # stopped by SIGTERM, not killed
