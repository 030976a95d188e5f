"""Coexistence checks for mikrotik, meraki, csv, edgeos and vyos: what they add, and what of the
user's configuration they leave alone (models of the device's store; kernel checks elsewhere)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from wifiq.render import RenderInput, RenderInputError, TargetLimitError, parse_render_input, render
from wifiq.render.csv_list import BOM, spreadsheet
from wifiq.render.meraki import DSCP_TAGGING_OPTIONS, MAX_RULES, RENDERER as MERAKI

from . import device_models as dm

IP_FILTER = "/ip firewall filter"
IP6_FILTER = "/ipv6 firewall filter"
DEFCONF_FASTTRACK = frozenset({"chain=forward", "action=fasttrack-connection", "connection-state=established,related"})
USER_ITEMS = {
    (IP_FILTER, DEFCONF_FASTTRACK),
    (IP_FILTER, frozenset({"chain=forward", "action=accept", "connection-state=established,related,untracked"})),
    (IP_FILTER, frozenset({"chain=forward", "action=drop", "connection-state=invalid", "comment=defconf: drop invalid"})),
    ("/ip firewall mangle", frozenset({"chain=prerouting", "action=mark-packet", "new-packet-mark=voip", "comment=mine"})),
    ("/ip firewall address-list", frozenset({"list=blocked", "address=192.0.2.99"})),
}


def _routeros(state: set[tuple[str, frozenset[str]]], *texts: str) -> set[tuple[str, frozenset[str]]]:
    for text in texts:
        state = dm.apply_routeros(set(state), text)
    return state


def _exemptions(state: set[tuple[str, frozenset[str]]], menu: str) -> set[frozenset[str]]:
    return {args for m, args in state if m == menu and "comment=wifiq-epdg-nofasttrack" in args}


def test_mikrotik_keeps_epdg_connections_off_fasttrack(current: RenderInput, following: RenderInput) -> None:
    fasttrack_id = "|".join(sorted(DEFCONF_FASTTRACK))
    state = _routeros(USER_ITEMS, render("mikrotik", current))
    assert USER_ITEMS <= state, "the user's rules and lists must stay untouched"
    accepts = _exemptions(state, IP_FILTER)
    assert accepts == {
        frozenset({"chain=forward", "action=accept", "connection-state=established,related",
                   "comment=wifiq-epdg-nofasttrack", f"place-before={fasttrack_id}", f"{side}-address-list=wifiq-epdg"})
        for side in ("dst", "src")
    }
    # applied again, and over an older script: still exactly two, user items untouched
    again = _routeros(state, render("mikrotik", following), render("mikrotik", following))
    assert _exemptions(again, IP_FILTER) == accepts and USER_ITEMS <= again
    assert again == _routeros(USER_ITEMS, render("mikrotik", following))


def test_mikrotik_adds_no_filter_rule_without_fasttrack_and_handles_ipv6_fasttrack(current: RenderInput) -> None:
    plain = _routeros(set(), render("mikrotik", current))
    assert not _exemptions(plain, IP_FILTER) and not _exemptions(plain, IP6_FILTER)
    with_v6 = _routeros({(IP6_FILTER, DEFCONF_FASTTRACK)}, render("mikrotik", current))
    assert len(_exemptions(with_v6, IP6_FILTER)) == 2 and not _exemptions(with_v6, IP_FILTER)


def test_mikrotik_script_never_removes_what_it_did_not_make(current: RenderInput) -> None:
    for line in render("mikrotik", current).splitlines():
        if " remove " in line:
            assert "list=wifiq-epdg]" in line or "comment=wifiq-epdg-" in line, line
    assert "disable" not in render("mikrotik", current)


DEVICE = {
    "trafficShapingEnabled": True,
    "defaultRulesEnabled": True,
    "rules": [
        {"definitions": [{"type": "application", "value": "meraki:layer7/application/5"}], "dscpTagValue": 34, "pcpTagValue": 4},
        {"definitions": [{"type": "ipRange", "value": "10.0.0.0/8"}], "dscpTagValue": None, "pcpTagValue": None},
    ],
}


def test_meraki_is_one_rule_merged_first_into_the_device_rules(current: RenderInput, following: RenderInput) -> None:
    rule = json.loads(render("meraki", current))
    assert rule["definitions"][0] == {"type": "host", "value": "wifiq-epdg.invalid"}
    assert [d["value"] for d in rule["definitions"][1:]] == [str(a) for a in current.addresses()]
    body = MERAKI.merge_rule(DEVICE, rule)
    assert body["rules"] == [rule, *DEVICE["rules"]], "wifiq's rule first, the user's after it, unchanged"
    assert body["defaultRulesEnabled"] is True and body["trafficShapingEnabled"] is True
    assert {k: v for k, v in body.items() if k != "rules"} == {k: v for k, v in DEVICE.items() if k != "rules"}
    newer = MERAKI.merge_rule(body, json.loads(render("meraki", following)))
    assert newer["rules"][1:] == DEVICE["rules"] and len(newer["rules"]) == 3, "the old wifiq rule is replaced, not kept"
    assert MERAKI.merge_rule(newer, None)["rules"] == DEVICE["rules"]
    assert "defaultRulesEnabled" not in MERAKI.merge_rule({"trafficShapingEnabled": True, "rules": []}, rule)
    with pytest.raises(TargetLimitError) as off:
        MERAKI.merge_rule({**DEVICE, "trafficShapingEnabled": False}, rule)
    assert "traffic shaping is off" in str(off.value), "turning shaping on would start the SSID's dormant rules"


def test_meraki_merge_refuses_a_full_ssid_and_a_foreign_dscp(current: RenderInput) -> None:
    rule = json.loads(render("meraki", current))
    own = {"definitions": [{"type": "port", "value": "5060"}], "dscpTagValue": 46, "pcpTagValue": 6}
    assert len(MERAKI.merge_rule({"trafficShapingEnabled": True, "rules": [own] * (MAX_RULES - 1)}, rule)["rules"]) == MAX_RULES
    with pytest.raises(TargetLimitError) as err:
        MERAKI.merge_rule({"trafficShapingEnabled": True, "rules": [own] * MAX_RULES}, rule)
    assert "8 rules of its own" in str(err.value)
    for value in range(64):
        if value in DSCP_TAGGING_OPTIONS:
            assert json.loads(render("meraki", current, dscp=value))["dscpTagValue"] == value
        else:
            with pytest.raises(TargetLimitError) as refused:
                render("meraki", current, dscp=value)
            assert "\n" not in str(refused.value) and "Meraki" in str(refused.value)


FORMULA_BRAND = '=HYPERLINK("http://example.invalid/x","click")'


def test_csv_neutralises_formula_cells() -> None:
    doc = parse_render_input(
        {
            "refreshed_at": "2026-11-26T09:00:00Z",
            "wifiq_version": "0.1.0",
            "operators": [
                {"plmn": "505-01", "brand": FORMULA_BRAND, "operator": "+cmd|' /C calc'!A0", "active": ["192.0.2.1"]},
                {"plmn": "505-02", "brand": "@SUM(1+1)", "operator": "-2+3", "active": ["2001:db8::1"]},
                {"plmn": "505-03", "brand": "Plain-Name", "operator": "\tTabbed", "active": ["192.0.2.3"]},
            ],
        }
    )
    for text in (render("csv", doc), render("csv", doc, previous=parse_render_input(
            {"refreshed_at": "2026-11-26T08:00:00Z", "wifiq_version": "0.1.0", "operators": []}))):
        for row in csv.reader(io.StringIO(text)):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    rows = list(csv.DictReader(io.StringIO(render("csv", doc))))
    assert rows[0]["brand"] == "'" + FORMULA_BRAND and rows[2]["brand"] == "Plain-Name"


def test_csv_spreadsheet_form_has_bom_and_crlf(current: RenderInput) -> None:
    text = spreadsheet(render("csv", current))
    assert text.startswith(BOM) and text.count("\r\n") == render("csv", current).count("\n")
    assert "\n" not in text.replace("\r\n", "")
    assert list(csv.reader(io.StringIO(text.removeprefix(BOM), newline=""))) == list(csv.reader(io.StringIO(render("csv", current))))


@pytest.mark.parametrize("target", ["edgeos", "vyos"])
def test_set_style_routers_never_attach_or_delete_what_others_reference(target: str, current: RenderInput) -> None:
    text = render(target, current)
    code = [line for line in text.splitlines() if not line.startswith("#")]
    assert not any("interface" in line for line in code), "attaching to an interface is the user's choice"
    for line in code:
        if line.startswith("delete "):
            assert "WIFIQ" in line, line
            if " modify " in line or " policy " in line:
                assert line.endswith(" rule"), f"only our rules are deleted, never the rule set an interface references: {line}"
            if " group " in line:
                assert line.endswith((" address", " ipv6-address", " description")), f"a referenced group is emptied, never deleted: {line}"
    assert "shutdown" not in text and "disable" not in text


@pytest.mark.parametrize("target", ["edgeos", "vyos"])
def test_set_style_routers_keep_the_user_attachment_and_other_rule_sets(target: str, current: RenderInput, following: RenderInput) -> None:
    user = {
        ("interfaces", "ethernet", "eth1", "firewall", "in", "modify", "WIFIQ_EPDG"),
        ("policy", "route", "WIFIQ-EPDG", "interface", "eth1"),
        ("firewall", "modify", "LAN_QOS", "rule", "10", "modify", "dscp", "34"),
        ("policy", "route", "PBR", "rule", "10", "set", "table", "100"),
        ("firewall", "group", "address-group", "SERVERS", "address", "192.0.2.99"),
    }
    state = dm.apply_set_style(set(user), render(target, current))
    state = dm.apply_set_style(state, render(target, following))
    assert user <= state


JQ_MERGE = """'if .trafficShapingEnabled != true then error("traffic shaping is off: turn it on in the Dashboard first")
  else .rules = ($w + [.rules[] | select(any(.definitions[]; . == $w[0].definitions[0]) | not)]) end'"""


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed (the doc's shell recipe needs it)")
def test_meraki_doc_jq_recipe_equals_the_library_merge(tmp_path: Path, current: RenderInput, following: RenderInput) -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "render" / "meraki.md").read_text(encoding="utf-8")
    assert page.count(JQ_MERGE) == 2, "the doc's jq filter (setup and cron) must be the one tested here"
    device = MERAKI.merge_rule(DEVICE, json.loads(render("meraki", current)))  # an SSID with an older wifiq rule
    (tmp_path / "current.json").write_text(json.dumps(device))
    (tmp_path / "rule.json").write_text(render("meraki", following))
    proc = subprocess.run(
        ["jq", "--slurpfile", "w", str(tmp_path / "rule.json"), JQ_MERGE.strip("'"), str(tmp_path / "current.json")],
        capture_output=True, text=True, check=True, timeout=30,
    )
    assert json.loads(proc.stdout) == MERAKI.merge_rule(device, json.loads(render("meraki", following)))


