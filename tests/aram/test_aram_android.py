"""Android's acceptance of rules, pinned with the reference vectors and AOSP's own test vectors."""

import pytest

from simtool.aram.android import check_answer, check_rule, matches
from simtool.aram.rules import AccessRule, encode_all_ref_ar_do, encode_ref_ar_do, parse_all_ref_ar_do, parse_ref_ar_do
from simtool.aram.tlv import encode_tlv
from tests.aram import vectors


def _e2(store_apdu_hex: str) -> bytes:
    payload = bytes.fromhex(store_apdu_hex)[5:]
    return payload[2:]  # strip F0 + 1-byte length


def test_seed_rule_is_honoured():
    v = check_rule(_e2(vectors.SEED_STORE_APDU))
    assert v.honoured and v.hash.hex().upper() == vectors.SEED_HASH and v.package is None


def test_package_rule_is_honoured_for_that_package_only():
    v = check_rule(_e2(vectors.PACKAGE_STORE_APDU))
    assert v.honoured and v.package == "com.example.app"
    h = {bytes.fromhex(vectors.SEED_HASH)}
    assert matches(v, h, "com.example.app")
    assert not matches(v, h, "com.other")


def test_aosp_normal():
    r = check_answer(bytes.fromhex(vectors.AOSP_NORMAL))
    assert r.error is None and [v.honoured for v in r.rules] == [True]
    assert r.rules[0].package == "com.google.android.apps.myapp"


@pytest.mark.parametrize("answer", [vectors.AOSP_WITH_4F_D0_D1, vectors.AOSP_WITH_4F_D0])
def test_aosp_4f_ffffffffffff_with_d0_d1_is_honoured(answer):
    r = check_answer(bytes.fromhex(answer))
    assert r.error is None and r.rules[0].honoured and r.rules[0].package is None


def test_aosp_two_messages_both_parsed_but_short_hashes_match_nothing():
    r = check_answer(bytes.fromhex(vectors.AOSP_TWO_MESSAGES))
    assert r.error is None
    # AOSP loads both rules (hash b61b / abcd); a real certificate digest is 20 or 32 bytes,
    # so we report them as unable to grant anything.
    assert [v.hash.hex() for v in r.rules] == ["b61b", "abcd"]
    assert not any(v.honoured for v in r.rules)
    assert "2 bytes" in r.rules[0].reason


def test_aosp_4f00_skipped():
    r = check_answer(bytes.fromhex(vectors.AOSP_INVALID_4F00))
    assert r.error is None and not r.rules[0].honoured and "4F 00" in r.rules[0].reason


def test_aosp_no_db_skipped():
    r = check_answer(bytes.fromhex(vectors.AOSP_INVALID_NO_DB))
    assert r.error is None and not r.rules[0].honoured and "DB" in r.rules[0].reason


HASH = bytes.fromhex(vectors.SEED_HASH)


@pytest.mark.parametrize("rule,honoured,reason", [
    (AccessRule(HASH, aid=None), True, "honoured"),
    (AccessRule(HASH, aid=bytes.fromhex("A000000151")), False, "AID A000000151"),
    (AccessRule(HASH, aid=None, aid_implicit=True), False, "implicit"),
    (AccessRule(HASH, perm=None), False, "no PERM-AR-DO"),
    (AccessRule(bytes(32)), True, "SHA-256"),
    (AccessRule(b""), False, "0 bytes"),
])
def test_single_rule_forms(rule, honoured, reason):
    v = check_rule(rule.encoded())
    assert v.honoured is honoured and reason in v.reason


def _t(tag: int, *parts: bytes) -> bytes:
    return encode_tlv(tag, b"".join(parts))


_C1 = _t(0xC1, bytes(20))
_AR = _t(0xE3, _t(0xDB, bytes(8)))


