"""junos on a router whose interface already has its own input filters."""

from __future__ import annotations

from .. import device_models as dm
from ..contract import DeviceCase

USER = """\
set firewall family inet filter user-in term ssh from protocol tcp
set firewall family inet filter user-in term ssh from destination-port 22
set firewall family inet filter user-in term ssh then discard
set firewall family inet filter user-in term rest then accept
set firewall family inet6 filter user-in6 term rest then accept
set interfaces ge-0/0/1 unit 0 family inet filter input user-in
set interfaces ge-0/0/1 unit 0 family inet6 filter input user-in6
set interfaces ge-0/0/1 unit 0 family inet address 192.0.2.1/24
"""


def _filter_first(dev: dm.Device, prefix: str) -> bool:
    facts = [f for f in dev.facts if f[:2] == ("interfaces", "ge-0/0/1") and "input-list" in f]  # type: ignore[attr-defined]
    firsts = {}
    for fact in facts:
        firsts.setdefault(fact[5], fact[-1])
    return set(firsts) == {"inet", "inet6"} and all(dm._owned(name, prefix) for name in firsts.values())


CASES = [
    DeviceCase(
        "junos-input-list",
        "junos",
        dm.junos_device,
        USER,
        linger=lambda key: key[0] == "prefix-list",  # lists of operators without addresses match nothing
        hooks={"<interface>": "ge-0/0/1", "<unit>": "0", "<inet-filter>": "user-in", "<inet6-filter>": "user-in6"},
        first=_filter_first,
    ),
]
