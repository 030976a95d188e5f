"""ARF file formats: parse/encode round trips, padding, bounds, and Android's reading of them."""

from __future__ import annotations

import pytest

from simtool.arf.android import android_acrf, android_accf
from simtool.arf.errors import ArfFileFullError, ArfFormatError
from simtool.arf.files import (
    CARRIER_AID, GP_SEAC_OID, AccfCondition, Acmf, AcrfRule, DirApp, OidDataObject, Odf, Path,
    acmf_path, decode_oid, encode_accf, encode_acmf, encode_acrf, encode_dir_record,
    encode_dodf, encode_odf, encode_oid, fill, next_refresh_tag, parse_accf, parse_acmf, parse_acrf,
    parse_dir_record, parse_dodf, parse_odf, PKCS15_AID,
)

H1 = bytes.fromhex("E46872F28B350B7E1F140DE535C2A8D5804F0BE3")
H2 = bytes(range(32))


def test_android_example_acrf_bytes() -> None:
    # the example in UiccPkcs15's comment: [A0] 08 [04] 06 FFFFFFFFFFFF [30] 04 [04] 02 4310
    rule = AcrfRule("aid", CARRIER_AID, Path(bytes.fromhex("4310")))
    raw = encode_acrf((rule,))
    assert raw.hex().upper() == "3010A00804" "06FFFFFFFFFFFF" "30040402" "4310"
    assert parse_acrf(fill(raw, 64, "EF.ACRF")) == (rule,)
    assert android_acrf(fill(raw, 64, "EF.ACRF")).accf_path == bytes.fromhex("4310")


def test_oid_round_trip() -> None:
    assert encode_oid(GP_SEAC_OID).hex().upper() == "2A864886FC6B81480101"
    for oid in (GP_SEAC_OID, "2.5.4.3", "1.3.6.1.4.1.99999.1", "2.999.1"):
        assert decode_oid(encode_oid(oid)) == oid
    with pytest.raises(ArfFormatError):
        decode_oid(bytes.fromhex("2A86"))
    with pytest.raises(ValueError):
        encode_oid("x.y")


@pytest.mark.parametrize("size_extra", [0, 1, 17])
def test_round_trips_with_padding(size_extra: int) -> None:
    acmf = Acmf(bytes.fromhex("0000000000000007"), Path(bytes.fromhex("4300")))
    raw = encode_acmf(acmf)
    assert parse_acmf(fill(raw, len(raw) + size_extra, "EF.ACMF")) == acmf
    dodf = (OidDataObject(GP_SEAC_OID, Path(bytes.fromhex("4200")), "GP SE Acc Ctl"),)
    raw = encode_dodf(dodf)
    assert parse_dodf(fill(raw, len(raw) + size_extra, "EF.DODF")) == dodf
    assert acmf_path(dodf) == Path(bytes.fromhex("4200"))
    odf = Odf((Path(bytes.fromhex("5207")),))
    raw = encode_odf(odf)
    assert parse_odf(fill(raw, len(raw) + size_extra, "EF.ODF")) == odf
    rules = (AcrfRule("aid", CARRIER_AID, Path(bytes.fromhex("4310"))),
             AcrfRule("default", None, Path(bytes.fromhex("4311"))),
             AcrfRule("all", None, Path(bytes.fromhex("3F0050004312"))),
             AcrfRule("aid", bytes.fromhex("A0000000871002"), Path(bytes.fromhex("4313"))))
    raw = encode_acrf(rules)
    assert parse_acrf(fill(raw, len(raw) + size_extra, "EF.ACRF")) == rules
    conds = (AccfCondition(H1), AccfCondition(H2), AccfCondition(None), AccfCondition(b""))
    raw = encode_accf(conds)
    assert parse_accf(fill(raw, len(raw) + size_extra, "EF.ACCF")) == conds
    app = DirApp(PKCS15_AID, "PKCS15")
    rec = encode_dir_record(app)
    assert parse_dir_record(fill(rec, len(rec) + size_extra, "EF.DIR")) == app


def test_empty_files_and_records() -> None:
    assert parse_acrf(b"\xff" * 40) == ()
    assert parse_accf(b"") == ()
    assert parse_dir_record(b"\xff" * 20) is None
    with pytest.raises(ArfFormatError, match="EF.ACMF"):
        parse_acmf(b"\xff" * 20)


