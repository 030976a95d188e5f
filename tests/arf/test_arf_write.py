"""ARF writes on the in-process simulated card: in place, verified, refused before writing."""

from __future__ import annotations

import pytest

from simtool.aram.errors import AndroidRefusalError
from simtool.arf.errors import ArfCardError, ArfFileFullError
from simtool.arf.files import AccfCondition, Path, encode_accf, encode_acrf, fill, parse_accf, parse_acrf
from simtool.arf.workflow import add_hashes, apply_hashes, bump_refresh_tag, delete_hashes, list_arf
from simtool.card.errors import CardRemovedError
from simtool.arf.writer import changed_ranges
from simtool.card.protocol import CardProtocol
from simtool.lab.vcard.inprocess import InProcessCard
from simtool.lab.vcard.pkcs15 import LAB_ARF_HASH

ADM = b"12345678"
H = [bytes([i]) * 20 for i in range(1, 9)]


def card(profile: str = "arf") -> tuple[InProcessCard, CardProtocol]:
    c = InProcessCard(profile)
    return c, CardProtocol(c)


def test_changed_ranges_cover_every_difference_in_pieces() -> None:
    old = bytes(600)
    new = bytes(10) + b"\x01" + bytes(400) + b"\x02" + bytes(188)
    pieces = changed_ranges(old, new)
    assert [o for o, _ in pieces] == [10, 265] and sum(len(d) for _, d in pieces) == 402
    rebuilt = bytearray(old)
    for o, d in pieces:
        rebuilt[o : o + len(d)] = d
    assert bytes(rebuilt) == new and changed_ranges(new, new) == []


def test_a_hash_after_30_00_is_refused_unless_forced() -> None:
    c, proto = card()
    c.memory.files["4310"] = fill(encode_accf((AccfCondition(None),)), 96, "4310")
    before = dict(c.memory.files)
    with pytest.raises(AndroidRefusalError, match="Android would not read 0101"):
        add_hashes(proto, (H[0],), adm_key=ADM)
    assert c.memory.files == before
    change = add_hashes(proto, (H[0],), adm_key=ADM, force=True)
    assert change.verified and change.android_hashes_after == ()
    assert parse_accf(c.memory.files["4310"]) == (AccfCondition(None), AccfCondition(H[0]))


def test_full_file_is_refused_before_anything_is_written_every_size() -> None:
    for n in range(1, 6):
        c, proto = card()
        before = dict(c.memory.files)
        hashes = tuple(H[:n])
        fits = 24 * (n + 1) <= 96
        if fits:
            assert add_hashes(proto, hashes, adm_key=ADM).verified
            assert parse_accf(c.memory.files["4310"])[1:] == tuple(AccfCondition(h) for h in hashes)
        else:
            with pytest.raises(ArfFileFullError):
                add_hashes(proto, hashes, adm_key=ADM)
            assert c.memory.files == before


def test_no_carrier_rule_needs_accf_and_then_adds_one() -> None:
    c, proto = card()
    c.memory.files["4300"] = fill(encode_acrf(parse_acrf(c.memory.files["4300"])[1:]), 64, "4300")  # drop it
    with pytest.raises(ArfCardError, match="--accf"):
        add_hashes(proto, (H[0],), adm_key=ADM)
    change = add_hashes(proto, (H[0],), adm_key=ADM, accf=Path(bytes.fromhex("4311")))
    assert change.rule_added and change.android_reads
    listing = list_arf(proto)
    assert H[0] in listing.android.hashes and listing.android.accf_path == bytes.fromhex("4311")


def test_apply_keeps_order_and_delete_of_absent_hash_writes_nothing() -> None:
    c, proto = card()
    apply_hashes(proto, (H[1], LAB_ARF_HASH, H[2]), adm_key=ADM)
    assert [x.hash for x in parse_accf(c.memory.files["4310"])] == [LAB_ARF_HASH, H[1], H[2]]
    tag = c.memory.files["4200"]
    change = delete_hashes(proto, (H[5],), adm_key=ADM)
    assert change.empty and change.updates == 0 and c.memory.files["4200"] == tag


def test_a_pull_between_accf_and_tag_leaves_the_hash_and_refresh_bumps_the_tag() -> None:
    probe, probe_proto = card()
    probe_proto.record = True
    add_hashes(probe_proto, (H[0],), adm_key=ADM)
    first_update = next(i for i, s in enumerate(probe_proto.sent) if s.command[2:4] == "D6")
    c, proto = card()
    c.remove_after = first_update + 1  # pulled right after the ACCF's UPDATE BINARY
    c.removed = CardRemovedError
    with pytest.raises(CardRemovedError):
        add_hashes(proto, (H[0],), adm_key=ADM)
    assert [x.hash for x in parse_accf(c.memory.files["4310"])] == [LAB_ARF_HASH, H[0]]
    assert c.memory.files["4200"].hex().startswith("301004080000000000000001")  # not bumped
    c.remove_after = None
    c.card.reset()
    assert add_hashes(proto, (H[0],), adm_key=ADM).empty  # the content is complete
    change = bump_refresh_tag(proto, adm_key=ADM)
    assert change.verified and change.updates == 1 and not change.empty
    assert c.memory.files["4200"].hex().startswith("301004080000000000000002")
