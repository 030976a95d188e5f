"""OpenWrt qosify: a map file of ``<address> <dscp>`` lines (e.g. ``/etc/qosify/wifiq.conf``).

qosify marks by address only (both directions, all protocols to/from the address) and accepts
exact addresses only — CIDR lines are dropped silently by qosify, so we never write one. The
daemon reads the whole file on ``/etc/init.d/qosify reload``: a delta is the full file.
"""

from __future__ import annotations

from .base import Renderer, RendererInfo, commented, header_lines
from .dscp import Dscp
from .model import RenderInput
from .names import NameRules


class QosifyRenderer(Renderer):
    """qosify map file."""

    info = RendererInfo(
        name="openwrt-qosify",
        title="OpenWrt qosify",
        description="qosify map file: one '<address> <DSCP>' line per ePDG address",
        protocols="all traffic to/from the addresses (qosify maps addresses, not address+port)",
        delta="full",
        extension="conf",
        limits=("exact addresses only (qosify drops CIDR lines)",),
    )
    names = NameRules(max_length=64)

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        value = dscp.name_or_value(upper=True)
        owners = doc.owners()
        out = commented("#", header_lines(doc, dscp, self.info.name))
        for address, ops in owners.items():
            out.append(f"# {', '.join(o.plmn for o in ops)}")
            out.append(f"{address} {value}")
        return "\n".join(out) + "\n"


RENDERER = QosifyRenderer()
