"""Android's decision for the whole card (ARA-D, ARA-M, then ARF) on the in-process card."""

from __future__ import annotations

from simtool.aram.check import CertSet
from simtool.aram.rules import AccessRule, encode_ref_ar_do
from simtool.arf.whole_card import decide, read_card_rules
from simtool.card.protocol import Apdu, CardProtocol, Response, channel_cla
from simtool.lab.vcard.inprocess import InProcessCard
from simtool.lab.vcard.pkcs15 import LAB_ARF_HASH

ARAM_HASH = bytes.fromhex("E46872F28B350B7E1F140DE535C2A8D5804F0BE3")


def certs(h: bytes) -> tuple[CertSet, ...]:
    return (CertSet(None, None, frozenset({h})),)


def check(profile: str, h: bytes, rules: tuple[bytes, ...] = ()):
    proto = CardProtocol(InProcessCard(profile, rules))
    card = read_card_rules(proto)
    return card, decide(card, certs(h), "com.example.app")[0]


def seed_rule() -> bytes:
    return encode_ref_ar_do(AccessRule(ARAM_HASH))


def test_arf_grants_when_the_card_has_no_ara() -> None:
    card, grant = check("arf", LAB_ARF_HASH)
    assert [s.state for s in card.sources] == ["absent", "absent", "used"]
    assert grant.granted and grant.source == "ARF" and "ACCF 4310" in (grant.rule or "")
    _, other = check("arf", ARAM_HASH)
    assert not other.granted and other.reasons == (
        "ARA-M: no ARA-M application on this card (SELECT answered 6A82)",
        "ARF: none of the 1 hash(es) Android reads is the app's")


def test_card_holding_both_aram_wins_and_arf_is_not_read() -> None:
    card, grant = check("aram-arf", ARAM_HASH, (seed_rule(),))
    assert grant.granted and grant.source == "ARA-M" and grant.rule and grant.rule.startswith("rule 1")
    assert card.source("ARF").state == "not read"
    _, arf_only = check("aram-arf", LAB_ARF_HASH, (seed_rule(),))
    assert not arf_only.granted
    assert any("ARF holds the app's hash" in r and "the card's ARA-M answers" in r for r in arf_only.reasons)


def test_dodf_only_layout_grants_nothing_to_android() -> None:
    card, grant = check("arf-dodf", LAB_ARF_HASH)
    assert card.source("ARF").state == "absent" and not grant.granted
    assert "4300" in grant.reasons[-1]


def test_aram_error_puts_the_whole_card_in_error() -> None:
    # well-formed BER, but D0 after DB in the AR-DO: Android's parser throws on the whole set
    bad = bytes.fromhex("E227E116C114" + ARAM_HASH.hex() + "E30DDB08" + "00" * 8 + "D00101")
    card, grant = check("aram-arf", LAB_ARF_HASH, (bad,))
    assert card.error and not grant.granted and "no app gets carrier privileges" in grant.reasons[0]


def test_card_without_any_source() -> None:
    card, grant = check("spec", LAB_ARF_HASH)  # ARA-M present, empty: Android uses it
    assert card.source("ARA-M").state == "used" and not grant.granted


def test_an_ara_d_that_answers_nothing_usable_is_ignored() -> None:
    card, grant = check("no-db", ARAM_HASH, (seed_rule(),))  # ARA-D present but inert (6D00)
    assert card.source("ARA-D").state == "ignored" and "Android ignores ARA-D" in card.source("ARA-D").detail
    assert card.source("ARA-M").state == "used"


def test_a_card_without_logical_channels_gives_android_no_source() -> None:
    card, grant = check("aram-applet", ARAM_HASH, (seed_rule(),))  # MANAGE CHANNEL answers 6E00
    assert [s.state for s in card.sources] == ["absent", "absent", "absent"]
    assert not grant.granted and "no logical channel" in grant.reasons[0]


# --- ARA-D holding rules (profiles arad-aram, arad-arf) -------------------------------------------

def ara_d_card(profile: str, ara_d: tuple[bytes, ...], ara_m: tuple[bytes, ...] = (), **kw) -> InProcessCard:
    return InProcessCard(profile, [encode_ref_ar_do(AccessRule(h)) for h in ara_m],
                         ara_d_rules=[encode_ref_ar_do(AccessRule(h)) for h in ara_d], **kw)


def test_ara_d_rules_come_first_and_a_long_list_is_read_with_ff60() -> None:
    hashes = tuple(bytes([i]) * 20 for i in range(1, 10))  # 9 rules x 46 bytes: FF40 then FF60
    inner = ara_d_card("arad-aram", hashes, (ARAM_HASH, hashes[-1]))
    card = read_card_rules(CardProtocol(inner))
    assert card.source("ARA-D").detail == "9 rule(s)" and card.source("ARA-M").detail == "2 rule(s)"
    grant = decide(card, certs(hashes[-1]), None)[0]
    assert grant.source == "ARA-D" and grant.rule and grant.rule.startswith("rule 9:")
    assert decide(card, certs(ARAM_HASH), None)[0].source == "ARA-M"


def test_an_aram_in_error_outweighs_the_ara_d_rules() -> None:
    card = read_card_rules(CardProtocol(ara_d_card("arad-aram", (ARAM_HASH,), empty_6a88=True)))
    assert card.source("ARA-D").state == "used" and card.source("ARA-M").state == "error"
    grant = decide(card, certs(ARAM_HASH), None)[0]
    assert not grant.granted and "no app gets carrier privileges" in grant.reasons[0]


def test_an_empty_ara_d_answer_without_aram_still_keeps_the_arf_unread() -> None:
    # FF40 00 is a complete answer: Android sets mCheckedRules and never reads the ARF
    card = read_card_rules(CardProtocol(ara_d_card("arad-arf", ())))
    assert [s.state for s in card.sources] == ["used", "absent", "not read"]
    assert "ARA-D answers (and there is no ARA-M)" in card.source("ARF").detail
    assert not decide(card, certs(LAB_ARF_HASH), None)[0].granted


def test_the_ara_d_answers_only_get_data_ff40_and_ff60() -> None:
    inner = ara_d_card("arad-arf", (ARAM_HASH,))  # T=0: answers come through GET RESPONSE
    proto = CardProtocol(inner)
    channel = proto.open_channel()

    def send(cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = 0) -> Response:
        return proto.send(Apdu(channel_cla(cla, channel), ins, p1, p2, data, le))

    assert send(0x00, 0xA4, 0x04, 0x00, bytes.fromhex("A00000015144414300")).sw == 0x9000
    answer = send(0x80, 0xCA, 0xFF, 0x40)
    assert answer.sw == 0x9000 and answer.data == bytes.fromhex("FF40") + bytes([len(seed_rule())]) + seed_rule()
    assert send(0x80, 0xCA, 0xDF, 0x20).sw == 0x6A88
    assert send(0x80, 0xE2, 0x90, 0x00, bytes.fromhex("F100"), None).sw == 0x6D00  # no STORE DATA
    assert inner.memory.ara_d_rules == [seed_rule()]
