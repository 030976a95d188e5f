"""OpenWrt firewall4: an nft include that loads *inside* ``table inet fw4 { … }``.

firewall4 includes ``/etc/nftables.d/*.nft`` inside its table (openwrt/firewall4,
``root/usr/share/firewall4/templates/ruleset.uc``), so the file holds no ``table`` statement:
two ``define``s (the ePDG addresses per family) and one chain with its own postrouting hook.

fw4 reloads with ``flush table inet fw4`` and then reads the includes again. ``flush table``
empties chains but keeps a named set's elements (checked with nft 1.0.6 in the tests), so a
named set would keep marking addresses that are gone. The addresses therefore sit in the rules
as anonymous sets (``ip daddr $wifiq_epdg4``): every reload replaces them, and the full file is
also the delta (``delta: full``; apply with ``fw4 reload``).
"""

from __future__ import annotations

from .base import Renderer, RendererInfo, commented, header_lines
from .dscp import Dscp
from .model import UDP_PORTS, RenderInput
from .names import NameRules
from .nftables import nft_dscp

_FAMILY = {4: "ip", 6: "ip6"}


class OpenwrtFw4Renderer(Renderer):
    """fw4 include for ``/etc/nftables.d/``: defines + a postrouting chain, no table."""

    info = RendererInfo(
        name="openwrt-fw4",
        title="OpenWrt firewall4 include",
        description="nft include for /etc/nftables.d/ (inside table inet fw4): address defines + own postrouting chain",
        delta="full",
        extension="nft",
        limits=("flow offloading: offloaded UDP flows skip the chain after their first packets (see docs)",),
        prefix=True,
    )
    names = NameRules(max_length=64, allowed="A-Za-z0-9_", separator="_", case="lower")

    def define(self, version: int) -> str:
        """The nft variable holding one family's addresses (``wifiq_epdg4``)."""
        return self.names.fixed(f"epdg{version}")

    @property
    def chain(self) -> str:
        """The chain wifiq owns inside table inet fw4."""
        return self.names.fixed("dscp", "postrouting")

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        mark = nft_dscp(dscp)
        out = commented("#", header_lines(doc, dscp, self.info.name))
        out += [
            "# OpenWrt firewall4 include: /etc/nftables.d/wifiq.nft (read inside table inet fw4), then: fw4 reload",
            f"# owns: chain {self.chain}, defines {self.define(4)}/{self.define(6)}; touches nothing of fw4's",
        ]
        families = [v for v in (4, 6) if doc.addresses(v)]
        for version in families:
            out.append(f"define {self.define(version)} = {{")
            out += [f"\t{address}," for address in doc.addresses(version)]
            out.append("}")
        out += [f"chain {self.chain} {{", "\ttype filter hook postrouting priority mangle; policy accept;"]
        ports = ", ".join(str(p) for p in UDP_PORTS)
        for version in families:
            fam, var = _FAMILY[version], f"${self.define(version)}"
            out += [
                f"\t{fam} daddr {var} udp dport {{ {ports} }} {fam} dscp set {mark}",
                f"\t{fam} saddr {var} udp sport {{ {ports} }} {fam} dscp set {mark}",
                f"\t{fam} daddr {var} meta l4proto esp {fam} dscp set {mark}",
                f"\t{fam} saddr {var} meta l4proto esp {fam} dscp set {mark}",
            ]
        out.append("}")
        return "\n".join(out) + "\n"


RENDERER = OpenwrtFw4Renderer()
