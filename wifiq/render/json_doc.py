"""JSON: the addresses and the marking intent, for scripts (schemas in ``schemas/``).

Full: ``wifiq-render-full/1`` (operators that have or had addresses, with their IPv4/IPv6 lists,
and a count of the others; DSCP, traffic);
delta: ``wifiq-render-delta/1`` (per operator: added and removed addresses).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from .base import Renderer, RendererInfo
from .dscp import Dscp
from .model import ESP_PROTOCOL, UDP_PORTS, Delta, OperatorAddresses, RenderInput
from .names import NameRules

FULL_FORMAT = "wifiq-render-full/1"
DELTA_FORMAT = "wifiq-render-delta/1"


def schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped with wifiq: ``render-full``, ``render-delta`` or ``meraki-traffic-shaping``."""
    text = resources.files("wifiq.render").joinpath(f"schemas/{name}.schema.json").read_text("utf-8")
    return json.loads(text)


def _operator(op: OperatorAddresses) -> dict[str, Any]:
    return {
        "plmn": op.plmn,
        "mcc": op.mcc,
        "mnc": op.mnc,
        "brand": op.brand,
        "operator": op.operator,
        "ipv4": [str(a) for a in op.family(4)],
        "ipv6": [str(a) for a in op.family(6)],
    }


class JsonRenderer(Renderer):
    """Machine-readable full and delta documents."""

    info = RendererInfo(
        name="json",
        title="JSON",
        description="wifiq-render-full/1 and wifiq-render-delta/1 documents (JSON Schemas shipped)",
        comments=False,
        extension="json",
    )
    names = NameRules(max_length=200)

    def _common(self, doc: RenderInput, dscp: Dscp, fmt: str) -> dict[str, Any]:
        return {
            "format": fmt,
            "wifiq_version": doc.wifiq_version,
            "refreshed_at": doc.refreshed_at_text,
            "dscp": {"value": dscp.value, "name": dscp.name},
            "traffic": [{"protocol": "udp", "ports": list(UDP_PORTS)}, {"protocol": "esp", "number": ESP_PROTOCOL}],
        }

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        body = self._common(doc, dscp, FULL_FORMAT)
        # Operators that hold addresses, or held them (their empty lists tell a consumer to clear
        # them); the rest of a country or world selection is one count, not a line each.
        listed = [op for op in doc.operators if op.may_have_objects]
        body["operators_without_addresses"] = len(doc.operators) - len(listed)
        body["operators"] = []
        head = json.dumps(body, indent=2, ensure_ascii=False)
        # One compact line per operator: readable diffs, and json's C encoder (indent= is slow).
        items = ",\n".join("    " + json.dumps(_operator(op), ensure_ascii=False) for op in listed)
        if not items:
            return head + "\n"
        return head.replace('"operators": []', '"operators": [\n' + items + "\n  ]") + "\n"

    def delta(self, change: Delta, dscp: Dscp) -> str:
        body = self._common(change.current, dscp, DELTA_FORMAT)
        body["previous_refreshed_at"] = change.previous.refreshed_at_text
        body["changes"] = [
            {
                "plmn": item.current.plmn,
                "kind": item.kind,
                "added": [str(a) for a in item.added],
                "removed": [str(a) for a in item.removed],
            }
            for item in change.operators
        ]
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


RENDERER = JsonRenderer()
