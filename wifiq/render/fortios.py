"""FortiOS: address objects per ePDG address, one address group per operator, a shaping policy.

The shaping policy matches the groups as destination with services IKE/NAT-T (udp 500, 4500)
and ESP (IP 50) and sets DSCP both ways (``diffserv-forward`` = client→ePDG, ``diffserv-reverse``
= the reply direction). A delta creates/deletes addresses and uses ``append``/``unselect`` on
groups and on the policy. Names ≤ 79 characters, comments ≤ 255 (FortiOS limits).
"""

from __future__ import annotations

from .base import Renderer, RendererInfo, commented, header_lines
from .dscp import Dscp
from .model import ESP_PROTOCOL, IKE_PORT, NATT_PORT, Delta, IPAddress, OperatorAddresses, RenderInput
from .names import NameRules, quote_comment

POLICY_ID = 4646
POLICY_NAME = "wifiq-epdg-dscp"
SERVICE_UDP = "wifiq-ike-natt"
SERVICE_ESP = "wifiq-esp"
_GROUP_TABLE = {4: "addrgrp", 6: "addrgrp6"}
_ADDRESS_TABLE = {4: "address", 6: "address6"}
_POLICY_FIELD = {4: "dstaddr", 6: "dstaddr6"}


class FortiosRenderer(Renderer):
    """FortiGate CLI: ``config firewall address/address6/addrgrp/addrgrp6/shaping-policy``."""

    info = RendererInfo(
        name="fortios",
        title="Fortinet FortiOS 7",
        description="address(6) objects, per-operator addrgrp(6), shaping-policy with diffserv forward+reverse",
        extension="fos",
        limits=("object names <= 79 characters", "comments <= 255 characters (cut)"),
    )
    names = NameRules(max_length=79, allowed="A-Za-z0-9_.-", separator="-")
    needs_addresses = "a shaping policy needs a destination"

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
        return self._config(
            "service custom",
            [
                f'    edit "{SERVICE_UDP}"',
                f"        set udp-portrange {IKE_PORT} {NATT_PORT}",
                "    next",
                f'    edit "{SERVICE_ESP}"',
                "        set protocol IP",
                f"        set protocol-number {ESP_PROTOCOL}",
                "    next",
            ],
        )

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        out = commented("#", header_lines(doc, dscp, self.info.name))
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
        body = [
            f"    edit {POLICY_ID}",
            f'        set name "{POLICY_NAME}"',
            '        set srcaddr "all"',
            '        set dstintf "any"',
            f'        set service "{SERVICE_UDP}" "{SERVICE_ESP}"',
        ]
        for version in (4, 6):
            groups = [self.group_name(op, version) for op in ops if op.family(version)]
            if groups:
                if version == 6:
                    body.append('        set srcaddr6 "all"')
                body.append(f"        set {_POLICY_FIELD[version]} {self._members(groups)}")
        body += [
            "        set diffserv-forward enable",
            f"        set diffservcode-forward {dscp.bits}",
            "        set diffserv-reverse enable",
            f"        set diffservcode-rev {dscp.bits}",
            "    next",
        ]
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
                    policy.append(f'        append {_POLICY_FIELD[version]} "{name}"')
                elif fam.kind == "removed":
                    policy.append(f'        unselect {_POLICY_FIELD[version]} "{name}"')
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
            if policy:
                out += self._config("shaping-policy", [f"    edit {POLICY_ID}", *policy, "    next"])
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
