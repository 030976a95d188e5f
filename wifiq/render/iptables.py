"""iptables + ipset: three files, one text with ``==> name <==`` sections (or ``--out DIR``).

``wifiq-epdg.ipset`` (for ``ipset restore``; full output builds new sets and swaps them in),
``wifiq-dscp.rules.v4`` / ``.v6`` (for ``iptables-restore --noflush`` / ``ip6tables-restore
--noflush``: they (re)fill chain ``WIFIQ-DSCP`` in table mangle). Hook it once:
``iptables -t mangle -A POSTROUTING -j WIFIQ-DSCP`` (same with ip6tables). A delta is only the
ipset file with ``add``/``del`` (``-exist`` makes it safe to apply twice).
"""

from __future__ import annotations

from .base import Renderer, RendererInfo, commented, header_lines, join_sections
from .dscp import Dscp
from .model import UDP_PORTS, Delta, IPAddress, RenderInput
from .names import NameRules, quote_comment

IPSET_FILE = "wifiq-epdg.ipset"
RULES_FILE = {4: "wifiq-dscp.rules.v4", 6: "wifiq-dscp.rules.v6"}
_IPSET_COMMENT_MAX = 255
_DEFAULT_MAXELEM = 65536


class IptablesRenderer(Renderer):
    """ipset restore file + iptables-restore / ip6tables-restore files for the mangle table."""

    info = RendererInfo(
        name="iptables",
        title="Linux iptables + ipset",
        description="ipset hash:ip sets + WIFIQ-DSCP mangle chain (ipset restore, iptables-restore --noflush)",
        files=(IPSET_FILE, RULES_FILE[4], RULES_FILE[6]),
        extension="txt",
        limits=("ipset names <= 31 characters", "set comments <= 255 characters (cut)"),
        prefix=True,
    )
    names = NameRules(max_length=31, allowed="A-Za-z0-9_-", separator="-", case="lower")

    @property
    def chain(self) -> str:
        """The mangle chain wifiq owns (``WIFIQ-DSCP``: the prefix, upper case)."""
        return f"{self.names.fixed().upper()}-DSCP"

    def set_name(self, version: int) -> str:
        """Name of the ipset holding one IP version's addresses."""
        return self.names.fixed(f"epdg{version}")

    def _add(self, name: str, address: IPAddress, owners: str) -> str:
        return f'add {name} {address} comment "{quote_comment(owners, _IPSET_COMMENT_MAX)}" -exist'

    def _ipset_full(self, doc: RenderInput, dscp: Dscp) -> str:
        out = commented("#", header_lines(doc, dscp, self.info.name))
        for version, family in ((4, "inet"), (6, "inet6")):
            name, staging = self.set_name(version), self.names.fixed(f"epdg{version}", "new")
            members = doc.addresses(version)
            maxelem = max(_DEFAULT_MAXELEM, len(members))
            create = f"hash:ip family {family} maxelem {maxelem} comment -exist"
            out += [f"create {name} {create}", f"create {staging} {create}", f"flush {staging}"]
            out += [self._add(staging, a, doc.owner_labels(a)) for a in members]
            out += [f"swap {staging} {name}", f"destroy {staging}"]
        return "\n".join(out) + "\n"

    def _rules(self, doc: RenderInput, dscp: Dscp, version: int) -> str:
        name = self.set_name(version)
        ports = ",".join(str(p) for p in UDP_PORTS)
        target = f"-j DSCP --set-dscp {dscp.value}"
        tool = "iptables" if version == 4 else "ip6tables"
        out = commented("#", header_lines(doc, dscp, self.info.name))
        out += [
            f"# apply: {tool}-restore --noflush < {RULES_FILE[version]}",
            f"# hook: {tool} -t mangle -C POSTROUTING -j {self.chain} || {tool} -t mangle -A POSTROUTING -j {self.chain}",
            "*mangle",
            f":{self.chain} - [0:0]",
            f"-A {self.chain} -p udp -m set --match-set {name} dst -m multiport --dports {ports} {target}",
            f"-A {self.chain} -p udp -m set --match-set {name} src -m multiport --sports {ports} {target}",
            f"-A {self.chain} -p esp -m set --match-set {name} dst {target}",
            f"-A {self.chain} -p esp -m set --match-set {name} src {target}",
            "COMMIT",
        ]
        return "\n".join(out) + "\n"

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        return join_sections(
            {
                IPSET_FILE: self._ipset_full(doc, dscp),
                RULES_FILE[4]: self._rules(doc, dscp, 4),
                RULES_FILE[6]: self._rules(doc, dscp, 6),
            }
        )

    def delta(self, change: Delta, dscp: Dscp) -> str:
        out = commented("#", header_lines(change.current, dscp, self.info.name, change))
        out += [f"del {self.set_name(a.version)} {a} -exist" for a in change.removed]
        out += [self._add(self.set_name(a.version), a, change.current.owner_labels(a)) for a in change.added]
        return join_sections({IPSET_FILE: "\n".join(out) + "\n"})


RENDERER = IptablesRenderer()
