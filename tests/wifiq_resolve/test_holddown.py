"""Hold-down decisions (pure): failures never remove, answers start the count."""

from __future__ import annotations

import pytest

from wifiq.errors import UsageError
from wifiq.holddown import HoldDown, Observation, apply, parse_duration

N = "epdg.epc.mnc001.mcc505.pub.3gppnetwork.org"


def obs(*addresses, complete=True, outcome="addresses"):
    return Observation(N, 4, complete, frozenset(addresses), outcome)


def step(states, observation, hold, now):
    return apply(states, [observation], hold, now)


def test_added_then_removed_after_n_complete_answers():
    hold = HoldDown(refreshes=2)
    states, changes = step([], obs("192.0.2.1", "192.0.2.2"), hold, 0)
    assert [(c.address, c.change) for c in changes] == [("192.0.2.1", "added"), ("192.0.2.2", "added")]
    states, changes = step(states, obs("192.0.2.1"), hold, 10)
    assert not changes and {s.address for s in states} == {"192.0.2.1", "192.0.2.2"}
    states, changes = step(states, obs("192.0.2.1"), hold, 20)
    assert [(c.address, c.change) for c in changes] == [("192.0.2.2", "removed")]
    assert "missing from 2 successful refreshes since 1970-01-01T00:00:10Z" in changes[0].reason


def test_failures_never_count_and_never_remove():
    hold = HoldDown(refreshes=1)
    states, _ = step([], obs("192.0.2.1"), hold, 0)
    for t in range(1, 10):
        states, changes = step(states, obs(complete=False, outcome="nodata"), hold, t)
        assert not changes and states[0].missing_count == 0


def test_nxdomain_starts_the_hold_down_only():
    hold = HoldDown(refreshes=2)
    states, _ = step([], obs("192.0.2.1"), hold, 0)
    states, changes = step(states, obs(outcome="nxdomain"), hold, 1)
    assert not changes and states[0].missing_count == 1
    states, changes = step(states, obs(outcome="nxdomain"), hold, 2)
    assert changes[0].change == "removed" and "NXDOMAIN" in changes[0].reason and not states


def test_reappearing_resets_the_count():
    hold = HoldDown(refreshes=2)
    states, _ = step([], obs("192.0.2.1"), hold, 0)
    states, _ = step(states, obs(), hold, 1)
    states, _ = step(states, obs("192.0.2.1"), hold, 2)
    assert states[0].missing_count == 0 and states[0].missing_since is None
    states, changes = step(states, obs(), hold, 3)
    assert not changes


def test_age_must_also_pass():
    hold = HoldDown(refreshes=1, age=3600)
    states, _ = step([], obs("192.0.2.1"), hold, 0)
    states, changes = step(states, obs(), hold, 100)
    assert not changes
    states, changes = step(states, obs(), hold, 3700)
    assert changes and changes[0].change == "removed"


def test_unobserved_names_are_left_alone():
    hold = HoldDown(refreshes=1)
    states, _ = step([], obs("192.0.2.1"), hold, 0)
    other = Observation("other.example", 4, True, frozenset({"198.51.100.1"}))
    states, changes = apply(states, [other], hold, 1)
    assert {s.name for s in states} == {N, "other.example"}
    assert [c.change for c in changes] == ["added"]


def test_parameters_checked():
    with pytest.raises(UsageError):
        HoldDown(refreshes=0)
    assert parse_duration("36h") == 36 * 3600 and parse_duration(90) == 90
    assert parse_duration("2d") == 172800 and parse_duration("15m") == 900
    for bad in ("soon", "-1h", "nan"):
        with pytest.raises(UsageError):
            parse_duration(bad)


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ADDRS = ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
steps = st.lists(
    st.tuples(st.booleans(), st.frozensets(st.sampled_from(ADDRS)),
              st.sampled_from(["addresses", "nodata", "nxdomain"])),
    max_size=25,
)


@given(steps, st.integers(1, 4))
def test_only_enough_complete_answers_remove(sequence, refreshes):
    hold = HoldDown(refreshes=refreshes)
    states, misses = [], {a: 0 for a in ADDRS}
    for t, (complete, found, word) in enumerate(sequence):
        active_before = {s.address for s in states}
        states, changes = step(states, obs(*found, complete=complete, outcome=word), hold, t)
        for address in ADDRS:  # the model: consecutive complete answers without the address
            if address in found:
                misses[address] = 0
            elif complete and address in active_before:
                misses[address] += 1
        removed = {c.address for c in changes if c.change == "removed"}
        assert complete or not removed  # a failed refresh never removes
        for address in removed:
            assert misses[address] >= refreshes
            misses[address] = 0
        for address in active_before - found - removed:
            assert misses[address] < refreshes  # and enough misses always do
        active = {s.address for s in states}
        assert found <= active  # whatever was found is active at once
        assert active == (active_before | found) - removed


def _states(*pairs):
    from wifiq.holddown import AddressState

    return [AddressState(name, address, 4, 0, 0) for name, address in pairs]


def test_mass_removal_guard_counts_distinct_addresses_against_the_share():
    from wifiq.holddown import Change, RemovalGuard, mass_removal

    def removed(*pairs):
        return [Change(name, address, 4, "removed", "x") for name, address in pairs]

    guard = RemovalGuard()  # 50 %
    # 2 of 4 distinct addresses: exactly half is allowed
    active = _states(("a", "192.0.2.1"), ("b", "192.0.2.2"))
    assert mass_removal(active, removed(("a", "192.0.2.3"), ("b", "192.0.2.4")), guard) is None
    # 3 of 4: refused, and says which and out of how many
    refused = mass_removal(active[:1], removed(("a", "192.0.2.3"), ("b", "192.0.2.4"),
                                               ("b", "192.0.2.2")), guard)
    assert refused is not None
    assert refused.addresses == ("192.0.2.2", "192.0.2.3", "192.0.2.4") and refused.active == 4
    assert "refused to remove 3 of 4 active addresses" in refused.message
    assert "--allow-mass-removal" in refused.message
    # an address removed from one name but still active under another is not lost
    assert mass_removal(active, removed(("c", "192.0.2.1"), ("c", "192.0.2.2"),
                                        ("c", "192.0.2.9")), guard) is None
    # everything gone: refused; allowed when asked for, or when the share allows it
    assert mass_removal([], removed(("a", "192.0.2.1")), guard) is not None
    assert mass_removal([], removed(("a", "192.0.2.1")), RemovalGuard(allow=True)) is None
    assert mass_removal([], removed(("a", "192.0.2.1")), RemovalGuard(max_percent=100)) is None
    # 0 % refuses any removal; nothing removed is never refused
    assert mass_removal(active, removed(("a", "192.0.2.9")), RemovalGuard(max_percent=0))
    assert mass_removal(active, [], RemovalGuard(max_percent=0)) is None
    with pytest.raises(UsageError):
        RemovalGuard(max_percent=101)


def test_never_expiring_hold_down_keeps_counting_but_removes_nothing():
    hold = HoldDown(refreshes=1)
    states, _ = step([], obs("192.0.2.1"), hold, 0)
    kept, changes = step(states, obs(outcome="nxdomain"), hold.never_expiring(), 1)
    assert not changes and kept[0].missing_count == 1 and kept[0].missing_since == 1
