"""PLMN parsing and validation: every accepted spelling, every rejection names the input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wifiq.errors import UsageError, WifiqError
from wifiq.plmn import InvalidMccError, InvalidPlmnError, Plmn, parse_mcc, parse_plmn


@pytest.mark.parametrize(
    ("text", "mcc", "mnc"),
    [
        ("505-01", "505", "01"),
        ("505/01", "505", "01"),
        ("505 01", "505", "01"),
        (" 505-01 ", "505", "01"),
        ("50501", "505", "01"),
        ("310260", "310", "260"),
        ("310-260", "310", "260"),
        ("338-050", "338", "050"),
        ("001-01", "001", "01"),
    ],
)
def test_parse_accepts(text, mcc, mnc):
    assert parse_plmn(text) == Plmn(mcc, mnc)


def test_mnc_length_is_kept_and_padded_only_for_dns():
    two, three = parse_plmn("505-01"), parse_plmn("505-001")
    assert two != three
    assert (two.mnc, three.mnc) == ("01", "001")
    assert two.mnc3 == three.mnc3 == "001"
    assert str(two) == "505-01" and str(three) == "505-001"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("5050", "expected MCC-MNC"),
        ("5050123", "expected MCC-MNC"),
        ("50-01", "MCC must be 3 digits"),
        ("5055-01", "MCC must be 3 digits"),
        ("505-1", "MNC must be 2 or 3 digits"),
        ("505-0001", "MNC must be 2 or 3 digits"),
        ("505-ab", "expected MCC-MNC"),
        ("abc-01", "expected MCC-MNC"),
        ("５０５-01", "expected MCC-MNC"),  # full-width digits are str.isdigit() but not ASCII
        ("505--01", "expected MCC-MNC"),
    ],
)
def test_parse_rejects_naming_input(text, reason):
    with pytest.raises(InvalidPlmnError) as info:
        parse_plmn(text)
    assert reason in str(info.value)
    assert repr(text) in str(info.value)
    assert info.value.text == text
    assert isinstance(info.value, UsageError) and isinstance(info.value, WifiqError)
    assert info.value.exit_code == 2


@pytest.mark.parametrize(("mcc", "mnc"), [("50", "01"), ("505", "1"), ("505", "0001"),
                                          ("5a5", "01"), ("505", "0x")])
def test_constructor_validates(mcc, mnc):
    with pytest.raises(InvalidPlmnError):
        Plmn(mcc, mnc)


def test_ordering_is_by_mcc_then_mnc_string():
    plmns = [Plmn("505", "01"), Plmn("338", "050"), Plmn("338", "05"), Plmn("001", "01")]
    assert [str(p) for p in sorted(plmns)] == ["001-01", "338-05", "338-050", "505-01"]


def test_parse_mcc():
    assert parse_mcc(" 505 ") == "505"
    for bad in ("50", "5055", "abc", ""):
        with pytest.raises(InvalidMccError, match="invalid MCC"):
            parse_mcc(bad)


digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


@given(mcc=st.text("0123456789", min_size=3, max_size=3),
       mnc=st.text("0123456789", min_size=2, max_size=3))
def test_str_and_run_together_round_trip(mcc, mnc):
    plmn = Plmn(mcc, mnc)
    assert parse_plmn(str(plmn)) == plmn
    assert parse_plmn(mcc + mnc) == plmn
    assert parse_plmn(f"{mcc}/{mnc}") == plmn


@given(st.text(max_size=12))
def test_arbitrary_text_parses_or_raises_invalid_plmn(text):
    try:
        plmn = parse_plmn(text)
    except InvalidPlmnError as err:
        assert err.text == text
    else:
        assert len(plmn.mcc) == 3 and len(plmn.mnc) in (2, 3)
