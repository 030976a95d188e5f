"""ARA-M session logic (FF60 continuation, damaged answers) on a scripted card, and the planner."""

import pytest

from simtool.aram.errors import AndroidRefusalError, DamagedAnswerError, VerificationError
from simtool.aram.plan import android_problems, apply_plan, delete_plan, make_plan
from simtool.aram.rules import AccessRule, encode_all_ref_ar_do
from simtool.aram.session import AramSession
from simtool.card.errors import ApduTooLongError
from simtool.card.protocol import CardProtocol
from tests.aram.scripted import ScriptedConnection

GET_ALL, GET_NEXT = "80CAFF4000", "80CAFF6000"


def rule(n: int, **kw) -> AccessRule:
    return AccessRule(n.to_bytes(20, "big"), **kw)


def answer(rules) -> bytes:
    return encode_all_ref_ar_do(rules)


def session(script) -> AramSession:
    return AramSession(CardProtocol(ScriptedConnection(script)))


def test_continuation_until_announced_length():
    rules = [rule(i) for i in range(12)]  # > 255 bytes
    raw = answer(rules)
    assert len(raw) > 256
    chunks = [raw[:255], raw[255:510], raw[510:]]
    script = [(GET_ALL, chunks[0].hex() + "9000")] + [(GET_NEXT, c.hex() + "9000") for c in chunks[1:] if c]
    got = session(script + script).read_rules()  # a list that needed FF60 is read twice
    assert got.rules == tuple(rules) and got.android.error is None
    assert got.pieces == tuple(len(c) for c in chunks)


@pytest.mark.parametrize("make,problem", [
    (lambda raw: [(GET_ALL, raw[:250].hex() + "9000"), (GET_NEXT, "6A88")], "stopped early"),
    (lambda raw: [(GET_ALL, raw[:257].hex() + "9000")], "257 bytes"),
    (lambda raw: [(GET_ALL, raw[:255].hex() + "9000"), (GET_NEXT, raw[255:510].hex() + "9000"),
                  (GET_NEXT, (raw[510:] + b"\x00").hex() + "9000")], "more than announced"),
    (lambda raw: [(GET_ALL, "E1009000")], "not FF40"),
])
def test_damaged_answers_are_reported_not_parsed(make, problem):
    raw = answer([rule(i) for i in range(12)])
    with pytest.raises(DamagedAnswerError, match=problem):
        session(make(raw)).read_rules()


def test_malformed_but_complete_answer_is_damaged():
    with pytest.raises(DamagedAnswerError, match="malformed"):
        session([(GET_ALL, "FF4003E201009000")]).read_rules()


def test_6a88_on_first_read_is_empty_but_android_error():
    got = session([(GET_ALL, "6A88")]).read_rules()
    assert got.rules == () and "6A88" in got.android.error


def test_plan_keeps_adds_and_prunes():
    a, b, c = rule(1), rule(2), rule(3)
    p = make_plan([a, b], [b, c], prune=False)
    assert (p.keep, p.add, p.delete) == ((b,), (c,), ())
    p = make_plan([a, b], [b, c], prune=True)
    assert (p.keep, p.add, p.delete, p.delete_all) == ((b,), (c,), (a,), False)
    assert set(r.identity for r in p.expected) == {b.identity, c.identity}


def test_plan_second_run_is_empty():
    a, b = rule(1), rule(2)
    assert make_plan([b, a], [a, b], prune=True).empty


def test_plan_duplicates_deleted_and_stored_once():
    a = rule(1)
    p = make_plan([a, a], [a], prune=False)
    assert p.delete == (a, a) and p.add == (a,) and p.keep == ()


def test_plan_same_ref_do_other_access_is_replaced():
    old, new = rule(1, apdu=False), rule(1, apdu=True)
    p = make_plan([old], [new], prune=False)
    assert p.delete == (old,) and p.add == (new,)


def test_plan_prune_everything_uses_delete_all_only_when_nothing_is_added():
    p = make_plan([rule(1), rule(2), rule(3)], [], prune=True)
    assert p.delete_all and p.changes == 1
    # with a rule to add, deleting one by one after the store keeps a rule on the card when pulled
    p = make_plan([rule(1), rule(2), rule(3)], [rule(4)], prune=True)
    assert not p.delete_all and p.changes == 4


def test_android_refusal_names_the_reason():
    p = make_plan([], [rule(1, aid=bytes.fromhex("A0000001"))], prune=False)
    assert "is not FFFFFFFFFFFF" in android_problems(p)[0]
    with pytest.raises(AndroidRefusalError, match="--force") as err:
        apply_plan(session([]), p)
    assert len(err.value.problems) == 1 and "is not FFFFFFFFFFFF" in err.value.problems[0]


def test_oversized_rule_refused_before_any_write():
    big = rule(1, package="p" * 250)
    p = make_plan([], [big], prune=False)
    with pytest.raises(ApduTooLongError, match="at most 255"):
        apply_plan(session([]), p)


def test_apply_sends_n_plus_few_and_verifies():
    a, b = rule(1), rule(2)
    p = make_plan([], [a, b], prune=False)
    script = [
        ("80E29000" + f"{len(a.encoded()) + 2:02X}" + "F0" + f"{len(a.encoded()):02X}" + a.encoded().hex(), "9000"),
        ("80E29000" + f"{len(b.encoded()) + 2:02X}" + "F0" + f"{len(b.encoded()):02X}" + b.encoded().hex(), "9000"),
        ("80E2900002F200", "9000"),
        ("80CADF2000", "DF2008" + "0102030405060708" + "9000"),
        (GET_ALL, answer([b, a]).hex() + "9000"),
    ]
    s = session(script)
    result = apply_plan(s, p)
    assert result.written == 2 and result.refresh_tag == bytes(range(1, 9))
    assert s.proto.apdu_count == 5


def test_apply_fails_when_read_back_differs():
    a = rule(1)
    p = make_plan([], [a], prune=False)
    enc = a.encoded()
    script = [
        ("80E29000" + f"{len(enc) + 2:02X}F0{len(enc):02X}" + enc.hex(), "9000"),
        ("80E2900002F200", "9000"),
        ("80CADF2000", "6A88"),
        (GET_ALL, "FF40009000"),
    ]
    with pytest.raises(VerificationError, match="1 rule\\(s\\) missing") as err:
        apply_plan(session(script), p)
    assert (err.value.missing, err.value.extra) == (1, 0)


def test_delete_plan_single_deletes_or_one_delete_all():
    current = (rule(1), rule(2, package="a.b"), rule(3, package="a.b"))
    some = delete_plan(current, lambda r: r.package == "a.b")
    assert some.delete == current[1:] and some.keep == current[:1] and not some.delete_all
    assert some.expected == current[:1] and some.changes == 2
    one = delete_plan(current, lambda r: r.hash == rule(1).hash)
    assert one.delete == current[:1] and one.changes == 1
    last_two = delete_plan(current[1:], lambda r: True)
    assert last_two.delete_all and last_two.changes == 1 and last_two.expected == ()
    everything = delete_plan(current, lambda r: False, everything=True)
    assert everything.delete_all and everything.delete == current and everything.keep == ()
    assert delete_plan(current, lambda r: False).empty
    assert delete_plan((), lambda r: True, everything=True).delete_all  # F1 00 on an empty card too
