"""Junos: per-operator prefix-lists and one ``family inet`` / ``inet6`` filter each (set commands).

The filters are built for an interface's filter **list** (``filter input-list [ wifiq-epdg
<your filter> ]``), never to replace the interface's own filter: their terms match IKE/NAT-T
(udp 500/4500) and ESP to and from the prefix-lists, set the forwarding class and DSCP
(``traffic-class`` for inet6) and go on with ``next term`` — no ``accept``, so the user's
filters after it in the list still run ("Guidelines for Applying Multiple Firewall Filters as a
List"). The last term, ``end``, matches only the unspecified address (never a real packet): a
packet leaves the filter without a terminating action and the list goes on. Both filters always
exist, so an interface that references one is never left pointing at nothing: when a family has
no operator left, its filter keeps only ``end``. The output never touches an interface; it prints
the hook lines to add once. A delta is ``set``/``delete`` of prefix-list entries and of whole
prefix-lists with their references.
"""

from __future__ import annotations

from .base import Renderer, RendererInfo, commented, header_lines
from .dscp import Dscp
from .model import UDP_PORTS, Delta, OperatorAddresses, RenderInput
from .names import NameRules
from .options import OptionSpec

_FAMILY = {4: "inet", 6: "inet6"}
_UNSPECIFIED = {4: "0.0.0.0/32", 6: "::/128"}
#: The marking terms, in evaluation order; ``end`` comes last.
MARK_TERMS = ("up-udp", "up-esp", "down-udp", "down-esp")
JUNOS_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"


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
    """Junos ``set`` commands: policy-options prefix-lists + firewall filters for a filter list."""

    info = RendererInfo(
        name="junos",
        title="Juniper Junos",
        description="per-operator prefix-lists + family inet/inet6 filters for an input-list (dscp/traffic-class, next term)",
        extension="set",
        limits=("prefix-list names <= 64 characters [A-Za-z0-9_-]",),
        options=(
            OptionSpec("filter", "{prefix}-epdg", "the family inet filter wifiq owns (first in the input-list)", pattern=JUNOS_NAME),
            OptionSpec("filter6", "{prefix}-epdg6", "the family inet6 filter wifiq owns (first in the input-list)", pattern=JUNOS_NAME),
        ),
        prefix=True,
    )
    names = NameRules(max_length=64, case="lower")

    def filter_name(self, version: int) -> str:
        return self.options.get("filter" if version == 4 else "filter6")

    def prefix_list(self, op: OperatorAddresses, version: int) -> str:
        """The prefix-list name of one operator and family."""
        return self.names.operator(op, f"v{version}")

    def entries(self, op: OperatorAddresses, version: int) -> list[str]:
        """``set`` lines for the prefix-list entries."""
        bits = 32 if version == 4 else 128
        return [f"set policy-options prefix-list {self.prefix_list(op, version)} {a}/{bits}" for a in op.family(version)]

    def _base(self, version: int, verb: str = "set") -> str:
        return f"{verb} firewall family {_FAMILY[version]} filter {self.filter_name(version)} term"

    def references(self, op: OperatorAddresses, version: int, verb: str = "set") -> list[str]:
        """The filter lines that reference one prefix-list (term by direction and protocol)."""
        base = self._base(version, verb)
        name = self.prefix_list(op, version)
        return [
            f"{base} up-udp from destination-prefix-list {name}",
            f"{base} up-esp from destination-prefix-list {name}",
            f"{base} down-udp from source-prefix-list {name}",
            f"{base} down-esp from source-prefix-list {name}",
        ]

    def terms(self, version: int, dscp: Dscp) -> list[str]:
        """The marking terms' fixed parts (protocols, ports, actions; no terminating action)."""
        base = self._base(version)
        proto = "protocol" if version == 4 else "next-header"
        mark = "dscp" if version == 4 else "traffic-class"
        value = dscp.name_or_value()
        ports = " ".join(str(p) for p in UDP_PORTS)
        out = []
        for term in MARK_TERMS:
            out.append(f"{base} {term} from {proto} {term.split('-')[1]}")
            if term.endswith("udp"):
                side = "destination-port" if term.startswith("up") else "source-port"
                out.append(f"{base} {term} from {side} [ {ports} ]")
            out += [
                f"{base} {term} then forwarding-class {forwarding_class(dscp)}",
                f"{base} {term} then {mark} {value}",
                f"{base} {term} then next term",
            ]
        return out

    def end_term(self, version: int) -> list[str]:
        """The last term: matches no real packet, so the filter never ends the list."""
        return [f"{self._base(version)} end from destination-address {_UNSPECIFIED[version]}"]

    def filter_block(self, doc: RenderInput, version: int, dscp: Dscp) -> list[str]:
        """The whole filter of one family, rebuilt (a filter referenced by an interface may be
        deleted and set again in one commit)."""
        out = [f"delete firewall family {_FAMILY[version]} filter {self.filter_name(version)}"]
        users = [op for op in doc.with_addresses if op.family(version)]
        for op in users:
            out += self.references(op, version)
        if users:
            out += self.terms(version, dscp)
        return out + self.end_term(version)

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        out = commented("#", header_lines(doc, dscp, self.info.name))
        # Operators with addresses: each prefix-list rebuilt (a family gone loses its list). The
        # lists of operators without addresses are left unreferenced: they match nothing.
        for op in doc.with_addresses:
            for version in (4, 6):
                out.append(f"delete policy-options prefix-list {self.prefix_list(op, version)}")
                out += self.entries(op, version)
        for version in (4, 6):
            out += self.filter_block(doc, version, dscp)
        out += self.hook_lines()
        return "\n".join(out) + "\n"

    def hook_lines(self) -> list[str]:
        """The one-time lines that put the filters first in an interface's filter lists."""
        out = [
            "# Hook it in once per interface and family: wifiq's filter first in the input-list, then",
            "# the interface's own filter (an interface with 'filter input X' moves X into the list;",
            "# one with no filter needs one that accepts the rest, or Junos discards it at the end).",
        ]
        for version in (4, 6):
            family = _FAMILY[version]
            where = f"interfaces <interface> unit <unit> family {family} filter"
            out += [
                f"# hook: delete {where} input",
                f"# hook: set {where} input-list [ {self.filter_name(version)} <{family}-filter> ]",
            ]
        return out

    def delta(self, change: Delta, dscp: Dscp) -> str:
        out = commented("#", header_lines(change.current, dscp, self.info.name, change))
        rebuilt = [v for v in (4, 6) if change.current.addresses(v) and not change.previous.addresses(v)]
        for item in change.operators:
            for version in (4, 6):
                fam = item.family(version)
                name = self.prefix_list(item.current, version)
                bits = 32 if version == 4 else 128
                if fam.kind == "added":  # an unreferenced list left by an older full output goes first
                    out.append(f"delete policy-options prefix-list {name}")
                    out += self.entries(item.after, version)  # type: ignore[arg-type]
                    if version not in rebuilt:
                        out += self.references(item.after, version)  # type: ignore[arg-type]
                elif fam.kind == "removed":
                    out += self.references(item.before, version, "delete")  # type: ignore[arg-type]
                    out.append(f"delete policy-options prefix-list {name}")
                else:
                    out += [f"delete policy-options prefix-list {name} {a}/{bits}" for a in fam.removed]
                    out += [f"set policy-options prefix-list {name} {a}/{bits}" for a in fam.added]
        for version in (4, 6):
            if version in rebuilt:
                # The family's first operator: the marking terms go back in before 'end'.
                out += self.filter_block(change.current, version, dscp)
            elif change.previous.addresses(version) and not change.current.addresses(version):
                # No operator left: the filter keeps only 'end' (an interface still lists it).
                out += [f"{self._base(version, 'delete')} {term}" for term in MARK_TERMS]
        return "\n".join(out) + "\n"


RENDERER = JunosRenderer()
