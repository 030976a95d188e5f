"""nftables: one ``table inet wifiq`` with an IPv4 and an IPv6 address set and a mangle chain.

Full output replaces the table atomically (``table``/``delete table``/``table {…}`` in one
``nft -f`` transaction); a delta is ``add element`` / ``delete element`` on the two sets.
Each set element carries the owning operators as its comment. Not for OpenWrt's firewall4,
which includes ``/etc/nftables.d/*.nft`` inside its own table (``table`` is a syntax error
there): that is the ``openwrt-fw4`` target.
"""

from __future__ import annotations

from .base import Renderer, RendererInfo, commented, header_lines
from .dscp import Dscp
from .model import UDP_PORTS, Delta, IPAddress, RenderInput
from .names import NameRules, quote_comment

SET = {4: "epdg4", 6: "epdg6"}
CHAIN = "dscp_postrouting"
_NFT_DSCP_NAMES = {f"cs{i}" for i in range(1, 8)} | {f"af{c}{d}" for c in range(1, 5) for d in range(1, 4)} | {"ef"}
_ELEMENT_COMMENT_MAX = 128


def nft_dscp(dscp: Dscp) -> str:
    """The DSCP as nft spells it: a known symbol (``ef``) or the number."""
    return dscp.name if dscp.name in _NFT_DSCP_NAMES else str(dscp.value)


class NftablesRenderer(Renderer):
    """``nft -f`` input for plain Linux routers (OpenWrt firewall4: the openwrt-fw4 target)."""

    info = RendererInfo(
        name="nftables",
        title="Linux nftables",
        description="table inet wifiq: ipv4/ipv6 address sets + postrouting mangle chain (nft -f)",
        extension="nft",
        limits=("set element comments <= 128 characters (cut)",),
        prefix=True,
    )
    names = NameRules(max_length=64, allowed="A-Za-z0-9_", separator="_", case="lower")

    @property
    def table(self) -> str:
        """The one table wifiq owns (``inet wifiq``; the prefix names it)."""
        return self.names.fixed()

    def _element(self, address: IPAddress, owners: str) -> str:
        return f'{address} comment "{quote_comment(owners, _ELEMENT_COMMENT_MAX)}"'

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        mark = nft_dscp(dscp)
        out = ["#!/usr/sbin/nft -f", *commented("#", header_lines(doc, dscp, self.info.name))]
        out += [f"table inet {self.table}", f"delete table inet {self.table}", f"table inet {self.table} {{"]
        for version, kind in ((4, "ipv4_addr"), (6, "ipv6_addr")):
            out += [f"\tset {SET[version]} {{", f"\t\ttype {kind}"]
            members = doc.addresses(version)
            if members:
                out.append("\t\telements = {")
                out += [f"\t\t\t{self._element(a, doc.owner_labels(a))}," for a in members]
                out.append("\t\t}")
            out.append("\t}")
        out += [f"\tchain {CHAIN} {{", "\t\ttype filter hook postrouting priority mangle; policy accept;"]
        ports = ", ".join(str(p) for p in UDP_PORTS)
        for version, family in ((4, "ip"), (6, "ip6")):
            s = SET[version]
            out += [
                f"\t\t{family} daddr @{s} udp dport {{ {ports} }} {family} dscp set {mark}",
                f"\t\t{family} saddr @{s} udp sport {{ {ports} }} {family} dscp set {mark}",
                f"\t\t{family} daddr @{s} meta l4proto esp {family} dscp set {mark}",
                f"\t\t{family} saddr @{s} meta l4proto esp {family} dscp set {mark}",
            ]
        out += ["\t}", "}"]
        return "\n".join(out) + "\n"

    def delta(self, change: Delta, dscp: Dscp) -> str:
        out = ["#!/usr/sbin/nft -f", *commented("#", header_lines(change.current, dscp, self.info.name, change))]
        for version in (4, 6):
            gone = [a for a in change.removed if a.version == version]
            if gone:
                out.append(f"delete element inet {self.table} {SET[version]} {{ {', '.join(map(str, gone))} }}")
            new = [a for a in change.added if a.version == version]
            for address in new:
                element = self._element(address, change.current.owner_labels(address))
                out.append(f"add element inet {self.table} {SET[version]} {{ {element} }}")
        return "\n".join(out) + "\n"


RENDERER = NftablesRenderer()
