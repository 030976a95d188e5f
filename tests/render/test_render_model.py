"""Pure logic of the render layer: loader errors, DSCP parsing, name sanitising, delta computation."""

from __future__ import annotations

import json
from ipaddress import ip_address
from pathlib import Path

import pytest

from wifiq.errors import WifiqError
from wifiq.render import DscpError, RenderInput, RenderInputError, compute_delta, parse_dscp, parse_render_input
from wifiq.render.loader import MAX_INPUT_BYTES, load_render_input
from wifiq.render.names import NameRules

GOOD = {"refreshed_at": "2026-11-26T09:00:00Z", "wifiq_version": "0.1.0", "operators": []}


def _doc(**operator: object) -> dict[str, object]:
    entry = {"plmn": "505-01", "brand": "Telstra", "operator": None, "active": ["192.0.2.1"]}
    entry.update(operator)
    return {**GOOD, "operators": [entry]}


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ([], "(top level)"),
        ({**GOOD, "refreshed_at": "yesterday"}, "refreshed_at"),
        ({**GOOD, "refreshed_at": "2026-11-26T09:00:00"}, "refreshed_at"),
        ({**GOOD, "wifiq_version": 3}, "wifiq_version"),
        ({**GOOD, "operators": {}}, "operators"),
        (_doc(plmn="50501"), "operators[0].plmn"),
        (_doc(plmn="505-1"), "operators[0].plmn"),
        (_doc(active="192.0.2.1"), "operators[0].active"),
        (_doc(active=["192.0.2.1", "example.com"]), "operators[0].active[1]"),
        (_doc(active=["224.0.0.1"]), "operators[0].active[0]"),
        (_doc(active=["fe80::1%eth0"]), "operators[0].active[0]"),
        (_doc(active=["255.255.255.255"]), "operators[0].active[0]"),
        (_doc(active=["::ffff:127.0.0.1"]), "operators[0].active[0]"),
        (_doc(active=["192.0.2.0/24"]), "operators[0].active[0]"),
        (_doc(brand=7), "operators[0].brand"),
        (_doc(removed="192.0.2.9"), "operators[0].removed"),
        (_doc(removed=[{"reason": "gone"}]), "operators[0].removed[0]"),
        (_doc(removed=["not-an-address"]), "operators[0].removed[0]"),
        (_doc(had_addresses="yes"), "operators[0].had_addresses"),
    ],
)
def test_loader_names_the_field(document: object, field: str) -> None:
    with pytest.raises(RenderInputError) as err:
        parse_render_input(document, "state.json")
    assert err.value.field == field
    assert str(err.value).startswith(f"state.json: {field}: ")
    assert "\n" not in str(err.value)
    assert isinstance(err.value, WifiqError) and err.value.exit_code == 2


def test_loader_rejects_duplicate_plmn() -> None:
    doc = _doc()
    doc["operators"] = doc["operators"] * 2  # type: ignore[operator]
    with pytest.raises(RenderInputError, match=r"operators\[1\]\.plmn: duplicate PLMN 505-01"):
        parse_render_input(doc, "x.json")


