"""aruba-os on a controller with the user's aliases, ACL and role; aruba-cx on a switch with the
user's class, policy and interfaces."""

from __future__ import annotations

from .. import device_models as dm
from ..contract import DeviceCase

AOS_USER = """\
netdestination USER-DNS
  host 192.0.2.53
!
ip access-list session USER-ACL
  any alias USER-DNS udp 53 permit
  any any any permit
!
user-role employee
 access-list session USER-ACL
!
"""

CX_USER = """\
class ip USER-WEB
    10 match tcp any any eq 443
policy USER-QOS
    10 class ip USER-WEB action dscp AF21
interface 1/1/1
    description uplink
interface 1/1/2
    description access
    apply policy USER-QOS in
"""


def aos_device() -> dm.Device:
    return dm.TreeDevice(dm.ARUBA_OS)


def cx_device() -> dm.Device:
    return dm.TreeDevice(dm.ARUBA_CX)


def _acl_first(dev: dm.Device, prefix: str) -> bool:
    lines = dev.child_lines(("role", "employee"))  # type: ignore[attr-defined]
    return bool(lines) and dm._owned(lines[0].split()[2], prefix)


CASES = [
    DeviceCase("aruba-os-role", "aruba-os", aos_device, AOS_USER, hooks={"<role>": "employee"}, first=_acl_first),
    DeviceCase("aruba-cx-own-policy", "aruba-cx", cx_device, CX_USER, hooks={"<interface>": "1/1/1"}),
    DeviceCase("aruba-cx-existing-policy", "aruba-cx", cx_device, CX_USER, options={"policy": "USER-QOS"},
               hooks={"<interface>": "1/1/2"}),
]
