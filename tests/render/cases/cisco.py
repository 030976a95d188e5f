"""cisco-ios and cisco-9800 on a device that already has the user's ACL, class and policy."""

from __future__ import annotations

from .. import device_models as dm
from ..contract import DeviceCase

USER = """\
ip access-list extended USER-MGMT
 permit tcp any any eq 22
!
class-map match-any USER-VOICE
 match dscp ef
!
policy-map USER-IN
 class USER-VOICE
  set dscp ef
 class class-default
  set dscp default
!
policy-map USER-OUT
 class USER-VOICE
  set dscp ef
!
interface GigabitEthernet1/0/1
 description uplink
!
interface GigabitEthernet1/0/2
 description access
 service-policy input USER-IN
!
wireless profile policy corp-wlan
 description corporate
 service-policy input USER-IN
 service-policy output USER-OUT
!
wireless profile policy default-policy-profile
 description default
!
"""


def ios_device() -> dm.Device:
    return dm.TreeDevice(dm.IOS)


def _class_first(policy_map: str):  # type: ignore[no-untyped-def]
    def first(dev: dm.Device, prefix: str) -> bool:
        classes = [line for line in dev.child_lines(("policy-map", policy_map)) if line.startswith("class ")]  # type: ignore[attr-defined]
        return bool(classes) and dm._owned(classes[0].split()[1], prefix)

    return first


def _acl(key: dm.Key) -> bool:
    """ACLs of operators without addresses stay, unreferenced (they mark nothing)."""
    return key[0] == "acl"


CASES = [
    DeviceCase("cisco-ios-own-policy", "cisco-ios", ios_device, USER, linger=_acl, hooks={"<interface>": "GigabitEthernet1/0/1"}),
    DeviceCase(
        "cisco-ios-existing-policy",
        "cisco-ios",
        ios_device,
        USER,
        linger=_acl,
        options={"policy-map": "USER-IN", "insert-before": "USER-VOICE"},
        hooks={"<interface>": "GigabitEthernet1/0/2"},
        first=_class_first("USER-IN"),
    ),
    DeviceCase("cisco-9800-own-policy", "cisco-9800", ios_device, USER, linger=_acl),
    DeviceCase(
        "cisco-9800-existing-policies",
        "cisco-9800",
        ios_device,
        USER,
        linger=_acl,
        options={"policy-profile": "corp-wlan", "policy-map": "USER-IN", "policy-map-output": "USER-OUT",
                 "insert-before": "USER-VOICE"},
        first=_class_first("USER-OUT"),
    ),
]