def test_fill_refuses_overflow_and_fits_exactly() -> None:
    assert fill(b"\x30\x00", 2, "EF.ACCF") == b"\x30\x00"
    with pytest.raises(ArfFileFullError, match="EF.ACCF is full: the new content needs 3 bytes, the file holds 2"):
        fill(b"\x30\x01\x00", 2, "EF.ACCF")


@pytest.mark.parametrize("raw, problem", [
    ("3010A00804", "announces"),                       # truncated rule
    ("3004A0020400", "rule holds 1 objects"),          # no path
    ("3008830030040402" "4310", "unknown rule target"),
    ("3008A0020400" "30020400", "not whole file ids"),      # empty path
    ("3000FF00FF", "data after the padding"),
])
def test_acrf_damage_is_reported(raw: str, problem: str) -> None:
    with pytest.raises(ArfFormatError, match=problem):
        parse_acrf(bytes.fromhex(raw))


def test_every_truncation_of_a_file_is_an_error_or_a_prefix() -> None:
    raw = encode_accf((AccfCondition(H1), AccfCondition(H2)))
    for cut in range(len(raw)):
        try:
            got = parse_accf(raw[:cut])
        except ArfFormatError:
            continue
        assert got in ((), (AccfCondition(H1),))


def test_refresh_tag_always_changes() -> None:
    assert next_refresh_tag(bytes(8)) == bytes.fromhex("0000000000000001")
    assert next_refresh_tag(b"\xff" * 8) == bytes(8)


def test_android_keeps_the_last_carrier_rule_and_skips_other_targets() -> None:
    rules = (AcrfRule("aid", CARRIER_AID, Path(bytes.fromhex("4310"))),
             AcrfRule("all", None, Path(bytes.fromhex("4311"))),
             AcrfRule("aid", bytes.fromhex("A000000087"), Path(bytes.fromhex("4312"))),
             AcrfRule("aid", CARRIER_AID, Path(bytes.fromhex("4314"))))
    got = android_acrf(fill(encode_acrf(rules), 100, "EF.ACRF"))
    assert got.accf_path == bytes.fromhex("4314") and got.carrier_rules == 2
    assert got.stopped is None  # the walk ends at the FF padding, keeping the rule
    damaged = android_acrf(encode_acrf(rules) + b"\x31\x00")
    assert damaged.accf_path == bytes.fromhex("4314") and "expected tag 30" in (damaged.stopped or "")


def test_android_accf_stops_at_an_empty_condition() -> None:
    raw = encode_accf((AccfCondition(H1), AccfCondition(b""), AccfCondition(None), AccfCondition(H2)))
    got = android_accf(raw)
    assert got.hashes == (H1,)  # 04 00 skipped, 30 00 ends the walk: H2 is never read
    assert got.stopped


def test_android_reads_only_256_bytes() -> None:
    conds = tuple(AccfCondition(bytes([i]) * 20) for i in range(12))  # 12 x 24 = 288 bytes
    got = android_accf(encode_accf(conds))
    assert got.hashes == tuple(c.hash for c in conds[:10])


def test_random_bytes_never_escape_as_other_errors() -> None:
    import random

    from simtool.arf.files import parse_acmf as acmf, parse_dodf as dodf, parse_odf as odf
    rng = random.Random(12)
    seeds = [encode_acrf((AcrfRule("aid", CARRIER_AID, Path(bytes.fromhex("4310"))),)),
             encode_accf((AccfCondition(H1),)), encode_dodf((OidDataObject(GP_SEAC_OID, Path(b"\x42\x00")),)),
             encode_acmf(Acmf(bytes(8), Path(b"\x43\x00"))), encode_odf(Odf((Path(b"\x52\x07"),)))]
    for _ in range(3000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        data = data[: rng.randint(0, len(data))]
        for parse in (parse_acrf, parse_accf, acmf, dodf, odf, parse_dir_record):
            try:
                parse(bytes(data))
            except ArfFormatError:
                pass
        android_acrf(bytes(data))
        android_accf(bytes(data))
