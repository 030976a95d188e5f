"""Cisco Catalyst 9800: the cisco-ios objects, for a wireless policy profile.

The output never enters the policy profile (no ``shutdown``, no replaced ``service-policy``):
it owns the ACLs, the class-map and — by default — the policy-map, and prints as ``! hook:``
comment lines the two lines to add to the profile once (``service-policy input|output``). A
profile that already has service policies keeps them: render with ``--option policy-map=<its
input policy>`` and ``--option policy-map-output=<its output policy>``, and wifiq's class goes
into those (nothing to add to the profile). ``--option policy-profile=`` names the profile in the
printed lines. Deltas edit only ACLs and the class-map.
"""

from __future__ import annotations

from .base import RendererInfo
from .cisco_ios import INSERT_BEFORE, IOS_NAME, POLICY_MAP, CiscoIosRenderer
from .options import OptionSpec

PROFILE = OptionSpec(
    "policy-profile",
    "default-policy-profile",
    "the wireless policy profile named in the printed hook lines (the output never enters it)",
    pattern=r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}",
)
POLICY_MAP_OUTPUT = OptionSpec(
    "policy-map-output",
    "",
    "the profile's existing output (downstream) policy-map, if it is not the input one (empty: the same)",
    pattern=IOS_NAME,
)


class Cisco9800Renderer(CiscoIosRenderer):
    """Same objects as cisco-ios; the class goes into the profile's input and output policy."""

    info = RendererInfo(
        name="cisco-9800",
        title="Cisco Catalyst 9800 WLC",
        description="cisco-ios objects for a wireless policy profile (class in its input+output policy-maps)",
        extension="ios",
        limits=("ACL/class-map names <= 40 characters [A-Za-z0-9_-], starting with a letter",),
        options=(PROFILE, POLICY_MAP, POLICY_MAP_OUTPUT, INSERT_BEFORE),
        prefix=True,
    )

    def policy_maps(self) -> list[str]:
        first = self.options.get("policy-map")
        output = self.options.get("policy-map-output") or first
        return [first] if output == first else [first, output]

    def hook_lines(self) -> list[str]:
        maps = self.policy_maps()
        profile = self.options.get("policy-profile")
        return [
            "! Hook it in once, unless the profile already has these lines: on the 9800, changing a",
            "! policy profile's service-policy needs the profile shut, which drops its clients - do it",
            "! in a maintenance window. A profile with its own service policies keeps them: render with",
            "! --option policy-map=<input policy> --option policy-map-output=<output policy> instead.",
            f"! hook: wireless profile policy {profile}",
            f"! hook:  service-policy input {maps[0]}",
            f"! hook:  service-policy output {maps[-1]}",
        ]


RENDERER = Cisco9800Renderer()
