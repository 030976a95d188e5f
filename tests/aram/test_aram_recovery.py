"""Recovery and convergence at every rule-list length (issue 15, items 2 and 3), driving the
library's workflows (simtool.aram.workflow) against the simulated card's logic in process:

- from every length the applet cannot return intact, `delete --all` (no read needed) and
  `apply --prune --blind` get the card to a readable, exact state, and a normal `apply` after
  that sends no write;
- from every readable length, `apply --prune` converges in one run (a second sends nothing)
  and never stores a duplicate;
- a no-op sends no write: `delete --all` on an empty card, `add` of a rule already there.
"""

from __future__ import annotations

from collections import Counter

import pytest

from simtool.aram.errors import DamagedAnswerError
from simtool.card.errors import CardRemovedError
from simtool.aram.exactread import applet_breaks_at
from simtool.aram.rules import AccessRule, parse_ref_ar_do
from simtool.aram.workflow import RuleMatch, add_rule, apply_rules, delete_rules
from simtool.card.protocol import CardProtocol
from simtool.lab.vcard.inprocess import InProcessCard
from tests.aram import vectors
from tests.aram.sizes import MIN_RULE, PORTABLE_LENGTHS, portable_rules_of_length, rules_of_length

LENGTHS = [0, *range(MIN_RULE, 2001)]
SEED = AccessRule(bytes.fromhex(vectors.SEED_HASH), apdu=True)
OTHER = AccessRule(bytes(range(20)))


class Counting(InProcessCard):
    """InProcessCard that counts STORE DATA commands."""

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.writes = 0

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        if apdu[1] == 0xE2:
            self.writes += 1
        return super().transmit(apdu)


def held(card: InProcessCard) -> Counter:
    return Counter(parse_ref_ar_do(r).identity for r in card.memory.rules)


@pytest.mark.parametrize("profile", ["aram-applet", "spec"])
def test_apply_converges_or_recovers_at_every_length(profile):
    desired = (SEED, OTHER)
    want = Counter(r.identity for r in desired)
    outcomes: Counter[str] = Counter()
    applet = profile == "aram-applet"
    lengths = LENGTHS if applet else PORTABLE_LENGTHS  # a correct card holds only valid rules
    for length in lengths:
        card = Counting(profile, rules_of_length(length) if applet else portable_rules_of_length(length))
        proto = CardProtocol(card)
        try:
            apply_rules(proto, desired, prune=True, force=True)
            outcomes["applied"] += 1
        except DamagedAnswerError as err:
            assert card.writes == 0, length  # nothing written on an unreadable list
            assert "delete --all" in str(err) and "--blind" in str(err)
            apply_rules(proto, desired, prune=True, force=True, blind=True)
            outcomes["recovered with --blind"] += 1
        assert held(card) == want, length  # exactly the file's rules, each once
        writes = card.writes
        again = apply_rules(proto, desired, prune=True, force=True)
        assert again.plan.empty and card.writes == writes, length  # second run: no write
    broken = sum(applet_breaks_at(n) for n in lengths) if applet else 0
    assert (outcomes["applied"], outcomes["recovered with --blind"]) == (len(lengths) - broken, broken)


def test_delete_all_needs_no_read_and_writes_nothing_on_an_empty_card():
    unreadable = [n for n in LENGTHS if applet_breaks_at(n)]
    for length in unreadable:
        card = Counting("aram-applet", rules_of_length(length))
        result = delete_rules(CardProtocol(card), RuleMatch(everything=True))
        assert card.memory.rules == [] and result.verified and card.writes == 2  # F1 00 + F2
        assert "without reading" in result.notes[0]
    for profile in ("aram-applet", "spec"):
        card = Counting(profile)
        result = delete_rules(CardProtocol(card), RuleMatch(everything=True))
        assert card.writes == 0 and result.plan.empty and result.written == 0


def test_add_and_delete_blind_on_an_unreadable_list():
    assert len(SEED.encoded()) == 49
    card = Counting("aram-applet", rules_of_length(510))  # 6F00: unreadable
    proto = CardProtocol(card)
    with pytest.raises(DamagedAnswerError, match="--blind"):
        add_rule(proto, SEED, force=True)
    assert card.writes == 0
    result = add_rule(proto, SEED, force=True, blind=True)  # F1 E1 (nothing there), F0, F2; L = 559
    assert held(card)[SEED.identity] == 1 and result.written == 1 and result.verified
    assert [c.state for c in result.changes] == ["no effect", "confirmed"]
    again = add_rule(proto, SEED, force=True, blind=True)  # again: replaced, never twice
    assert held(card)[SEED.identity] == 1 and [c.state for c in again.changes] == ["confirmed", "confirmed"]

    card = Counting("aram-applet", rules_of_length(461) + [SEED.encoded()])  # L = 510 again
    proto = CardProtocol(card)
    with pytest.raises(DamagedAnswerError):
        delete_rules(proto, RuleMatch(hash=SEED.hash))
    result = delete_rules(proto, RuleMatch(hash=SEED.hash), blind=True)  # back to 461: readable
    assert held(card)[SEED.identity] == 0 and result.verified and result.written == 1
    assert card.memory.rules == rules_of_length(461)


def test_add_over_duplicates_counts_only_changes_that_took_effect():
    card = Counting("aram-applet", [SEED.encoded(), SEED.encoded(), OTHER.encoded()])
    result = add_rule(CardProtocol(card), SEED, force=True)
    # the applet deletes both copies with the first F1: the second answers 6A88
    assert [c.state for c in result.changes] == ["confirmed", "no effect", "confirmed"]
    assert result.written == 2 and held(card)[SEED.identity] == 1


def test_pull_at_every_step_of_a_replacement_keeps_a_rule_and_reports_what_happened():
    """Replacing a rule (same REF-DO, new access rules) stores the new one before deleting the
    old: a card pulled after any APDU still holds a rule for the app; the error says which
    changes the card confirmed and which was sent without an answer; a re-run finishes."""
    old = AccessRule(SEED.hash, apdu=False)
    full = InProcessCard("aram-applet", [old.encoded()])
    apply_rules(CardProtocol(full), [SEED], prune=False, force=True)
    total = full.answered  # SELECT, GET, F0, F1, F2, DF20, GET
    assert total == 7
    seen = set()
    for k in range(1, total):
        card = InProcessCard("aram-applet", [old.encoded()], remove_after_apdus=k, removed=CardRemovedError)
        with pytest.raises(CardRemovedError) as err:
            apply_rules(CardProtocol(card), [SEED], prune=False, force=True, rerun="simtool aram apply r.toml")
        assert any(parse_ref_ar_do(r).ref_identity == SEED.ref_identity for r in card.memory.rules), k
        message = str(err.value)
        if k >= 2:  # the first write was sent
            assert "the card confirmed" in message and "re-insert the card and re-run `simtool aram apply r.toml`" in message
            result = err.value.result  # type: ignore[attr-defined]
            seen.add(tuple(c.state for c in result.changes))
        again = InProcessCard("aram-applet", list(card.memory.rules))
        apply_rules(CardProtocol(again), [SEED], prune=False, force=True)
        assert held(again) == Counter([SEED.identity]), k
    assert ("sent, no answer", "not sent") in seen and ("confirmed", "sent, no answer") in seen
    assert ("confirmed", "confirmed") in seen  # pulled during the read-back: both were confirmed
