"""Exact reading at every rule-list length L from 0 to 2,000 (issue 15, item 1): on the
open-source applet's chunking (aram-applet, sysmo) and on a correct card (spec, t0), a read
either returns exactly the card's rules or raises DamagedAnswerError (exit 6) — never a wrong
rule. The card logic is the simulated card's, in process (simtool/lab/vcard/inprocess.py); a
sample of the same lengths runs end to end through pcscd + vpcd in test_aram_exact_e2e.py."""

from __future__ import annotations

from collections import Counter

import pytest

from simtool.aram.errors import DamagedAnswerError
from simtool.aram.exactread import applet_breaks_at
from simtool.aram.session import AramSession
from simtool.card.protocol import CardProtocol
from tests.aram.sizes import MIN_RULE, rules_of_length
from simtool.lab.vcard.inprocess import InProcessCard

LENGTHS = [0, *range(MIN_RULE, 2001)]  # 1..9: no rule list is that short (see below)


def read(card: InProcessCard) -> tuple[str, tuple[bytes, ...] | str]:
    session = AramSession(CardProtocol(card))
    session.select()
    try:
        got = session.read_rules()
    except DamagedAnswerError as err:
        return "damaged", str(err)
    return "read", tuple(r.raw for r in got.rules)


@pytest.mark.parametrize("profile", ["spec", "t0"])
def test_lengths_no_rule_fits_are_malformed_lists(profile):
    """L = 1…9 holds no whole rule: a correct card holding such bytes gives a malformed list
    (exit 6). (The applet cannot hold them: it stores only whole rules.)"""
    for length in range(1, MIN_RULE):
        kind, message = read(InProcessCard(profile, [bytes([0xE2, length - 2]) + bytes(length - 2)]
                                           if length >= 2 else [b"\x00"]))
        assert kind == "damaged", (length, message)


@pytest.mark.parametrize("profile", ["aram-applet", "sysmo", "spec", "t0"])
def test_every_length_reads_exactly_or_is_damaged(profile):
    outcomes: Counter[str] = Counter()
    for length in LENGTHS:
        rules = rules_of_length(length)
        card = InProcessCard(profile, rules)
        kind, got = read(card)
        outcomes[kind] += 1
        if kind == "read":
            assert got == tuple(rules), f"L={length}: wrong rules read"  # never a wrong rule
        applet = card.profile.aram == "applet"
        assert (kind == "damaged") == (applet and applet_breaks_at(length)), (length, got)
        assert card.memory.rules == rules  # reading changed nothing
    if profile in ("aram-applet", "sysmo"):
        broken = sum(applet_breaks_at(n) for n in LENGTHS)
        assert outcomes == {"read": len(LENGTHS) - broken, "damaged": broken}
    else:
        assert outcomes == {"read": len(LENGTHS)}


def test_the_stale_byte_case_is_named():
    """L mod 255 = 251 (506, 761, …): lengths add up, only the last byte is stale."""
    for length in (506, 761, 1016, 1526, 1781):
        kind, message = read(InProcessCard("aram-applet", rules_of_length(length)))
        assert kind == "damaged" and "never writes the final byte" in str(message), (length, message)
        assert f"L = {length}" in str(message) and "Android cannot read it either" in str(message)


@pytest.mark.parametrize("length", [509, 510, 764, 765, 1020, 1530, 1785])
def test_6f00_during_ff60_is_a_damaged_list(length):
    kind, message = read(InProcessCard("aram-applet", rules_of_length(length)))
    assert kind == "damaged" and "FF60 answered 6F00" in str(message)