def test_meraki_merge_from_prints_the_put_body(tmp_path: Path, current: RenderInput) -> None:
    device = tmp_path / "current.json"
    device.write_text(json.dumps(DEVICE))
    body = json.loads(render("meraki", current, options={"merge-from": str(device)}))
    assert body == MERAKI.merge_rule(DEVICE, json.loads(render("meraki", current)))
    full = tmp_path / "full.json"
    full.write_text(json.dumps({"trafficShapingEnabled": True, "rules": [DEVICE["rules"][0]] * MAX_RULES}))
    with pytest.raises(TargetLimitError):
        render("meraki", current, options={"merge-from": str(full)})


@pytest.mark.parametrize(("content", "message"), [(None, "merge-from"), ("{not json", "not JSON"), ('{"rules": 3}', "rules")])
def test_meraki_merge_from_bad_file_is_one_line_exit_2(
    tmp_path: Path, content: str | None, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from wifiq.cli import main

    path = tmp_path / "current.json"
    if content is not None:
        path.write_text(content)
    state = Path(__file__).parent / "fixtures" / "current.json"
    assert main(["render", "meraki", "--from", str(state), "--option", f"merge-from={path}"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and message in err and err.count("\n") == 1


def test_csv_spreadsheet_option(current: RenderInput, capsys: pytest.CaptureFixture[str]) -> None:
    from wifiq.cli import main

    text = render("csv", current, options={"spreadsheet": "yes"})
    assert text == spreadsheet(render("csv", current))
    state = Path(__file__).parent / "fixtures" / "current.json"
    assert main(["render", "csv", "--from", str(state), "--option", "spreadsheet=yes"]) == 0
    assert capsys.readouterr().out.startswith(BOM)


@pytest.mark.parametrize(("target", "options", "inside"), [
    ("edgeos", {"modify-ruleset": "LAN_QOS", "first-rule": "200"}, "set firewall modify LAN_QOS rule 200 "),
    ("vyos", {"policy": "PBR", "first-rule": "200"}, "set policy route PBR rule 200 "),
])
def test_rules_into_the_users_rule_set_touch_only_their_numbers(
    target: str, options: dict[str, str], inside: str, current: RenderInput
) -> None:
    text = render(target, current, options=options)
    code = [line for line in text.splitlines() if not line.startswith("#")]
    assert any(line.startswith(inside) for line in code)
    users = [line for line in code if " LAN_QOS " in line or " PBR " in line]
    assert all(any(f" rule {n} " in line for n in (200, 201, 202, 203)) for line in users), users
    assert not any(line.startswith("delete") and (" LAN_QOS" in line or " PBR" in line) for line in code)
    assert "nothing to" in text and not any("<interface>" in line and "LAN_QOS" in line for line in text.splitlines())


def test_meraki_dscp_options_file_is_the_networks_list(tmp_path: Path, current: RenderInput) -> None:
    listing = tmp_path / "dscp.json"
    listing.write_text(json.dumps([{"dscpTagValue": 0, "description": "Best effort"}, {"dscpTagValue": 44, "description": "VA"}]))
    assert json.loads(render("meraki", current, dscp="va", options={"dscp-options": str(listing)}))["dscpTagValue"] == 44
    with pytest.raises(TargetLimitError) as err:
        render("meraki", current, options={"dscp-options": str(listing)})  # EF is not in this network's list
    assert "allowed: 0, 44" in str(err.value)
    listing.write_text('{"dscpTagValue": 46}')
    with pytest.raises(RenderInputError):
        render("meraki", current, options={"dscp-options": str(listing)})


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed (the doc's shell recipe needs it)")
def test_meraki_doc_jq_recipe_stops_when_shaping_is_off(tmp_path: Path, current: RenderInput) -> None:
    (tmp_path / "current.json").write_text(json.dumps({**DEVICE, "trafficShapingEnabled": False}))
    (tmp_path / "rule.json").write_text(render("meraki", current))
    proc = subprocess.run(
        ["jq", "--slurpfile", "w", str(tmp_path / "rule.json"), JQ_MERGE.strip("'"), str(tmp_path / "current.json")],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode != 0 and "traffic shaping is off" in proc.stderr and not proc.stdout
