"""Record-structured (linear fixed) ARF files and the size sweeps, on the in-process simulated
card (the same card logic as behind pcscd; T=1 and T=0 profiles): placement in records, the
FCP's file descriptor, every size boundary of a transparent ACCF and of ACCF records."""

from __future__ import annotations

import pytest

from simtool.aram.errors import AndroidRefusalError
from simtool.arf.errors import ArfFileFullError, ArfNoFreeRecordError, ArfRecordTooSmallError
from simtool.arf.files import AccfCondition, Path, encode_accf_condition, parse_accf
from simtool.arf.layout import changed_records, place_records
from simtool.arf.reader import EfData, parse_fcp
from simtool.arf.workflow import add_hashes, apply_hashes, delete_hashes, list_arf
from simtool.card.protocol import CardProtocol
from simtool.lab.vcard.inprocess import InProcessCard
from simtool.lab.vcard.pkcs15 import LAB_ARF_HASH, ef_fcp

ADM = b"12345678"
SHA1 = [bytes([i]) * 20 for i in range(1, 16)]
SHA256 = [bytes([0x80 + i]) * 32 for i in range(1, 16)]
C1 = encode_accf_condition(AccfCondition(SHA1[0]))  # 24 bytes
C2 = encode_accf_condition(AccfCondition(SHA1[1]))
C256 = encode_accf_condition(AccfCondition(SHA256[0]))  # 36 bytes
FREE = b"\xff" * 36


def rec(obj: bytes, size: int = 36) -> bytes:
    return obj + b"\xff" * (size - len(obj))


# --- placement (pure) -------------------------------------------------------------------------

def test_kept_records_stay_new_ones_take_the_first_free_record() -> None:
    records = [rec(C1), FREE, rec(C2), FREE]
    out = place_records(records, 36, [C1, C2, C256], "EF.ACCF 4310")
    assert out == rec(C1) + rec(C256) + rec(C2) + FREE
    assert changed_records(b"".join(records), out, 36) == [(2, rec(C256))]
    out = place_records(records, 36, [C2], "EF.ACCF 4310")  # delete C1: one record rewritten
    assert out == FREE + FREE + rec(C2) + FREE and changed_records(b"".join(records), out, 36) == [(1, FREE)]


def test_a_record_holding_two_objects_keeps_the_one_that_stays() -> None:
    records = [rec(C1 + C2, 64), rec(b"", 64)]
    out = place_records(records, 64, [C2, C1], "f")  # both stay: nothing moves
    assert out == b"".join(records)
    out = place_records(records, 64, [C2], "f")
    assert out == rec(C2, 64) + rec(b"", 64)


def test_no_free_record_and_too_long_an_entry_are_refused() -> None:
    with pytest.raises(ArfNoFreeRecordError) as err:
        place_records([rec(C1), FREE], 36, [C1, C2, C256], "EF.ACCF 4310")
    assert str(err.value) == ("EF.ACCF 4310 is full: 2 new entries need a free record each, 1 of its 2 records "
                              "(36 bytes each) is free (simtool never resizes card files)")
    with pytest.raises(ArfRecordTooSmallError, match="an entry of 36 bytes does not fit its records of 35 bytes"):
        place_records([b"\xff" * 35], 35, [C256], "EF.ACCF 4310")
    assert place_records([b"\xff" * 36], 36, [C256], "f") == C256  # exactly one record


def test_duplicate_entries_each_need_their_record() -> None:
    assert place_records([rec(C1), FREE], 36, [C1, C1], "f") == rec(C1) + rec(C1)
    assert place_records([rec(C1), rec(C1)], 36, [C1], "f") == rec(C1) + FREE


# --- the FCP's file descriptor ----------------------------------------------------------------

