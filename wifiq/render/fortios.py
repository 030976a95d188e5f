"""FortiOS: address objects per ePDG address, one address group per operator and family, and
one shaping policy per IP version.

Each shaping policy matches its family's groups as destination (IPv4: ``ip-version 4``,
``srcaddr``/``dstaddr``; IPv6: ``ip-version 6``, ``srcaddr6``/``dstaddr6`` — the pairs FortiOS
requires) with services IKE/NAT-T (udp 500, 4500) and ESP (IP 50), and sets DSCP both ways
(``diffserv-forward`` = client→ePDG, ``diffserv-reverse`` = the reply direction). The policy
ids are options (``policy-id``, ``policy-id6``): an id already used by one of your policies would
be overwritten, so the header says how to check first. A family with no operator left has no
policy (it is deleted, its groups after it). A delta creates/deletes addresses, uses
``append``/``unselect`` on groups and on the policy, and creates or deletes a family's policy
when the family appears or disappears. Names ≤ 79 characters, comments ≤ 255 (FortiOS limits).
"""

from __future__ import annotations

from .base import Renderer, RendererInfo, commented, header_lines
from .dscp import Dscp
from .model import ESP_PROTOCOL, IKE_PORT, NATT_PORT, Delta, IPAddress, OperatorAddresses, RenderInput
from .names import NameRules, quote_comment
from .options import OptionSpec

_GROUP_TABLE = {4: "addrgrp", 6: "addrgrp6"}
_ADDRESS_TABLE = {4: "address", 6: "address6"}
_DST_FIELD = {4: "dstaddr", 6: "dstaddr6"}
_SRC_FIELD = {4: "srcaddr", 6: "srcaddr6"}
_MAX_ID = 4294967295


