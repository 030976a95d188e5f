"""Cisco IOS-XE: one extended + one IPv6 ACL per operator, a class-map matching them, and the
class in a policy-map that sets the DSCP.

The output owns the ACLs, the class-map and — unless ``--option policy-map=`` names the user's
own — the policy-map; it never touches an interface. It prints, as ``! hook:`` comment lines,
the one line to add to an interface that has no input policy yet; an interface that already has
``service-policy input X`` keeps it: render with ``--option policy-map=X`` and wifiq's class goes
into X (``--option insert-before=C`` puts it before the user's class C, IOS-XE's
``class … insert-before``). A delta edits the ACLs with ``no <ace>`` / ``<ace>`` and adds or
removes whole operators (ACL + class-map match line), never the policy-map.
"""

from __future__ import annotations

from .base import Renderer, RendererInfo, commented, header_lines
from .dscp import Dscp
from .model import IKE_PORT, NATT_PORT, Delta, IPAddress, OperatorAddresses, RenderInput
from .names import NameRules, ascii_text
from .options import OptionSpec

#: IOS-XE object names: a letter first, then letters, digits, '-' and '_' (40 characters).
IOS_NAME = r"[A-Za-z][A-Za-z0-9_-]{0,39}"

POLICY_MAP = OptionSpec(
    "policy-map",
    "{prefix}-EPDG-MARK",
    "the policy-map wifiq's class goes into: the interface's existing input policy if it has one",
    pattern=IOS_NAME,
)
INSERT_BEFORE = OptionSpec(
    "insert-before",
    "",
    "a class of that policy-map to put wifiq's class before (empty: last, before class-default)",
    pattern=IOS_NAME,
)


class CiscoIosRenderer(Renderer):
    """IOS-XE ``ip access-list extended`` / ``ipv6 access-list`` + MQC class-map + policy-map."""

    info = RendererInfo(
        name="cisco-ios",
        title="Cisco IOS-XE",
        description="per-operator IPv4/IPv6 ACLs, class-map match-any, class in a policy-map (set dscp)",
        extension="ios",
        limits=("ACL/class-map names <= 40 characters [A-Za-z0-9_-], starting with a letter",),
        options=(POLICY_MAP, INSERT_BEFORE),
        prefix=True,
    )
    names = NameRules(max_length=40, case="upper", prefix="WIFIQ")
    needs_addresses = "a class-map needs at least one ACL"

    @property
    def class_name(self) -> str:
        """The class-map (``WIFIQ-EPDG``)."""
        return self.names.fixed("EPDG")

    def policy_maps(self) -> list[str]:
        """The policy-maps wifiq's class goes into (one on IOS-XE; input and output on a 9800)."""
        return [self.options.get("policy-map")]

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

    def acl_keyword(self, version: int) -> str:
        return "ip access-list extended" if version == 4 else "ipv6 access-list"

    def acl_header(self, op: OperatorAddresses, version: int) -> str:
        """The line that enters (or creates) an operator's ACL."""
        return f"{self.acl_keyword(version)} {self.acl_name(op, version)}"

    def acl_block(self, op: OperatorAddresses, version: int) -> list[str]:
        """A complete ACL for one operator and family (remark + entries + ``!``)."""
        out = [self.acl_header(op, version), f" remark wifiq {ascii_text(op.label)[:90]}"]
        out += [" " + "\n ".join(self.aces(address)) for address in op.family(version)]
        return out + ["!"]

    def matches(self, op: OperatorAddresses) -> list[str]:
        """The class-map lines that pull one operator's ACLs in."""
        return [f" match access-group name {self.acl_name(op, v)}" for v in (4, 6) if op.family(v)]

    def policy(self, dscp: Dscp) -> list[str]:
        """wifiq's class in each policy-map (before the user's class if the option names one)."""
        before = self.options.get("insert-before")
        where = f" insert-before {before}" if before else ""
        out: list[str] = []
        for policy_map in self.policy_maps():
            out += [f"policy-map {policy_map}", f" class {self.class_name}{where}", f"  set dscp {dscp.name_or_value()}", "!"]
        return out

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        out = commented("!", header_lines(doc, dscp, self.info.name))
        # Applied over an older wifiq config, the result must be exactly this refresh: take the
        # class out of the policy-map(s) (its reference goes first), drop the class-map, and
        # rebuild each ACL (a family gone loses its ACL). ACLs of operators without addresses
        # are left unreferenced (they mark nothing): a world render stays small.
        out.append("!")
        for policy_map in self.policy_maps():
            out += [f"policy-map {policy_map}", f" no class {self.class_name}", "!"]
        out += [f"no class-map match-any {self.class_name}", "!"]
        for op in doc.with_addresses:
            for version in (4, 6):
                out.append(f"no {self.acl_header(op, version)}")
                if op.family(version):
                    out += self.acl_block(op, version)
        out.append(f"class-map match-any {self.class_name}")
        for op in doc.with_addresses:
            out += self.matches(op)
        out.append("!")
        out += self.policy(dscp)
        out += self.hook_lines()
        out.append("end")
        return "\n".join(out) + "\n"

    def hook_lines(self) -> list[str]:
        """The one-time lines the user adds by hand, as comments (``! hook: …``)."""
        policy_map = self.policy_maps()[0]
        return [
            "! Hook it in once, on the client-facing and the uplink interface, unless it already has",
            f"! 'service-policy input {policy_map}' (an interface with another input policy keeps it:",
            "! render with --option policy-map=<that policy>):",
            "! hook: interface <interface>",
            f"! hook:  service-policy input {policy_map}",
        ]

    def delta(self, change: Delta, dscp: Dscp) -> str:
        out = commented("!", header_lines(change.current, dscp, self.info.name, change))
        out.append("!")
        class_lines: list[str] = []
        for item in change.operators:
            op = item.current
            for version in (4, 6):
                fam = item.family(version)
                if fam.kind == "added":  # an unreferenced ACL left by an older full output goes first
                    out += [f"no {self.acl_header(op, version)}", *self.acl_block(op, version)]
                    class_lines.append(f" match access-group name {self.acl_name(op, version)}")
                elif fam.kind == "removed":
                    class_lines.append(f" no match access-group name {self.acl_name(op, version)}")
                elif fam.kind == "changed":
                    out.append(self.acl_header(op, version))
                    out += [f" no {ace}" for a in fam.removed for ace in self.aces(a)]
                    out += [f" {ace}" for a in fam.added for ace in self.aces(a)]
                    out.append("!")
        if class_lines:
            out += [f"class-map match-any {self.class_name}", *class_lines, "!"]
        for item in change.operators:
            for version in (4, 6):
                if item.family(version).kind == "removed":
                    out.append(f"no {self.acl_header(item.current, version)}")
        out.append("end")
        return "\n".join(out) + "\n"


RENDERER = CiscoIosRenderer()
