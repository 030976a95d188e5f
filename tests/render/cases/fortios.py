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


CASES = [
    DeviceCase("fortios-beside-user-policy", "fortios", dm.FortiosDevice, USER, linger=_unreferenced_objects),
    DeviceCase("fortios-no-ip-version", "fortios", dm.FortiosDevice, USER, options={"ip-version": "no", "policy-id": "10"},
               linger=_unreferenced_objects),
]
