"""MikroTik RouterOS 7: address lists (``/ip`` and ``/ipv6 firewall address-list``) + mangle.

Mangle rules in ``postrouting`` change the DSCP of IKE/NAT-T (udp 500,4500) and ESP to and
from the list. The full script first removes everything it made (by list name and by the
``wifiq`` comments), so ``/import`` can run it again; a delta adds and removes list entries.

FastTrack: RouterOS's default configuration fast-tracks established/related connections, and
fast-tracked packets bypass the firewall, mangle included (help.mikrotik.com, "Connection
tracking" → "FastTrack"), so only a flow's first packets would be marked. For every
``action=fasttrack-connection`` filter rule the script places, right before it, an accept rule
for established/related traffic to and from the list: those connections are never fast-tracked
and every packet passes mangle. Nothing else in the filter is touched; no fasttrack rule, no rule.
"""

from __future__ import annotations

from .base import Renderer, RendererInfo, commented, header_lines
from .dscp import Dscp
from .model import UDP_PORTS, Delta, IPAddress, RenderInput
from .names import NameRules, quote_comment

_MENU = {4: "/ip firewall", 6: "/ipv6 firewall"}
#: Characters RouterOS treats specially inside a quoted string (variables, commands, escapes).
_ROUTEROS_SPECIAL = "\"\\$[]"


class MikrotikRenderer(Renderer):
    """RouterOS 7 ``.rsc`` script for ``/import``."""

    info = RendererInfo(
        name="mikrotik",
        title="MikroTik RouterOS 7",
        description="ip/ipv6 firewall address-list + postrouting mangle change-dscp (.rsc)",
        extension="rsc",
        limits=("list name [A-Za-z0-9_-]", "comments <= 255 characters (cut)"),
        prefix=True,
    )
    names = NameRules(max_length=63, case="lower")

    @property
    def rule_comment(self) -> str:
        """Comment of the mangle rules (how the full script finds and replaces them)."""
        return self.names.fixed("epdg", "dscp")

    @property
    def fasttrack_comment(self) -> str:
        """Comment of the accept rules placed before each fasttrack rule (owned, replaced)."""
        return self.names.fixed("epdg", "nofasttrack")

    @property
    def list_name(self) -> str:
        """The address-list name (one per family menu)."""
        return self.names.fixed("epdg")

    def _entry(self, address: IPAddress) -> str:
        return str(address) if address.version == 4 else f"{address}/128"

    def _add(self, address: IPAddress, owners: str) -> str:
        return (
            f"{_MENU[address.version]} address-list add list={self.list_name} address={self._entry(address)}"
            f' comment="{quote_comment("wifiq " + owners, 255, forbidden=_ROUTEROS_SPECIAL)}"'
        )

    def fasttrack_exemption(self, version: int) -> list[str]:
        """Remove our accept rules, then put two before every fasttrack rule (none: nothing)."""
        menu, lst = f"{_MENU[version]} filter", self.list_name
        accept = f"add chain=forward action=accept connection-state=established,related comment={self.fasttrack_comment} place-before=$rule"
        loop = (
            f":foreach rule in=[{menu} find where action=fasttrack-connection] do={{ "
            f"{menu} {accept} dst-address-list={lst}; {menu} {accept} src-address-list={lst} }}"
        )
        if version == 6:  # IPv6 FastTrack exists from RouterOS 7.18: older versions must not stop the import
            loop = f':do {{ {loop} }} on-error={{ :log warning "wifiq: no IPv6 FastTrack rules handled" }}'
        return [f"{menu} remove [find comment={self.fasttrack_comment}]", loop]

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        out = commented("#", header_lines(doc, dscp, self.info.name))
        out.append("# Fast-tracked packets skip mangle: the accept rules below keep ePDG connections off FastTrack")
        ports = ",".join(str(p) for p in UDP_PORTS)
        mark = f"action=change-dscp new-dscp={dscp.value} passthrough=yes comment={self.rule_comment}"
        for version in (4, 6):
            menu = _MENU[version]
            out.append(f"{menu} address-list remove [find list={self.list_name}]")
            out += [self._add(a, doc.owner_labels(a)) for a in doc.addresses(version)]
            out.append(f"{menu} mangle remove [find comment={self.rule_comment}]")
            lst = self.list_name
            out += [
                f"{menu} mangle add chain=postrouting dst-address-list={lst} protocol=udp dst-port={ports} {mark}",
                f"{menu} mangle add chain=postrouting src-address-list={lst} protocol=udp src-port={ports} {mark}",
                f"{menu} mangle add chain=postrouting dst-address-list={lst} protocol=ipsec-esp {mark}",
                f"{menu} mangle add chain=postrouting src-address-list={lst} protocol=ipsec-esp {mark}",
            ]
            out += self.fasttrack_exemption(version)
        return "\n".join(out) + "\n"

    def delta(self, change: Delta, dscp: Dscp) -> str:
        out = commented("#", header_lines(change.current, dscp, self.info.name, change))
        out += [
            f"{_MENU[a.version]} address-list remove [find list={self.list_name} address={self._entry(a)}]"
            for a in change.removed
        ]
        out += [self._add(a, change.current.owner_labels(a)) for a in change.added]
        return "\n".join(out) + "\n"


RENDERER = MikrotikRenderer()
