"""PAN-OS: address objects, one address group per operator, a security rule with QoS marking.

``set`` commands for the CLI configure mode. The rule matches applications ``ike``,
``ipsec-esp`` and ``ipsec-esp-udp`` (IKE, ESP, NAT-T) to the groups and sets ``qos marking
ip-dscp``. Security rules match top-down, first match wins, so the full output moves the rule
``top`` (``--option placement=before:<rule>`` / ``after:<rule>`` / ``bottom`` otherwise). A
group the rule references is never deleted: the full output resets a group's members in place
(``delete address-group G static`` keeps G, which has a description) and repoints the rule's
destination; the groups of operators without addresses are left unreferenced. For a list the
firewall fetches itself, use the ``plain`` target as an External Dynamic List instead. Delta:
``set``/``delete`` members.
"""

from __future__ import annotations

from .base import Renderer, RendererInfo, commented, header_lines
from .dscp import Dscp
from .model import Delta, IPAddress, OperatorAddresses, RenderInput
from .names import NameRules, quote_comment
from .options import OptionSpec

GROUP_MEMBER_LIMIT = 2500
PANOS_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}"


class PanosRenderer(Renderer):
    """PAN-OS ``set address`` / ``set address-group`` / ``set rulebase security rules`` + ``move``."""

    info = RendererInfo(
        name="panos",
        title="Palo Alto Networks PAN-OS",
        description="address objects, per-operator address-groups, security rule with qos marking ip-dscp, moved to the top",
        protocols="apps ike, ipsec-esp, ipsec-esp-udp (IKE, ESP, NAT-T)",
        extension="set",
        limits=("object names <= 63 characters [A-Za-z0-9_.-]", f"address-group members <= {GROUP_MEMBER_LIMIT}"),
        options=(
            OptionSpec("rule", "{prefix}-epdg-dscp", "the security rule wifiq owns", pattern=PANOS_NAME),
            OptionSpec(
                "placement",
                "top",
                "where the rule goes: top, bottom, before:<rule> or after:<rule>",
                pattern=rf"top|bottom|(before|after):{PANOS_NAME}",
                expect="top, bottom, before:<rule> or after:<rule>",
            ),
        ),
        prefix=True,
    )
    names = NameRules(max_length=63, allowed="A-Za-z0-9_.-", separator="-")
    needs_addresses = "a rule needs a destination"

    @property
    def rule_name(self) -> str:
        return self.options.get("rule")

    def address_name(self, op: OperatorAddresses, address: IPAddress) -> str:
        """Address object name (operator + address, ``:`` → ``.``)."""
        return self.names.address_object(op, str(address))

    def group_name(self, op: OperatorAddresses) -> str:
        """The operator's address group (both families in one group)."""
        return self.names.operator(op)

    def address_lines(self, op: OperatorAddresses, addresses: tuple[IPAddress, ...] | list[IPAddress]) -> list[str]:
        """``set address`` lines with a description."""
        description = quote_comment("wifiq ePDG " + op.label, 255)
        out = []
        for a in addresses:
            name = self.address_name(op, a)
            bits = 32 if a.version == 4 else 128
            out.append(f'set address {name} ip-netmask {a}/{bits}\nset address {name} description "{description}"')
        return out

    def group_description(self, op: OperatorAddresses) -> str:
        """The group's description line (it also keeps the group when its members are reset)."""
        return f'set address-group {self.group_name(op)} description "{quote_comment("wifiq ePDG " + op.label, 255)}"'

    def check(self, doc: RenderInput) -> None:
        super().check(doc)
        for op in doc.with_addresses:
            if len(op.addresses) > GROUP_MEMBER_LIMIT:
                raise self.fail(
                    f"address-group members <= {GROUP_MEMBER_LIMIT}",
                    f"operator {op.plmn} has {len(op.addresses)} addresses",
                )

    def rule(self, dscp: Dscp, groups: list[str]) -> list[str]:
        """The security rule (set form) and its placement."""
        base = f"set rulebase security rules {self.rule_name}"
        placement = self.options.get("placement").replace(":", " ", 1)
        return [
            f"{base} from any to any source any",
            f"{base} destination [ {' '.join(groups)} ]",
            f"{base} application [ ike ipsec-esp ipsec-esp-udp ] service application-default",
            f"{base} action allow",
            f"{base} qos marking ip-dscp {dscp.name_or_value()}",
            f'{base} description "wifiq: mark Wi-Fi calling to/from ePDGs"',
            f"move rulebase security rules {self.rule_name} {placement}",
        ]

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        out = commented("#", header_lines(doc, dscp, self.info.name))
        groups = []
        for op in doc.with_addresses:
            out += self.address_lines(op, op.addresses)
            out.append(self.group_description(op))
            out.append(f"delete address-group {self.group_name(op)} static")
            members = " ".join(self.address_name(op, a) for a in op.addresses)
            out.append(f"set address-group {self.group_name(op)} static [ {members} ]")
            groups.append(self.group_name(op))
        out.append(f"delete rulebase security rules {self.rule_name} destination")
        out += self.rule(dscp, groups)
        return "\n".join(out) + "\n"

    def delta(self, change: Delta, dscp: Dscp) -> str:
        out = commented("#", header_lines(change.current, dscp, self.info.name, change))
        base = f"set rulebase security rules {self.rule_name}"
        for item in change.operators:
            op = item.current
            group = self.group_name(op)
            out += self.address_lines(op, item.added)
            if item.kind == "added":  # an unreferenced group left by an older full output goes first
                out += [f"delete address-group {group}", self.group_description(op)]
            if item.added:
                out.append(f"set address-group {group} static [ {' '.join(self.address_name(op, a) for a in item.added)} ]")
            if item.kind == "added":
                out.append(f"{base} destination [ {group} ]")
            if item.kind == "removed":
                out.append(f"delete rulebase security rules {self.rule_name} destination {group}")
                out.append(f"delete address-group {group}")
            else:
                out += [f"delete address-group {group} static {self.address_name(op, a)}" for a in item.removed]
            out += [f"delete address {self.address_name(op, a)}" for a in item.removed]
        return "\n".join(out) + "\n"


RENDERER = PanosRenderer()
