"""fortios on a FortiGate that already has the user's own shaping policy."""

from __future__ import annotations

from .. import device_models as dm
from ..contract import DeviceCase

USER = """\
config firewall address
    edit "user-srv"
        set subnet 192.0.2.80 255.255.255.255
    next
end
config firewall shaping-policy
    edit 1
        set name "user-shaping"
        set srcaddr "all"
        set dstaddr "user-srv"
    next
end
"""


def _unreferenced_objects(key: dm.Key) -> bool:
    """Address objects and groups of addresses or families gone may stay, unreferenced."""
    return key[0] in ("firewall address", "firewall address6", "firewall addrgrp", "firewall addrgrp6")


def _before_user_policy(dev: dm.Device, prefix: str) -> bool:
    order = dev.order["firewall shaping-policy"]  # type: ignore[attr-defined]
    ours = [i for i, pid in enumerate(order) if pid in ("4646", "4647")]
    return bool(ours) and max(ours) < order.index("1")


CASES = [
    DeviceCase("fortios-beside-user-policy", "fortios", dm.FortiosDevice, USER, linger=_unreferenced_objects),
    DeviceCase("fortios-before-user-policy", "fortios", dm.FortiosDevice, USER, options={"placement": "before:1"},
               linger=_unreferenced_objects, first=_before_user_policy),
    DeviceCase("fortios-no-ip-version", "fortios", dm.FortiosDevice, USER, options={"ip-version": "no", "policy-id": "10"},
               linger=_unreferenced_objects),
]
