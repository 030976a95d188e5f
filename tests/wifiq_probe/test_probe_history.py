"""Probe history in the state: ``refresh --probe`` probes what it resolved (knot serving the
names, charon answering, both inside the test's namespaces), ``wifiq probe`` adds runs, and
``wifiq history`` shows each active address's reachability over time."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.charon import IkeLab, Responder, ServerSpec, have_charon, server_address
from tests.rig.knot import NamespaceKnot, have_knot, zone
from tests.rig.netns import REPO

PARENT = "pub.3gppnetwork.org"
NAME = "epdg.epc.mnc001.mcc505.pub.3gppnetwork.org"
ACCEPT = server_address(0, 10)
REFUSE6 = server_address(0, 11, True)
REJECT = server_address(0, 15)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[IkeLab, NamespaceKnot]]:
    for reason in (have_charon(), None if have_knot() else "knotd is not installed"):
        if reason is not None:
            pytest.skip(reason)
    servers = (ServerSpec(
        responders=(Responder((ACCEPT, REJECT), "aes256-sha256-modp2048"),
                    Responder((REFUSE6,), "aes192-sha256-modp2048")),
        nft_rules=(f"ip daddr {REJECT} udp dport {{ 500, 4500 }} reject",)),)
    records = [f"epdg.epc.mnc001.mcc505 IN A {ACCEPT}", f"epdg.epc.mnc001.mcc505 IN A {REJECT}",
               f"epdg.epc.mnc001.mcc505 IN AAAA {REFUSE6}"]
    with IkeLab(servers, tmp_path / "lab") as made:
        knot = NamespaceKnot(tmp_path / "knot", {PARENT: zone(PARENT, records)}, made.client)
        knot.start()
        try:
            yield made, knot
        finally:
            knot.stop()


def wifiq(lab: IkeLab | None, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    prefix = ["ip", "netns", "exec", lab.client] if lab is not None else []
    env = {"HOME": str(home), "XDG_DATA_HOME": str(home / "d"), "XDG_CONFIG_HOME": str(home / "c"),
           "PATH": "/usr/sbin:/usr/bin:/bin"}
    return subprocess.run([*prefix, sys.executable, "-m", "wifiq.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, cwd=REPO)


def test_refresh_probe_then_history(lab: tuple[IkeLab, NamespaceKnot], tmp_path: Path) -> None:
    ike, knot = lab
    state = str(tmp_path / "state.sqlite")
    refresh = ["refresh", "--plmn", "505-01", "--kind", "epdg", "--resolver",
               f"127.0.0.1:{knot.port}", "--state", state, "--timeout", "1", "--probe"]
    first = wifiq(ike, tmp_path, *refresh, "--json")
    assert first.returncode == 3, first.stderr  # changed: three addresses added
    probes = json.loads(first.stdout)["probes"]
    assert probes["status"] == "partial"
    got = {(r["address"], r["port"]): r["outcome"] for r in probes["results"]}
    assert got == {(ACCEPT, 500): "answered", (ACCEPT, 4500): "answered",
                   (REJECT, 500): "unreachable", (REJECT, 4500): "unreachable",
                   (REFUSE6, 500): "no_proposal_chosen", (REFUSE6, 4500): "no_proposal_chosen"}
    assert all(r["names"] == [NAME] for r in probes["results"])

    # nothing changed, reachability the same: a silent refresh (cron mails nothing)
    second = wifiq(ike, tmp_path, *refresh)
    assert (second.returncode, second.stdout) == (0, ""), second.stderr

    # wifiq probe from the state adds a third run of probes
    third = wifiq(ike, tmp_path, "probe", "--plmn", "505-01", "--state", state, "--timeout",
                  "1", "--retries", "0")
    assert third.returncode == 4, third.stderr

    history = wifiq(None, tmp_path, "history", "--plmn", "505-01", "--state", state, "--json")
    assert history.returncode == 0, history.stderr
    reach = {(r["address"], r["port"]): r
             for r in json.loads(history.stdout)["operators"][0]["reachability"]}
    assert set(reach) == set(got)
    assert reach[(ACCEPT, 500)]["probed"] == 3 and reach[(ACCEPT, 500)]["reachable"] == 3
    assert reach[(REJECT, 4500)]["reachable"] == 0
    assert reach[(REJECT, 4500)]["latest"]["detail"] == "ICMP port unreachable"
    runs = [p["refresh_run"] for p in reach[(ACCEPT, 500)]["history"]]
    assert runs == [1, 2, None]
    text = wifiq(None, tmp_path, "history", "--plmn", "505-01", "--state", state)
    assert "reachability (latest IKEv2 probe; reachable/probed):" in text.stdout
    line = next(x for x in text.stdout.splitlines() if REJECT in x and " 500 " in x
                and "unreachable" in x)
    assert line.rstrip().endswith("0/3")


def test_reachability_news_when_it_changes(lab: tuple[IkeLab, NamespaceKnot],
                                           tmp_path: Path) -> None:
    ike, knot = lab
    state = str(tmp_path / "state.sqlite")
    refresh = ["refresh", "--plmn", "505-01", "--kind", "epdg", "--resolver",
               f"127.0.0.1:{knot.port}", "--state", state, "--timeout", "1", "--probe"]
    first = wifiq(ike, tmp_path, *refresh)
    assert first.returncode == 3, first.stderr
    assert (f"reachability: {REJECT} port 500 unreachable (first probe): ICMP port unreachable"
            in first.stdout.splitlines())
    assert ACCEPT not in "".join(x for x in first.stdout.splitlines() if "reachability" in x)
    # the firewall now drops UDP 500 to the accepting address: news on the next refresh
    ike.ns(ike.server(0), "nft", "insert", "rule", "inet", "lab", "input", "ip", "daddr",
           ACCEPT, "udp", "dport", "500", "drop")
    second = wifiq(ike, tmp_path, *refresh)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines() == [
        f"reachability: {ACCEPT} port 500 silent (was reachable): no reply to 3 requests"]


def test_refresh_probe_uses_the_config_probe_table(lab: tuple[IkeLab, NamespaceKnot],
                                                   tmp_path: Path) -> None:
    ike, knot = lab
    config = tmp_path / "wifiq.toml"
    config.write_text(f'state = "{tmp_path / "state.sqlite"}"\n'
                      "[probe]\nports = [4500]\ntimeout = 0.3\nretries = 0\n")
    proc = wifiq(ike, tmp_path, "refresh", "--config", str(config), "--plmn", "505-01",
                 "--kind", "epdg", "--resolver", f"127.0.0.1:{knot.port}", "--timeout", "1",
                 "--probe", "--json")
    assert proc.returncode == 3, proc.stderr
    got = {(r["address"], r["port"]): (r["outcome"], r["requests"])
           for r in json.loads(proc.stdout)["probes"]["results"]}
    assert got == {(ACCEPT, 4500): ("answered", 1), (REJECT, 4500): ("unreachable", 1),
                   (REFUSE6, 4500): ("no_proposal_chosen", 1)}
