"""``wifiq operators`` and ``wifiq names`` run as a user would: a subprocess, private dirs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SMALL = Path(__file__).parent / "corpus" / "mcc-mnc-small.json"


@pytest.fixture
def run(tmp_path):
    """Run ``wifiq ARGS`` with its own XDG data/config dirs; return the CompletedProcess."""
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), HOME=str(tmp_path))

    def _run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "wifiq.cli", *args], capture_output=True,
                              text=True, env=env, timeout=60)

    _run.tmp = tmp_path  # type: ignore[attr-defined]
    return _run


def one_line_error(proc, status, *fragments):
    assert proc.returncode == status, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("wifiq: ")
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr


def test_operators_country_json(run):
    proc = run("operators", "--country", "AU", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["source"]["version"] == "1.1.11"
    plmns = [op["plmn"] for op in doc["operators"]]
    assert "505-01" in plmns and all(p.startswith("505-") for p in plmns)
    telstra = doc["operators"][plmns.index("505-01")]
    assert telstra == {"plmn": "505-01", "mcc": "505", "mnc": "01", "country_iso": "AU/CC/CX",
                       "country": "Australia", "brand": "Telstra",
                       "operator": "Telstra Corporation Limited", "status": "Operational",
                       "overrides": []}


def test_operators_text_and_list_alias(run):
    proc = run("operators", "telstra", "--mcc", "505")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["PLMN", "ISO", "COUNTRY", "BRAND", "STATUS", "OPERATOR"]
    assert lines[1].startswith("505-01  AU/CC/CX  Australia  Telstra")
    assert run("operators", "list", "telstra", "--mcc", "505").stdout == proc.stdout


def test_operators_overrides_in_json(run):
    doc = json.loads(run("operators", "--plmn", "311-480", "--json").stdout)
    (verizon,) = doc["operators"]
    assert verizon["overrides"][0]["names"] == ["wo.vzwwo.com"]
    assert "AdguardTeam/DnsLibs" in verizon["overrides"][0]["source"]


def test_operators_no_match_hints_mnc_length(run):
    proc = run("operators", "--plmn", "505-001")
    one_line_error(proc, 1, "no operator matches", "MNC length matters", "505-01")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["operators", "--plmn", "5050"], ["invalid PLMN '5050'"]),
        (["operators", "--plmn", "50-501"], ["invalid PLMN '50-501'", "MCC must be 3 digits"]),
        (["operators", "--mcc", "5x5"], ["invalid MCC '5x5'"]),
        (["operators", "--country", "ZZ"], ["unknown country code 'ZZ'"]),
        (["names", "--plmn", "505-0001"], ["invalid PLMN '505-0001'", "MNC must be 2 or 3"]),
        (["names"], ["select operators with"]),
        (["names", "--plmn", "505-01", "--kind", "tac"], ["needs a TAC"]),
        (["names", "--plmn", "505-01", "--kind", "tac", "--tac", "70000"],
         ["TAC 70000 is out of range"]),
        (["names", "--plmn", "505-01", "--kind", "lac", "--lac", "zz"], ["invalid --lac 'zz'"]),
        (["names", "--plmn", "505-01", "--kind", "epdgs"], ["unknown name kind 'epdgs'"]),
        (["operators", "update", "--from", "/nonexistent/x.json"], ["/nonexistent/x.json"]),
    ],
)
def test_bad_input_is_one_line(run, args, fragments):
    proc = run(*args)
    status = 1 if args[:2] == ["operators", "update"] else 2
    one_line_error(proc, status, *fragments)


def test_names_json_for_telstra(run):
    proc = run("names", "--plmn", "505-01", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"names": [
        {"fqdn": "epdg.epc.mnc001.mcc505.pub.3gppnetwork.org", "kind": "epdg",
         "plmns": ["505-01"]},
        {"fqdn": "sos.epdg.epc.mnc001.mcc505.pub.3gppnetwork.org", "kind": "sos",
         "plmns": ["505-01"]}]}


def test_names_location_kinds_text(run):
    proc = run("names", "--plmn", "345-12", "--kind", "tac", "--kind", "tac-5gs",
               "--kind", "lac", "--tac", "0x0b1a", "--lac", "6699")
    assert proc.returncode == 0, proc.stderr
    fqdns = [line.split()[0] for line in proc.stdout.splitlines()]
    assert fqdns == ["tac-lb1a.tac-hb0b.tac.epdg.epc.mnc012.mcc345.pub.3gppnetwork.org",
                     "tac-lb1a.tac-mb0b.tac-hb00.5gstac.epdg.epc.mnc012.mcc345.pub.3gppnetwork.org",
                     "lac1a2b.epdg.epc.mnc012.mcc345.pub.3gppnetwork.org"]


def test_names_country_visited_country_is_one_name(run):
    doc = json.loads(run("names", "--country", "NZ", "--kind", "visited-country", "--json").stdout)
    (entry,) = doc["names"]
    assert entry["fqdn"] == "epdg.epc.mcc530.visited-country.pub.3gppnetwork.org"
    assert len(entry["plmns"]) > 5 and all(p.startswith("530-") for p in entry["plmns"])
    text = run("names", "--country", "NZ", "--kind", "visited-country").stdout
    assert text.rstrip().endswith("more)")


def test_names_published_and_user_overrides_file(run):
    doc = json.loads(run("names", "--plmn", "311-480", "--json").stdout)
    published = [n for n in doc["names"] if n["kind"] == "published"]
    assert [n["fqdn"] for n in published] == ["wo.vzwwo.com"] and published[0]["source"]
    doc = json.loads(run("names", "--plmn", "311-480", "--no-published", "--json").stdout)
    assert [n["kind"] for n in doc["names"]] == ["epdg", "sos"]
    config = run.tmp / "config" / "wifiq"
    config.mkdir(parents=True)
    (config / "overrides.toml").write_text(
        '[[operator]]\nplmns = ["505-01"]\nnames = ["epdg.lab.example"]\n')
    extra = run.tmp / "extra.toml"
    extra.write_text('[[operator]]\nplmns = ["505-01"]\nnames = ["epdg2.lab.example"]\n'
                     'source = "lab"\n')
    doc = json.loads(run("names", "--plmn", "505-01", "--overrides", str(extra), "--json").stdout)
    assert [(n["fqdn"], n.get("source")) for n in doc["names"] if n["kind"] == "published"] == [
        ("epdg.lab.example", str(config / "overrides.toml")), ("epdg2.lab.example", "lab")]


def test_update_writes_user_data_atomically_and_is_used(run):
    before = json.loads(run("operators", "info", "--json").stdout)
    assert before["path"] == "<embedded mcc-mnc.json>" and before["rows"] == 3085
    proc = run("operators", "update", "--from", str(SMALL), "--retrieved", "2026-01-02")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and "7 rows (6 PLMNs)" in proc.stderr
    target = run.tmp / "data" / "wifiq" / "mcc-mnc.json"
    after = json.loads(run("operators", "info", "--json").stdout)
    assert after["path"] == str(target) and after["rows"] == 7
    assert after["source"]["retrieved"] == "2026-01-02"
    doc = json.loads(run("operators", "--mcc", "350", "--json").stdout)
    assert [op["plmn"] for op in doc["operators"]] == ["350-007", "350-07"]
    saved = target.read_bytes()
    bad = run.tmp / "bad.json"
    bad.write_text('[{"mcc": "505", "mnc": "1"}]')
    one_line_error(run("operators", "update", "--from", str(bad)), 1, "no usable MCC/MNC rows")
    assert target.read_bytes() == saved
    assert [p.name for p in target.parent.iterdir()] == ["mcc-mnc.json"]  # no temp files left


def test_update_out_path(run):
    out = run.tmp / "elsewhere" / "ops.json"
    proc = run("operators", "update", "--from", str(SMALL), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["metadata"]["rows_out"] == 7
    assert not (run.tmp / "data" / "wifiq" / "mcc-mnc.json").exists()


def test_info_text(run):
    proc = run("operators", "info")
    assert proc.returncode == 0
    assert "mcc-mnc-list 1.1.11" in proc.stdout and "CC BY-SA 4.0" in proc.stdout


def test_update_to_unwritable_place_is_one_line(run):
    blocker = run.tmp / "afile"
    blocker.write_text("x")
    proc = run("operators", "update", "--from", str(SMALL), "--out", str(blocker / "ops.json"))
    one_line_error(proc, 1, str(blocker / "ops.json"), "cannot write")


def test_corrupt_user_data_file_is_one_line(run):
    target = run.tmp / "data" / "wifiq" / "mcc-mnc.json"
    target.parent.mkdir(parents=True)
    target.write_text("{not json")
    one_line_error(run("operators", "--country", "AU"), 1, str(target), "is not JSON",
                   "delete it to use the embedded list")
