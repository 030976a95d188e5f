"""VyOS 1.4+: firewall groups + ``policy route`` / ``policy route6`` rules that ``set dscp``.

EdgeOS's ``firewall modify`` does not exist on VyOS 1.4 (the firewall was rewritten on
nftables); marking lives in ``policy route <name> rule <n> set dscp <0-63>`` and a policy is
applied with ``set policy route <name> interface <if>`` (VyOS documentation, "Route and Route6
Policy"). The full output replaces only wifiq's groups and its policies' rules (``delete policy
route NAME rule``): the interfaces the user attached to the policy stay attached. Both families'
groups and policies always exist (empty group when a family has no address), so a delta can add
a family's first address and a full output converges from any older one.
"""

from __future__ import annotations

from .base import Renderer, RendererInfo, commented, header_lines
from .dscp import Dscp
from .model import UDP_PORTS, Delta, IPAddress, RenderInput
from .names import NameRules, quote_comment
from .options import OptionSpec

_GROUP = {4: "address-group", 6: "ipv6-address-group"}
_POLICY = {4: "route", 6: "route6"}
_OPTION = {4: "policy", 6: "policy6"}
_NAME = r"[A-Za-z0-9_-]{1,28}"


class VyosRenderer(Renderer):
    """VyOS 1.4/1.5 ``set`` commands: groups + policy route/route6 with ``set dscp``."""

    info = RendererInfo(
        name="vyos",
        title="VyOS 1.4+",
        description="firewall address-group/ipv6-address-group + policy route/route6 rules with set dscp",
        extension="set",
        limits=("group and policy names <= 31 characters [A-Za-z0-9_-]", "descriptions <= 255 characters (cut)"),
        options=(
            OptionSpec("policy", "", "your policy route already on the interface: wifiq's IPv4 rules go into it", pattern=_NAME),
            OptionSpec("policy6", "", "the same for policy route6", pattern=_NAME),
            OptionSpec(
                "first-rule", "9100", "first of the 4 free rule numbers wifiq uses in your policy", kind="integer",
                minimum=1, maximum=999996,
            ),
        ),
        prefix=True,
    )
    names = NameRules(max_length=31, allowed="A-Za-z0-9_-", separator="-", case="upper", prefix="WIFIQ")

    def group(self, version: int) -> str:
        """Address group name for one family."""
        return self.names.fixed("EPDG" if version == 4 else "EPDG6")

    def users_policy(self, version: int) -> str:
        """The user's own policy wifiq's rules go into (``--option policy``/``policy6``), or ""."""
        return self.options.get(_OPTION[version])

    def policy(self, version: int) -> str:
        """Policy route (IPv4) / route6 (IPv6) name: the user's (option) or wifiq's own."""
        return self.users_policy(version) or self.names.fixed("EPDG" if version == 4 else "EPDG6")

    def rule_numbers(self, version: int) -> list[int]:
        """wifiq's four rule numbers: 10-40 in its own policy, first-rule.. in the user's."""
        if self.users_policy(version):
            first = self.options.integer("first-rule")
            return [first + i for i in range(4)]
        return [10, 20, 30, 40]

    def _member(self, address: IPAddress, verb: str = "set") -> str:
        return f"{verb} firewall group {_GROUP[address.version]} {self.group(address.version)} address {address}"

    def description(self, doc: RenderInput, version: int) -> str:
        """The group description naming the operators behind one family's group."""
        labels = ", ".join(op.label for op in doc.with_addresses if op.family(version)) or "none active"
        text = quote_comment("wifiq ePDGs: " + labels, 255, forbidden="'\"\\")
        return f"set firewall group {_GROUP[version]} {self.group(version)} description '{text}'"

    def attach_help(self) -> list[str]:
        """Header lines: the one-time hook lines (never part of the output's commands)."""
        lines = []
        own = [v for v in (4, 6) if not self.users_policy(v)]
        if own:
            lines += [
                "Apply once to the LAN and the WAN interface (a policy acts on packets entering them);",
                "re-applying this file keeps these lines (it replaces only the policies' rules).",
            ]
            lines += [f"hook: set policy {_POLICY[v]} {self.policy(v)} interface <interface>" for v in own]
        for version in (4, 6):
            if self.users_policy(version):
                numbers = self.rule_numbers(version)
                lines.append(
                    f"IPv{version}: wifiq's rules are rules {numbers[0]}-{numbers[-1]} of your policy {_POLICY[version]} "
                    f"{self.policy(version)} (keep those numbers free, before any catch-all rule): nothing to apply"
                )
        return lines

    def _rules(self, dscp: Dscp, version: int) -> list[str]:
        ports = ",".join(str(p) for p in UDP_PORTS)
        base = f"set policy {_POLICY[version]} {self.policy(version)}"
        out = [] if self.users_policy(version) else [
            f"delete policy {_POLICY[version]} {self.policy(version)} rule",
            f"{base} description 'wifiq: DSCP for Wi-Fi calling (IKE, NAT-T, ESP)'",
        ]
        for number, (side, proto, port) in zip(
            self.rule_numbers(version),
            (("destination", "udp", True), ("source", "udp", True), ("destination", "esp", False), ("source", "esp", False)),
        ):
            rule = f"{base} rule {number}"
            out += [
                f"{rule} description '{self.names.fixed()} {proto} {side} ePDG'",
                f"{rule} protocol {proto}",
                f"{rule} {side} group address-group {self.group(version)}",
            ]
            if port:
                out.append(f"{rule} {side} port {ports}")
            out.append(f"{rule} set dscp {dscp.value}")
        return out

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        out = commented("#", header_lines(doc, dscp, self.info.name) + self.attach_help())
        for version in (4, 6):
            # empty the group (never delete it: wifiq's rules reference it), then refill it
            group = f"firewall group {_GROUP[version]} {self.group(version)}"
            out += [f"delete {group} address", f"delete {group} description", self.description(doc, version)]
            out += [self._member(a) for a in doc.addresses(version)]
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


RENDERER = VyosRenderer()
