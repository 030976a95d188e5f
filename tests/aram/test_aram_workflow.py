"""The workflows of ``simtool aram`` (simtool.aram.workflow) on a scripted card: every APDU the
library sends is pinned, so the production path is tested without pcscd too."""

from __future__ import annotations

import pytest

from simtool.aram.errors import VerificationError
from simtool.aram.jsonforms import apply_json, plan_json, rule_rows
from simtool.aram.rulefile import load_rules
from simtool.aram.rules import AccessRule, encode_all_ref_ar_do
from simtool.aram.workflow import (
    RuleMatch, add_rule, apply_rules, delete_rules, export_format, read_rules, write_export,
)
from simtool.card.protocol import CardProtocol
from simtool.errors import UsageError
from simtool.exitcodes import ExitCode
from tests.aram.scripted import ScriptedConnection

SELECT = ("00A4040009A00000015141434C0000", "9000")
GET_ALL = "80CAFF4000"
REFRESH = [("80E2900002F200", "9000"), ("80CADF2000", "DF20080102030405060708" + "9000")]


def rule(n: int, **kw) -> AccessRule:
    return AccessRule(n.to_bytes(20, "big"), **kw)


def listing(*rules: AccessRule) -> str:
    return encode_all_ref_ar_do(list(rules)).hex() + "9000"


def store(r: AccessRule) -> str:
    enc = r.encoded()
    return f"80E29000{len(enc) + 2:02X}F0{len(enc):02X}{enc.hex()}"


def delete(r: AccessRule) -> str:
    enc = r.encoded()
    return f"80E29000{len(enc) + 2:02X}F1{len(enc):02X}{enc.hex()}"


def proto(script: list[tuple[str, str]]) -> CardProtocol:
    return CardProtocol(ScriptedConnection(script))


def done(p: CardProtocol) -> None:
    assert p.conn.script == [], "the library did not send every scripted APDU"  # type: ignore[attr-defined]


def test_read_on_a_logical_channel_opens_and_closes_it():
    p = proto([("0070000001", "019000"), ("01A4040009A00000015141434C0000", "9000"),
               ("81CAFF4000", listing(rule(1))), ("01708001", "9000")])
    assert read_rules(p, logical=True).rules == (rule(1),)
    done(p)


def test_add_identical_rule_sends_no_write():
    p = proto([SELECT, (GET_ALL, listing(rule(1)))])
    result = add_rule(p, rule(1), force=False)
    assert result.plan.empty and result.written == 0 and result.verified
    done(p)


def test_add_stores_refreshes_and_verifies_with_progress():
    seen: list[tuple[int, int]] = []
    p = proto([SELECT, (GET_ALL, "FF40009000"), (store(rule(1)), "9000"), *REFRESH,
               (GET_ALL, listing(rule(1)))])
    result = add_rule(p, rule(1), force=False, progress=lambda d, t: seen.append((d, t)))
    assert result.written == 1 and result.verified and result.refresh_tag == bytes(range(1, 9))
    assert seen == [(1, 1)]
    done(p)


def test_add_with_adm_verifies_first():
    p = proto([("00A4000C023F00", "9000"), ("0020000A", "63CA"), ("0020000A08" + "38" * 8, "9000"), SELECT, (GET_ALL, listing(rule(1)))])
    assert add_rule(p, rule(1), force=False, adm_key=b"8" * 8).plan.empty
    done(p)


def test_delete_matching_and_nothing_matching():
    match = RuleMatch(package="a.b")
    assert match(rule(2, package="a.b")) and not match(rule(2))
    assert RuleMatch(everything=True)(rule(3))
    p = proto([SELECT, (GET_ALL, listing(rule(1), rule(2, package="a.b"))),
               (delete(rule(2, package="a.b")), "9000"), *REFRESH, (GET_ALL, listing(rule(1)))])
    result = delete_rules(p, match)
    assert result.written == 1 and result.verified and [r.hash for r in result.plan.expected] == [rule(1).hash]
    done(p)
    p = proto([SELECT, (GET_ALL, listing(rule(1)))])
    assert delete_rules(p, RuleMatch(hash=rule(9).hash)).plan.empty
    done(p)


def test_apply_prune_stores_first_then_deletes_and_verification_failure_is_exit_7():
    p = proto([SELECT, (GET_ALL, listing(rule(1), rule(2))), (store(rule(3)), "9000"),
               (delete(rule(1)), "9000"), (delete(rule(2)), "6A88"), *REFRESH, (GET_ALL, listing(rule(3)))])
    result = apply_rules(p, [rule(3)], prune=True, force=False)
    assert not result.plan.delete_all and result.written == 2 and result.verified  # 6A88: no effect
    assert [c.state for c in result.changes] == ["confirmed", "confirmed", "no effect"]
    done(p)
    p = proto([SELECT, (GET_ALL, listing(rule(1), rule(2))), ("80E2900002F100", "9000"), *REFRESH,
               (GET_ALL, "FF40009000")])
    assert apply_rules(p, [], prune=True, force=False).plan.delete_all
    done(p)
    p = proto([SELECT, (GET_ALL, "FF40009000"), (store(rule(3)), "9000"), *REFRESH, (GET_ALL, "FF40009000")])
    with pytest.raises(VerificationError) as err:
        apply_rules(p, [rule(3)], prune=False, force=False)
    assert err.value.exit_code == ExitCode.NOT_VERIFIED == 7