def test_fcp_file_descriptor_gives_the_structure() -> None:
    fid = bytes.fromhex("4310")
    assert parse_fcp(ef_fcp(fid, 96)) == parse_fcp(ef_fcp(fid, 96)).__class__(96, "transparent", 0, 0)
    info = parse_fcp(ef_fcp(fid, 144, 36))
    assert (info.structure, info.size, info.record_size, info.record_count) == ("linear fixed", 144, 36, 4)
    # ISO 7816-4 short forms: a 1-byte record size, count from the size; a cyclic EF; a DF
    short = bytes.fromhex("6209" "8203420124" "80020048")
    assert (parse_fcp(short).record_size, parse_fcp(short).record_count) == (0x24, 2)
    assert parse_fcp(bytes.fromhex("6209" "82054621001404" "8000")).structure == "cyclic"
    assert parse_fcp(bytes.fromhex("6204" "82027821")).structure == "transparent"
    assert parse_fcp(b"").size is None and parse_fcp(b"\x62\x05\x82").size is None


def test_ef_content_joins_records_and_skips_empty_ones() -> None:
    ef = EfData("4310", 108, rec(C1) + FREE + rec(C256), 36)
    assert ef.records == (rec(C1), FREE, rec(C256)) and ef.content == C1 + C256
    assert parse_accf(ef.content) == (AccfCondition(SHA1[0]), AccfCondition(SHA256[0]))
    assert ef.structure == "linear fixed, 3 records of 36 bytes"


# --- sweeps on the simulated card, T=1 and T=0 -------------------------------------------------

def card(profile: str) -> tuple[InProcessCard, CardProtocol]:
    c = InProcessCard(profile)
    return c, CardProtocol(c)


LAB_COND = encode_accf_condition(AccfCondition(LAB_ARF_HASH))


@pytest.mark.parametrize("profile,accf", [("arf", "4310"), ("arf-dodf", "4402")])  # T=1, T=0
def test_transparent_accf_every_size_around_full(profile: str, accf: str) -> None:
    """File sizes from one byte short of the content to a few bytes over, mixes of SHA-1 and
    SHA-256: written (and read back) exactly when the conditions fit, else one error and
    nothing written. 4 SHA-1 conditions fill 96 bytes exactly; 95 is one byte short."""
    for n1, n256 in [(4, 0), (1, 2), (2, 1), (0, 3)]:
        hashes = tuple(SHA1[:n1] + SHA256[:n256])
        need = 24 * n1 + 36 * n256
        for size in (need - 1, need, need + 1, need + 23):
            c, proto = card(profile)
            c.memory.files[accf] = b"\xff" * size
            before = dict(c.memory.files)
            if size >= need:
                change = apply_hashes(proto, hashes, adm_key=ADM, force=True)
                assert change.verified and change.after == tuple(AccfCondition(h) for h in hashes)
                assert c.memory.files[accf] == b"".join(encode_accf_condition(x) for x in change.after) + b"\xff" * (size - need)
            else:
                with pytest.raises(ArfFileFullError) as err:
                    apply_hashes(proto, hashes, adm_key=ADM)
                assert (err.value.needed, err.value.size) == (need, size)
                assert c.memory.files == before


def test_android_256_byte_boundary_on_a_transparent_accf() -> None:
    """Android reads 256 bytes: 10 SHA-1 conditions end at byte 240 plus a SHA-256 at 276 →
    refused (exit 8 in the CLI) unless forced; 9 + 1 end at 252 → written and read by Android."""
    c, proto = card("arf")
    c.memory.files["4310"] = b"\xff" * 300
    ok = apply_hashes(proto, tuple(SHA1[:9]) + (SHA256[0],), adm_key=ADM)
    assert ok.verified and ok.android_hashes_after == tuple(SHA1[:9]) + (SHA256[0],)
    with pytest.raises(AndroidRefusalError):
        apply_hashes(proto, tuple(SHA1[:10]) + (SHA256[0],), adm_key=ADM)
    assert parse_accf(c.memory.files["4310"]) == tuple(AccfCondition(h) for h in SHA1[:9] + [SHA256[0]])


