"""Junos: per-operator prefix-lists and a ``family inet``/``inet6`` firewall filter (set commands).

Terms match IKE/NAT-T (udp 500/4500) and ESP to and from the prefix-lists, then set the
forwarding class and DSCP (``traffic-class`` for inet6) and accept; a last term accepts the
rest. Apply with ``set interfaces <if> unit 0 family inet filter input wifiq-epdg``. A delta is
``set``/``delete`` of prefix-list entries and of whole prefix-lists with their references.
"""

from __future__ import annotations

from .base import Renderer, RendererInfo, commented, header_lines
from .dscp import Dscp
from .model import UDP_PORTS, Delta, OperatorAddresses, RenderInput
from .names import NameRules

FILTER = {4: "wifiq-epdg", 6: "wifiq-epdg6"}
_FAMILY = {4: "inet", 6: "inet6"}


def forwarding_class(dscp: Dscp) -> str:
    """The default Junos forwarding class for a DSCP (EF → expedited-forwarding)."""
    if dscp.value in (46, 44, 40):
        return "expedited-forwarding"
    if dscp.value >= 48:
        return "network-control"
    if dscp.value >= 8 and dscp.value % 8 in (2, 4, 6):
        return "assured-forwarding"
    return "best-effort"


class JunosRenderer(Renderer):
    """Junos ``set`` commands: policy-options prefix-lists + firewall filters."""

    info = RendererInfo(
        name="junos",
        title="Juniper Junos",
        description="per-operator prefix-lists + family inet/inet6 filters (then dscp/traffic-class)",
        extension="set",
        limits=("prefix-list names <= 64 characters [A-Za-z0-9_-]",),
    )
    names = NameRules(max_length=64, case="lower")

    def prefix_list(self, op: OperatorAddresses, version: int) -> str:
        """The prefix-list name of one operator and family."""
        return self.names.operator(op, f"v{version}")

    def entries(self, op: OperatorAddresses, version: int) -> list[str]:
        """``set`` lines for the prefix-list entries."""
        bits = 32 if version == 4 else 128
        return [f"set policy-options prefix-list {self.prefix_list(op, version)} {a}/{bits}" for a in op.family(version)]

    def references(self, op: OperatorAddresses, version: int, verb: str = "set") -> list[str]:
        """The filter lines that reference one prefix-list (term by direction and protocol)."""
        base = f"{verb} firewall family {_FAMILY[version]} filter {FILTER[version]} term"
        name = self.prefix_list(op, version)
        return [
            f"{base} up-udp from destination-prefix-list {name}",
            f"{base} up-esp from destination-prefix-list {name}",
            f"{base} down-udp from source-prefix-list {name}",
            f"{base} down-esp from source-prefix-list {name}",
        ]

    def terms(self, version: int, dscp: Dscp) -> list[str]:
        """The filter's fixed terms (protocols, ports, actions)."""
        base = f"set firewall family {_FAMILY[version]} filter {FILTER[version]} term"
        proto = "protocol" if version == 4 else "next-header"
        mark = "dscp" if version == 4 else "traffic-class"
        value = dscp.name_or_value()
        ports = " ".join(str(p) for p in UDP_PORTS)
        out = []
        for term, match in (
            ("up-udp", f"{proto} udp"),
            ("up-esp", f"{proto} esp"),
            ("down-udp", f"{proto} udp"),
            ("down-esp", f"{proto} esp"),
        ):
            out.append(f"{base} {term} from {match}")
            if term.endswith("udp"):
                side = "destination-port" if term.startswith("up") else "source-port"
                out.append(f"{base} {term} from {side} [ {ports} ]")
            out += [
                f"{base} {term} then forwarding-class {forwarding_class(dscp)}",
                f"{base} {term} then {mark} {value}",
                f"{base} {term} then accept",
            ]
        out.append(f"{base} accept-rest then accept")
        return out

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        out = commented("#", header_lines(doc, dscp, self.info.name))
        for version in (4, 6):
            out.append(f"delete firewall family {_FAMILY[version]} filter {FILTER[version]}")
        for op in doc.with_addresses:
            for version in (4, 6):
                if op.family(version):
                    out.append(f"delete policy-options prefix-list {self.prefix_list(op, version)}")
                    out += self.entries(op, version)
        for version in (4, 6):
            users = [op for op in doc.with_addresses if op.family(version)]
            if not users:
                continue
            for op in users:
                out += self.references(op, version)
            out += self.terms(version, dscp)
        return "\n".join(out) + "\n"

    def delta(self, change: Delta, dscp: Dscp) -> str:
        out = commented("#", header_lines(change.current, dscp, self.info.name, change))
        for item in change.operators:
            for version in (4, 6):
                fam = item.family(version)
                name = self.prefix_list(item.current, version)
                bits = 32 if version == 4 else 128
                if fam.kind == "added":
                    out += self.entries(item.after, version)  # type: ignore[arg-type]
                    out += self.references(item.after, version)  # type: ignore[arg-type]
                    if not change.previous.addresses(version):
                        out += self.terms(version, dscp)
                elif fam.kind == "removed":
                    out += self.references(item.before, version, "delete")  # type: ignore[arg-type]
                    out.append(f"delete policy-options prefix-list {name}")
                else:
                    out += [f"delete policy-options prefix-list {name} {a}/{bits}" for a in fam.removed]
                    out += [f"set policy-options prefix-list {name} {a}/{bits}" for a in fam.added]
        for version in (4, 6):
            if change.previous.addresses(version) and not change.current.addresses(version):
                out.append(f"delete firewall family {_FAMILY[version]} filter {FILTER[version]}")
        return "\n".join(out) + "\n"


RENDERER = JunosRenderer()
