"""Outputs read back by real parsers and checkers, and deltas checked structurally.

Cisco-style configs are parsed with ciscoconfparse2 (every referenced ACL/alias/class/policy
exists); the MikroTik script passes routeros-lsp; JSON outputs validate against our schemas;
for every target with incremental output, full(N) + delta == full(N+1) in a device model.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import jsonschema
import pytest
from ciscoconfparse2 import CiscoConfParse

from wifiq.render import RenderInput, render, targets
from wifiq.render.json_doc import schema

from . import device_models as dm


def _parse(text: str) -> CiscoConfParse:
    return CiscoConfParse(text.splitlines(), syntax="ios")


def _names(parse: CiscoConfParse, pattern: str) -> set[str]:
    return {re.match(pattern, o.text).group(1) for o in parse.find_objects(pattern)}  # type: ignore[union-attr]


def _children(parse: CiscoConfParse, parent: str, pattern: str) -> set[str]:
    found = set()
    for obj in parse.find_objects(parent):
        for child in obj.all_children:
            m = re.match(pattern, child.text.strip())
            if m:
                found.add(m.group(1))
    return found


@pytest.mark.parametrize("target", ["cisco-ios", "cisco-9800"])
def test_cisco_references_resolve(target: str, current: RenderInput, following: RenderInput) -> None:
    parse = _parse(render(target, current))
    acls = _names(parse, r"^ip access-list extended (\S+)") | _names(parse, r"^ipv6 access-list (\S+)")
    classes = _names(parse, r"^class-map match-any (\S+)")
    policies = _names(parse, r"^policy-map (\S+)")
    used_acls = _children(parse, r"^class-map", r"match access-group name (\S+)")
    used_classes = _children(parse, r"^policy-map", r"class (\S+)")
    assert used_acls and used_acls == acls
    assert used_classes and used_classes <= classes
    assert len(acls) == sum(1 for op in current.with_addresses for v in (4, 6) if op.family(v))
    if target == "cisco-9800":  # the output never enters the profile: the hook lines name the policy
        hooks = [line[len("! hook: "):] for line in render(target, current).splitlines() if line.startswith("! hook: ")]
        attached = _children(_parse("\n".join(hooks)), r"^wireless profile policy", r"service-policy (?:input|output) (\S+)")
        assert attached == policies
        assert not parse.find_objects(r"^wireless profile policy"), "the output must not enter a policy profile"
    for acl in parse.find_objects(r"^ip access-list extended"):
        assert all(c.text.startswith(" permit ") or c.text.startswith(" remark ") for c in acl.children)
    delta = _parse(render(target, following, previous=current))
    created = _names(delta, r"^ip access-list extended (\S+)") | _names(delta, r"^ipv6 access-list (\S+)")
    added_refs = _children(delta, r"^class-map", r"^match access-group name (\S+)")
    assert added_refs <= created | acls


def test_aruba_os_aliases_resolve(current: RenderInput) -> None:
    parse = _parse(render("aruba-os", current))
    aliases = _names(parse, r"^netdestination6? (\S+)")
    used = _children(parse, r"^ip access-list session", r"^(?!no ).*?alias (\S+)")
    assert used and used == aliases
    for dest in parse.find_objects(r"^netdestination"):
        assert all(re.match(r"^host \S+$", c.text.strip()) for c in dest.children)


def test_aruba_cx_classes_resolve(current: RenderInput) -> None:
    parse = _parse(render("aruba-cx", current))
    classes = _names(parse, r"^class ipv?6? (\S+)")
    used = _children(parse, r"^policy", r"^\d+ class ipv?6? (\S+) action dscp EF$")
    assert used and used == classes


ROUTEROS_LSP = shutil.which("routeros-lsp") or str(Path(sys.executable).with_name("routeros-lsp"))


@pytest.mark.skipif(not Path(ROUTEROS_LSP).exists(), reason="routeros-lsp is a test extra: pip install -e '.[test]'")
def test_mikrotik_scripts_pass_the_routeros_checker(tmp_path: Path, current: RenderInput, following: RenderInput) -> None:
    (tmp_path / "full.rsc").write_text(render("mikrotik", current))
    (tmp_path / "delta.rsc").write_text(render("mikrotik", following, previous=current))
    proc = subprocess.run([ROUTEROS_LSP, "check", "--strict", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (tmp_path / "broken.rsc").write_text(render("mikrotik", current).replace("new-dscp=", "new-dcsp=", 1))
    proc = subprocess.run([ROUTEROS_LSP, "check", "--strict", str(tmp_path / "broken.rsc")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "new-dcsp" in proc.stdout


def _validate(name: str, text: str) -> None:
    jsonschema.validate(json.loads(text), schema(name), format_checker=jsonschema.FormatChecker())


def test_json_outputs_match_their_schemas(current: RenderInput, following: RenderInput) -> None:
    _validate("render-full", render("json", current))
    _validate("render-delta", render("json", following, previous=current))
    _validate("meraki-traffic-shaping", render("meraki", current))


def test_schemas_reject_a_wrong_document(current: RenderInput) -> None:
    doc = json.loads(render("json", current))
    doc["operators"][0]["ipv4"].append("not-an-address")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema("render-full"), format_checker=jsonschema.FormatChecker())
    rule = json.loads(render("meraki", current))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"trafficShapingEnabled": True, "rules": [rule] * 9}, schema("meraki-traffic-shaping"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**rule, "definitions": []}, schema("meraki-traffic-shaping"))


MODELS: dict[str, tuple[Callable[[Any, str], Any], Any]] = {
    "cisco-ios": (dm.applier(lambda: dm.TreeDevice(dm.IOS)), None),
    "cisco-9800": (dm.applier(lambda: dm.TreeDevice(dm.IOS)), None),
    "aruba-os": (dm.applier(lambda: dm.TreeDevice(dm.ARUBA_OS)), None),
    "aruba-cx": (dm.applier(lambda: dm.TreeDevice(dm.ARUBA_CX)), None),
    "junos": (dm.applier(dm.junos_device), None),
    "panos": (dm.applier(dm.panos_device), None),
    "edgeos": (dm.apply_set_style, set()),
    "vyos": (dm.apply_set_style, set()),
    "fortios": (dm.applier(dm.FortiosDevice), None),
    "mikrotik": (dm.apply_routeros, set()),
    "csv": (dm.apply_csv, set()),
    "json": (dm.apply_json, set()),
}


def test_every_incremental_target_has_a_delta_check() -> None:
    kernel_checked = {"nftables", "iptables"}
    incremental = {name for name, info in targets().items() if info.delta == "commands"}
    assert incremental == set(MODELS) | kernel_checked


@pytest.mark.parametrize("target", sorted(MODELS))
def test_full_plus_delta_equals_next_full(target: str, current: RenderInput, following: RenderInput) -> None:
    apply, empty = MODELS[target]
    state_n = apply(copy.deepcopy(empty), render(target, current))
    state_n1 = apply(copy.deepcopy(empty), render(target, following))
    assert state_n != state_n1, "fixture change must be visible to this check"
    applied = apply(copy.deepcopy(state_n), render(target, following, previous=current))
    assert applied == state_n1


@pytest.mark.parametrize("target", sorted(MODELS))
def test_reverse_delta_goes_back(target: str, current: RenderInput, following: RenderInput) -> None:
    apply, empty = MODELS[target]
    state_n1 = apply(copy.deepcopy(empty), render(target, following))
    back = apply(state_n1, render(target, current, previous=following))
    assert back == apply(copy.deepcopy(empty), render(target, current))


@pytest.mark.parametrize("target", ["edgeos", "vyos"])
def test_a_family_appearing_and_disappearing_needs_no_new_rule_set(target: str, current: RenderInput) -> None:
    """Both families' groups and rule sets always exist, so a delta only moves members."""
    from wifiq.render import parse_render_input

    only_v4 = parse_render_input(
        {"refreshed_at": "2026-11-26T08:00:00Z", "wifiq_version": "0.1.0", "operators": [{"plmn": "505-01", "active": ["192.0.2.1"]}]}
    )
    apply, empty = MODELS[target]
    base = apply(copy.deepcopy(empty), render(target, only_v4))
    assert any("ipv6-address-group" in fact for fact in base), "the IPv6 group must exist with no IPv6 address"
    appeared = apply(copy.deepcopy(base), render(target, current, previous=only_v4))
    assert appeared == apply(copy.deepcopy(empty), render(target, current))
    gone = apply(copy.deepcopy(appeared), render(target, only_v4, previous=current))
    assert gone == base


