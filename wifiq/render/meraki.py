"""Cisco Meraki MR: the JSON body for ``PUT /networks/{id}/wireless/ssids/{n}/trafficShaping/rules``.

One rule per operator (definitions of type ``ipRange``, one per address) with ``dscpTagValue``
and ``pcpTagValue``; default rules are switched off. The Dashboard allows 8 rules, defaults
included: more operators raise an error rather than being dropped. Meraki rules cannot match a
protocol next to an address, so all traffic to/from the ePDG addresses is marked (ePDGs carry
only IKE/ESP). The PUT replaces the whole rule set, so a delta is the full body.
"""

from __future__ import annotations

import json

from .base import Renderer, RendererInfo
from .dscp import Dscp
from .model import RenderInput
from .names import NameRules

MAX_RULES = 8


class MerakiRenderer(Renderer):
    """Meraki Dashboard API JSON body (SSID traffic shaping rules)."""

    info = RendererInfo(
        name="meraki",
        title="Cisco Meraki MR (Dashboard API)",
        description="PUT body for SSID trafficShaping/rules: one rule per operator, dscpTagValue + pcpTagValue",
        protocols="all traffic to/from the addresses (Meraki rules cannot name a protocol with an address)",
        delta="full",
        comments=False,
        extension="json",
        limits=(f"at most {MAX_RULES} rules (one per operator), defaults included",),
    )
    names = NameRules(max_length=127)

    def check(self, doc: RenderInput) -> None:
        super().check(doc)
        count = len(doc.with_addresses)
        if count > MAX_RULES:
            raise self.fail(
                f"Meraki allows {MAX_RULES} traffic-shaping rules per SSID",
                f"{count} operators with active addresses need {count} rules",
            )

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        rules = [
            {
                "definitions": [{"type": "ipRange", "value": str(a)} for a in op.addresses],
                "perClientBandwidthLimits": {"settings": "network default"},
                "dscpTagValue": dscp.value,
                "pcpTagValue": dscp.user_priority,
            }
            for op in doc.with_addresses
        ]
        body = {"trafficShapingEnabled": True, "defaultRulesEnabled": False, "rules": rules}
        return json.dumps(body, indent=2) + "\n"


RENDERER = MerakiRenderer()
