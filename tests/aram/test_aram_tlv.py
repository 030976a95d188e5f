"""BER-TLV codec: round trips, limits, and errors that name the offset."""

import pytest
from hypothesis import given, strategies as st

from simtool.aram.tlv import (
    MAX_DEPTH, Tlv, TlvError, encode_length, encode_tlv, parse_one, parse_single, parse_tlvs, read_header,
)
from tests.aram import vectors


@pytest.mark.parametrize("length,encoded", [(0, "00"), (127, "7F"), (128, "8180"), (255, "81FF"),
                                            (256, "820100"), (65535, "82FFFF"), (65536, "83010000")])
def test_length_forms(length, encoded):
    assert encode_length(length).hex().upper() == encoded


def test_two_byte_tag_and_long_length():
    value = bytes(300)
    raw = encode_tlv(0xFF40, value)
    assert raw[:5] == bytes.fromhex("FF4082012C")
    tlv, end = parse_one(raw)
    assert (tlv.tag, len(tlv.value), end) == (0xFF40, 300, len(raw))
    assert tlv.constructed


def test_seed_vector_round_trip():
    payload = bytes.fromhex(vectors.SEED_STORE_APDU)[5:]
    f0 = parse_single(payload, 0xF0)
    (e2,) = f0.children()
    assert e2.tag == 0xE2
    assert [t.tag for t in e2.children()] == [0xE1, 0xE3]
    assert f0.encode() == payload


def test_empty_set_vector():
    tlv = parse_single(bytes.fromhex(vectors.EMPTY_SET), 0xFF40)
    assert tlv == Tlv(0xFF40, b"")


@given(st.lists(st.tuples(st.sampled_from([0x4F, 0xC1, 0xCA, 0xDB, 0xDF20, 0xD0]), st.binary(max_size=300)),
                max_size=5))
def test_encode_parse_round_trip(items):
    raw = b"".join(encode_tlv(t, v) for t, v in items)
    parsed = parse_tlvs(raw)
    assert [(t.tag, t.value) for t in parsed] == items
    assert b"".join(t.encode() for t in parsed) == raw


@pytest.mark.parametrize("hexdata,problem", [
    ("E2", "missing length"),
    ("E205C1", "announces 5 bytes"),
    ("E280", "indefinite length"),
    ("E28401000000", "4-byte length"),
    ("E281", "truncated length"),
    ("1F", "truncated tag"),
    ("1F8181810100", "tag longer than 3 bytes"),
    ("E20300", "announces"),
])
def test_malformed_inputs_raise_with_offset(hexdata, problem):
    with pytest.raises(TlvError, match=problem) as info:
        parse_tlvs(bytes.fromhex(hexdata))
    assert info.value.offset >= 0


def test_nested_error_reported_inside_constructed():
    # E2 holding a truncated C1
    with pytest.raises(TlvError, match="announces 9 bytes"):
        parse_tlvs(bytes.fromhex("E204C1090102"))


def test_depth_limit_instead_of_recursion_error():
    raw = b""
    for _ in range(MAX_DEPTH + 3):
        raw = encode_tlv(0xE1, raw)
    with pytest.raises(TlvError, match="nesting deeper"):
        parse_tlvs(raw)


def test_length_limit_is_refused_before_reading():
    with pytest.raises(TlvError, match="over the"):
        read_header(bytes.fromhex("FF408301000000"), 0)


def test_trailing_bytes_rejected_by_parse_single():
    with pytest.raises(TlvError, match="found 2"):
        parse_single(bytes.fromhex("FF4000FF4000"), 0xFF40)
