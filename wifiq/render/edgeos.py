"""Ubiquiti EdgeOS: firewall address groups + ``modify`` rule sets that set the DSCP.

``set`` commands for ``configure`` (or the ``vyatta-cfg-cmd-wrapper`` in a script). One
address-group per family (EdgeOS rules reference one group each; group names ≤ 31 characters,
the ipset limit underneath); the group description names the operators. Both families' groups
and rule sets always exist (an empty group when a family has no address), so a delta can add
the first address of a family and a full output converges from any older one. Groups, rule
numbers, full and delta are shared with VyOS (:mod:`wifiq.render.vyatta`).

The output never attaches a rule set to an interface: EdgeOS allows one ``firewall in modify``
per interface, and setting ours would replace the user's. The header says how to attach it
when the interface has none, and what to do when it has one (add our rules to that rule set).
"""

from __future__ import annotations

from .base import RendererInfo
from .dscp import Dscp
from .model import UDP_PORTS
from .names import NameRules
from .options import OptionSpec
from .vyatta import GROUP, RULE_MATCHES, VyattaRenderer

_MODIFY = {4: "modify", 6: "ipv6-modify"}
_RULESET = r"[A-Za-z0-9_-]{1,28}"


class EdgeosRenderer(VyattaRenderer):
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
    container_option = {4: "modify-ruleset", 6: "ipv6-modify-ruleset"}
    member_item = {4: "address", 6: "ipv6-address"}
    quote = '"'
    forbidden = '"\\'

    def attach_help(self) -> list[str]:
        """Header lines: the one-time hook lines (never part of the output's commands)."""
        lines = []
        own = [v for v in (4, 6) if not self.users_container(v)]
        if own:
            lines += [
                "Attach once, ONLY if the interface has no `firewall in modify` yet (EdgeOS keeps one per",
                "interface: setting ours would replace yours). If it has one, render with",
                "--option modify-ruleset=THAT_SET (ipv6-modify-ruleset for IPv6) instead.",
            ]
            lines += [f"hook: set interfaces ethernet <interface> firewall in {_MODIFY[v]} {self.container(v)}" for v in own]
        for version in (4, 6):
            if self.users_container(version):
                numbers = self.rule_numbers(version)
                lines.append(
                    f"IPv{version}: wifiq's rules are rules {numbers[0]}-{numbers[-1]} of your {_MODIFY[version]} "
                    f"{self.container(version)} (keep those numbers free, before any catch-all rule): nothing to attach"
                )
        return lines

    def _rules(self, dscp: Dscp, version: int) -> list[str]:
        ports = ",".join(str(p) for p in UDP_PORTS)
        group = self.group(version)
        base = f"set firewall {_MODIFY[version]} {self.container(version)}"
        # wifiq's own rule set: its rules are replaced; the user's: only wifiq's 4 numbers are set
        out = [] if self.users_container(version) else [f"delete firewall {_MODIFY[version]} {self.container(version)} rule"]
        for number, (side, proto, port) in zip(self.rule_numbers(version), RULE_MATCHES):
            rule = f"{base} rule {number}"
            out += [
                f"{rule} action modify",
                f'{rule} description "{self.names.fixed()} {proto} {side} ePDG"',
                f"{rule} protocol {proto}",
                f"{rule} {side} group {GROUP[version]} {group}",
            ]
            if port:
                out.append(f"{rule} {side} port {ports}")
            out.append(f"{rule} modify dscp {dscp.value}")
        return out


RENDERER = EdgeosRenderer()
