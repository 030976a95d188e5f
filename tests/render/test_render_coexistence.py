"""Every target against the coexistence contract (docs/wifiq-render.md; checks in contract.py,
cases per target in tests/render/cases/)."""

from __future__ import annotations

import pytest

from wifiq.render import render, render_options, targets
from wifiq.render.errors import RenderOptionError

from . import device_models as dm
from .cases import all_cases
from .contract import FAMILY_STEPS, NEWER, OLDER, Contract, DeviceCase

CASES = all_cases()
IDS = [case.id for case in CASES]
#: Targets not yet plugged into the contract harness (another helper's work in progress).
PENDING: set[str] = set()

PAIRS = [(OLDER, NEWER), (NEWER, OLDER), *zip(FAMILY_STEPS, FAMILY_STEPS[1:])]
PAIR_IDS = ["older-newer", "newer-older", *(f"family-{i}-{i + 1}" for i in range(len(FAMILY_STEPS) - 1))]


def test_every_target_has_a_case_or_is_pending() -> None:
    covered = {case.target for case in CASES}
    assert covered | PENDING == set(targets()), "plug the target into tests/render/cases/"
    assert not covered & PENDING, "remove plugged-in targets from PENDING"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_no_line_disables_anything(case: DeviceCase) -> None:
    run = Contract(case)
    texts = [run.full(d) for d in (OLDER, NEWER, *FAMILY_STEPS)]
    texts += [run.delta(a, b) for a, b in PAIRS]
    for text in texts:
        assert run.disabling_lines(text) == []


@pytest.mark.parametrize("prefix", [None, "acme"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_only_owned_objects_change(case: DeviceCase, prefix: str | None) -> None:
    if prefix and not targets()[case.target].prefix:
        # csv, json, plain, openwrt-qosify name nothing on a device: --prefix is refused, not ignored.
        with pytest.raises(RenderOptionError, match="names no object on a device"):
            Contract(case, prefix)
        return
    run = Contract(case, prefix)
    dev = case.device()
    dev.apply(case.user_config)
    users = dev.foreign(run.prefix)
    first = run.full(OLDER)
    dev.apply(first)
    assert dev.foreign(run.prefix) == users, "the first full output changed the user's objects"
    dev.apply(run.hooks(first))
    users = dev.foreign(run.prefix)  # the user hooked wifiq in (the printed lines)
    for text in (run.full(NEWER), run.delta(NEWER, OLDER), run.full(OLDER), run.delta(OLDER, NEWER)):
        dev.apply(text)
        assert dev.foreign(run.prefix) == users, "an output changed the user's objects"
    owned = [key for key in dev.objects() if dm._owned(key[-1], run.prefix)]
    assert owned, "no object carries the prefix"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_full_output_twice_changes_nothing(case: DeviceCase) -> None:
    run = Contract(case)
    for current in (OLDER, NEWER, FAMILY_STEPS[2]):
        once = run.device(run.full(current))
        twice = run.device(run.full(current), run.full(current))
        assert twice.objects() == once.objects()


@pytest.mark.parametrize(("before", "after"), PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_full_converges_over_an_older_full(case: DeviceCase, before, after) -> None:  # type: ignore[no-untyped-def]
    # ``after`` as the refresh that followed ``before`` knows it (its ``removed`` entries, the
    # state's history): operators that lost every address are among those it cleans up.
    run = Contract(case)
    over = run.device(run.full(before), run.full(after.knowing(before)))
    fresh = run.device(run.full(after))
    assert run.lingering(over, fresh) == {}


@pytest.mark.parametrize(("before", "after"), PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_full_plus_delta_equals_the_next_full(case: DeviceCase, before, after) -> None:  # type: ignore[no-untyped-def]
    run = Contract(case)
    stepped = run.device(run.full(before), run.delta(before, after))
    fresh = run.device(run.full(after))
    assert stepped.objects() == fresh.objects()


@pytest.mark.parametrize(("before", "after"), PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_delta_after_a_full_over_an_older_full(case: DeviceCase, before, after) -> None:  # type: ignore[no-untyped-def]
    # What a full output over an older one may leave (unreferenced objects) must not come back
    # to life when the next delta re-adds the operator.
    run = Contract(case)
    # The full before ``before``: inputs listing the same operators (one not listed at all is
    # out of a full output's reach, see docs/wifiq-render.md).
    steps = list(FAMILY_STEPS)
    oldest = after if before in (OLDER, NEWER) else steps[steps.index(before) - 1]
    stepped = run.device(run.full(oldest), run.full(before.knowing(oldest)), run.delta(before, after))
    fresh = run.device(run.full(after))
    assert run.lingering(stepped, fresh) == {}


@pytest.mark.parametrize("case", [c for c in CASES if c.first is not None], ids=[c.id for c in CASES if c.first is not None])
def test_the_marking_is_evaluated_first(case: DeviceCase) -> None:
    run = Contract(case)
    for current in (OLDER, NEWER):
        dev = run.device(run.full(current))
        assert case.first(dev, run.prefix), f"{case.id}: wifiq's marking is not what the device evaluates first"  # type: ignore[misc]
    stepped = run.device(run.full(OLDER), run.delta(OLDER, NEWER))
    assert case.first(stepped, run.prefix)  # type: ignore[misc]


SIZE_CASES = list({case.target: case for case in CASES}.values())


@pytest.mark.parametrize("case", SIZE_CASES, ids=[c.target for c in SIZE_CASES])
def test_size_does_not_grow_with_operators_without_addresses(case: DeviceCase) -> None:
    # A world render (3,000 operators, 30 with addresses) is the configuration of the 30 plus
    # one header line per file counting the rest: never a line per address-less operator.
    files = max(1, len(targets()[case.target].files))
    for kind, (lines, size) in Contract(case).size_growth().items():
        assert lines <= files and size <= 100 * files, f"{case.target} {kind}: +{lines} lines, +{size} bytes for 2,970 address-less operators"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_dscp_change_converges(case: DeviceCase) -> None:
    # Full output marking EF, then one marking AF41 over it (ArubaOS names the old DSCP: its
    # lines carry it, docs/render/aruba-os.md): the device marks what the new one alone marks.
    run = Contract(case)
    spec = {s.key for s in targets()[case.target].options}
    options = render_options(case.target, None, {**case.options, "previous-dscp": "ef"}) if "previous-dscp" in spec else run.options
    old = render(case.target, OLDER, dscp="ef", options=run.options)
    new = render(case.target, NEWER.knowing(OLDER), dscp="af41", options=options)
    assert run.lingering(run.device(old, new), run.device(new)) == {}
