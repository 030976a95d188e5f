"""The coexistence contract (docs/wifiq-render.md), as reusable checks every target plugs into.

A target plugs in with one or more :class:`DeviceCase` entries in :data:`CASES`: a device model
(tests/render/device_models.py) that already holds a user's configuration, the options that fit
wifiq into it, and the values of the placeholders in the output's ``hook:`` comment lines (the
one-time lines a user adds by hand, e.g. an interface's filter list). The checks in
test_render_coexistence.py then apply outputs to the model in every order a device meets them:

- no line disables anything (``shutdown``, ``disable``…);
- the objects wifiq does not own are exactly as the user left them (no replaced service-policy,
  filter or rule list), after the first full output and after every later one;
- the full output applied twice changes nothing;
- a full output over an older one leaves what the full output alone leaves (stale entries and
  the objects of operators listed without addresses removed; only owned, unreferenced objects
  the case allows — per-address objects on PAN-OS/FortiOS — may stay);
- full N + delta = full N+1 along a sequence where an operator's IPv4 and IPv6 families appear
  and disappear, and where the whole input is IPv6-only once;
- the device model refuses any delete under a reference and any dangling reference;
- where the case names it, what the device evaluates first is wifiq's (PAN-OS rule order…);
- the output's size does not grow with operators listed without addresses and without history
  (a world render is the configuration of its few operators with addresses, plus one header
  line counting the rest): :meth:`Contract.size_growth`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from wifiq.render import RenderInput, parse_render_input, render, render_options

from . import device_models as dm
from .world import world_document

#: Lines that take something away from a live device; never in any output.
DISABLING = (r"\bshutdown\b", r"\bdisable\b", r"\bstatus\s+disable\b", r"defaultRulesEnabled\"?\s*:\s*false")


@dataclass(frozen=True)
class DeviceCase:
    """How one target (in one user situation) plugs into the contract checks."""

    id: str
    target: str
    device: Callable[[], dm.Device]
    user_config: str = ""
    options: Mapping[str, str] = field(default_factory=dict)
    hooks: Mapping[str, str] = field(default_factory=dict)
    """Placeholder (``<interface>``) -> the user's value, filled into the output's hook lines."""
    linger: Callable[[dm.Key], bool] = lambda key: False
    """Owned objects allowed to stay, unreferenced, after a full over an older full."""
    first: Callable[[dm.Device, str], bool] | None = None
    """(device, prefix) -> True when what the device evaluates first is wifiq's."""


def doc(operators: Mapping[str, list[str]], hour: int = 9) -> RenderInput:
    """A refresh with these operators (PLMN -> active addresses; [] = listed without any)."""
    return parse_render_input(
        {
            "refreshed_at": f"2026-11-26T{hour:02d}:00:00Z",
            "wifiq_version": "0.1.0",
            "operators": [{"plmn": plmn, "brand": f"Op {plmn}", "active": active} for plmn, active in operators.items()],
        },
        "contract",
    )


#: An older refresh and a newer one: addresses added/removed, a family gained (208-10 IPv6), a
#: family lost (234-15 IPv4), operators now listed without addresses (310-260, 262-01: the
#: state lists every operator it ever held), one new (311-480).
OLDER = doc({
    "505-01": ["203.0.113.10", "203.0.113.11", "2001:db8:2::10"],
    "208-10": ["198.51.100.20"],
    "310-260": ["2001:db8:2::30"],
    "234-15": ["203.0.113.40", "2001:db8:2::40"],
    "262-01": ["192.0.2.62"],
    "311-480": [],
})
NEWER = doc({
    "505-01": ["203.0.113.10", "203.0.113.12", "2001:db8:2::10", "2001:db8:2::12"],
    "208-10": ["198.51.100.20", "2001:db8:2::20"],
    "310-260": [],
    "234-15": ["2001:db8:2::40"],
    "311-480": ["192.0.2.48"],
    "262-01": [],
}, hour=10)

