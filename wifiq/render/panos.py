"""PAN-OS: address objects, one address group per operator, a security rule with QoS marking.

``set`` commands for the CLI configure mode. The rule matches applications ``ike``,
``ipsec-esp`` and ``ipsec-esp-udp`` (IKE, ESP, NAT-T) to the groups and sets ``qos marking
ip-dscp``; place it above your general allow rule. For a list the firewall fetches itself, use
the ``plain`` target as an External Dynamic List instead. Delta: ``set``/``delete`` members.
"""

from __future__ import annotations

from .base import Renderer, RendererInfo, commented, header_lines
from .dscp import Dscp
from .model import Delta, IPAddress, OperatorAddresses, RenderInput
from .names import NameRules, quote_comment

RULE = "wifiq-epdg-dscp"
GROUP_MEMBER_LIMIT = 2500


class PanosRenderer(Renderer):
    """PAN-OS ``set address`` / ``set address-group`` / ``set rulebase security rules``."""

    info = RendererInfo(
        name="panos",
        title="Palo Alto Networks PAN-OS",
        description="address objects, per-operator address-groups, security rule with qos marking ip-dscp",
        protocols="apps ike, ipsec-esp, ipsec-esp-udp (IKE, ESP, NAT-T)",
        extension="set",
        limits=("object names <= 63 characters [A-Za-z0-9_.-]", f"address-group members <= {GROUP_MEMBER_LIMIT}"),
    )
    names = NameRules(max_length=63, allowed="A-Za-z0-9_.-", separator="-")
    needs_addresses = "a rule needs a destination"

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

    def check(self, doc: RenderInput) -> None:
        super().check(doc)
        for op in doc.with_addresses:
            if len(op.addresses) > GROUP_MEMBER_LIMIT:
                raise self.fail(
                    f"address-group members <= {GROUP_MEMBER_LIMIT}",
                    f"operator {op.plmn} has {len(op.addresses)} addresses",
                )

    def rule(self, dscp: Dscp, groups: list[str]) -> list[str]:
        """The security rule (set form)."""
        base = f"set rulebase security rules {RULE}"
        return [
            f"{base} from any to any source any",
            f"{base} destination [ {' '.join(groups)} ]",
            f"{base} application [ ike ipsec-esp ipsec-esp-udp ] service application-default",
            f"{base} action allow",
            f"{base} qos marking ip-dscp {dscp.name_or_value()}",
            f'{base} description "wifiq: mark Wi-Fi calling to/from ePDGs"',
        ]

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        out = commented("#", header_lines(doc, dscp, self.info.name))
        groups = []
        for op in doc.with_addresses:
            out += self.address_lines(op, op.addresses)
            out.append(f"delete address-group {self.group_name(op)}")
            members = " ".join(self.address_name(op, a) for a in op.addresses)
            out.append(f"set address-group {self.group_name(op)} static [ {members} ]")
            groups.append(self.group_name(op))
        out.append(f"delete rulebase security rules {RULE} destination")
        out += self.rule(dscp, groups)
        return "\n".join(out) + "\n"

    def delta(self, change: Delta, dscp: Dscp) -> str:
        out = commented("#", header_lines(change.current, dscp, self.info.name, change))
        base = f"set rulebase security rules {RULE}"
        for item in change.operators:
            op = item.current
            group = self.group_name(op)
            out += self.address_lines(op, item.added)
            if item.added:
                out.append(f"set address-group {group} static [ {' '.join(self.address_name(op, a) for a in item.added)} ]")
            if item.kind == "added":
                out.append(f"{base} destination [ {group} ]")
            if item.kind == "removed":
                out.append(f"delete rulebase security rules {RULE} destination {group}")
                out.append(f"delete address-group {group}")
            else:
                out += [f"delete address-group {group} static {self.address_name(op, a)}" for a in item.removed]
            out += [f"delete address {self.address_name(op, a)}" for a in item.removed]
        return "\n".join(out) + "\n"


RENDERER = PanosRenderer()