@pytest.mark.parametrize("profile", ["arf-records", "arf-records-t0"])
@pytest.mark.parametrize("record_size", [23, 24, 25, 35, 36, 37, 255])
def test_record_sizes_at_each_boundary(profile: str, record_size: int) -> None:
    """A SHA-1 condition takes 24 bytes, a SHA-256 one 36: each fits a record exactly at that
    size and not one byte below; records fill one by one until none is free."""
    count = 3
    c, proto = card(profile)
    first = LAB_COND if record_size >= 24 else b""
    c.memory.files["4310"] = rec(first, record_size) + b"\xff" * (record_size * (count - 1))
    c.memory.record_sizes["4310"] = record_size
    before = dict(c.memory.files)
    if record_size < 36:
        with pytest.raises(ArfRecordTooSmallError):
            add_hashes(proto, (SHA256[0],), adm_key=ADM)
        assert c.memory.files == before
    if record_size < 24:
        with pytest.raises(ArfRecordTooSmallError):
            add_hashes(proto, (SHA1[0],), adm_key=ADM)
        assert c.memory.files == before
        return
    new = SHA256[0] if record_size >= 36 else SHA1[0]
    change = add_hashes(proto, (new, SHA1[1]), adm_key=ADM)  # the two free records
    assert change.verified and change.record_updates == 2 and change.updates == 3  # + the ACMF tag
    records = [c.memory.files["4310"][i : i + record_size] for i in range(0, record_size * count, record_size)]
    objects = [LAB_COND, encode_accf_condition(AccfCondition(new)), encode_accf_condition(AccfCondition(SHA1[1]))]
    assert records == [rec(o, record_size) for o in objects]
    full = dict(c.memory.files)
    with pytest.raises(ArfNoFreeRecordError, match=f"1 new entry needs a free record each, 0 of its 3 records \\({record_size} bytes"):
        add_hashes(proto, (SHA1[2],), adm_key=ADM)
    assert c.memory.files == full
    change = delete_hashes(proto, (new,), adm_key=ADM)  # frees record 2 only
    assert change.record_updates == 1 and c.memory.files["4310"][record_size : 2 * record_size] == b"\xff" * record_size
    listing = list_arf(proto)
    assert [r.hash for r in listing.rows if r.accf == "4310"] == [LAB_ARF_HASH, SHA1[1]]
    assert all(not r.honoured and "record-structured ACRF 4300" in r.verdict for r in listing.rows)


def test_record_acrf_gets_a_new_rule_in_a_free_record() -> None:
    """No FFFFFFFFFFFF rule: --accf adds one in the ACRF's first free record (an UPDATE RECORD)."""
    c, proto = card("arf-records")
    acrf = c.memory.files["4300"]
    c.memory.files["4300"] = b"\xff" * 32 + acrf[32:]  # drop the carrier rule (record 1)
    change = add_hashes(proto, (SHA1[0],), adm_key=ADM, accf=Path(bytes.fromhex("4311")))
    assert change.rule_added and change.verified and change.record_updates == 2
    rule = bytes.fromhex("3010A0080406FFFFFFFFFFFF300404024311")
    assert c.memory.files["4300"][:32] == rec(rule, 32) and c.memory.files["4300"][32:] == acrf[32:]


def test_a_transparent_acrf_with_a_record_accf_gives_android_nothing_from_it() -> None:
    """Android reads the ACRF 4300 (transparent) and then READ BINARY of a linear fixed ACCF,
    which the card answers 6981: the verdict names the ACCF."""
    c, proto = card("arf")
    c.memory.files["4310"] = rec(LAB_COND) + FREE
    c.memory.record_sizes["4310"] = 36
    listing = list_arf(proto)
    row = next(r for r in listing.rows if r.hash == LAB_ARF_HASH)
    assert not row.honoured and "record-structured ACCF 4310" in row.verdict
    assert listing.android.accf is not None and "6981" in (listing.android.accf.stopped or "")
    change = add_hashes(proto, (SHA1[0],), adm_key=ADM)
    assert change.verified and not change.android_reads and change.android_note is not None
    assert change.android_note.startswith("ACCF 4310 is record-structured")
