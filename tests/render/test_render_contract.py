"""The contract every registered renderer meets, and its golden files (pygments-style)."""

from __future__ import annotations

import json
import re
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from wifiq.render import RenderInput, TargetLimitError, parse_render_input, render, split_sections, targets
from wifiq.render.registry import BUILTIN, ENTRY_POINT_GROUP, get_renderer

from .conftest import GOLDEN, UPDATE_COMMAND

TARGETS = sorted(targets())


def test_registry_lists_every_builtin_and_entry_points_declare_them() -> None:
    assert set(BUILTIN) <= set(TARGETS)
    declared = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert set(BUILTIN) <= declared, "pyproject.toml [project.entry-points.\"wifiq.renderers\"] is missing targets"
    assert len(TARGETS) >= 16


@pytest.mark.parametrize("target", TARGETS)
def test_contract_full_render_keeps_every_address(target: str, current: RenderInput) -> None:
    info = targets()[target]
    text = render(target, current)
    assert text.endswith("\n")
    for address in current.addresses():
        assert str(address) in text, f"{target} dropped {address}"
    if info.comments:
        assert text.isascii(), f"{target}: non-ASCII in output"
        assert current.wifiq_version in text and "2026-11-26T09:00:00Z" in text
        for op in current.with_addresses:
            assert op.plmn in text, f"{target}: header does not name {op.plmn}"
        assert "1 more operator without active addresses (not listed)" in text, f"{target}: header does not count the rest"
    if info.files:
        assert list(split_sections(text)) == list(info.files)


@pytest.mark.parametrize("target", TARGETS)
def test_contract_delta_renders_and_names_the_change(target: str, current: RenderInput, following: RenderInput) -> None:
    info = targets()[target]
    text = render(target, following, previous=current)
    if info.delta == "full":
        assert text == render(target, following)
        return
    for address in ("203.0.113.12", "2001:db8:2::12", "203.0.113.50"):
        assert address in text, f"{target} delta misses added {address}"
    for address in ("203.0.113.11", "192.0.2.30", "2001:db8:2::30"):
        assert address in text, f"{target} delta misses removed {address}"


@pytest.mark.parametrize("target", TARGETS)
def test_contract_object_names_fit_the_platform(target: str, current: RenderInput) -> None:
    renderer = get_renderer(target)
    rules = renderer.names
    names = set()
    for op in current.operators:
        candidates = [rules.operator(op), rules.operator(op, "v6")]
        if target in ("fortios", "panos"):  # address objects are named operator + address
            candidates += [rules.address_object(op, a) for a in ("203.255.255.255", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")]
        for name in candidates:
            assert len(name) <= rules.max_length, name
            assert re.fullmatch(f"[{rules.allowed}]+", name), name
            assert op.mcc in name and op.mnc in name
            names.add(name)
    assert len(names) == len(current.operators) * (4 if target in ("fortios", "panos") else 2), "names collide"


# plain and csv are address lists: the device's own rule sets the DSCP, so they carry none.
@pytest.mark.parametrize("target", [t for t in TARGETS if t not in ("plain", "csv")])
def test_contract_dscp_value_reaches_the_output(target: str, current: RenderInput) -> None:
    text = render(target, current, dscp="af41")
    assert any(token in text for token in ("34", "af41", "AF41", "100010")), f"{target} ignores --dscp"


def _world_of(operators: int) -> RenderInput:
    return parse_render_input(
        {
            "refreshed_at": "2026-11-26T09:00:00Z",
            "wifiq_version": "0.1.0",
            "operators": [{"plmn": f"{200 + i}-01", "active": [f"192.0.2.{i + 1}"]} for i in range(operators)],
        }
    )


def test_meraki_is_one_rule_whatever_the_number_of_operators() -> None:
    rule = json.loads(render("meraki", _world_of(40)))
    assert rule["dscpTagValue"] == 46 and len(rule["definitions"]) == 41  # the marker + 40 addresses


@pytest.mark.parametrize("target", ["cisco-ios", "cisco-9800", "fortios", "panos"])
def test_policy_targets_refuse_an_empty_list(target: str) -> None:
    with pytest.raises(TargetLimitError) as err:
        render(target, _world_of(0))
    assert err.value.target == target


def _golden(target: str, kind: str) -> Path:
    return GOLDEN / f"{target}.{kind}.{targets()[target].extension}"


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("kind", ["full", "delta"])
def test_golden(target: str, kind: str, current: RenderInput, following: RenderInput, update_goldens: bool) -> None:
    text = render(target, current) if kind == "full" else render(target, following, previous=current)
    path = _golden(target, kind)
    if update_goldens:
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path}; run: {UPDATE_COMMAND}"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{target} {kind} output differs from {path}; if intended, run: {UPDATE_COMMAND}"
