"""Unit tests of the simulated card's pure logic (no pcscd): framing, CLA, TLV, config checks,
and that no byte string makes the simulator fail (it must answer like a card, never crash)."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.rig.vcard.__main__ import ConfigError, build_card
from tests.rig.vcard.apdu import ApduFormatError, ClassByte, decode_cla, parse_command
from tests.rig.vcard.aram_applet import Entry, decode_entry
from tests.rig.vcard.card import iccid_to_ef
from tests.rig.vcard.profiles import PROFILES
from tests.rig.vcard.tlv import TlvError, encode_tlv, parse_one, read_tlv


@pytest.mark.parametrize("raw, case, data, le", [
    ("80CAFF40", 1, "", None),
    ("80CAFF4000", 2, "", 256),
    ("80CAFF400A", 2, "", 10),
    ("00A4040002 3F00", 3, "3F00", None),
    ("00A4040002 3F00 00", 4, "3F00", 256),
])
def test_command_cases(raw, case, data, le):
    cmd = parse_command(bytes.fromhex(raw.replace(" ", "")))
    assert (cmd.case, cmd.data.hex().upper(), cmd.le) == (case, data, le)


@pytest.mark.parametrize("raw", ["80CA", "80CAFF40000002", "00A4040002 3F", "00A4040002 3F000000"])
def test_unframeable_commands_answer_6700(raw):
    with pytest.raises(ApduFormatError) as err:
        parse_command(bytes.fromhex(raw.replace(" ", "")))
    assert err.value.sw == 0x6700


@pytest.mark.parametrize("cla, expected", [
    (0x00, ClassByte(0, False, False, False)),
    (0x83, ClassByte(3, True, False, False)),
    (0x84, ClassByte(0, True, True, False)),
    (0x10, ClassByte(0, False, False, True)),
    (0xA0, ClassByte(0, True, False, False)),
    (0x40, ClassByte(4, False, False, False)),
    (0x4F, ClassByte(19, False, False, False)),
    (0xC5, ClassByte(9, True, False, False)),
    (0x60, ClassByte(4, False, True, False)),
    (0xFF, None),
    (0x20, None),
])
def test_class_byte(cla, expected):
    assert decode_cla(cla) == expected


def test_tlv_lengths_and_errors():
    assert read_tlv(bytes.fromhex("FF408180") + bytes(0x80), 0)[1] == 4 + 0x80
    assert parse_one(encode_tlv(0xFF40, bytes(300))).value == bytes(300)
    assert encode_tlv(0xE2, bytes(200))[:3] == bytes.fromhex("E281C8")
    for bad in ("E2", "E205AABB", "FF", "E280", "E2840000000100", "E2020000FF"):
        with pytest.raises(TlvError):
            parse_one(bytes.fromhex(bad))


def test_iccid_is_bcd_with_swapped_nibbles():
    assert iccid_to_ef("89882110000000000019").hex().upper() == "98881201000000000091"
    assert iccid_to_ef("8949440000001234567").hex().upper() == "989444000000214365F7"


def test_applet_entries_round_trip_and_refuse_other_layouts():
    entry = Entry(bytes.fromhex("FFFFFFFFFFFF"), bytes(20), bytes.fromhex("DB080000000000000001"))
    assert decode_entry(entry.encode()) == entry
    assert entry.java_length() == len(entry.encode())
    with_package = bytes.fromhex("E21EE11CC114" + "00" * 20 + "CA03616263") + bytes.fromhex("E300")
    with pytest.raises(ValueError, match="aram-applet can hold"):
        decode_entry(with_package)


@pytest.mark.parametrize("config, message", [
    ({"profile": "nope"}, "unknown card profile"),
    ({"iccid": "8988ABC"}, "18 to 20 digits"),
    ({"adm_key": "31323334"}, "8 bytes"),
    ({"profile": "aram-applet", "rules": ["E210E10EC10C" + "00" * 12 + "E300"]}, "can hold"),
])
def test_unusable_configs_are_refused(tmp_path, config, message):
    with pytest.raises(ConfigError, match=message):
        build_card(config, tmp_path / "state.json")


@settings(max_examples=300, deadline=None)
@given(profile=st.sampled_from(sorted(PROFILES)),
       apdus=st.lists(st.binary(min_size=0, max_size=40), max_size=8),
       header=st.sampled_from(["80CA", "80E2", "00A4", "0070", "00C0", "00B0", "0020", "C0CA"]),
       aid=st.sampled_from(["A00000015141434C00", "A00000015144414300"]))
@example(profile="arad-aram", apdus=[b"\xff\x40\x00", b"\xff\x60\x00"], header="80CA", aid="A00000015144414300")
def test_no_input_crashes_the_card(tmp_path_factory, profile, apdus, header, aid):
    card = build_card({"profile": profile}, tmp_path_factory.mktemp("s") / "state.json")
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):  # the card logs its own failures there (6F00)
        card.transmit(bytes.fromhex("00A4040009" + aid))  # ARA-M, or ARA-D (answering GET DATA: arad-*)
        for tail in apdus:
            answer = card.transmit(bytes.fromhex(header) + tail)
            assert len(answer) >= 2
    assert errors.getvalue() == ""


@settings(max_examples=300, deadline=None)
@given(profile=st.sampled_from(sorted(PROFILES)), tag=st.sampled_from([0xF0, 0xF1, 0xF2]),
       body=st.binary(max_size=120), nested=st.booleans())
def test_no_store_payload_crashes_the_card(tmp_path_factory, profile, tag, body, nested):
    card = build_card({"profile": profile}, tmp_path_factory.mktemp("s") / "state.json")
    if nested:  # look more like a rule, so parsing goes deeper
        body = encode_tlv(0xE2, encode_tlv(0xE1, body[:40]) + encode_tlv(0xE3, body[40:]))
    payload = encode_tlv(tag, body)
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        assert card.transmit(bytes.fromhex("0020000A083132333435363738")) == b"\x90\x00"
        card.transmit(bytes.fromhex("00A4040009A00000015141434C00"))
        answer = card.transmit(bytes.fromhex("80E29000") + bytes([len(payload)]) + payload)
        assert len(answer) == 2
        card.transmit(bytes.fromhex("80CAFF4000"))
        card.transmit(bytes.fromhex("80CAFF6000"))
    assert errors.getvalue() == ""