#: Families appearing and disappearing: X = 505-01, Y = 234-15; step 2 is IPv6-only as a whole.
FAMILY_STEPS = (
    doc({"505-01": ["203.0.113.10"], "234-15": ["203.0.113.40"]}, 1),
    doc({"505-01": ["203.0.113.10", "2001:db8:2::10"], "234-15": ["203.0.113.40"]}, 2),
    doc({"505-01": ["2001:db8:2::10"], "234-15": ["2001:db8:2::40"]}, 3),
    doc({"505-01": ["203.0.113.11"], "234-15": ["2001:db8:2::40"]}, 4),
    doc({"505-01": [], "234-15": ["203.0.113.40", "2001:db8:2::40"]}, 5),
    doc({"505-01": ["203.0.113.10", "2001:db8:2::10"], "234-15": []}, 6),
)


class Contract:
    """One case's outputs and device runs."""

    def __init__(self, case: DeviceCase, prefix: str | None = None) -> None:
        self.case = case
        self.options = render_options(case.target, prefix, dict(case.options))
        self.prefix = self.options.prefix

    def full(self, current: RenderInput) -> str:
        return render(self.case.target, current, options=self.options)

    def delta(self, previous: RenderInput, current: RenderInput) -> str:
        return render(self.case.target, current, previous=previous, options=self.options)

    def hooks(self, text: str) -> str:
        """The output's ``hook:`` comment lines, placeholders filled with the case's values."""
        device = self.case.device()
        marker = f"{device.comment} hook: "
        lines = [line[len(marker):] for line in text.splitlines() if line.startswith(marker)]
        out = "\n".join(lines)
        for placeholder, value in self.case.hooks.items():
            out = out.replace(placeholder, value)
        left = re.findall(r"<[a-z-]+>", out)
        assert not left, f"{self.case.id}: hook placeholders without a value: {left}"
        return out + "\n" if out else ""

    def device(self, *texts: str) -> dm.Device:
        """A device with the user's configuration, then ``texts`` applied in order; the hook
        lines of the first output are applied right after it (as the user does once)."""
        dev = self.case.device()
        dev.apply(self.case.user_config)
        for i, text in enumerate(texts):
            dev.apply(text)
            if i == 0:
                dev.apply(self.hooks(text))
        return dev

    def disabling_lines(self, text: str) -> list[str]:
        comment = self.case.device().comment
        code = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith(comment)]
        return [line for line in code if any(re.search(p, line) for p in DISABLING)]

    def lingering(self, over: dm.Device, fresh: dm.Device) -> dict[dm.Key, object]:
        """Objects in ``over`` that differ from ``fresh``, minus the ones allowed to stay."""
        a, b = over.objects(), fresh.objects()
        refs = over.references()
        # Objects only ``over`` has, that wifiq owns and the case lets stay — as long as nothing
        # outside that set references them (a lingering group may keep its lingering members).
        stay = {key for key in a.keys() - b.keys() if dm._owned(key[-1], self.prefix) and self.case.linger(key)}
        while True:
            used = {target for source, target in refs if source not in stay}
            if not stay & used:
                break
            stay -= used
        return {key: (a.get(key), b.get(key)) for key in a.keys() | b.keys() if a.get(key) != b.get(key) and key not in stay}

    def size_growth(self, operators: int = 3000, every: int = 100) -> dict[str, tuple[int, int]]:
        """Extra (lines, bytes) of the full output and of a delta when a world-like input also
        lists its ``operators - operators // every`` operators without addresses or history,
        against the same input without them (tests/render/world.py)."""
        def texts(addressless: bool) -> dict[str, str]:
            older = parse_render_input(world_document(operators, every, addressless=addressless), "world")
            newer = parse_render_input(world_document(operators, every, addressless=addressless, hour=1, moved=1), "world")
            return {"full": self.full(older), "delta": self.delta(older, newer)}

        wide, narrow = texts(True), texts(False)
        return {
            kind: (wide[kind].count("\n") - narrow[kind].count("\n"), len(wide[kind].encode()) - len(narrow[kind].encode()))
            for kind in wide
        }