@pytest.mark.parametrize("target", ["cisco-ios", "cisco-9800"])
def test_cisco_full_over_an_older_full_marks_exactly_the_new_list(target: str, current: RenderInput, following: RenderInput) -> None:
    apply, empty = MODELS[target]
    over = apply(apply(copy.deepcopy(empty), render(target, current)), render(target, following))
    fresh = apply(copy.deepcopy(empty), render(target, following))

    def marking(state: dm.DeviceState) -> dict[dm.Key, object]:  # unreferenced ACLs mark nothing
        used = {t for _, t in state.device.references()}
        return {k: v for k, v in state.device.objects().items() if k[0] != "acl" or k in used}

    assert marking(over) == marking(fresh)
    assert "permit udp any host 203.0.113.11 eq 500" not in repr(marking(over))


@pytest.mark.parametrize("target", ["mikrotik", "edgeos", "vyos", "panos"])
def test_full_over_an_older_full_equals_the_new_full(target: str, current: RenderInput, following: RenderInput) -> None:
    apply, empty = MODELS[target]
    over = apply(apply(copy.deepcopy(empty), render(target, current)), render(target, following))
    fresh = apply(copy.deepcopy(empty), render(target, following))
    if target == "panos":  # address objects of removed addresses stay (unreferenced); compare what is referenced
        def referenced(state: dm.DeviceState) -> dict[dm.Key, object]:
            objects = state.device.objects()
            rules = {k: v for k, v in objects.items() if k[0] == "rule"}
            used = {t for s, t in state.device.references() if s[0] == "rule"}
            return {**rules, **{k: v for k, v in objects.items() if k in used}}
        assert referenced(over) == referenced(fresh)
        return
    assert over == fresh
