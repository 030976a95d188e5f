"""ArubaOS 8 / AOS 10: per-operator ``netdestination``/``netdestination6`` + one session ACL.

The session ACL ``WIFIQ-EPDG`` permits IKE, NAT-T and ESP to and from each alias with
``queue high tos <dscp> dot1p-priority <up>``. The output never touches a user role; it prints
the hook lines that put the ACL first in a role (``access-list session WIFIQ-EPDG position 1``).
A full output converges on a controller holding an older one: it takes the ACL lines of every
operator it lists out first (nothing references an alias then), deletes and rebuilds each alias
(stale ``host`` lines go), deletes the aliases of operators listed without addresses, and puts
the current lines back. A delta adds/removes ``host`` lines, and whole aliases with their ACL
lines (the lines first).

Each ACL line carries the QoS action (``tos <dscp> dot1p-priority <up>``) and ArubaOS takes a
line out only by its whole text, so lines marked with another ``--dscp`` are out of a plain
full output's reach (and, above the new ones, they would keep matching first). ``--option
previous-dscp=D`` names the DSCP of the output on the controller: the full output takes those
lines out too; a delta with it is the full output. :func:`wifiq.render.check_dscp_change`
refuses to write over a file marked with another DSCP without it.
"""

from __future__ import annotations

from .base import Renderer, RendererInfo, commented, header_lines
from .dscp import Dscp, parse_dscp
from .model import ESP_PROTOCOL, UDP_PORTS, Delta, OperatorAddresses, RenderInput
from .names import NameRules
from .options import OptionSpec


class ArubaOsRenderer(Renderer):
    """ArubaOS netdestination aliases + ``ip access-list session`` with QoS actions."""

    info = RendererInfo(
        name="aruba-os",
        title="ArubaOS 8 / AOS 10",
        description="per-operator netdestination(6) aliases + session ACL with queue/tos/dot1p-priority",
        extension="aos",
        limits=("alias names <= 64 characters [A-Za-z0-9_-]",),
        options=(
            OptionSpec(
                "previous-dscp",
                "",
                "when --dscp changes: the DSCP the output on the controller marks (its ACL lines are taken out too)",
                pattern=r"[A-Za-z0-9]{1,8}",
                expect="a DSCP name or number (ef, af41, 46)",
            ),
        ),
        prefix=True,
    )
    names = NameRules(max_length=64, case="upper", prefix="WIFIQ")

    @property
    def acl(self) -> str:
        """The session ACL (``WIFIQ-EPDG``)."""
        return self.names.fixed("EPDG")

    def alias(self, op: OperatorAddresses, version: int) -> str:
        """The netdestination name of one operator and family."""
        return self.names.operator(op, "V6" if version == 6 else "")

    def destination(self, op: OperatorAddresses, version: int) -> list[str]:
        """A netdestination block with one ``host`` line per address."""
        keyword = "netdestination" if version == 4 else "netdestination6"
        return [f"{keyword} {self.alias(op, version)}", *(f"  host {a}" for a in op.family(version)), "!"]

    def acl_lines(self, op: OperatorAddresses, version: int, dscp: Dscp) -> list[str]:
        """Session ACL entries for one alias: both directions, IKE, NAT-T and ESP."""
        qos = f"permit queue {'high' if dscp.user_priority >= 4 else 'low'} tos {dscp.value} dot1p-priority {dscp.user_priority}"
        fam = "ipv6 " if version == 6 else ""
        name = self.alias(op, version)
        out = [f"  {fam}any alias {name} udp {p} {qos}" for p in UDP_PORTS]
        out.append(f"  {fam}any alias {name} {ESP_PROTOCOL} {qos}")
        out += [f"  {fam}alias {name} any udp {p} {qos}" for p in UDP_PORTS]
        out.append(f"  {fam}alias {name} any {ESP_PROTOCOL} {qos}")
        return out

    def previous_dscp(self, dscp: Dscp) -> Dscp | None:
        """The DSCP of the output on the controller when ``--option previous-dscp`` names
        another one than ``dscp`` (its lines must go too), else None."""
        value = self.options.get("previous-dscp")
        before = parse_dscp(value) if value else None
        return before if before is not None and before.value != dscp.value else None

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        out = commented("!", header_lines(doc, dscp, self.info.name))
        before = self.previous_dscp(dscp)
        if before is not None:
            out.append(f"! DSCP changes from {before}: the lines marking {before} are taken out too")
        # 1. Nothing of ours references an alias any more: every listed operator's lines go
        # (with the previous DSCP's lines when --option previous-dscp names one).
        out.append(f"ip access-list session {self.acl}")
        for mark in (dscp,) if before is None else (before, dscp):
            out += ["  no " + line.strip() for op in doc.may_have_objects for v in (4, 6) for line in self.acl_lines(op, v, mark)]
        out.append("!")
        # 2. Each alias is deleted (stale hosts go with it) and rebuilt if it has addresses. An
        # operator that never had an address never had an alias: it costs no line.
        for op in doc.may_have_objects:
            for version in (4, 6):
                out.append(f"no {'netdestination' if version == 4 else 'netdestination6'} {self.alias(op, version)}")
                if op.family(version):
                    out += self.destination(op, version)
        # 3. The current lines, in operator order.
        out.append(f"ip access-list session {self.acl}")
        for op in doc.with_addresses:
            out += [line for v in (4, 6) if op.family(v) for line in self.acl_lines(op, v, dscp)]
        out.append("!")
        out += self.hook_lines()
        return "\n".join(out) + "\n"

    def hook_lines(self) -> list[str]:
        """The one-time lines that put the ACL first in a user role (the output never does)."""
        return [
            "! Hook it in once, in every user role Wi-Fi calling clients get (first, so it is evaluated first):",
            "! hook: user-role <role>",
            f"! hook:  access-list session {self.acl} position 1",
        ]

    def delta(self, change: Delta, dscp: Dscp) -> str:
        if self.previous_dscp(dscp) is not None:
            # Every line changes with the DSCP: the full output (it knows what ``previous`` held).
            return self.full(change.current, dscp)
        out = commented("!", header_lines(change.current, dscp, self.info.name, change))
        acl: list[str] = []
        drop: list[str] = []
        for item in change.operators:
            op = item.current
            for version in (4, 6):
                fam = item.family(version)
                keyword = "netdestination" if version == 4 else "netdestination6"
                if fam.kind == "added":
                    out += self.destination(op, version)
                    acl += self.acl_lines(op, version, dscp)
                elif fam.kind == "removed":
                    acl += ["  no " + line.strip() for line in self.acl_lines(op, version, dscp)]
                    drop.append(f"no {keyword} {self.alias(op, version)}")
                elif fam.kind == "changed":
                    out.append(f"{keyword} {self.alias(op, version)}")
                    out += [f"  no host {a}" for a in fam.removed] + [f"  host {a}" for a in fam.added]
                    out.append("!")
        if acl:
            out += [f"ip access-list session {self.acl}", *acl, "!"]
        out += drop
        return "\n".join(out) + "\n"


RENDERER = ArubaOsRenderer()