def test_json_forms():
    p = proto([SELECT, (GET_ALL, listing(rule(1), rule(1, aid=b"\xa0\x00\x00\x01")))])
    rows = rule_rows(read_rules(p))
    assert [r["index"] for r in rows] == [1, 2] and [r["android"] for r in rows] == [True, False]
    p = proto([SELECT, (GET_ALL, listing(rule(1)))])
    result = add_rule(p, rule(1), force=False)
    assert plan_json(result.plan) == {"add": [], "delete": [], "keep": [
        {k: v for k, v in rows[0].items() if k not in ("index", "android", "android_reason")}],
        "delete_all": False}
    out = apply_json(result, apdus_sent=p.apdu_count, dry_run=False)
    assert out["written"] == 0 and out["apdus_sent"] == 2 and out["refresh_tag"] is None


def test_export_writes_verifies_and_picks_the_format(tmp_path):
    assert export_format(tmp_path / "a.TOML", None) == "toml" and export_format(tmp_path / "a", None) == "json"
    assert export_format(tmp_path / "a.toml", "json") == "json"
    for fmt in ("json", "toml"):
        out = tmp_path / f"rules.{fmt}"
        assert write_export((rule(1), rule(2, package="a.b")), out, fmt) == 2
        assert load_rules(out) == (rule(1), rule(2, package="a.b"))


def test_exit_codes_are_named_in_one_place():
    assert [int(c) for c in ExitCode] == [*range(11), 130]  # 130: Ctrl-C (SIGINT), as click reports it
    assert UsageError("x").exit_code == ExitCode.USAGE


def test_read_back_failure_after_writes_says_what_the_card_confirmed():
    from simtool.aram.errors import DamagedAnswerError

    p = proto([SELECT, (GET_ALL, "FF40009000"), (store(rule(1)), "9000"), *REFRESH,
               (GET_ALL, "FF4082020000" + "9000"), ("80CAFF6000", "6A88")])  # 512 announced, none sent
    with pytest.raises(DamagedAnswerError) as err:
        apply_rules(p, [rule(1)], prune=False, force=False, rerun="simtool aram apply r.json")
    message = str(err.value)
    assert "the card confirmed 1 of 1 change(s) (store 0000" in message and "next: " in message
    result = err.value.result  # type: ignore[attr-defined]
    out = apply_json(result, apdus_sent=p.apdu_count, dry_run=False)
    assert (out["confirmed"], out["unanswered"], out["not_sent"], out["verified"]) == (1, 0, 0, False)
    assert out["changes"][0]["state"] == "confirmed" and out["changes"][0]["rule"]["hash"] == rule(1).hash.hex().upper()


def test_refusal_midway_counts_confirmed_refused_and_not_sent():
    from simtool.aram.errors import StoreRefusedError

    p = proto([SELECT, (GET_ALL, "FF40009000"), (store(rule(1)), "9000"), (store(rule(2)), "6581")])
    with pytest.raises(StoreRefusedError) as err:
        apply_rules(p, [rule(1), rule(2), rule(3)], prune=False, force=False, rerun="simtool aram apply r.json")
    message = str(err.value)
    assert "memory is full" in message and "the card confirmed 1 of 3 change(s)" in message
    assert "1 refused" in message and "1 not sent" in message and "`simtool aram apply r.json`" in message


def test_damaged_list_before_any_write_names_the_way_out():
    from simtool.aram.errors import DamagedAnswerError

    p = proto([SELECT, (GET_ALL, "FF4082020000" + "9000"), ("80CAFF6000", "6A88")])
    with pytest.raises(DamagedAnswerError, match="delete --all.*--blind") as err:
        add_rule(p, rule(1), force=False)
    assert getattr(err.value, "result", None) is None


def test_replacement_on_a_card_refusing_two_rules_with_one_ref_do():
    """Store first; 6A89 (a spec card holds one rule per REF-DO) → the old one is deleted
    first, then the store again; the old one's delete is not sent a second time."""
    old, new = rule(1, apdu=False), rule(1, apdu=True)
    p = proto([SELECT, (GET_ALL, listing(old)), (store(new), "6A89"), (delete(old), "9000"),
               (store(new), "9000"), *REFRESH, (GET_ALL, listing(new))])
    result = apply_rules(p, [new], prune=False, force=False)
    assert [(c.action, c.state) for c in result.changes] == [("store", "confirmed"), ("delete", "confirmed")]
    assert result.written == 2 and result.verified
    done(p)
