"""Cisco IOS-XE: one extended + one IPv6 ACL per operator, a class-map matching them, a policy-map.

Attach the policy yourself (``interface … service-policy input WIFIQ-EPDG-MARK``) on both the
client- and the uplink-facing side; the ACLs hold both directions. A delta edits the ACLs with
``no <ace>`` / ``<ace>`` and adds or removes whole operators (ACL + class-map match line).
"""

from __future__ import annotations

from .base import Renderer, RendererInfo, commented, header_lines
from .dscp import Dscp
from .model import IKE_PORT, NATT_PORT, Delta, IPAddress, OperatorAddresses, RenderInput
from .names import NameRules, ascii_text

CLASS = "WIFIQ-EPDG"
POLICY = "WIFIQ-EPDG-MARK"


class CiscoIosRenderer(Renderer):
    """IOS-XE ``ip access-list extended`` / ``ipv6 access-list`` + MQC class-map + policy-map."""

    info = RendererInfo(
        name="cisco-ios",
        title="Cisco IOS-XE",
        description="per-operator IPv4/IPv6 ACLs, class-map match-any, policy-map set dscp",
        extension="ios",
        limits=("ACL/class-map names <= 40 characters [A-Za-z0-9_-], starting with a letter",),
    )
    names = NameRules(max_length=40, case="upper", prefix="WIFIQ")
    needs_addresses = "a class-map needs at least one ACL"

    def acl_name(self, op: OperatorAddresses, version: int) -> str:
        """ACL name for one operator and IP version (``WIFIQ-505-01-TELSTRA-V4``)."""
        return self.names.operator(op, f"V{version}")

    def aces(self, address: IPAddress) -> list[str]:
        """The six entries for one address: IKE + NAT-T + ESP, to and from it."""
        host = f"host {address}"
        return [
            f"permit udp any {host} eq {IKE_PORT}",
            f"permit udp any {host} eq {NATT_PORT}",
            f"permit esp any {host}",
            f"permit udp {host} eq {IKE_PORT} any",
            f"permit udp {host} eq {NATT_PORT} any",
            f"permit esp {host} any",
        ]

    def acl_header(self, op: OperatorAddresses, version: int) -> str:
        """The line that enters (or creates) an operator's ACL."""
        if version == 4:
            return f"ip access-list extended {self.acl_name(op, 4)}"
        return f"ipv6 access-list {self.acl_name(op, 6)}"

    def acl_block(self, op: OperatorAddresses, version: int) -> list[str]:
        """A complete ACL for one operator and family (remark + entries + ``!``)."""
        out = [self.acl_header(op, version), f" remark wifiq {ascii_text(op.label)[:90]}"]
        out += [" " + "\n ".join(self.aces(address)) for address in op.family(version)]
        return out + ["!"]

    def matches(self, op: OperatorAddresses) -> list[str]:
        """The class-map lines that pull one operator's ACLs in."""
        return [f" match access-group name {self.acl_name(op, v)}" for v in (4, 6) if op.family(v)]

    def policy(self, dscp: Dscp) -> list[str]:
        """The policy-map that marks the class."""
        return [f"policy-map {POLICY}", f" class {CLASS}", f"  set dscp {dscp.name_or_value()}", "!"]

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        out = commented("!", header_lines(doc, dscp, self.info.name))
        # Applied over an older wifiq config, the result must be exactly this refresh: unhook
        # and drop the class (it may list operators gone since), and rebuild each ACL.
        out += ["!", *self.preamble(), f"policy-map {POLICY}", f" no class {CLASS}", "!", f"no class-map match-any {CLASS}", "!"]
        for op in doc.with_addresses:
            for version in (4, 6):
                if op.family(version):
                    keyword = "ip access-list extended" if version == 4 else "ipv6 access-list"
                    out.append(f"no {keyword} {self.acl_name(op, version)}")
                    out += self.acl_block(op, version)
        out.append(f"class-map match-any {CLASS}")
        for op in doc.with_addresses:
            out += self.matches(op)
        out.append("!")
        out += self.policy(dscp)
        out += self.attach()
        return "\n".join(out) + "\n"

    def preamble(self) -> list[str]:
        """Lines before the policy is rebuilt (the 9800 shuts its policy profile here)."""
        return []

    def attach(self) -> list[str]:
        """Where the policy goes; IOS-XE leaves it to the interface (documented, not emitted)."""
        return [f"! attach: interface <if> / service-policy input {POLICY}", "end"]

    def delta(self, change: Delta, dscp: Dscp) -> str:
        out = commented("!", header_lines(change.current, dscp, self.info.name, change))
        out.append("!")
        class_lines: list[str] = []
        for item in change.operators:
            op = item.current
            for version in (4, 6):
                fam = item.family(version)
                if fam.kind == "added":
                    out += self.acl_block(op, version)
                    class_lines.append(f" match access-group name {self.acl_name(op, version)}")
                elif fam.kind == "removed":
                    class_lines.append(f" no match access-group name {self.acl_name(op, version)}")
                elif fam.kind == "changed":
                    out.append(self.acl_header(op, version))
                    out += [f" no {ace}" for a in fam.removed for ace in self.aces(a)]
                    out += [f" {ace}" for a in fam.added for ace in self.aces(a)]
                    out.append("!")
        if class_lines:
            out += [f"class-map match-any {CLASS}", *class_lines, "!"]
        for item in change.operators:
            for version in (4, 6):
                if item.family(version).kind == "removed":
                    keyword = "ip access-list extended" if version == 4 else "ipv6 access-list"
                    out.append(f"no {keyword} {self.acl_name(item.current, version)}")
        out.append("end")
        return "\n".join(out) + "\n"


RENDERER = CiscoIosRenderer()
