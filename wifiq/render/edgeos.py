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
from .options import OptionSpec

_GROUP = {4: "address-group", 6: "ipv6-address-group"}
_ITEM = {4: "address", 6: "ipv6-address"}
_MODIFY = {4: "modify", 6: "ipv6-modify"}
_OPTION = {4: "modify-ruleset", 6: "ipv6-modify-ruleset"}
_RULESET = r"[A-Za-z0-9_-]{1,28}"


class EdgeosRenderer(Renderer):
    """EdgeOS 2.x ``set firewall group`` + ``set firewall modify`` rules."""

    info = RendererInfo(
        name="edgeos",
        title="Ubiquiti EdgeOS 2",
        description="address-group/ipv6-address-group + firewall modify/ipv6-modify rules (modify dscp)",
        extension="set",
        limits=("group names <= 31 characters [A-Za-z0-9_-]", "descriptions <= 255 characters (cut)"),
        options=(
            OptionSpec(
                "modify-ruleset",
                "",
                "your rule set already on the interface (`firewall in modify`): wifiq's IPv4 rules go into it",
                pattern=_RULESET,
            ),
            OptionSpec("ipv6-modify-ruleset", "", "the same for `firewall in ipv6-modify`", pattern=_RULESET),
            OptionSpec(
                "first-rule", "9100", "first of the 4 free rule numbers wifiq uses in your rule set", kind="integer",
                minimum=1, maximum=9996,
            ),
        ),
        prefix=True,
    )
    names = NameRules(max_length=31, allowed="A-Za-z0-9_-", separator="_", case="upper", prefix="WIFIQ")

    def group(self, version: int) -> str:
        """Address group name for one family."""
        return self.names.fixed("EPDG" if version == 4 else "EPDG6")

    def users_ruleset(self, version: int) -> str:
        """The user's own rule set wifiq's rules go into (``--option modify-ruleset``), or ""."""
        return self.options.get(_OPTION[version])

    def ruleset(self, version: int) -> str:
        """Modify rule-set name for one family: the user's (option) or wifiq's own."""
        return self.users_ruleset(version) or self.names.fixed("EPDG" if version == 4 else "EPDG6")

    def rule_numbers(self, version: int) -> list[int]:
        """wifiq's four rule numbers: 10-40 in its own rule set, first-rule.. in the user's."""
        if self.users_ruleset(version):
            first = self.options.integer("first-rule")
            return [first + i for i in range(4)]
        return [10, 20, 30, 40]

    def _member(self, address: IPAddress, verb: str = "set") -> str:
        return f"{verb} firewall group {_GROUP[address.version]} {self.group(address.version)} {_ITEM[address.version]} {address}"

    def description(self, doc: RenderInput, version: int) -> str:
        """The ``set … description`` line naming the operators behind one family's group."""
        labels = ", ".join(op.label for op in doc.with_addresses if op.family(version)) or "none active"
        text = quote_comment("wifiq ePDGs: " + labels, 255)
        return f'set firewall group {_GROUP[version]} {self.group(version)} description "{text}"'

    def attach_help(self) -> list[str]:
        """Header lines: the one-time hook lines (never part of the output's commands)."""
        lines = []
        own = [v for v in (4, 6) if not self.users_ruleset(v)]
        if own:
            lines += [
                "Attach once, ONLY if the interface has no `firewall in modify` yet (EdgeOS keeps one per",
                "interface: setting ours would replace yours). If it has one, render with",
                "--option modify-ruleset=THAT_SET (ipv6-modify-ruleset for IPv6) instead.",
            ]
            lines += [f"hook: set interfaces ethernet <interface> firewall in {_MODIFY[v]} {self.ruleset(v)}" for v in own]
        for version in (4, 6):
            if self.users_ruleset(version):
                numbers = self.rule_numbers(version)
                lines.append(
                    f"IPv{version}: wifiq's rules are rules {numbers[0]}-{numbers[-1]} of your {_MODIFY[version]} "
                    f"{self.ruleset(version)} (keep those numbers free, before any catch-all rule): nothing to attach"
                )
        return lines

    def _group_lines(self, doc: RenderInput, version: int) -> list[str]:
        group = self.group(version)
        # empty the group (never delete it: wifiq's rules reference it), then refill it
        base = f"firewall group {_GROUP[version]} {group}"
        out = [f"delete {base} {_ITEM[version]}", f"delete {base} description", self.description(doc, version)]
        return out + [self._member(a) for a in doc.addresses(version)]

    def _rules(self, dscp: Dscp, version: int) -> list[str]:
        ports = ",".join(str(p) for p in UDP_PORTS)
        group = self.group(version)
        base = f"set firewall {_MODIFY[version]} {self.ruleset(version)}"
        # wifiq's own rule set: its rules are replaced; the user's: only wifiq's 4 numbers are set
        out = [] if self.users_ruleset(version) else [f"delete firewall {_MODIFY[version]} {self.ruleset(version)} rule"]
        for number, (side, proto, port) in zip(
            self.rule_numbers(version),
            (("destination", "udp", True), ("source", "udp", True), ("destination", "esp", False), ("source", "esp", False)),
        ):
            rule = f"{base} rule {number}"
            out += [
                f"{rule} action modify",
                f'{rule} description "{self.names.fixed()} {proto} {side} ePDG"',
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
