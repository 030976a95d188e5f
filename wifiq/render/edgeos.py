"""Ubiquiti EdgeOS: firewall address groups + ``modify`` rule sets that set the DSCP.

``set`` commands for ``configure`` (or the ``vyatta-cfg-cmd-wrapper`` in a script). One
address-group per family (EdgeOS rules reference one group each; group names ≤ 31 characters,
the ipset limit underneath); the group description names the operators. Both families' groups
and rule sets always exist (an empty group when a family has no address), so a delta can add
the first address of a family and a full output converges from any older one.

The output never attaches a rule set to an interface: EdgeOS allows one ``firewall in modify``
per interface, and setting ours would replace the user's. The header says how to attach it
when the interface has none, and what to do when it has one (add our rules to that rule set).
"""

from __future__ import annotations

from .base import Renderer, RendererInfo, commented, header_lines
from .dscp import Dscp
from .model import UDP_PORTS, Delta, IPAddress, RenderInput
from .names import NameRules, quote_comment

_GROUP = {4: "address-group", 6: "ipv6-address-group"}
_ITEM = {4: "address", 6: "ipv6-address"}
_MODIFY = {4: "modify", 6: "ipv6-modify"}


class EdgeosRenderer(Renderer):
    """EdgeOS 2.x ``set firewall group`` + ``set firewall modify`` rules."""

    info = RendererInfo(
        name="edgeos",
        title="Ubiquiti EdgeOS 2",
        description="address-group/ipv6-address-group + firewall modify/ipv6-modify rules (modify dscp)",
        extension="set",
        limits=("group names <= 31 characters [A-Za-z0-9_-]", "descriptions <= 255 characters (cut)"),
    )
    names = NameRules(max_length=31, allowed="A-Za-z0-9_-", separator="_", case="upper", prefix="WIFIQ")

    def group(self, version: int) -> str:
        """Address group name for one family."""
        return self.names.fixed("EPDG" if version == 4 else "EPDG6")

    def ruleset(self, version: int) -> str:
        """Modify rule-set name for one family."""
        return self.names.fixed("EPDG" if version == 4 else "EPDG6")

    def _member(self, address: IPAddress, verb: str = "set") -> str:
        return f"{verb} firewall group {_GROUP[address.version]} {self.group(address.version)} {_ITEM[address.version]} {address}"

    def description(self, doc: RenderInput, version: int) -> str:
        """The ``set … description`` line naming the operators behind one family's group."""
        labels = ", ".join(op.label for op in doc.with_addresses if op.family(version)) or "none active"
        text = quote_comment("wifiq ePDGs: " + labels, 255)
        return f'set firewall group {_GROUP[version]} {self.group(version)} description "{text}"'

    def attach_help(self) -> list[str]:
        """Header lines: the one-time hook lines (never part of the output's commands)."""
        v4, v6 = self.ruleset(4), self.ruleset(6)
        return [
            "Attach once, ONLY if the interface has no `firewall in modify` yet (EdgeOS keeps one per",
            "interface: setting ours would replace yours). If it has one, do not attach: add these",
            "rule lines to that rule set instead (see docs/render/edgeos.md).",
            f"hook: set interfaces ethernet <interface> firewall in modify {v4}",
            f"hook: set interfaces ethernet <interface> firewall in ipv6-modify {v6}",
        ]

    def _group_lines(self, doc: RenderInput, version: int) -> list[str]:
        group = self.group(version)
        out = [f"delete firewall group {_GROUP[version]} {group}", self.description(doc, version)]
        return out + [self._member(a) for a in doc.addresses(version)]

    def _rules(self, dscp: Dscp, version: int) -> list[str]:
        ports = ",".join(str(p) for p in UDP_PORTS)
        group = self.group(version)
        base = f"set firewall {_MODIFY[version]} {self.ruleset(version)}"
        out = [f"delete firewall {_MODIFY[version]} {self.ruleset(version)} rule"]
        for number, (side, proto, port) in enumerate(
            (("destination", "udp", True), ("source", "udp", True), ("destination", "esp", False), ("source", "esp", False)),
            start=1,
        ):
            rule = f"{base} rule {number * 10}"
            out += [
                f"{rule} action modify",
                f'{rule} description "wifiq {proto} {side} ePDG"',
                f"{rule} protocol {proto}",
                f"{rule} {side} group {_GROUP[version]} {group}",
            ]
            if port:
                out.append(f"{rule} {side} port {ports}")
            out.append(f"{rule} modify dscp {dscp.value}")
        return out

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        out = commented("#", header_lines(doc, dscp, self.info.name) + self.attach_help())
        for version in (4, 6):
            out += self._group_lines(doc, version)
            out += self._rules(dscp, version)
        return "\n".join(out) + "\n"

    def delta(self, change: Delta, dscp: Dscp) -> str:
        out = commented("#", header_lines(change.current, dscp, self.info.name, change))
        for version in (4, 6):
            line = self.description(change.current, version)
            if line != self.description(change.previous, version):
                out.append(f"delete firewall group {_GROUP[version]} {self.group(version)} description")
                out.append(line)
        out += [self._member(a, "delete") for a in change.removed]
        out += [self._member(a) for a in change.added]
        return "\n".join(out) + "\n"


RENDERER = EdgeosRenderer()
