"""``arf list`` semantics on the in-process simulated card: both reads, Android's verdicts, and
the cases where they disagree (last FFFFFFFFFFFF rule wins, 256-byte limit, another ACRF, damage)."""

from __future__ import annotations

import pytest

from simtool.arf.errors import ArfCardError
from simtool.arf.files import (
    CARRIER_AID, AccfCondition, Acmf, AcrfRule, Path, encode_accf, encode_acmf, encode_acrf, fill,
)
from simtool.arf.workflow import list_arf
from simtool.card.protocol import CardProtocol
from simtool.lab.vcard.inprocess import InProcessCard
from simtool.lab.vcard.pkcs15 import LAB_ARF_HASH

H = [bytes([i]) * 20 for i in range(1, 16)]


def card(profile: str = "arf") -> tuple[InProcessCard, CardProtocol]:
    c = InProcessCard(profile)
    return c, CardProtocol(c)


def put(c: InProcessCard, fid: str, content: bytes) -> None:
    size = len(c.memory.files[fid])
    c.memory.files[fid] = fill(content, size, fid)


def test_both_layouts_read_the_same_rules_the_full_way() -> None:
    for profile, acrf in (("arf", "4300"), ("arf-dodf", "4401")):
        c, proto = card(profile)
        listing = list_arf(proto)
        assert listing.seac is not None and listing.seac.acrf_file is not None
        assert listing.seac.acrf_file.path == acrf
        assert [r.hash for r in listing.rows if r.in_chain][0] == LAB_ARF_HASH


def test_android_follows_only_the_last_carrier_rule() -> None:
    c, proto = card()
    put(c, "4300", encode_acrf((AcrfRule("aid", CARRIER_AID, Path(bytes.fromhex("4310"))),
                                AcrfRule("aid", CARRIER_AID, Path(bytes.fromhex("4311"))))))
    put(c, "4310", encode_accf((AccfCondition(H[0]),)))
    put(c, "4311", encode_accf((AccfCondition(H[1]),)))
    listing = list_arf(proto)
    verdicts = {r.hash: r for r in listing.rows}
    assert verdicts[H[1]].honoured and not verdicts[H[0]].honoured
    assert "only the last FFFFFFFFFFFF rule" in verdicts[H[0]].verdict
    assert listing.warnings and H[0].hex().upper() in listing.warnings[0]


def test_hashes_past_256_bytes_are_listed_but_not_read_by_android() -> None:
    c, proto = card()
    c.memory.files["4310"] = fill(b"", 400, "4310")  # a bigger ACCF than the profile's
    conds = tuple(AccfCondition(h) for h in H[:12])  # 12 x 24 = 288 bytes
    put(c, "4310", encode_accf(conds))
    listing = list_arf(proto)
    assert [r.hash for r in listing.rows if r.honoured] == H[:10]
    late = [r for r in listing.rows if r.hash in H[10:12]]
    assert all("256 bytes" in r.verdict for r in late) and len(late) == 2
    assert listing.warnings


def test_android_stops_at_30_00_and_skips_other_lengths() -> None:
    c, proto = card()
    put(c, "4310", encode_accf((AccfCondition(bytes(16)), AccfCondition(None), AccfCondition(H[2]))))
    rows = list_arf(proto).rows
    first, empty, late = [r for r in rows if r.accf == "4310"]
    assert not first.honoured and "16-byte hash matches no certificate" in first.verdict
    assert "30 00" in empty.verdict
    assert not late.honoured and "not read by Android" in late.verdict


def test_acmf_naming_another_acrf_makes_the_reads_disagree() -> None:
    c, proto = card()
    c.memory.files["4301"] = fill(encode_acrf((AcrfRule("aid", CARRIER_AID, Path(bytes.fromhex("4311"))),)), 64, "x")
    put(c, "4200", encode_acmf(Acmf(bytes(8), Path(bytes.fromhex("4301")))))
    listing = list_arf(proto)
    android_only = [r for r in listing.rows if not r.in_chain]
    assert [r.hash for r in android_only] == [LAB_ARF_HASH] and android_only[0].honoured
    assert "the chain does not list" in listing.warnings[0]


def test_damaged_chain_is_reported_and_android_still_shown() -> None:
    c, proto = card()
    put(c, "4200", bytes.fromhex("3010040800"))  # truncated ACMF
    listing = list_arf(proto)
    assert listing.seac_error and "EF.ACMF" in listing.seac_error
    assert [r.hash for r in listing.rows] == [LAB_ARF_HASH] and listing.rows[0].honoured
    assert listing.warnings[0].startswith("the full SEAC chain could not be read")


def test_no_pkcs15_application_raises() -> None:
    _, proto = card("spec")
    with pytest.raises(ArfCardError, match="no ARF"):
        list_arf(proto)
