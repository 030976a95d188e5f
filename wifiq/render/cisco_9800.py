"""Cisco Catalyst 9800: the IOS-XE ACLs/class/policy attached to a wireless policy profile.

The policy goes on ``wireless profile policy default-policy-profile`` (input = client upstream,
output = downstream); change the profile name to yours. The profile must be shut while it is
edited, so the full output shuts it first and ends with ``no shutdown``; deltas only edit ACLs
and the class-map.
"""

from __future__ import annotations

from .base import RendererInfo
from .cisco_ios import POLICY, CiscoIosRenderer

PROFILE = "default-policy-profile"


class Cisco9800Renderer(CiscoIosRenderer):
    """Same objects as cisco-ios, plus ``service-policy input|output`` on the policy profile."""

    info = RendererInfo(
        name="cisco-9800",
        title="Cisco Catalyst 9800 WLC",
        description="cisco-ios objects attached to wireless profile policy (service-policy input+output)",
        extension="ios",
        limits=("ACL/class-map names <= 40 characters [A-Za-z0-9_-], starting with a letter",),
    )

    def preamble(self) -> list[str]:
        """Shut the profile before its QoS policy is rebuilt (a policy in use cannot change)."""
        return [f"wireless profile policy {PROFILE}", " shutdown", "!"]

    def attach(self) -> list[str]:
        return [
            f"wireless profile policy {PROFILE}",
            f" service-policy input {POLICY}",
            f" service-policy output {POLICY}",
            " no shutdown",
            "!",
            "end",
        ]


RENDERER = Cisco9800Renderer()
