"""End to end: every simtool card/aram command through pyscard + pcscd + vpcd against the
simulated card of tests/rig (card-rig branch), one profile per real-world quirk.

The CLI runs in a subprocess because PCSCLITE_CSOCK_NAME must be set before a process's first
PC/SC call (the rig's ``env`` carries it).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time

import pytest

from simtool.aram.rules import AccessRule, encode_ref_ar_do
from simtool.aram.tlv import encode_tlv
from tests.aram import vectors

from tests.rig.pcsc_fixtures import pcsc_rig  # noqa: F401,E402  (the fixture)

SEED_E2 = bytes.fromhex(vectors.SEED_STORE_APDU)[7:].hex().upper()
PKG_E2 = bytes.fromhex(vectors.PACKAGE_STORE_APDU)[7:].hex().upper()
SEED_ARGS = ["--aid", "FFFFFFFFFFFF", "--device-app-id", vectors.SEED_HASH,
             "--android-permissions", "0000000000000001", "--apdu-always"]


def run(rig, *args, env=None, check_rc=None, timeout=60):
    full_env = dict(rig.env)
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "simtool.cli", *args], env=full_env, capture_output=True,
                          text=True, timeout=timeout)
    if check_rc is not None:
        assert proc.returncode == check_rc, f"rc={proc.returncode}\nstdout={proc.stdout}\nstderr={proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def jrun(rig, *args, **kw):
    proc = run(rig, *args, "--json", check_rc=kw.pop("check_rc", 0), **kw)
    return json.loads(proc.stdout)


def stores(card) -> list[str]:
    """STORE DATA commands the card received."""
    return [c for c, _ in card.state()["apdus"] if c.upper()[2:4] == "E2"]


def rule_hex(n: int, **kw) -> str:
    return encode_ref_ar_do(AccessRule(n.to_bytes(20, "big"), **kw)).hex().upper()


def insert(rig, profile, *, rules=(), **kw):
    """insert_card with rules given as hex (the rig takes bytes)."""
    return rig.insert_card(profile, rules=tuple(bytes.fromhex(r) for r in rules), **kw)


def card_rules(card) -> list[str]:
    return [r.upper() for r in card.state()["rules"]]


# --- readers and card info ---------------------------------------------------------------

def test_readers_and_selection(pcsc_rig):
    pcsc_rig.insert_card("spec")
    rows = jrun(pcsc_rig, "readers")
    assert [r["name"] for r in rows] == list(pcsc_rig.reader_names)
    assert jrun(pcsc_rig, "readers", "--reader", "0")[0]["index"] == 0
    bad = run(pcsc_rig, "aram", "list", "--reader", "no such reader")
    assert bad.returncode == 3 and "no reader matches" in bad.stderr


def test_card_info_reports_iccid_and_applications(pcsc_rig):
    pcsc_rig.insert_card("spec", iccid="8949440000001234567")
    info = jrun(pcsc_rig, "card", "info")
    assert info["iccid"] == "8949440000001234567"
    assert info["ara_m"] is True and info["atr"] and info["ara_d"] is False
    assert info["ara_m_refresh_tag"] == "00" * 8 and info["ara_m_config"].startswith("DF21")


def test_card_info_on_the_open_source_applet(pcsc_rig):
    pcsc_rig.insert_card("aram-applet")
    info = jrun(pcsc_rig, "card", "info")
    assert info["ara_m"] is True and info["ara_m_config"] is None  # DF21 answers 6A86 there


def test_no_card_is_a_clear_error(pcsc_rig):
    proc = run(pcsc_rig, "aram", "list")
    assert proc.returncode == 3 and "no card" in proc.stderr


# --- the seed workflow ----------------------------------------------------------------------

@pytest.mark.parametrize("profile", ["spec", "t0", "aram-applet", "sysmo"])
def test_seed_command_stores_exactly_the_reference_rule_once(pcsc_rig, profile):
    card = pcsc_rig.insert_card(profile)
    run(pcsc_rig, "aram", "add", *SEED_ARGS, check_rc=0)
    assert [r.upper() for r in card.state()["rules"]] == [SEED_E2]
    assert any(c.upper() == vectors.SEED_STORE_APDU for c, _ in card.state()["apdus"])
    before = len(stores(card))
    run(pcsc_rig, "aram", "add", *SEED_ARGS, check_rc=0)  # identical rule: not stored twice
    assert len(stores(card)) == before
    assert len(card.state()["rules"]) == 1
    rows = jrun(pcsc_rig, "aram", "list")
    assert rows[0]["aid"] == "FFFFFFFFFFFF" and rows[0]["hash"] == vectors.SEED_HASH
    assert rows[0]["apdu"] == "always" and rows[0]["perm"] == "0000000000000001"
    assert rows[0]["android"] is True and rows[0]["aid_implicit"] is False


@pytest.mark.parametrize("form,why", [(["--aid-implicit"], "implicit"), (["--aid-empty"], "4F 00"),
                                      (["--aid", "A000000151"], "A000000151")])
def test_add_refuses_rules_android_skips_unless_forced(pcsc_rig, form, why):
    card = pcsc_rig.insert_card("spec")
    proc = run(pcsc_rig, "aram", "add", "--hash", vectors.SEED_HASH, *form)
    assert proc.returncode == 8 and why in proc.stderr
    assert card.state()["rules"] == []
    run(pcsc_rig, "aram", "add", "--hash", vectors.SEED_HASH, *form, "--force", check_rc=0)
    rows = jrun(pcsc_rig, "aram", "list")
    assert len(rows) == 1 and rows[0]["android"] is False and why in rows[0]["android_reason"]
    if form == ["--aid-empty"]:
        assert rows[0]["aid"] == ""
    if form == ["--aid-implicit"]:
        assert rows[0]["aid"] is None and rows[0]["aid_implicit"] is True


def test_whole_set_failure_is_reported_by_list_and_check(pcsc_rig):
    bad = encode_tlv(0xE2, encode_tlv(0xE1, encode_tlv(0xC1, bytes(20)) + encode_tlv(0xCA, b"a") + b"\xdb\x00")
                     + encode_tlv(0xE3, encode_tlv(0xDB, bytes(8)))).hex()
    insert(pcsc_rig, "spec", rules=(SEED_E2, bad))
    rows = jrun(pcsc_rig, "aram", "list")
    assert [r["android"] for r in rows] == [False, False] and "drops all rules" in rows[0]["android_reason"]
    out = jrun(pcsc_rig, "aram", "check", "--hash", vectors.SEED_HASH, check_rc=8)
    assert out["results"][0]["granted"] is False and "drops all rules" in out["results"][0]["reasons"][0]
    # adding to such a card is refused: the set would stay unusable
    proc = run(pcsc_rig, "aram", "add", "--hash", "11" * 20)
    assert proc.returncode == 8 and "unusable" in proc.stderr and "already on the card" in proc.stderr


def test_check_by_hash(pcsc_rig):
    insert(pcsc_rig, "spec", rules=(rule_hex(7, aid=None, aid_implicit=True), SEED_E2))
    out = jrun(pcsc_rig, "aram", "check", "--hash", vectors.SEED_HASH)
    assert out["results"][0]["granted"] and out["results"][0]["rule_index"] == 2
    out = jrun(pcsc_rig, "aram", "check", "--hash", (7).to_bytes(20, "big").hex(), check_rc=8)
    assert "implicit" in out["results"][0]["reasons"][0]


# --- apply / export -------------------------------------------------------------------------

def _rules_file(tmp_path, n, fmt="json", start=1):
    rules = [{"hash": (i).to_bytes(20, "big").hex(), "apdu": "always"} for i in range(start, start + n)]
    path = tmp_path / f"rules.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps({"rules": rules}))
    else:
        path.write_text("".join(f'[[rules]]\nhash = "{r["hash"]}"\napdu = "always"\n\n' for r in rules))
    return path


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_apply_is_exact_verified_and_idempotent(pcsc_rig, tmp_path, fmt):
    card = insert(pcsc_rig, "spec", rules=(rule_hex(99),))
    path = _rules_file(tmp_path, 3, fmt)
    tag0 = card.state()["refresh_tag"]
    out = jrun(pcsc_rig, "aram", "apply", str(path), "--prune")
    assert len(out["plan"]["add"]) == 3 and len(out["plan"]["delete"]) == 1 and out["verified"]
    assert sorted(r.upper() for r in card.state()["rules"]) == sorted(rule_hex(i, apdu=True) for i in (1, 2, 3))
    assert card.state()["refresh_tag"] != tag0
    n = len(stores(card))
    again = jrun(pcsc_rig, "aram", "apply", str(path), "--prune")
    assert again["plan"]["add"] == [] and again["plan"]["delete"] == [] and len(again["plan"]["keep"]) == 3
    assert len(stores(card)) == n  # second run writes nothing


def test_apply_without_prune_keeps_other_rules_and_fixes_duplicates(pcsc_rig, tmp_path):
    dup = rule_hex(1, apdu=True)
    card = insert(pcsc_rig, "sysmo", rules=(dup, dup, rule_hex(50)))
    jrun(pcsc_rig, "aram", "apply", str(_rules_file(tmp_path, 1)))
    rules = [r.upper() for r in card.state()["rules"]]
    assert rules.count(dup) == 1 and rule_hex(50) in rules


def test_apply_over_255_bytes_reads_back_with_continuation(pcsc_rig, tmp_path):
    card = pcsc_rig.insert_card("spec")
    out = jrun(pcsc_rig, "aram", "apply", str(_rules_file(tmp_path, 20)))
    assert out["verified"] and len(card.state()["rules"]) == 20
    assert any(c.upper().startswith("80CAFF60") for c, _ in card.state()["apdus"])
    assert len(jrun(pcsc_rig, "aram", "list")) == 20


def test_apply_apdu_budget(pcsc_rig, tmp_path):
    card = pcsc_rig.insert_card("spec")
    out = jrun(pcsc_rig, "aram", "apply", str(_rules_file(tmp_path, 3)))
    assert out["apdus_sent"] <= 3 + 6
    assert len(card.state()["apdus"]) <= 3 + 6


def test_dry_run_sends_no_write(pcsc_rig, tmp_path):
    card = pcsc_rig.insert_card("spec")
    out = jrun(pcsc_rig, "aram", "apply", str(_rules_file(tmp_path, 2)), "--dry-run")
    assert out["dry_run"] and any(not a["sent"] and a["command"].startswith("80E29000") for a in out["apdus"])
    assert stores(card) == [] and card.state()["rules"] == []


def _is_read(command: str) -> bool:
    """A command that cannot change the card: SELECT, READ BINARY, GET DATA, GET RESPONSE,
    MANAGE CHANNEL, and VERIFY without data (the attempts query)."""
    raw = bytes.fromhex(command)
    if raw[1] == 0x20:
        return len(raw) == 4
    return raw[1] in (0xA4, 0xB0, 0xCA, 0xC0, 0x70)


@pytest.mark.parametrize("args", [
    ("aram", "add", *SEED_ARGS, "--adm"),
    ("aram", "delete", "--all", "--adm"),
    ("aram", "apply", "RULES", "--prune", "--adm"),
])
def test_dry_run_every_writing_command_sends_reads_only(pcsc_rig, tmp_path, args):
    """--dry-run sends reads (so the plan is the card's), never STORE DATA or VERIFY with the
    key; what it lists as sent is exactly what the card received, in order."""
    card = insert(pcsc_rig, "adm", rules=(rule_hex(7), rule_hex(8)), adm_key=bytes.fromhex(ADM))
    before = card.state()
    args = tuple(str(_rules_file(tmp_path, 2)) if a == "RULES" else a for a in args)
    out = jrun(pcsc_rig, *args, "--dry-run", env={"SIMTOOL_ADM": ADM})
    received = [c.upper() for c, _ in card.state()["apdus"]]
    assert received and all(_is_read(c) for c in received), received
    assert [a["command"] for a in out["apdus"] if a["sent"]] == received
    unsent = [a["command"] for a in out["apdus"] if not a["sent"]]
    assert unsent[0] == "0020000A08<redacted 16 chars>"  # the key: neither sent nor shown
    assert any(c.startswith("80E29000") for c in unsent)
    after = card.state()
    assert after["rules"] == before["rules"] and after["adm_tries_left"] == before["adm_tries_left"]


def test_export_then_apply_reproduces_the_card(pcsc_rig, tmp_path):
    insert(pcsc_rig, "spec", rules=(SEED_E2, bytes.fromhex(vectors.PACKAGE_STORE_APDU)[7:].hex()))
    for fmt in ("json", "toml"):
        out = tmp_path / f"backup.{fmt}"
        run(pcsc_rig, "aram", "export", str(out), check_rc=0)
        assert out.exists()
    pcsc_rig.remove_card(0)
    card = pcsc_rig.insert_card("spec")
    jrun(pcsc_rig, "aram", "apply", str(tmp_path / "backup.toml"))
    assert sorted(card_rules(card)) == sorted([SEED_E2, PKG_E2])


def test_delete_matching_and_all(pcsc_rig):
    card = insert(pcsc_rig, "spec", rules=(rule_hex(1), rule_hex(2), rule_hex(3)))
    jrun(pcsc_rig, "aram", "delete", "--hash", (2).to_bytes(20, "big").hex())
    assert sorted(card_rules(card)) == sorted([rule_hex(1), rule_hex(3)])
    jrun(pcsc_rig, "aram", "delete", "--all")
    assert card.state()["rules"] == []
    assert any(c.upper() == vectors.DELETE_ALL_APDU for c, _ in card.state()["apdus"])


# --- profile quirks -------------------------------------------------------------------------

def test_open_source_applet_refuses_package_with_hint(pcsc_rig):
    card = pcsc_rig.insert_card("aram-applet")
    proc = run(pcsc_rig, "aram", "add", "--hash", vectors.SEED_HASH, "--package", "com.example.app")
    assert proc.returncode == 5 and "6984" in proc.stderr and "package" in proc.stderr
    assert card.state()["rules"] == []


def test_card_refusing_db(pcsc_rig):
    card = pcsc_rig.insert_card("no-db")
    proc = run(pcsc_rig, "aram", "add", *SEED_ARGS)
    assert proc.returncode == 5 and "refused" in proc.stderr
    assert card.state()["rules"] == []


def test_spec_card_conflict_is_replaced_by_apply(pcsc_rig, tmp_path):
    card = insert(pcsc_rig, "spec", rules=(rule_hex(1, apdu=False),))
    jrun(pcsc_rig, "aram", "apply", str(_rules_file(tmp_path, 1)))
    assert [r.upper() for r in card.state()["rules"]] == [rule_hex(1, apdu=True)]


def test_card_removed_mid_apply_then_finish(pcsc_rig, tmp_path):
    state = tmp_path / "card.json"
    pcsc_rig.insert_card("spec", state_file=state, remove_after_apdus=4)  # SELECT, GET, 2 stores
    path = _rules_file(tmp_path, 5)
    proc = run(pcsc_rig, "aram", "apply", str(path))
    assert proc.returncode == 4 and "removed" in proc.stderr and "re-run" in proc.stderr
    pcsc_rig.remove_card(0)
    card = pcsc_rig.insert_card("spec", state_file=state)
    jrun(pcsc_rig, "aram", "apply", str(path))
    assert len(card.state()["rules"]) == 5


# --- ADM ------------------------------------------------------------------------------------

ADM = "3838383838383838"


def test_adm_needed_verified_and_tries_protected(pcsc_rig, tmp_path):
    card = pcsc_rig.insert_card("adm", adm_key=bytes.fromhex(ADM))
    proc = run(pcsc_rig, "aram", "add", *SEED_ARGS)
    assert proc.returncode == 5 and "6982" in proc.stderr and "ADM" in proc.stderr
    wrong = run(pcsc_rig, "aram", "add", *SEED_ARGS, "--adm", env={"SIMTOOL_ADM": "0000000000000000"})
    assert wrong.returncode == 9 and "attempt" in wrong.stderr
    assert "0000000000000000" not in wrong.stderr
    keyfile = tmp_path / "adm"
    keyfile.write_text(ADM + "\n")
    proc = run(pcsc_rig, "aram", "add", *SEED_ARGS, "--adm-file", str(keyfile), "--trace")
    assert proc.returncode == 0, proc.stderr
    assert ADM not in proc.stderr and "redacted" in proc.stderr
    assert card.state()["rules"] and card.state()["adm_tries_left"] == 10


def test_adm_refused_when_few_tries_left(pcsc_rig):
    card = pcsc_rig.insert_card("adm", adm_key=bytes.fromhex(ADM), adm_tries=2)
    proc = run(pcsc_rig, "aram", "add", *SEED_ARGS, "--adm", env={"SIMTOOL_ADM": ADM})
    assert proc.returncode == 9 and "2 attempt" in proc.stderr
    assert card.state()["adm_tries_left"] == 2 and card.state()["rules"] == []


# --- production line -------------------------------------------------------------------------

def _wait_rows(path, n, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            rows = list(csv.DictReader(path.open()))
            if len(rows) >= n:
                return rows
        time.sleep(0.1)
    raise AssertionError(f"audit log has fewer than {n} rows")


def test_watch_applies_to_each_card_logs_failures_and_continues(pcsc_rig, tmp_path):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": [{"hash": "11" * 20, "apdu": "always"},
                                          {"hash": "22" * 20, "package": "com.example.app"}]}))
    log = tmp_path / "audit.csv"
    proc = subprocess.Popen(
        [sys.executable, "-m", "simtool.cli", "aram", "apply", str(path), "--watch", "--count", "3",
         "--log", str(log)], env=dict(pcsc_rig.env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = pcsc_rig.insert_card("spec", iccid="8949440000000000011")
        _wait_rows(log, 1)
        pcsc_rig.remove_card(0)
        # the open-source applet refuses package rules: a failed row, and the line goes on
        pcsc_rig.insert_card("aram-applet", iccid="8949440000000000022")
        _wait_rows(log, 2)
        pcsc_rig.remove_card(0)
        third = pcsc_rig.insert_card("t0", iccid="8949440000000000033")
        rows = _wait_rows(log, 3)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait()
    assert proc.returncode == 7, err  # one card failed
    assert [r["iccid"] for r in rows] == ["8949440000000000011", "8949440000000000022", "8949440000000000033"]
    assert [r["result"] for r in rows] == ["applied", "failed", "applied"]
    assert "6984" in rows[1]["detail"]
    assert len(first.state()["rules"]) == 2 and len(third.state()["rules"]) == 2


def test_watch_json_is_one_line_per_card(pcsc_rig, tmp_path):
    pcsc_rig.insert_card("spec", iccid="8949440000000000044")
    log = tmp_path / "audit.csv"
    proc = run(pcsc_rig, "aram", "apply", str(_rules_file(tmp_path, 2)), "--watch", "--count", "1",
               "--log", str(log), "--json", check_rc=0)
    lines = proc.stdout.splitlines()
    assert len(lines) == 2, proc.stdout  # JSON Lines (one per card, then the summary), not the plan document
    row = json.loads(lines[0])
    assert {k: row[k] for k in ("reader", "iccid", "result", "added", "deleted", "planned_add", "detail")} == {
        "reader": pcsc_rig.reader_names[0], "iccid": "8949440000000000044", "result": "applied",
        "added": 2, "deleted": 0, "planned_add": 2, "detail": ""}
    assert json.loads(lines[1])["summary"]["by_card"] == {"8949440000000000044": "applied"}
    assert list(csv.DictReader(log.open()))[0]["result"] == "applied"


def test_watch_stops_after_idle_timeout(pcsc_rig, tmp_path):
    start = time.monotonic()
    proc = run(pcsc_rig, "aram", "apply", str(_rules_file(tmp_path, 1)), "--watch", "--idle-timeout", "1",
               "--log", str(tmp_path / "audit.csv"))
    assert proc.returncode == 0 and "by insertion: 0 insertion(s): none" in proc.stderr
    assert time.monotonic() - start < 15 and not (tmp_path / "audit.csv").exists()


# --- logical channels -----------------------------------------------------------------------

def test_list_on_a_logical_channel_as_android_reads(pcsc_rig):
    card = insert(pcsc_rig, "spec", rules=(SEED_E2,))
    rows = jrun(pcsc_rig, "aram", "list", "--logical-channel")
    assert rows[0]["hash"] == vectors.SEED_HASH and rows[0]["android"]
    sent = [c.upper() for c, _ in card.state()["apdus"]]
    assert sent[0] == "0070000001" and sent[1].startswith("01A40400") and sent[2] == "81CAFF4000"
    assert sent[-1] == "01708001"


def test_channels_4_to_19_in_process(pcsc_rig):
    """The protocol layer on channels past 3 (further interindustry CLA 40+n-4 / C0+n-4)."""
    from simtool.aram.session import AramSession
    from simtool.card import transport
    from simtool.card.protocol import CardProtocol

    card = insert(pcsc_rig, "spec", rules=(SEED_E2,))
    with transport.connect(pcsc_rig.reader_names[0]) as conn:
        proto = CardProtocol(conn)
        opened = [proto.open_channel() for _ in range(19)]
        assert opened == list(range(1, 20))
        for ch in (4, 19):
            session = AramSession(proto, ch)
            session.select()
            assert [r.hash.hex().upper() for r in session.read_rules().rules] == [vectors.SEED_HASH]
        for ch in opened:
            proto.close_channel(ch)
    sent = [c.upper() for c, _ in card.state()["apdus"]]
    assert "C0CAFF4000" in sent and "CFCAFF4000" in sent and "4F708013" in sent


def test_session_delete_by_ref_do_in_process(pcsc_rig):
    """F1 with a REF-DO (E1) deletes every rule with that AID + hash (+ package), whatever its
    access rules; F1 with the REF-AR-DO (E2) only the identical rule; F1 00 everything."""
    from simtool.aram.session import AramSession, delete_apdu
    from simtool.card import transport
    from simtool.card.protocol import CardProtocol

    seed_other_ar = AccessRule(bytes.fromhex(vectors.SEED_HASH), apdu=False)
    card = insert(pcsc_rig, "spec", rules=(SEED_E2, rule_hex(5), rule_hex(6)))
    with transport.connect(pcsc_rig.reader_names[0]) as conn:
        session = AramSession(CardProtocol(conn))
        session.select()
        assert session.delete(seed_other_ar) is False  # E2: not the stored rule (6A88)
        assert len(session.read_rules().rules) == 3
        assert session.delete(seed_other_ar, by_ref=True) is True  # E1: same REF-DO
        assert [r.hash for r in session.read_rules().rules] == [(5).to_bytes(20, "big"),
                                                                 (6).to_bytes(20, "big")]
        assert session.delete(AccessRule((5).to_bytes(20, "big"))) is True
        assert session.delete(None) is True
        assert session.read_rules().rules == ()
    sent = [c.upper() for c, _ in card.state()["apdus"]]
    by_ref = delete_apdu(seed_other_ar, by_ref=True).encode().hex().upper()
    assert by_ref.startswith("80E29000") and by_ref[10:12] == "F1" and by_ref[14:16] == "E1" and by_ref in sent
    assert "80E2900002F100" in sent


# --- transport options and refusals ----------------------------------------------------------

def test_exclusive_by_default_and_shared_on_request(pcsc_rig):
    from simtool.card import transport

    insert(pcsc_rig, "spec", rules=(SEED_E2,))
    with transport.connect(pcsc_rig.reader_names[0], shared=False):
        busy = run(pcsc_rig, "aram", "list")
        assert busy.returncode == 3 and "in use" in busy.stderr
    with transport.connect(pcsc_rig.reader_names[0], shared=True):
        assert len(jrun(pcsc_rig, "aram", "list", "--shared")) == 1
        assert run(pcsc_rig, "aram", "list").returncode == 3  # exclusive refused while shared


def test_reader_from_environment_and_second_slot(pcsc_rig):
    insert(pcsc_rig, "spec", slot=1, rules=(SEED_E2,))
    rows = jrun(pcsc_rig, "aram", "list", env={"SIMTOOL_READER": "1"})
    assert rows[0]["hash"] == vectors.SEED_HASH
    assert run(pcsc_rig, "aram", "list", "--reader", "0").returncode == 3  # slot 0 is empty


def test_payload_over_255_bytes_refused_before_any_write(pcsc_rig):
    card = insert(pcsc_rig, "spec")
    proc = run(pcsc_rig, "aram", "add", "--hash", vectors.SEED_HASH, "--package", "p" * 240)
    assert proc.returncode == 2 and "at most 255" in proc.stderr
    assert stores(card) == []


def test_card_info_dry_run_lists_apdus_and_export_to_stdout(pcsc_rig):
    insert(pcsc_rig, "t0", rules=(SEED_E2,))
    info = jrun(pcsc_rig, "card", "info", "--dry-run")
    assert info["arf"] is True and info["protocol"] == "T=0"
    assert any(a["command"].startswith("00C0") for a in info["apdus"])  # GET RESPONSE on T=0
    out = run(pcsc_rig, "aram", "export", "-", "--format", "toml", check_rc=0).stdout
    assert 'hash = "E46872F28B350B7E1F140DE535C2A8D5804F0BE3"' in out


def test_export_to_a_missing_folder_is_one_line(pcsc_rig, tmp_path):
    insert(pcsc_rig, "spec", rules=(SEED_E2,))
    target = tmp_path / "no-such-dir" / "backup.json"
    proc = run(pcsc_rig, "aram", "export", str(target))
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"simtool: error: cannot write the export {target}: ")
    assert not target.parent.exists()


def test_empty_card_answering_6a88(pcsc_rig):
    pcsc_rig.insert_card("spec", empty_6a88=True)
    proc = run(pcsc_rig, "aram", "list")
    assert proc.returncode == 0 and "6A88" in proc.stderr and "whole rule set in error" in proc.stderr
    run(pcsc_rig, "aram", "add", *SEED_ARGS, check_rc=0)  # storing the first rule fixes it
    assert jrun(pcsc_rig, "aram", "list")[0]["android"] is True


@pytest.mark.parametrize("profile,accepted", [("aram-applet", False), ("sysmo", True), ("spec", True)])
def test_sha256_hash_per_applet(pcsc_rig, profile, accepted):
    card = insert(pcsc_rig, profile)
    proc = run(pcsc_rig, "aram", "add", "--hash", "AB" * 32, "--apdu-always")
    if accepted:
        assert proc.returncode == 0, proc.stderr
        assert jrun(pcsc_rig, "aram", "list")[0]["hash"] == "AB" * 32
    else:
        assert proc.returncode == 5 and "6984" in proc.stderr and "32-byte" in proc.stderr
        assert card.state()["rules"] == []


def test_delete_one_rule_on_the_sysmo_applet(pcsc_rig):
    card = insert(pcsc_rig, "sysmo", rules=(rule_hex(1, apdu=True), rule_hex(2, apdu=True)))
    jrun(pcsc_rig, "aram", "delete", "--hash", (1).to_bytes(20, "big").hex())
    assert card_rules(card) == [rule_hex(2, apdu=True)]