class FortiosRenderer(Renderer):
    """FortiGate CLI: ``config firewall address/address6/addrgrp/addrgrp6/shaping-policy``."""

    info = RendererInfo(
        name="fortios",
        title="Fortinet FortiOS 7",
        description="address(6) objects, per-operator addrgrp(6), one shaping-policy per IP version with diffserv forward+reverse",
        extension="fos",
        limits=("object names <= 79 characters", "comments <= 255 characters (cut)"),
        options=(
            OptionSpec("policy-id", "4646", "the IPv4 shaping policy id wifiq owns (must not be one of yours)",
                       kind="integer", minimum=1, maximum=_MAX_ID),
            OptionSpec("policy-id6", "4647", "the IPv6 shaping policy id wifiq owns (must not be one of yours)",
                       kind="integer", minimum=1, maximum=_MAX_ID),
            OptionSpec("ip-version", "yes", "print 'set ip-version 4|6' in each policy (no: for a CLI without it)",
                       kind="choice", choices=("yes", "no")),
            OptionSpec("placement", "", "move wifiq's policies before:<id> or after:<id> of yours (shaping policies match in order)",
                       pattern=r"(before|after):[0-9]{1,10}", expect="before:<policy id> or after:<policy id>"),
        ),
        prefix=True,
    )
    names = NameRules(max_length=79, allowed="A-Za-z0-9_.-", separator="-")
    needs_addresses = "a shaping policy needs a destination"

    def check(self, doc: RenderInput) -> None:
        super().check(doc)
        if self.options.integer("policy-id") == self.options.integer("policy-id6"):
            raise self.fail("one shaping policy per IP version", "policy-id and policy-id6 are the same id")

    def policy_id(self, version: int) -> int:
        return self.options.integer("policy-id" if version == 4 else "policy-id6")

    def policy_name(self, version: int) -> str:
        return self.names.fixed("epdg-dscp" if version == 4 else "epdg-dscp6")

    @property
    def services_names(self) -> tuple[str, str]:
        return self.names.fixed("ike-natt"), self.names.fixed("esp")

    def address_name(self, op: OperatorAddresses, address: IPAddress) -> str:
        """Address object name: operator name + the address (``:`` becomes ``.`` for IPv6)."""
        return self.names.address_object(op, str(address))

    def group_name(self, op: OperatorAddresses, version: int) -> str:
        """Address group name of one operator and family."""
        return self.names.operator(op, "v6" if version == 6 else "")

    def address_edits(self, op: OperatorAddresses, addresses: tuple[IPAddress, ...] | list[IPAddress]) -> list[str]:
        """``edit`` blocks for address objects (the caller wraps them in ``config``)."""
        comment = quote_comment("wifiq ePDG " + op.label, 255)
        out = []
        for a in addresses:
            value = f"set subnet {a} 255.255.255.255" if a.version == 4 else f"set ip6 {a}/128"
            out.append(
                f'    edit "{self.address_name(op, a)}"\n        {value}\n        set comment "{comment}"\n    next'
            )
        return out

    def _config(self, table: str, body: list[str]) -> list[str]:
        return [f"config firewall {table}", *body, "end"] if body else []

    def _members(self, names: list[str]) -> str:
        return " ".join(f'"{n}"' for n in names)

    def services(self) -> list[str]:
        """Custom services for IKE/NAT-T and ESP."""
        udp, esp = self.services_names
        return self._config(
            "service custom",
            [
                f'    edit "{udp}"',
                f"        set udp-portrange {IKE_PORT} {NATT_PORT}",
                "    next",
                f'    edit "{esp}"',
                "        set protocol IP",
                f"        set protocol-number {ESP_PROTOCOL}",
                "    next",
            ],
        )

    def policy(self, version: int, groups: list[str], dscp: Dscp) -> list[str]:
        """One family's whole shaping policy (``edit`` block)."""
        udp, esp = self.services_names
        body = [f"    edit {self.policy_id(version)}", f'        set name "{self.policy_name(version)}"']
        if self.options.get("ip-version") == "yes":
            body.append(f"        set ip-version {version}")
        body += [
            f'        set {_SRC_FIELD[version]} "all"',
            f"        set {_DST_FIELD[version]} {self._members(groups)}",
            '        set dstintf "any"',
            f'        set service "{udp}" "{esp}"',
            "        set diffserv-forward enable",
            f"        set diffservcode-forward {dscp.bits}",
            "        set diffserv-reverse enable",
            f"        set diffservcode-rev {dscp.bits}",
            "    next",
        ]
        return body

    def placement(self, version: int) -> list[str]:
        """``move`` the family's policy before/after the user's (if the option says where)."""
        where = self.options.get("placement")
        if not where:
            return []
        side, _, other = where.partition(":")
        return [f"    move {self.policy_id(version)} {side} {other}"]

    def warning(self) -> list[str]:
        ids = f"{self.policy_id(4)} and {self.policy_id(6)}"
        return [
            f"# Shaping policies {ids} are wifiq's: before the first paste, 'show firewall shaping-policy",
            f"# {self.policy_id(4)}' and '... {self.policy_id(6)}' must show nothing or a policy named",
            f"# {self.policy_name(4)} / {self.policy_name(6)}; otherwise choose free ids with",
            "# --option policy-id=N --option policy-id6=M.",
        ]

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        out = commented("#", header_lines(doc, dscp, self.info.name)) + self.warning()
        ops = doc.with_addresses
        for version in (4, 6):
            out += self._config(
                _ADDRESS_TABLE[version], [line for op in ops for line in self.address_edits(op, op.family(version))]
            )
            groups = []
            for op in ops:
                if op.family(version):
                    members = [self.address_name(op, a) for a in op.family(version)]
                    groups += [
                        f'    edit "{self.group_name(op, version)}"',
                        f"        set member {self._members(members)}",
                        "    next",
                    ]
            out += self._config(_GROUP_TABLE[version], groups)
        out += self.services()
        body: list[str] = []
        for version in (4, 6):
            groups = [self.group_name(op, version) for op in ops if op.family(version)]
            # A family with no operator has no policy: a v6-only refresh leaves no IPv4 dstaddr.
            if groups:
                body += self.policy(version, groups, dscp) + self.placement(version)
            else:
                body.append(f"    delete {self.policy_id(version)}")
        out += self._config("shaping-policy", body)
        return "\n".join(out) + "\n"

    def delta(self, change: Delta, dscp: Dscp) -> str:
        out = commented("#", header_lines(change.current, dscp, self.info.name, change))
        for version in (4, 6):
            created = [
                line
                for item in change.operators
                for line in self.address_edits(item.current, item.family(version).added)
            ]
            out += self._config(_ADDRESS_TABLE[version], created)
            groups: list[str] = []
            policy: list[str] = []
            for item in change.operators:
                fam = item.family(version)
                name = self.group_name(item.current, version)
                if fam.kind == "added":
                    members = self._members([self.address_name(item.current, a) for a in fam.after])
                    groups += [f'    edit "{name}"', f"        set member {members}", "    next"]
                    policy.append(f'        append {_DST_FIELD[version]} "{name}"')
                elif fam.kind == "removed":
                    policy.append(f'        unselect {_DST_FIELD[version]} "{name}"')
                elif fam.kind == "changed":
                    added = [self.address_name(item.current, a) for a in fam.added]
                    removed = [self.address_name(item.current, a) for a in fam.removed]
                    groups.append(f'    edit "{name}"')
                    if added:
                        groups.append(f"        append member {self._members(added)}")
                    if removed:
                        groups.append(f"        unselect member {self._members(removed)}")
                    groups.append("    next")
            out += self._config(_GROUP_TABLE[version], groups)
            before, after = change.previous.addresses(version), change.current.addresses(version)
            if after and not before:  # the family's first operator: its policy is created
                users = [self.group_name(op, version) for op in change.current.with_addresses if op.family(version)]
                out += self._config("shaping-policy", self.policy(version, users, dscp) + self.placement(version))
            elif before and not after:  # none left: the policy goes before its groups do
                out += self._config("shaping-policy", [f"    delete {self.policy_id(version)}"])
            elif policy:
                # Appends first: unselecting the last group before another is added is refused.
                policy.sort(key=lambda line: "unselect" in line)
                out += self._config("shaping-policy", [f"    edit {self.policy_id(version)}", *policy, "    next"])
            gone_groups = [
                f'    delete "{self.group_name(item.current, version)}"'
                for item in change.operators
                if item.family(version).kind == "removed"
            ]
            out += self._config(_GROUP_TABLE[version], gone_groups)
            gone = [
                f'    delete "{self.address_name(item.current, a)}"'
                for item in change.operators
                for a in item.family(version).removed
            ]
            out += self._config(_ADDRESS_TABLE[version], gone)
        return "\n".join(out) + "\n"


RENDERER = FortiosRenderer()
