"""panos on a firewall whose rulebase already has a general allow rule."""

from __future__ import annotations

from .. import device_models as dm
from ..contract import DeviceCase

USER = """\
set address user-dns ip-netmask 192.0.2.53/32
set address-group user-servers static [ user-dns ]
set rulebase security rules allow-out from trust to untrust source any destination any
set rulebase security rules allow-out application any service application-default action allow
set rulebase security rules dns destination user-servers
"""


def _rule_first(dev: dm.Device, prefix: str) -> bool:
    order = dev.rules_in_order()  # type: ignore[attr-defined]
    return bool(order) and dm._owned(order[0][-1], prefix)


def _rule_before_dns(dev: dm.Device, prefix: str) -> bool:
    order = [key[-1] for key in dev.rules_in_order()]  # type: ignore[attr-defined]
    ours = [i for i, name in enumerate(order) if dm._owned(name, prefix)]
    return len(ours) == 1 and ours[0] == order.index("dns") - 1


CASES = [
    DeviceCase("panos-top", "panos", dm.panos_device, USER, linger=lambda key: key[0] in ("address", "address-group"), first=_rule_first),
    DeviceCase(
        "panos-before-rule",
        "panos",
        dm.panos_device,
        USER,
        options={"placement": "before:dns"},
        linger=lambda key: key[0] in ("address", "address-group"),
        first=_rule_before_dns,
    ),
]