def test_loader_files(tmp_path: Path) -> None:
    with pytest.raises(RenderInputError, match="missing.json: file: "):
        load_render_input(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe{")
    with pytest.raises(RenderInputError, match="not JSON"):
        load_render_input(bad)
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:
        fh.truncate(MAX_INPUT_BYTES + 10)
    with pytest.raises(RenderInputError, match="larger than"):
        load_render_input(big)


def test_loader_keeps_mnc_length_and_sorts() -> None:
    doc = {**GOOD, "operators": [
        {"plmn": "310-260", "active": ["2001:db8::2", "192.0.2.9", "192.0.2.10", "192.0.2.9"]},
        {"plmn": "310-26", "brand": "  Spaced   Name ", "active": []},
    ]}
    parsed = parse_render_input(doc)
    assert [op.plmn for op in parsed.operators] == ["310-26", "310-260"]
    assert parsed.operators[0].mnc == "26" and parsed.operators[1].mnc == "260"
    assert parsed.operators[0].brand == "Spaced Name"
    assert [str(a) for a in parsed.operators[1].addresses] == ["192.0.2.9", "192.0.2.10", "2001:db8::2"]
    assert parsed.refreshed_at.tzinfo is not None


def test_extra_keys_are_ignored(current: RenderInput) -> None:
    text = (Path(__file__).parent / "fixtures" / "current.json").read_text()
    assert json.loads(text)["operators"][0]["added"] == []
    assert current.operators[0].plmn == "208-10"


@pytest.mark.parametrize(
    ("given", "value", "name"),
    [("ef", 46, "ef"), ("EF", 46, "ef"), ("46", 46, "ef"), (46, 46, "ef"), ("0x2e", 46, "ef"), ("af41", 34, "af41"),
     ("cs0", 0, "default"), ("be", 0, "default"), ("va", 44, "va"), ("45", 45, None), ("cs6", 48, "cs6")],
)
def test_dscp_names_and_numbers(given: str | int, value: int, name: str | None) -> None:
    dscp = parse_dscp(given)
    assert (dscp.value, dscp.name) == (value, name)


@pytest.mark.parametrize("given", ["64", "-1", "efx", "", True, "af44"])
def test_dscp_rejects(given: str | int) -> None:
    with pytest.raises(DscpError):
        parse_dscp(given)


def test_dscp_helpers() -> None:
    ef = parse_dscp("ef")
    assert ef.bits == "101110" and ef.user_priority == 6 and ef.name_or_value(upper=True) == "EF"
    assert parse_dscp(45).name_or_value() == "45" and parse_dscp("af41").user_priority == 4


def test_names_keep_plmn_and_fit() -> None:
    doc = parse_render_input(_doc(plmn="310-026", brand="Ünïcode “Brand” with a very long tail indeed", operator="x"))
    op = doc.operators[0]
    rules = NameRules(max_length=24, case="upper", prefix="WIFIQ")
    name = rules.operator(op, "V6")
    assert name.startswith("WIFIQ-310-026-UNICODE") and name.endswith("-V6") and len(name) <= 24
    tiny = NameRules(max_length=16)
    assert tiny.operator(op, "v6") == "wifiq-310-026-v6"
    with pytest.raises(ValueError):
        NameRules(max_length=10).operator(op, "v6")


def test_delta_per_operator_and_union(current: RenderInput, following: RenderInput) -> None:
    delta = compute_delta(current, following)
    kinds = {c.current.plmn: c.kind for c in delta.operators}
    assert kinds == {"234-15": "added", "310-260": "removed", "310-026": "changed", "505-01": "changed"}
    # 192.0.2.40 left 310-026 but 311-480 still lists it: the union keeps it.
    assert ip_address("192.0.2.40") not in delta.removed
    assert ip_address("192.0.2.40") in next(c for c in delta.operators if c.current.plmn == "310-026").removed
    assert set(delta.added) == {ip_address(a) for a in ("203.0.113.12", "203.0.113.50", "2001:db8:2::12", "2001:db8:2::50")}
    assert compute_delta(current, current).empty


def test_family_change_kinds(current: RenderInput, following: RenderInput) -> None:
    """Per-family kinds that per-operator delta renderers branch on."""
    changes = {c.current.plmn: c for c in compute_delta(current, following).operators}
    kinds = {(plmn, v): c.family(v).kind for plmn, c in changes.items() for v in (4, 6)}
    assert kinds == {
        ("234-15", 4): "added", ("234-15", 6): "added",
        ("310-260", 4): "removed", ("310-260", 6): "removed",
        ("310-026", 4): "removed", ("310-026", 6): "same",   # its IPv4 left, its IPv6 stayed
        ("505-01", 4): "changed", ("505-01", 6): "changed",
    }
    telstra6 = changes["505-01"].family(6)
    assert telstra6.added == (ip_address("2001:db8:2::12"),) and telstra6.removed == ()
    assert telstra6.before == (ip_address("2001:db8:2::10"),)
    assert telstra6.after == (ip_address("2001:db8:2::10"), ip_address("2001:db8:2::12"))


@pytest.mark.parametrize(("given", "value"), [("ef", 46), ("AF41", 34), (0, 0), ("cs5", 40), (63, 63)])
def test_config_output_dscp_by_name_or_number(given: str | int, value: int) -> None:
    from wifiq.config import parse_config

    config = parse_config({"outputs": [{"target": "nftables", "path": "x.nft", "dscp": given}]}, Path("/etc/wifiq.toml"))
    assert config.outputs[0].dscp == value


@pytest.mark.parametrize("given", [64, -1, "nope", True, 4.6])
def test_config_output_dscp_refused(given: object) -> None:
    from wifiq.config import ConfigError, parse_config

    with pytest.raises(ConfigError) as err:
        parse_config({"outputs": [{"target": "nftables", "path": "x.nft", "dscp": given}]}, Path("/etc/wifiq.toml"))
    assert "outputs[0].dscp" in str(err.value) and "/etc/wifiq.toml" in str(err.value)


@pytest.mark.parametrize(
    "text",
    ["2001:db8::1", "2001:DB8:0:0:1:0:0:1", "2001:db8:0:0:1::1", "2001:0db8:0000:0000:0000:0000:0000:0001",
     "2001:db8:0:1:1:1:1:1", "2001:db8::", "::2", "1::", "1:0:0:2:0:0:0:3", "1:0:0:2:0:0:3:4",
     "::ffff:192.0.2.1", "::192.0.2.1", "64:ff9b::192.0.2.33", "fe80::1%eth0", "::", "FFFF::"],
)
def test_fast_ipv6_parse_prints_what_ipaddress_prints(text: str) -> None:
    from ipaddress import IPv6Address

    from wifiq.render.model import parse_address

    parsed = parse_address(text)
    assert parsed == IPv6Address(text) and hash(parsed) == hash(IPv6Address(text))
    assert str(parsed) == f"{parsed}" == str(IPv6Address(text))


@pytest.mark.parametrize("text", ["2001:db8::1::2", "2001:db8:12345::1", ":1", "1:2:3:4:5:6:7:8:9", " ::1", "::01.2.3.4", "g::1", ":"])
def test_fast_ipv6_parse_refuses_what_ipaddress_refuses(text: str) -> None:
    from wifiq.render.model import parse_address

    with pytest.raises(ValueError):
        parse_address(text)


@pytest.mark.parametrize(
    ("extra", "had"),
    [
        ({}, False),
        ({"removed": []}, False),
        ({"removed": [{"address": "192.0.2.9", "reason": "NXDOMAIN"}]}, True),  # refresh --json
        ({"removed": ["2001:db8::9"]}, True),
        ({"had_addresses": True}, True),  # the state's history (render --state)
        ({"had_addresses": False, "removed": []}, False),
    ],
)
def test_the_loader_knows_which_operators_had_addresses(extra: dict[str, object], had: bool) -> None:
    [op] = parse_render_input(_doc(active=[], **extra)).operators
    assert op.had_addresses is had and op.may_have_objects is had


def test_knowing_the_previous_refresh_marks_operators_it_held() -> None:
    before = parse_render_input({**GOOD, "operators": [
        {"plmn": "505-01", "active": ["192.0.2.1"]}, {"plmn": "505-02", "active": []}]})
    after = parse_render_input({**GOOD, "operators": [
        {"plmn": "505-01", "active": []}, {"plmn": "505-02", "active": []}, {"plmn": "505-03", "active": ["192.0.2.3"]}]})
    assert after.may_have_objects == (after.operators[2],)
    known = after.knowing(before)
    assert [op.plmn for op in known.may_have_objects] == ["505-01", "505-03"]
    assert known.operators[0].had_addresses and not known.operators[1].had_addresses
    assert known.knowing(before) is known  # nothing more to learn: the same input
