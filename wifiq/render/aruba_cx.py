"""AOS-CX: per-operator ``class ip``/``class ipv6`` + one ``policy`` that sets the DSCP.

The output never touches an interface: it prints the hook lines (``interface <if>`` / ``apply
policy WIFIQ-EPDG routed-in``) for the client side and the uplink (so downstream is marked too);
an interface that already applies a policy keeps it — render with ``--option policy=<it>`` and
wifiq's entries go into that policy. Class entries have sequence numbers; policy entries are
numbered from the PLMN (stable across refreshes), so a delta can add and remove operators. A
changed operator's class is rewritten: its old entries are removed by number, then re-added. A
full output converges on a switch holding an older one: it removes the policy entries of every
operator it lists (no class is referenced then), deletes and rebuilds each class (stale entries
go), deletes the classes of operators listed without addresses, and adds the current entries.
"""

from __future__ import annotations

from .base import Renderer, RendererInfo, commented, header_lines
from .dscp import Dscp
from .model import IKE_PORT, NATT_PORT, Delta, OperatorAddresses, RenderInput
from .names import NameRules
from .options import OptionSpec

#: Class entries per address (udp 500, udp 4500, esp; both directions).
ENTRIES_PER_ADDRESS = 6


class ArubaCxRenderer(Renderer):
    """AOS-CX classifier classes + policy with ``action dscp``."""

    info = RendererInfo(
        name="aruba-cx",
        title="Aruba AOS-CX",
        description="per-operator class ip/ipv6 (match entries) + policy action dscp",
        extension="cx",
        limits=("class names <= 64 characters [A-Za-z0-9_-]",),
        options=(
            OptionSpec(
                "policy",
                "{prefix}-EPDG",
                "the policy wifiq's entries go into: the interface's existing policy if it applies one",
                pattern=r"[A-Za-z][A-Za-z0-9_-]{0,63}",
            ),
        ),
        prefix=True,
    )
    names = NameRules(max_length=64, case="upper", prefix="WIFIQ")

    @property
    def policy(self) -> str:
        return self.options.get("policy")

    def class_name(self, op: OperatorAddresses, version: int) -> str:
        """Class name of one operator and family."""
        return self.names.operator(op, f"V{version}")

    def numbered(self, op: OperatorAddresses, version: int) -> list[str]:
        """The class body, one string per address: IKE, NAT-T and ESP to and from it, entries
        numbered 10, 20, … in address order."""
        out = []
        for i, a in enumerate(op.family(version)):
            n = i * ENTRIES_PER_ADDRESS * 10
            out.append(
                f"    {n + 10} match udp any {a} eq {IKE_PORT}\n"
                f"    {n + 20} match udp any {a} eq {NATT_PORT}\n"
                f"    {n + 30} match esp any {a}\n"
                f"    {n + 40} match udp {a} eq {IKE_PORT} any\n"
                f"    {n + 50} match udp {a} eq {NATT_PORT} any\n"
                f"    {n + 60} match esp {a} any"
            )
        return out

    def sequence_numbers(self, op: OperatorAddresses, version: int) -> list[int]:
        """The entry numbers :meth:`numbered` gives one operator's class."""
        return [10 * (k + 1) for k in range(ENTRIES_PER_ADDRESS * len(op.family(version)))]

    @staticmethod
    def policy_seq(op: OperatorAddresses, version: int) -> int:
        """A policy sequence number fixed by PLMN and family (57 ≠ 057 keeps its own number)."""
        mnc = int(op.mnc) + (1000 if len(op.mnc) == 3 else 0)
        return (int(op.mcc) * 10000 + mnc) * 10 + (0 if version == 4 else 1)

    def policy_line(self, op: OperatorAddresses, version: int, dscp: Dscp) -> str:
        """One policy entry: the operator's class → set DSCP."""
        kind = "ip" if version == 4 else "ipv6"
        value = dscp.name.upper() if dscp.name and dscp.name.startswith(("af", "cs", "ef")) else str(dscp.value)
        return f"    {self.policy_seq(op, version)} class {kind} {self.class_name(op, version)} action dscp {value}"

    def class_block(self, op: OperatorAddresses, version: int) -> list[str]:
        """A complete class definition."""
        kind = "ip" if version == 4 else "ipv6"
        return [f"class {kind} {self.class_name(op, version)}", *self.numbered(op, version)]

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        out = commented("!", header_lines(doc, dscp, self.info.name))
        out.append(f"policy {self.policy}")
        # Only operators that have or had addresses can have entries and classes on the switch.
        out += [f"    no {self.policy_seq(op, v)}" for op in doc.may_have_objects for v in (4, 6)]
        for op in doc.may_have_objects:
            for version in (4, 6):
                out.append(f"no class {'ip' if version == 4 else 'ipv6'} {self.class_name(op, version)}")
                if op.family(version):
                    out += self.class_block(op, version)
        out.append(f"policy {self.policy}")
        for op in doc.with_addresses:
            out += [self.policy_line(op, v, dscp) for v in (4, 6) if op.family(v)]
        out += self.hook_lines()
        return "\n".join(out) + "\n"

    def hook_lines(self) -> list[str]:
        """The one-time lines that apply the policy (the output never touches an interface)."""
        return [
            "! Hook it in once on the client-facing and the uplink interface, unless it already applies",
            "! a policy (then render with --option policy=<that policy> and add nothing):",
            "! hook: interface <interface>",
            f"! hook:     apply policy {self.policy} in",
        ]

    def delta(self, change: Delta, dscp: Dscp) -> str:
        out = commented("!", header_lines(change.current, dscp, self.info.name, change))
        policy: list[str] = []
        drop: list[str] = []
        for item in change.operators:
            for version in (4, 6):
                fam = item.family(version)
                kind = "ip" if version == 4 else "ipv6"
                if fam.kind == "added":
                    out += self.class_block(item.after, version)  # type: ignore[arg-type]
                    policy.append(self.policy_line(item.after, version, dscp))  # type: ignore[arg-type]
                elif fam.kind == "removed":
                    policy.append(f"    no {self.policy_seq(item.before, version)}")  # type: ignore[arg-type]
                    drop.append(f"no class {kind} {self.class_name(item.before, version)}")  # type: ignore[arg-type]
                elif fam.kind == "changed":
                    out.append(f"class {kind} {self.class_name(item.after, version)}")  # type: ignore[arg-type]
                    out += [f"    no {seq}" for seq in self.sequence_numbers(item.before, version)]  # type: ignore[arg-type]
                    out += self.numbered(item.after, version)  # type: ignore[arg-type]
        if policy:
            out += [f"policy {self.policy}", *policy]
        out += drop
        return "\n".join(out) + "\n"


RENDERER = ArubaCxRenderer()
