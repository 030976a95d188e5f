"""The kernel checks the nftables and iptables outputs, in throwaway network namespaces.

- ``nft -c -f`` and ``ipset restore`` + ``iptables-restore --test`` (both families);
- delta for real: full N applied, then the delta, equals full N+1 applied (nft sets, ipsets);
- end to end: client → router (our nft rules) → server; UDP 4500 and ESP to a listed address
  arrive with DSCP 46 and to an unlisted one with 0, IPv4 and IPv6, replies marked too;
- openwrt-fw4: the include loads inside a fw4-like ``table inet fw4`` (as firewall4's
  ruleset.uc includes ``/etc/nftables.d/*.nft``), a reload with a newer include keeps no stale
  address, and it marks forwarded traffic end to end.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.rig.netns import Topology, can_make_namespaces, in_fresh_netns
from wifiq.render import RenderInput, parse_render_input, render, split_sections

REASON = can_make_namespaces()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


def _write(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (directory / name).write_text(text)


def test_nft_accepts_full_and_delta(tmp_path: Path, current: RenderInput, following: RenderInput) -> None:
    _write(tmp_path, {"full.nft": render("nftables", current), "delta.nft": render("nftables", following, previous=current)})
    proc = in_fresh_netns(f"cd {tmp_path}; nft -c -f full.nft; nft -f full.nft; nft -c -f delta.nft")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("dscp", ["va", "45", "cs6", "af11", "0"])
def test_kernel_accepts_every_dscp_spelling(dscp: str, tmp_path: Path, current: RenderInput) -> None:
    (tmp_path / "n.nft").write_text(render("nftables", current, dscp=dscp))
    _write(tmp_path, split_sections(render("iptables", current, dscp=dscp)))
    proc = in_fresh_netns(
        f"cd {tmp_path}; nft -c -f n.nft; ipset restore < wifiq-epdg.ipset; "
        "iptables-restore --test --noflush wifiq-dscp.rules.v4; ip6tables-restore --test --noflush wifiq-dscp.rules.v6"
    )
    assert proc.returncode == 0, proc.stderr


def test_nft_rejects_a_broken_file(tmp_path: Path, current: RenderInput) -> None:
    broken = render("nftables", current).replace("ip dscp set ef", "ip dscp set nonsense", 1)
    _write(tmp_path, {"broken.nft": broken})
    proc = in_fresh_netns(f"nft -c -f {tmp_path}/broken.nft")
    assert proc.returncode != 0 and "nonsense" in proc.stderr


def _nft_elements(script: str) -> dict[str, set[str]]:
    proc = in_fresh_netns(script + "; nft -j list table inet wifiq")
    assert proc.returncode == 0, proc.stderr
    found: dict[str, set[str]] = {}
    for item in json.loads(proc.stdout)["nftables"]:
        if "set" in item:
            elems = set()
            for e in item["set"].get("elem", []):
                elems.add(e["elem"]["val"] if isinstance(e, dict) and "elem" in e else e)
            found[item["set"]["name"]] = elems
    return found


def test_nft_full_plus_delta_equals_next_full(tmp_path: Path, current: RenderInput, following: RenderInput) -> None:
    _write(
        tmp_path,
        {
            "n.nft": render("nftables", current),
            "delta.nft": render("nftables", following, previous=current),
            "n1.nft": render("nftables", following),
        },
    )
    applied = _nft_elements(f"nft -f {tmp_path}/n.nft; nft -f {tmp_path}/delta.nft")
    expected = _nft_elements(f"nft -f {tmp_path}/n1.nft")
    assert applied == expected
    assert expected["epdg4"] == {str(a) for a in following.addresses(4)}
    assert expected["epdg6"] == {str(a) for a in following.addresses(6)}


def test_full_render_can_be_applied_twice(tmp_path: Path, current: RenderInput, following: RenderInput) -> None:
    _write(tmp_path, {"n.nft": render("nftables", current), "n1.nft": render("nftables", following)})
    applied = _nft_elements(f"nft -f {tmp_path}/n.nft; nft -f {tmp_path}/n1.nft")
    assert applied["epdg4"] == {str(a) for a in following.addresses(4)}


def test_ipset_and_iptables_restore_accept_the_files(tmp_path: Path, current: RenderInput) -> None:
    _write(tmp_path, split_sections(render("iptables", current)))
    proc = in_fresh_netns(
        f"cd {tmp_path}; ipset restore < wifiq-epdg.ipset; "
        "iptables-restore --test --noflush wifiq-dscp.rules.v4; "
        "ip6tables-restore --test --noflush wifiq-dscp.rules.v6; "
        "iptables-restore --noflush wifiq-dscp.rules.v4; iptables -t mangle -A POSTROUTING -j WIFIQ-DSCP; "
        "iptables -t mangle -S WIFIQ-DSCP"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("--set-dscp 0x2e") == 4


def test_iptables_rules_need_their_sets(tmp_path: Path, current: RenderInput) -> None:
    _write(tmp_path, split_sections(render("iptables", current)))
    proc = in_fresh_netns(f"iptables-restore --test --noflush {tmp_path}/wifiq-dscp.rules.v4")
    assert proc.returncode != 0


def _ipset_members(script: str) -> set[str]:
    proc = in_fresh_netns(script + "; ipset list wifiq-epdg4; ipset list wifiq-epdg6")
    assert proc.returncode == 0, proc.stderr
    members, on = set(), False
    for line in proc.stdout.splitlines():
        if line.startswith("Members:"):
            on = True
        elif line.startswith("Name:"):
            on = False
        elif on and line.strip():
            members.add(line.split()[0])
    return members


def test_ipset_full_plus_delta_equals_next_full(tmp_path: Path, current: RenderInput, following: RenderInput) -> None:
    (tmp_path / "n").mkdir()
    (tmp_path / "d").mkdir()
    (tmp_path / "n1").mkdir()
    _write(tmp_path / "n", split_sections(render("iptables", current)))
    _write(tmp_path / "d", split_sections(render("iptables", following, previous=current)))
    _write(tmp_path / "n1", split_sections(render("iptables", following)))
    applied = _ipset_members(
        f"ipset restore < {tmp_path}/n/wifiq-epdg.ipset; ipset restore < {tmp_path}/d/wifiq-epdg.ipset; "
        f"ipset restore < {tmp_path}/d/wifiq-epdg.ipset"  # a delta applied twice changes nothing
    )
    expected = _ipset_members(f"ipset restore < {tmp_path}/n1/wifiq-epdg.ipset")
    assert applied == expected == {str(a) for a in following.addresses()}


LISTED = ("203.0.113.10", "2001:db8:2::10")
UNLISTED = ("203.0.113.99", "2001:db8:2::99")


def _gateway_rules() -> RenderInput:
    return parse_render_input(
        {
            "refreshed_at": "2026-11-26T09:00:00Z",
            "wifiq_version": "0.1.0",
            "operators": [{"plmn": "505-01", "brand": "Telstra", "operator": None, "active": list(LISTED)}],
        },
        "e2e",
    )


def _records(proc: subprocess.Popen[str]) -> list[dict[str, object]]:
    out, err = proc.communicate(timeout=30)
    assert proc.returncode in (0, -15), err
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def fw4_ruleset(include: Path) -> str:
    """A fw4-like ruleset: what firewall4's ruleset.uc prints around ``include "/etc/nftables.d/*.nft"``
    (``table`` / ``flush table`` / ``table inet fw4 {`` defines, includes, fw4's own chains ``}``)."""
    return "\n".join([
        "table inet fw4",
        "flush table inet fw4",
        "table inet fw4 {",
        '\tdefine lan_devices = { "wqr0" }',
        f'\tinclude "{include}"',
        "\tchain forward {",
        "\t\ttype filter hook forward priority filter; policy accept;",
        '\t\tct state established,related accept comment "!fw4: Allow forwarded established and related flows"',
        "\t}",
        "\tchain mangle_postrouting {",
        "\t\ttype filter hook postrouting priority mangle; policy accept;",
        "\t}",
        "}",
    ]) + "\n"


def _fw4_files(directory: Path, include_text: str, name: str = "ruleset") -> Path:
    (directory / f"{name}-wifiq.nft").write_text(include_text)
    ruleset = directory / f"{name}.nft"
    ruleset.write_text(fw4_ruleset(directory / f"{name}-wifiq.nft"))
    return ruleset


def test_fw4_include_loads_inside_the_fw4_table(tmp_path: Path, current: RenderInput) -> None:
    ruleset = _fw4_files(tmp_path, render("openwrt-fw4", current))
    proc = in_fresh_netns(f"nft -c -f {ruleset}; nft -f {ruleset}; nft -f {ruleset}; nft list chain inet fw4 wifiq_dscp_postrouting")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("dscp set ef") == 8, "applied twice (two reloads) must not duplicate rules"
    for address in current.addresses():
        assert str(address) in proc.stdout


def test_plain_nftables_file_breaks_fw4_and_that_is_why_openwrt_fw4_exists(tmp_path: Path, current: RenderInput) -> None:
    ruleset = _fw4_files(tmp_path, render("nftables", current))
    proc = in_fresh_netns(f"nft -c -f {ruleset}")
    assert proc.returncode != 0 and "unexpected table" in proc.stderr


def test_fw4_reload_with_a_newer_include_keeps_no_stale_address(tmp_path: Path, current: RenderInput, following: RenderInput) -> None:
    old = _fw4_files(tmp_path, render("openwrt-fw4", current), "old")
    new = _fw4_files(tmp_path, render("openwrt-fw4", following), "new")
    proc = in_fresh_netns(f"nft -f {old}; nft -f {new}; nft list chain inet fw4 wifiq_dscp_postrouting")
    assert proc.returncode == 0, proc.stderr
    for address in following.addresses():
        assert str(address) in proc.stdout
    for gone in set(current.addresses()) - set(following.addresses()):
        assert f" {gone}" not in proc.stdout and f"{{{gone}" not in proc.stdout, f"stale {gone} still marked"


def test_fw4_flush_table_keeps_named_set_elements(tmp_path: Path) -> None:
    """Why openwrt-fw4 puts addresses in the rules: fw4's reload (``flush table``) keeps a named
    set's elements, so a named set in the include would keep marking addresses that are gone."""
    for name, address in (("a", "192.0.2.1"), ("b", "192.0.2.2")):
        (tmp_path / f"{name}.nft").write_text(
            "table inet fw4\nflush table inet fw4\n"
            f"table inet fw4 {{\n\tset s {{\n\t\ttype ipv4_addr\n\t\telements = {{ {address} }}\n\t}}\n}}\n"
        )
    proc = in_fresh_netns(f"nft -f {tmp_path}/a.nft; nft -f {tmp_path}/b.nft; nft list set inet fw4 s")
    assert proc.returncode == 0, proc.stderr
    assert "192.0.2.1" in proc.stdout and "192.0.2.2" in proc.stdout


def test_fw4_include_with_one_family_only(tmp_path: Path) -> None:
    only_v6 = parse_render_input(
        {"refreshed_at": "2026-11-26T09:00:00Z", "wifiq_version": "0.1.0",
         "operators": [{"plmn": "505-01", "active": ["2001:db8:2::10"]}]}
    )
    empty = parse_render_input({"refreshed_at": "2026-11-26T09:00:00Z", "wifiq_version": "0.1.0", "operators": []})
    for name, doc in (("v6", only_v6), ("empty", empty)):
        ruleset = _fw4_files(tmp_path, render("openwrt-fw4", doc), name)
        proc = in_fresh_netns(f"nft -c -f {ruleset}")
        assert proc.returncode == 0, f"{name}: {proc.stderr}"


def _load_rules(topo: Topology, target: str, directory: Path) -> None:
    """Install the rendered rules on the router namespace, as an admin would."""
    text = render(target, _gateway_rules())
    if target == "openwrt-fw4":
        ruleset = _fw4_files(directory, text)
        topo.ns(topo.router, "nft", "-f", str(ruleset))
        return
    if target == "nftables":
        (directory / "gateway.nft").write_text(text)
        topo.ns(topo.router, "nft", "-f", str(directory / "gateway.nft"))
        return
    _write(directory, split_sections(text))
    topo.ns(topo.router, "sh", "-ec", (
        f"cd {directory}; ipset restore < wifiq-epdg.ipset; "
        "iptables-restore --noflush wifiq-dscp.rules.v4; ip6tables-restore --noflush wifiq-dscp.rules.v6; "
        "iptables -t mangle -A POSTROUTING -j WIFIQ-DSCP; ip6tables -t mangle -A POSTROUTING -j WIFIQ-DSCP"
    ))


@pytest.mark.parametrize("target", ["nftables", "iptables", "openwrt-fw4"])
def test_end_to_end_dscp_through_a_router(target: str, tmp_path: Path) -> None:
    addresses = LISTED + UNLISTED
    server = client = None
    with Topology(server_addresses=addresses) as topo:
        try:
            _load_rules(topo, target, tmp_path)
            server = topo.popen(topo.server, "python3", "-m", "tests.rig.dscp_probe", "serve", *addresses)
            assert server.stdout is not None
            assert server.stdout.readline().strip() == "READY"
            client = topo.popen(topo.client, "python3", "-m", "tests.rig.dscp_probe", "send", *addresses)
            replies = _records(client)
            time.sleep(0.3)
            server.terminate()
            arrivals = _records(server)
        finally:
            for proc in (client, server):
                if proc is not None and proc.poll() is None:
                    proc.terminate()
                    proc.wait(timeout=10)
    upstream = {(r["kind"], r["dst"]): r["dscp"] for r in arrivals}
    downstream = {r["src"]: r["dscp"] for r in replies}
    for address in LISTED:
        assert upstream[("udp", address)] == 46, upstream
        assert upstream[("esp", address)] == 46, upstream
        assert downstream[address] == 46, downstream
    for address in UNLISTED:
        assert upstream[("udp", address)] == 0, upstream
        assert upstream[("esp", address)] == 0, upstream
        assert downstream[address] == 0, downstream
    assert not any(name.startswith(f"wq{os.getpid()}-") for name in subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout.split())


def test_iptables_full_applied_twice_replaces_sets_and_rules(tmp_path: Path, current: RenderInput, following: RenderInput) -> None:
    (tmp_path / "n").mkdir()
    (tmp_path / "n1").mkdir()
    _write(tmp_path / "n", split_sections(render("iptables", current)))
    _write(tmp_path / "n1", split_sections(render("iptables", following)))
    apply = "ipset restore < {d}/wifiq-epdg.ipset; iptables-restore --noflush {d}/wifiq-dscp.rules.v4"
    script = apply.format(d=tmp_path / "n") + "; " + apply.format(d=tmp_path / "n1")
    members = _ipset_members(script)
    assert members == {str(a) for a in following.addresses()}
    proc = in_fresh_netns(script + "; iptables -t mangle -S WIFIQ-DSCP")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("-j DSCP") == 4, "re-applying the rules file must not duplicate rules"
