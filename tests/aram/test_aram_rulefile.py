"""Rule files: JSON and TOML round trips of every field, and errors naming the file and rule."""

import json
from pathlib import Path

import pytest

from simtool.aram.errors import RuleFileError
from simtool.aram.rulefile import MAX_FILE_BYTES, dump_rules, load_desired_rules, load_rules, rule_from_dict, rule_to_dict
from simtool.aram.rules import AccessRule, ApduFilter
from simtool.aram.tlv import Tlv

H = bytes(range(20))
RULES = (
    AccessRule(H, apdu=True),
    AccessRule(bytes(32), aid=b"", package="com.example.app", nfc=False, perm=None),
    AccessRule(H, aid=None, aid_implicit=True, apdu=(ApduFilter(b"\x80\xca\x00\x00", b"\xff\xff\x00\x00"),),
               nfc=True, extra_ar=(Tlv(0xDD, b"\x01"),)),
    AccessRule(None, aid=bytes.fromhex("A0000001510001"), has_ar_do=False, perm=None),
)


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_round_trip(tmp_path, fmt):
    path = tmp_path / f"rules.{fmt}"
    path.write_text(dump_rules(RULES, fmt))
    assert load_rules(path) == RULES


def test_defaults_are_the_android_form():
    rule = rule_from_dict({"hash": "00" * 20}, "x")
    assert rule.aid == bytes.fromhex("FFFFFFFFFFFF") and rule.perm == bytes.fromhex("0000000000000001")
    assert rule.apdu is None and rule.package is None


def test_list_json_is_a_valid_rule_file(tmp_path):
    rows = [{"index": 1, "android": True, "android_reason": "honoured", **rule_to_dict(r)} for r in RULES]
    path = tmp_path / "list.json"
    path.write_text(json.dumps(rows))
    assert load_rules(path) == RULES


@pytest.mark.parametrize("text,problem", [
    ('{"rules": [{"aid": "FFFFFFFFFFFF"}]}', "rule 1: missing hash"),
    ('{"rules": [{"hash": "zz"}]}', "rule 1: hash 'zz' is not hex"),
    ('{"rules": [{"hash": "00", "perm": "01"}]}', "perm is 1 bytes, expected 8"),
    ('{"rules": [{"hash": "00", "colour": 1}]}', "unknown key"),
    ('{"rules": [{"hash": "00", "apdu": "sometimes"}]}', "apdu must be"),
    ('{"rules": [{"hash": "00", "nfc": "yes"}]}', "nfc must be"),
    ('{"rules": [{"hash": "00", "package": "caf\\u00e9"}]}', "ASCII"),
    ('{"rules": [{"hash": "00", "package": "com.x\\nsimtool: fake"}]}', "printable ASCII"),
    ('{"rules": [{"hash": "00", "package": "com.x\\u001b[8m"}]}', "printable ASCII"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"rules": {}}', "expected a list"),
    ('{"rules": [', "invalid JSON at line 1"),
])
def test_errors_name_file_and_rule(tmp_path, text, problem):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(RuleFileError, match=problem) as info:
        load_rules(path)
    assert str(path) in str(info.value) and info.value.exit_code == 2


def test_bad_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[rules]\nhash = 1")
    with pytest.raises(RuleFileError, match="invalid TOML"):
        load_rules(bad)
    with pytest.raises(RuleFileError, match="No such file"):
        load_rules(tmp_path / "missing.toml")


def test_a_file_without_a_size_is_read_bounded(tmp_path):
    """/dev/zero (st_size 0) must give the one-line size error, not read until memory runs out
    (stat's size said nothing about it)."""
    with pytest.raises(RuleFileError, match="more than .* bytes") as info:
        load_rules(Path("/dev/zero"))
    assert "/dev/zero" in str(info.value) and info.value.exit_code == 2


def test_a_large_regular_file_is_refused(tmp_path):
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(RuleFileError, match="more than"):
        load_rules(big)
    big.write_bytes(b"#" * MAX_FILE_BYTES)  # the limit itself is a (comment-only, empty) file
    assert load_rules(big) == ()


def test_deeply_nested_toml_is_a_one_line_error(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000)
    with pytest.raises(RuleFileError, match="nested too deeply") as info:
        load_rules(path)
    assert info.value.exit_code == 2


def test_two_rules_with_one_ref_do_are_refused_for_writing(tmp_path):
    """A card holds one rule per REF-DO (6A89 to a second): a file wanting two different rules
    with the same AID + hash + package could never be applied. The same rule twice is fine, and
    load_rules (export's verification reads what a card holds) still takes both."""
    h = "ECD4D29EA0D569CC32F6CEB0956B061937570E1E"
    path = tmp_path / "conflict.toml"
    path.write_text(f'[[rules]]\nhash = "{h}"\napdu = "always"\n[[rules]]\nhash = "{h}"\napdu = "never"\n')
    with pytest.raises(RuleFileError, match="rules 1 and 2 have the same REF-DO") as info:
        load_desired_rules(path)
    assert info.value.exit_code == 2 and len(load_rules(path)) == 2
    other_aid = path.with_name("other.toml")
    other_aid.write_text(f'[[rules]]\nhash = "{h}"\n[[rules]]\nhash = "{h}"\naid = "A000000001"\n')
    assert len(load_desired_rules(other_aid)) == 2
    twice = path.with_name("twice.toml")
    twice.write_text(f'[[rules]]\nhash = "{h}"\n[[rules]]\nhash = "{h}"\n')
    assert len(load_desired_rules(twice)) == 2


def test_a_rule_too_long_for_one_store_data_is_refused(tmp_path: Path) -> None:
    # 255 data bytes is what one STORE DATA carries; rule 2 (a 3,000-character package) cannot be
    # stored on any card, so check --rules / apply must not call it honoured.
    ok = {"hash": "A" * 40, "package": "p" * 150}
    long = {"hash": "A" * 40, "package": "p" * 3000}
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": [ok, long]}))
    with pytest.raises(RuleFileError, match=r"rule 2 encodes to 30\d\d bytes; one STORE DATA carries at most 255"):
        load_desired_rules(path)
    path.write_text(json.dumps({"rules": [ok]}))
    assert len(load_desired_rules(path)) == 1
