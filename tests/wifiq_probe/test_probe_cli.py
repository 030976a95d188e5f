"""``wifiq probe`` on bad input and on loopback (no namespace needed): one-line errors, exit
statuses, and an ICMP port unreachable from a closed loopback port."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wifiq.commands.probe import probe_options, state_addresses
from wifiq.config import Selection, load_config
from wifiq.holddown import AddressState
from wifiq.plmn import parse_plmn
from wifiq.probe import ProbeOptions, ProbePolicy
from wifiq.store import StateStore


def wifiq(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "wifiq.cli", "probe", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def in_fresh_netns(script: str) -> subprocess.CompletedProcess[str]:
    """Run a Python ``script`` in a new network namespace (loopback up, nothing listening)."""
    return subprocess.run(["unshare", "--net", "sh", "-ec",
                           f"ip link set lo up; exec {sys.executable} -c \"$0\"", script],
                          capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])


def test_bad_address_is_exit_2(tmp_path: Path) -> None:
    proc = wifiq(tmp_path, "--address", "epdg.example.net")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == ("wifiq: error: --address 'epdg.example.net' is not an IPv4 or IPv6 "
                           "address\n")


def test_bad_options_are_exit_2(tmp_path: Path) -> None:
    for args in (["--port", "0", "--address", "127.0.0.1"], ["--rate", "0", "--address", "::1"],
                 ["--timeout", "nan", "--address", "::1"], ["--concurrency", "0"]):
        proc = wifiq(tmp_path, *args)
        assert proc.returncode == 2, args


def test_no_state_and_empty_state(tmp_path: Path) -> None:
    proc = wifiq(tmp_path, "--plmn", "505-01")
    assert proc.returncode == 2 and "no state file at" in proc.stderr
    state = tmp_path / "s.sqlite"
    with StateStore(state) as store:
        store.record_refresh(refreshed_at=1.0, finished_at=1.0, status="unchanged",
                             wifiq_version="t", lookups=[], replaced_names=[], changes=[],
                             active=[], name_plmns=[])
    proc = wifiq(tmp_path, "--plmn", "505-01", "--state", str(state))
    assert proc.returncode == 1 and "holds no active address" in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_closed_loopback_port_is_unreachable(tmp_path: Path) -> None:
    """Nothing listens on loopback's UDP 500/4500 in a fresh network namespace: the kernel
    answers ICMP port unreachable, which the connected socket reports."""
    proc = subprocess.run(
        ["unshare", "--net", "sh", "-ec",
         f"ip link set lo up; exec {sys.executable} -m wifiq.cli probe --address 127.0.0.1 "
         "--address ::1 --json --timeout 1 --retries 0"],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["status"] == "failed"
    assert [(r["address"], r["port"], r["outcome"], r["detail"]) for r in doc["results"]] == [
        ("127.0.0.1", 500, "unreachable", "ICMP port unreachable"),
        ("127.0.0.1", 4500, "unreachable", "ICMP port unreachable"),
        ("::1", 500, "unreachable", "ICMP port unreachable"),
        ("::1", 4500, "unreachable", "ICMP port unreachable"),
    ]


def test_state_selection_names(tmp_path: Path) -> None:
    """Addresses come from the state's active set of the selected PLMN's names only."""
    state = tmp_path / "s.sqlite"
    with StateStore(state) as store:
        store.record_refresh(
            refreshed_at=1.0, finished_at=1.0, status="changed", wifiq_version="t",
            lookups=[], replaced_names=["a.example", "b.example"], changes=[],
            active=[AddressState("a.example", "192.0.2.1", 4, 1.0, 1.0),
                    AddressState("b.example", "192.0.2.2", 4, 1.0, 1.0)],
            name_plmns=[("a.example", "505-01", "epdg"), ("b.example", "505-02", "epdg")])
    got = state_addresses(state, Selection(plmns=(parse_plmn("505-01"),)))
    assert got == {"192.0.2.1": ["a.example"]}


def test_phone_ports_busy_is_one_line_exit_1() -> None:
    """An IKE daemon already holding UDP 500 (no SO_REUSEADDR): --phone-ports says so."""
    script = (
        "import socket, subprocess, sys\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', 500))\n"
        "p = subprocess.run([sys.executable, '-m', 'wifiq.cli', 'probe', '--address', "
        "'127.0.0.1', '--port', '500', '--phone-ports'], capture_output=True, text=True)\n"
        "sys.stdout.write(f'{p.returncode}|{p.stdout}|{p.stderr}')\n")
    proc = in_fresh_netns(script)
    code, out, err = proc.stdout.split("|", 2)
    assert (code, out) == ("1", ""), proc.stderr
    assert err == ("wifiq: error: cannot send from UDP port 500 (--phone-ports): Address "
                   "already in use\n")


# -- the config's [probe] table -----------------------------------------------------------------


def test_probe_table_is_read(tmp_path: Path) -> None:
    path = tmp_path / "wifiq.toml"
    path.write_text("[probe]\nports = [4500, 500, 4500]\ntimeout = 0.5\nretries = 0\n"
                    "concurrency = 8\nrate = 2\nphone_ports = true\n")
    options = load_config(path).probe
    assert options.ports == (4500, 500) and options.concurrency == 8 and options.rate == 2.0
    assert (options.policy.timeout, options.policy.retries) == (0.5, 0)
    assert options.phone_ports
    assert load_config(tmp_path / "wifiq.toml").probe.policy.groups == ProbePolicy().groups
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    assert load_config(empty).probe == ProbeOptions()
    # the command line wins, key by key
    merged = probe_options(options, ports=(500,), retries=1, phone_ports=False)
    assert merged.ports == (500,) and merged.policy.retries == 1 and not merged.phone_ports
    assert (merged.policy.timeout, merged.concurrency, merged.rate) == (0.5, 8, 2.0)


@pytest.mark.parametrize("line, problem", [
    ("ports = []", "probe.ports: must be a non-empty list of UDP ports 1-65535"),
    ("ports = [500, 0]", "probe.ports: must be a non-empty list of UDP ports 1-65535"),
    ("ports = 500", "probe.ports: must be a non-empty list of UDP ports 1-65535"),
    ("timeout = 0", "probe.timeout: must be a number of seconds in [0.01, 60]"),
    ("timeout = nan", "probe.timeout: must be a number of seconds in [0.01, 60]"),
    ("timeout = '2'", "probe.timeout: must be a number of seconds in [0.01, 60]"),
    ("retries = 11", "probe.retries: must be an integer 0-10"),
    ("concurrency = 0", "probe.concurrency: must be an integer 1-4096"),
    ("rate = true", "probe.rate: must be a number of requests per second in [0.1, 1000]"),
    ("rate = 1e9", "probe.rate: must be a number of requests per second in [0.1, 1000]"),
    ("phone_ports = 1", "probe.phone_ports: must be true or false"),
    ("port = 500", "probe: unknown key 'port'"),
])
def test_bad_probe_table_is_one_line_exit_2(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f"[probe]\n{line}\n")
    proc = wifiq(tmp_path, "--config", str(path), "--address", "127.0.0.1")
    assert (proc.returncode, proc.stdout) == (2, ""), proc.stderr
    assert proc.stderr == f"wifiq: error: config {path}: {problem}\n"


def test_probe_table_used_and_overridden_by_the_command_line(tmp_path: Path) -> None:
    """A silent UDP 500 on loopback in a fresh network namespace (4500 closed): the config's
    ports, timeout and retries apply, and each command-line option wins over its key."""
    config = tmp_path / "wifiq.toml"
    config.write_text("[probe]\nports = [500]\ntimeout = 0.2\nretries = 0\n")
    script = (
        "import socket, subprocess, sys\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', 500))\n"
        "for extra in ([], ['--retries', '1', '--port', '500', '--port', '4500']):\n"
        "    p = subprocess.run([sys.executable, '-m', 'wifiq.cli', 'probe', '--address', "
        f"'127.0.0.1', '--config', {str(config)!r}, '--json', *extra], capture_output=True, "
        "text=True)\n"
        "    sys.stdout.write(p.stdout.strip() + '\\n')\n")
    proc = in_fresh_netns(script)
    first, second = (json.loads(line)["results"] for line in proc.stdout.splitlines())
    assert [(r["port"], r["outcome"], r["requests"]) for r in first] == [(500, "silent", 1)]
    assert [(r["port"], r["outcome"], r["requests"]) for r in second] == [
        (500, "silent", 2), (4500, "unreachable", 1)]
