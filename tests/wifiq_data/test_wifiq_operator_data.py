"""The embedded operator list: provenance, integrity, the oddities the build handled."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from wifiq.operators import NothingSelectedError, UnknownCountryError, load_operators
from wifiq.operators.build import build_file
from wifiq.plmn import InvalidMccError, Plmn

CORPUS = Path(__file__).parent / "corpus"
TARBALL = CORPUS / "mcc-mnc-list-1.1.11.tgz"
PINNED = "sha512-3kkW2fvLtsKch1ci+t/3VOggmhwAviHv8MzDp8Lq5u8u00QMflLSDiNRtXqAzSfCYoNslAs9Yy8deKreygHS/w=="
EMBEDDED = resources.files("wifiq.operators") / "data" / "mcc-mnc.json"

# The project's reference notes list MCCs with 3-digit MNCs only: 302, 311, 312, 313, 315,
# 316, 330, 334, 342-376, 708, 722, 732, 750. The Wikipedia data contradicts that for part of
# the 342-376 range: these MCCs use 2-digit MNCs there (Bermuda 350 both; Curacao 362, Aruba
# 363, Bahamas 364, Cuba 368, Dominican Republic 370, Haiti 372: 2 digits; 374 is "mixed" in
# the notes too). The source wins; the test pins the contradiction so a data update shows it.
TWO_DIGIT_IN_342_376 = {"350", "362", "363", "364", "368", "370", "372", "374"}
THREE_DIGIT_ONLY = (["302", "311", "312", "313", "315", "316", "330", "334"]
                    + [str(m) for m in range(342, 377) if str(m) not in TWO_DIGIT_IN_342_376]
                    + ["708", "722", "732", "750"])
MIXED = ["310", "338", "350", "374", "405", "441", "502", "710", "714", "738"]


@pytest.fixture(scope="module")
def db():
    return load_operators(user_files=False)


@pytest.fixture(scope="module")
def doc():
    return json.loads(EMBEDDED.read_bytes())


def test_source_is_pinned_and_recorded(doc):
    meta = doc["metadata"]
    assert meta["source"]["package"] == "mcc-mnc-list"
    assert meta["source"]["version"] == "1.1.11"
    assert meta["source"]["integrity"] == PINNED
    assert meta["source"]["retrieved"] == "2026-11-26"
    assert meta["licence"] == "CC BY-SA 4.0"
    assert "Wikipedia contributors" in meta["attribution"]
    attribution = (resources.files("wifiq.operators") / "data" / "ATTRIBUTION.txt").read_text()
    assert PINNED in attribution and "CC BY-SA 4.0" in attribution


def test_corpus_tarball_is_the_pinned_one():
    digest = base64.b64encode(hashlib.sha512(TARBALL.read_bytes()).digest()).decode()
    assert f"sha512-{digest}" == PINNED


def test_embedded_file_is_exactly_what_the_build_makes_from_the_pinned_tarball():
    text, _ = build_file(TARBALL, retrieved="2026-11-26")
    assert text == EMBEDDED.read_text(encoding="utf-8")


def test_row_counts(db, doc):
    meta = doc["metadata"]
    assert (meta["rows_in"], meta["rows_out"], meta["plmns"]) == (3094, 3085, 3038)
    assert len(db.all()) == 3085 and len(db.plmns()) == 3038
    assert meta["rows_in"] == meta["rows_out"] + len(meta["skipped"]) + len(meta["merged_identical"])


def test_mnc_strings_keep_their_source_length(db):
    import tarfile

    with tarfile.open(TARBALL) as archive:
        handle = archive.extractfile("package/mcc-mnc-list.json")
        assert handle is not None
        source = json.load(handle)
    wanted = Counter((r["mcc"], r["mnc"]) for r in source if re.fullmatch(r"\d{2,3}", r["mnc"]))
    have = Counter((op.plmn.mcc, op.plmn.mnc) for op in db.all())
    assert set(have) == set(wanted)
    assert Counter(len(op.plmn.mnc) for op in db.all()) == Counter({2: 2238, 3: 847})


def test_skipped_rows_are_the_odd_mncs(doc):
    skipped = {(s["mcc"], s["mnc"]) for s in doc["metadata"]["skipped"]}
    assert skipped == {("208", "50144"), ("208", "50164"), ("208", "50168"), ("208", "50169"),
                       ("208", "50176"), ("208", "50194"), ("314", "100 - 190"), ("704", "?")}
    assert len(doc["metadata"]["skipped"]) == 9  # two "?" rows under 704


def test_no_duplicate_rows_and_every_shared_plmn_is_documented(db, doc):
    rows = Counter((op.plmn, op.country_iso, op.operator, op.brand) for op in db.all())
    assert max(rows.values()) == 1
    per_plmn = Counter(op.plmn for op in db.all())
    shared = {str(p) for p, n in per_plmn.items() if n > 1}
    assert shared == set(doc["metadata"]["shared_plmns"])
    assert len(shared) == 40
    assert doc["metadata"]["shared_plmns"]["234-50"] == ["GB", "GG", "JE"]


@pytest.mark.parametrize("mcc", THREE_DIGIT_ONLY)
def test_three_digit_mccs_have_only_three_digit_mncs(db, mcc):
    assert all(len(op.plmn.mnc) == 3 for op in db.search(mcc=[mcc]))


def test_three_digit_mccs_present(db):
    present = [m for m in THREE_DIGIT_ONLY if db.search(mcc=[m])]
    assert {"302", "311", "312", "313", "330", "334", "708", "722", "732", "750"} <= set(present)


@pytest.mark.parametrize("mcc", sorted(TWO_DIGIT_IN_342_376))
def test_reference_exceptions_in_342_376_use_two_digit_mncs(db, mcc):
    assert any(len(op.plmn.mnc) == 2 for op in db.search(mcc=[mcc]))


@pytest.mark.parametrize("mcc", MIXED)
def test_mixed_mccs_have_three_digit_mncs(db, mcc):
    assert any(len(op.plmn.mnc) == 3 for op in db.search(mcc=[mcc]))


def test_mcc_338_has_both_05_and_050(db):
    assert db.get(Plmn("338", "05")) is not None
    assert db.get(Plmn("338", "050")) is not None
    assert db.get(Plmn("338", "05")) != db.get(Plmn("338", "050"))


def test_international_and_test_ranges(db):
    intl = db.search(mcc=["901"])
    assert len(intl) == 97
    assert {op.country_iso for op in intl} == {""}
    assert {op.country for op in intl} == {"International"}
    assert {op.country for op in db.search(mcc=["001", "999"])} == {"Test network"}


def test_text_is_normalised(db):
    for op in db.all():
        for value in (op.brand, op.operator, op.country, op.status):
            assert value is None or (value == value.strip() and "  " not in value and value)


def test_get_telstra_and_home_country_preference(db):
    telstra = db.get(Plmn("505", "01"))
    assert telstra is not None and telstra.brand == "Telstra" and telstra.country_iso == "AU/CC/CX"
    assert db.get(Plmn("505", "001")) is None
    assert db.same_fqdn(Plmn("505", "001")) == (Plmn("505", "01"),)
    tmo = db.get(Plmn("310", "260"))
    assert tmo is not None and tmo.country_iso == "US"  # rows for PR, US and VI
    jt = db.get(Plmn("234", "50"))
    assert jt is not None and jt.country_iso == "GB"


def test_search_filters(db):
    au = db.search(country=["au"])
    assert au and all("AU" in op.country_codes for op in au)
    assert {op.plmn.mcc for op in au} == {"505"}
    assert db.search(country=["GE-AB"])  # Abkhazia: a subdivision code kept as given
    assert [str(op.plmn) for op in db.search(country=["AU"], text="TELSTRA")][:1] == ["505-01"]
    assert db.search(plmn=[Plmn("505", "01")], mcc=["505"]) == (db.get(Plmn("505", "01")),)
    assert db.search(plmn=[Plmn("505", "01")], mcc=["310"]) == ()
    both = db.search(country=["AU", "NZ"])
    assert {op.plmn.mcc for op in both} == {"505", "530"}
    assert db.search(text="505-01")[0].plmn == Plmn("505", "01")
    with pytest.raises(UnknownCountryError, match="'ZZ'"):
        db.search(country=["ZZ"])
    with pytest.raises(InvalidMccError, match="'5050'"):
        db.search(mcc=["5050"])


def test_select(db):
    assert db.select(plmn=[Plmn("001", "01"), Plmn("001", "01"), Plmn("999", "999")]) == (
        Plmn("001", "01"), Plmn("999", "999"))  # explicit PLMNs need not be in the data
    nz = db.select(country=["NZ"])
    assert len(nz) == len(set(nz)) and all(p.mcc == "530" for p in nz)
    shared = db.select(plmn=[Plmn("234", "50")], country=["GB", "JE"])
    assert shared == (Plmn("234", "50"),)  # one PLMN even though two rows match
    with pytest.raises(NothingSelectedError):
        db.select()
    with pytest.raises(NothingSelectedError, match="no operator matches"):
        db.select(country=["AU"], text="no such operator name")


def test_operator_properties(db):
    telstra = db.get(Plmn("505", "01"))
    assert telstra is not None
    assert telstra.country_codes == ("AU", "CC", "CX") and telstra.display_name == "Telstra"
    no_brand = db.get(Plmn("505", "04"))  # Department of Defence: operator only
    assert no_brand is not None and no_brand.brand is None
    assert no_brand.display_name == no_brand.operator
    intl = db.search(mcc=["901"])[0]
    assert intl.country_codes == ()