@pytest.mark.parametrize("bad_rule", [
    _t(0xE2, _t(0xE1, _C1, _t(0xCA, b"abc"), _t(0xDB, b"\x00")), _AR),   # something after CA
    _t(0xE2, _t(0xE1, _C1), _t(0xE3, _t(0xDB, bytes(8)), _t(0x0D, b"\x00"))),  # something after DB
    _t(0xE2, _t(0xE1, _C1), _t(0xD0, b"\x01")),                         # REF-AR-DO holds D0
    _t(0xE2, _t(0xE1, _C1), _t(0xE3, _t(0xD0, b"\x01"), b"\xdb\x09")), # DB announces too much
], ids=["after-CA", "after-DB", "not-E1-E3", "truncated-DB"])
def test_whole_set_failures(bad_rule):
    good = AccessRule(HASH).encoded()
    r = check_answer(encode_tlv(0xFF40, good + bad_rule))
    assert r.error is not None and "drops all rules" in r.error and r.rules == ()


def test_status_word_other_than_9000_is_whole_set_error():
    assert "6A88" in check_answer(None, 0x6A88).error
    assert check_answer(b"").error


def test_empty_set_is_fine():
    r = check_answer(bytes.fromhex(vectors.EMPTY_SET))
    assert r.error is None and r.rules == ()


def test_android_one_byte_length_quirk():
    # first length byte 0x81 but exactly that many bytes follow: Android reads it as one byte
    rule = AccessRule(HASH).encoded()
    body = rule + bytes(0x81 - len(rule))
    assert check_answer(b"\xff\x40\x81" + body).error is not None  # long form: 81 <len> -> mismatch
    assert check_answer(encode_tlv(0xFF40, rule)).error is None


def test_parse_and_encode_aosp_vectors_round_trip():
    for answer in (vectors.AOSP_NORMAL, vectors.AOSP_WITH_4F_D0_D1, vectors.AOSP_TWO_MESSAGES,
                   vectors.AOSP_INVALID_4F00, vectors.AOSP_INVALID_NO_DB):
        raw = bytes.fromhex(answer)
        rules = parse_all_ref_ar_do(raw)
        assert encode_all_ref_ar_do(rules) == raw
        # rebuilt from the model alone (no raw bytes) gives the same canonical bytes
        rebuilt = [AccessRule(**{**r.__dict__, "raw": b""}) for r in rules]
        assert encode_all_ref_ar_do(rebuilt) == raw


def test_seed_rule_model():
    rule = parse_ref_ar_do(_e2(vectors.SEED_STORE_APDU))
    assert rule == AccessRule(HASH, apdu=True)
    assert rule.aid == bytes.fromhex("FFFFFFFFFFFF") and rule.perm == bytes.fromhex("0000000000000001")


def test_parse_keeps_the_first_of_repeated_objects_and_the_rest_as_extra():
    from simtool.aram.rules import parse_ref_ar_do
    from simtool.aram.tlv import encode_tlv

    h1, h2 = bytes(range(20)), bytes(range(1, 21))
    ref = encode_tlv(0xE1, encode_tlv(0x4F, b"\xff" * 6) + encode_tlv(0xC1, h1) + encode_tlv(0xC1, h2)
                     + encode_tlv(0x4F, b"") + encode_tlv(0xC0, b""))
    rule = parse_ref_ar_do(encode_tlv(0xE2, ref + encode_tlv(0xE3, encode_tlv(0xD0, b"\x01"))))
    assert rule.hash == h1 and rule.aid == b"\xff" * 6 and rule.aid_implicit and rule.apdu is True
    assert [(t.tag, t.value) for t in rule.extra_ref] == [(0xC1, h2), (0x4F, b"")]
    assert rule.perm is None and rule.has_ar_do  # E3 without DB: no permissions, not the default
    bare = parse_ref_ar_do(encode_tlv(0xE2, encode_tlv(0xE1, encode_tlv(0xC1, h1))))
    assert bare.perm is None and not bare.has_ar_do and bare.aid is None and bare.extra_ar == ()


def test_a_package_with_control_characters_cannot_forge_a_line():
    """The verdict's reason is printed as text (aram list, check --rules): a package name from a
    card or a rule file holding a newline or ESC is shown escaped, on one line."""
    package = "com.x\nsimtool: fake\x1b[8m"
    rule = AccessRule(hash=bytes(20), package=package)
    v = check_rule(encode_ref_ar_do(rule))
    assert v.honoured and v.package == package  # the data itself is kept exactly
    assert "\n" not in v.reason and "\x1b" not in v.reason and "\\n" in v.reason
