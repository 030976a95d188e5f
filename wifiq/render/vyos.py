"""VyOS 1.4+: firewall groups + ``policy route`` / ``policy route6`` rules that ``set dscp``.

EdgeOS's ``firewall modify`` does not exist on VyOS 1.4 (the firewall was rewritten on
nftables); marking lives in ``policy route <name> rule <n> set dscp <0-63>`` and a policy is
applied with ``set policy route <name> interface <if>`` (VyOS documentation, "Route and Route6
Policy"). The full output replaces only wifiq's groups and its policies' rules (``delete policy
route NAME rule``): the interfaces the user attached to the policy stay attached. Both families'
groups and policies always exist (empty group when a family has no address), so a delta can add
a family's first address and a full output converges from any older one. Groups, rule numbers,
full and delta are shared with EdgeOS (:mod:`wifiq.render.vyatta`).
"""

from __future__ import annotations

from .base import RendererInfo
from .dscp import Dscp
from .model import UDP_PORTS
from .names import NameRules
from .options import OptionSpec
from .vyatta import RULE_MATCHES, VyattaRenderer

_POLICY = {4: "route", 6: "route6"}
_NAME = r"[A-Za-z0-9_-]{1,28}"


class VyosRenderer(VyattaRenderer):
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
    container_option = {4: "policy", 6: "policy6"}
    member_item = {4: "address", 6: "address"}
    quote = "'"
    forbidden = "'\"\\"

    def attach_help(self) -> list[str]:
        """Header lines: the one-time hook lines (never part of the output's commands)."""
        lines = []
        own = [v for v in (4, 6) if not self.users_container(v)]
        if own:
            lines += [
                "Apply once to the LAN and the WAN interface (a policy acts on packets entering them);",
                "re-applying this file keeps these lines (it replaces only the policies' rules).",
            ]
            lines += [f"hook: set policy {_POLICY[v]} {self.container(v)} interface <interface>" for v in own]
        for version in (4, 6):
            if self.users_container(version):
                numbers = self.rule_numbers(version)
                lines.append(
                    f"IPv{version}: wifiq's rules are rules {numbers[0]}-{numbers[-1]} of your policy {_POLICY[version]} "
                    f"{self.container(version)} (keep those numbers free, before any catch-all rule): nothing to apply"
                )
        return lines

    def _rules(self, dscp: Dscp, version: int) -> list[str]:
        ports = ",".join(str(p) for p in UDP_PORTS)
        base = f"set policy {_POLICY[version]} {self.container(version)}"
        out = [] if self.users_container(version) else [
            f"delete policy {_POLICY[version]} {self.container(version)} rule",
            f"{base} description 'wifiq: DSCP for Wi-Fi calling (IKE, NAT-T, ESP)'",
        ]
        for number, (side, proto, port) in zip(self.rule_numbers(version), RULE_MATCHES):
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


RENDERER = VyosRenderer()
