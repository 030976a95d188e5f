"""What the Vyatta family (EdgeOS, VyOS) shares: address groups, wifiq's 4 rules, full and delta.

Both take ``set``/``delete`` commands on the same ``firewall group address-group`` /
``ipv6-address-group`` tree, keep both families' groups always present (an empty group when a
family has no address, so a delta can add a family's first address and a full output converges
from any older one), and put wifiq's four marking rules either in wifiq's own container (rules
10-40) or in the user's (``first-rule``…). A subclass states where the rules live and how they
are written (:meth:`_rules`), its attach help, and the spelling differences (class attributes).
"""

from __future__ import annotations

from abc import abstractmethod

from .base import Renderer, commented, header_lines
from .dscp import Dscp
from .model import Delta, IPAddress, RenderInput
from .names import quote_comment

GROUP = {4: "address-group", 6: "ipv6-address-group"}
#: wifiq's four rules, in rule-number order: (side, protocol, whether the UDP ports are matched)
RULE_MATCHES = (
    ("destination", "udp", True),
    ("source", "udp", True),
    ("destination", "esp", False),
    ("source", "esp", False),
)


class VyattaRenderer(Renderer):
    """Groups, rule numbers, descriptions and the full/delta layout shared by EdgeOS and VyOS."""

    #: the option naming the user's container for each family (``--option NAME=…``)
    container_option: dict[int, str]
    #: the keyword of a group member for each family (``address`` / ``ipv6-address``)
    member_item: dict[int, str]
    #: the quote around a description, and the characters a description may not hold
    quote: str
    forbidden: str

    def group(self, version: int) -> str:
        """Address group name for one family."""
        return self.names.fixed("EPDG" if version == 4 else "EPDG6")

    def users_container(self, version: int) -> str:
        """The user's own rule set / policy wifiq's rules go into (option), or ""."""
        return self.options.get(self.container_option[version])

    def container(self, version: int) -> str:
        """The rule set / policy holding wifiq's rules for one family: the user's or wifiq's own."""
        return self.users_container(version) or self.names.fixed("EPDG" if version == 4 else "EPDG6")

    def rule_numbers(self, version: int) -> list[int]:
        """wifiq's four rule numbers: 10-40 in its own container, first-rule.. in the user's."""
        if self.users_container(version):
            first = self.options.integer("first-rule")
            return [first + i for i in range(4)]
        return [10, 20, 30, 40]

    def _member(self, address: IPAddress, verb: str = "set") -> str:
        version = address.version
        return f"{verb} firewall group {GROUP[version]} {self.group(version)} {self.member_item[version]} {address}"

    def description(self, doc: RenderInput, version: int) -> str:
        """The ``set … description`` line naming the operators behind one family's group."""
        labels = ", ".join(op.label for op in doc.with_addresses if op.family(version)) or "none active"
        text = quote_comment("wifiq ePDGs: " + labels, 255, forbidden=self.forbidden)
        return f"set firewall group {GROUP[version]} {self.group(version)} description {self.quote}{text}{self.quote}"

    def _group_lines(self, doc: RenderInput, version: int) -> list[str]:
        # empty the group (never delete it: wifiq's rules reference it), then refill it
        base = f"firewall group {GROUP[version]} {self.group(version)}"
        out = [f"delete {base} {self.member_item[version]}", f"delete {base} description", self.description(doc, version)]
        return out + [self._member(a) for a in doc.addresses(version)]

    @abstractmethod
    def attach_help(self) -> list[str]:
        """Header lines: the one-time hook lines (never part of the output's commands)."""

    @abstractmethod
    def _rules(self, dscp: Dscp, version: int) -> list[str]:
        """wifiq's four marking rules for one family (and the lines that replace its own)."""

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
                out.append(f"delete firewall group {GROUP[version]} {self.group(version)} description")
                out.append(line)
        out += [self._member(a, "delete") for a in change.removed]
        out += [self._member(a) for a in change.added]
        return "\n".join(out) + "\n"
