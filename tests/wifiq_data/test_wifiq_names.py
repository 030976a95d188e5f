"""Every TS 23.003 §19.4.2.9 / §28.3.2.2 name form, spelled as AOSP Iwlan EpdgSelector does."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wifiq.errors import UsageError
from wifiq.names import (
    DEFAULT_KINDS,
    KINDS,
    EpdgName,
    LocationCodeError,
    UnknownKindError,
    check_kinds,
    group_by_fqdn,
    names_for,
)
from wifiq.plmn import Plmn

TELSTRA = Plmn("505", "01")
SPEC = Plmn("345", "12")  # the MCC/MNC TS 23.003's examples use
P = "pub.3gppnetwork.org"


def fqdn(plmn, kind, **codes):
    (name,) = names_for(plmn, (kind,), **codes)
    assert name.kind == kind and name.plmn == plmn
    return name.fqdn


def test_default_kinds_for_telstra():
    assert names_for(TELSTRA) == (
        EpdgName(TELSTRA, "epdg", f"epdg.epc.mnc001.mcc505.{P}"),
        EpdgName(TELSTRA, "sos", f"sos.epdg.epc.mnc001.mcc505.{P}"),
    )
    assert DEFAULT_KINDS == ("epdg", "sos")


@pytest.mark.parametrize(
    ("plmn", "expected"),
    [
        (Plmn("345", "12"), f"epdg.epc.mnc012.mcc345.{P}"),  # TS 23.003 example
        (Plmn("310", "260"), f"epdg.epc.mnc260.mcc310.{P}"),
        (Plmn("311", "480"), f"epdg.epc.mnc480.mcc311.{P}"),
        (Plmn("338", "050"), f"epdg.epc.mnc050.mcc338.{P}"),
        (Plmn("338", "05"), f"epdg.epc.mnc005.mcc338.{P}"),
        (Plmn("001", "01"), f"epdg.epc.mnc001.mcc001.{P}"),
    ],
)
def test_operator_identifier_pads_mnc_to_three_digits(plmn, expected):
    assert fqdn(plmn, "epdg") == expected


def test_57_and_057_share_one_fqdn_but_stay_distinct_plmns():
    a, b = Plmn("310", "57"), Plmn("310", "057")
    assert a != b
    assert fqdn(a, "epdg") == fqdn(b, "epdg") == f"epdg.epc.mnc057.mcc310.{P}"
    (shared,) = group_by_fqdn(names_for(a, ("epdg",)) + names_for(b, ("epdg",)))
    assert shared.plmns == (a, b)


@pytest.mark.parametrize(
    ("kind", "codes", "expected"),
    [
        ("sos", {}, f"sos.epdg.epc.mnc012.mcc345.{P}"),
        ("visited-country", {}, f"epdg.epc.mcc345.visited-country.{P}"),
        ("visited-country-sos", {}, f"sos.epdg.epc.mcc345.visited-country.{P}"),
        ("tac", {"tac": 0x0B1A}, f"tac-lb1a.tac-hb0b.tac.epdg.epc.mnc012.mcc345.{P}"),
        ("tac-sos", {"tac": 0x0B1A}, f"tac-lb1a.tac-hb0b.tac.sos.epdg.epc.mnc012.mcc345.{P}"),
        ("tac", {"tac": 0}, f"tac-lb00.tac-hb00.tac.epdg.epc.mnc012.mcc345.{P}"),
        ("tac", {"tac": 0xFFFF}, f"tac-lbff.tac-hbff.tac.epdg.epc.mnc012.mcc345.{P}"),
        ("tac-5gs", {"tac": 0x0B1A21},
         f"tac-lb21.tac-mb1a.tac-hb0b.5gstac.epdg.epc.mnc012.mcc345.{P}"),
        ("tac-5gs-sos", {"tac": 0x0B1A21},
         f"tac-lb21.tac-mb1a.tac-hb0b.5gstac.sos.epdg.epc.mnc012.mcc345.{P}"),
        ("tac-5gs", {"tac": 0x1A},
         f"tac-lb1a.tac-mb00.tac-hb00.5gstac.epdg.epc.mnc012.mcc345.{P}"),
        ("lac", {"lac": 0x1A2B}, f"lac1a2b.epdg.epc.mnc012.mcc345.{P}"),
        ("lac", {"lac": 0x00F}, f"lac000f.epdg.epc.mnc012.mcc345.{P}"),
        ("lac-sos", {"lac": 0x1A2B}, f"lac1a2b.sos.epdg.epc.mnc012.mcc345.{P}"),
        ("n3iwf", {}, f"n3iwf.5gc.mnc012.mcc345.{P}"),
        ("n3iwf-sos", {}, f"sos.n3iwf.5gc.mnc012.mcc345.{P}"),
        ("n3iwf-visited-country", {}, f"n3iwf.5gc.mcc345.visited-country.{P}"),
        ("n3iwf-visited-country-sos", {}, f"sos.n3iwf.5gc.mcc345.visited-country.{P}"),
        ("n3iwf-tac", {"tac": 0x1A21}, f"tac-lb21.tac-hb1a.tac.n3iwf.5gc.mnc012.mcc345.{P}"),
        ("n3iwf-tac-sos", {"tac": 0x1A21},
         f"tac-lb21.tac-hb1a.tac.sos.n3iwf.5gc.mnc012.mcc345.{P}"),
        ("n3iwf-tac-5gs", {"tac": 0x0B1A21},
         f"tac-lb21.tac-mb1a.tac-hb0b.5gstac.n3iwf.5gc.mnc012.mcc345.{P}"),
        ("n3iwf-tac-5gs-sos", {"tac": 0x0B1A21},
         f"tac-lb21.tac-mb1a.tac-hb0b.5gstac.sos.n3iwf.5gc.mnc012.mcc345.{P}"),
    ],
)
def test_every_form(kind, codes, expected):
    assert fqdn(SPEC, kind, **codes) == expected


def test_every_kind_is_covered_and_documented():
    import wifiq.names as module

    assert len(KINDS) == len(set(KINDS)) == 18
    for kind in KINDS:
        assert f"``{kind}``" in module.__doc__
        name = fqdn(SPEC, kind, tac=1, lac=1)
        assert name.endswith(P) and name == name.lower()
        assert all(0 < len(label) <= 63 for label in name.split("."))


def test_kinds_keep_given_order_and_drop_repeats():
    got = names_for(TELSTRA, ("sos", "epdg", "sos"))
    assert [n.kind for n in got] == ["sos", "epdg"]


@pytest.mark.parametrize(
    ("kind", "codes", "message"),
    [
        ("tac", {}, "needs a TAC"),
        ("tac-5gs", {"lac": 1}, "needs a TAC"),
        ("lac", {"tac": 1}, "needs a LAC"),
        ("tac", {"tac": 0x10000}, "TAC 65536 is out of range for name kind 'tac' (0..65535"),
        ("tac", {"tac": -1}, "out of range"),
        ("tac-5gs", {"tac": 0x1000000}, "out of range for name kind 'tac-5gs' (0..16777215"),
        ("lac", {"lac": 0x10000}, "LAC 65536 is out of range"),
        ("n3iwf-tac", {"tac": True}, "out of range"),
    ],
)
def test_location_code_errors(kind, codes, message):
    with pytest.raises(LocationCodeError, match=message.replace("(", r"\(")) as info:
        names_for(SPEC, (kind,), **codes)
    assert isinstance(info.value, UsageError) and info.value.kind == kind


def test_unknown_kind():
    for bad in ("EPDG", "n3iwf-lac", "sos-epdg", ""):
        with pytest.raises(UnknownKindError, match="unknown name kind"):
            names_for(TELSTRA, (bad,))


def test_check_kinds_raises_like_names_for():
    check_kinds(("epdg", "tac"), tac=5)
    with pytest.raises(LocationCodeError):
        check_kinds(("tac",))


def test_group_by_fqdn_merges_visited_country_per_mcc():
    names = [n for p in (Plmn("505", "01"), Plmn("505", "02"), Plmn("530", "01"))
             for n in names_for(p, ("visited-country", "epdg"))]
    groups = group_by_fqdn(names)
    assert [(g.kind, len(g.plmns)) for g in groups] == [
        ("visited-country", 2), ("epdg", 1), ("epdg", 1), ("visited-country", 1), ("epdg", 1)]


plmn_strategy = st.builds(Plmn, st.text("0123456789", min_size=3, max_size=3),
                          st.text("0123456789", min_size=2, max_size=3))


@given(plmn=plmn_strategy, kind=st.sampled_from(KINDS),
       tac=st.integers(0, 0xFFFF), tac5=st.integers(0, 0xFFFFFF), lac=st.integers(0, 0xFFFF))
def test_every_name_is_a_valid_lower_case_host_name(plmn, kind, tac, tac5, lac):
    code = tac5 if "5gs" in kind else tac
    (name,) = names_for(plmn, (kind,), tac=code, lac=lac)
    assert len(name.fqdn) <= 253 and name.fqdn == name.fqdn.lower()
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", label) for label in name.fqdn.split("."))
    if "visited-country" in kind:
        assert f".mcc{plmn.mcc}.visited-country.{P}" in name.fqdn
    else:
        assert name.fqdn.endswith(f".mnc{plmn.mnc3}.mcc{plmn.mcc}.{P}")
    if "tac" in kind:
        hexed = f"{code:06x}" if "5gs" in kind else f"{code:04x}"
        assert f"tac-lb{hexed[-2:]}." in name.fqdn and f"tac-hb{hexed[:2]}." in name.fqdn
