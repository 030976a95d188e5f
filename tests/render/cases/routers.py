"""Coexistence cases for mikrotik, meraki, edgeos, vyos, the nft/iptables targets (real kernel)
and the whole-file targets (csv, json, plain, openwrt-qosify)."""

from __future__ import annotations

import json

from .. import device_models as dm
from .. import router_models as rm
from ..contract import DeviceCase

MIKROTIK_USER = """\
/ip firewall filter add chain=forward action=fasttrack-connection connection-state=established,related comment="defconf: fasttrack"
/ip firewall filter add chain=forward action=accept connection-state=established,related,untracked comment="defconf: accept established,related, untracked"
/ip firewall filter add chain=forward action=drop connection-state=invalid comment="defconf: drop invalid"
/ip firewall mangle add chain=prerouting action=mark-packet new-packet-mark=voip comment=mine
/ip firewall address-list add list=blocked address=192.0.2.99
/ipv6 firewall filter add chain=forward action=fasttrack-connection connection-state=established,related comment="defconf: fasttrack6"
"""


def _before_fasttrack(dev: dm.Device, prefix: str) -> bool:
    """wifiq's accept rules come before the fasttrack rule in both forward chains."""
    for menu, fasttrack in (("/ip firewall filter", "defconf: fasttrack"), ("/ipv6 firewall filter", "defconf: fasttrack6")):
        names = dev.chain(menu, "forward")  # type: ignore[attr-defined]
        ours = [i for i, name in enumerate(names) if dm._owned(name, prefix)]
        if not ours or max(ours) > names.index(fasttrack):
            return False
    return True


MERAKI_USER = json.dumps({
    "trafficShapingEnabled": True,
    "defaultRulesEnabled": True,
    "rules": [
        {"definitions": [{"type": "application", "value": "meraki:layer7/application/5"}], "dscpTagValue": 34, "pcpTagValue": 4},
        {"definitions": [{"type": "ipRange", "value": "10.0.0.0/8"}], "dscpTagValue": None, "pcpTagValue": None},
    ],
})

EDGEOS_USER = """\
set firewall modify LAN_QOS rule 10 action modify
set firewall modify LAN_QOS rule 10 description "voip phones"
set firewall modify LAN_QOS rule 10 source address 192.0.2.50
set firewall modify LAN_QOS rule 10 modify dscp 34
set interfaces ethernet eth0 firewall in modify LAN_QOS
set firewall group address-group SERVERS address 192.0.2.99
"""

VYOS_USER = """\
set policy route PBR rule 10 source address 192.0.2.0/24
set policy route PBR rule 10 set table 100
set policy route PBR interface eth0
set firewall group address-group SERVERS address 192.0.2.99
"""

NFT_USER = """\
table inet filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
	}
	chain user_mark {
		type filter hook postrouting priority mangle; policy accept;
		tcp dport 22 ip dscp set cs2
	}
}
"""

FW4_USER = """\
chain user_mark {
	type filter hook postrouting priority mangle; policy accept;
	tcp dport 22 ip dscp set cs2
}
"""

IPTABLES_USER = """\
iptables -t mangle -N USER-QOS
iptables -t mangle -A USER-QOS -p tcp --dport 22 -j DSCP --set-dscp 16
iptables -t mangle -A POSTROUTING -j USER-QOS
ipset create user-block hash:ip
ipset add user-block 192.0.2.99
"""

CASES = [
    DeviceCase("mikrotik-defconf-fasttrack", "mikrotik", rm.RouterOsDevice, MIKROTIK_USER, first=_before_fasttrack),
    DeviceCase("meraki-ssid-with-rules", "meraki", rm.MerakiDevice, MERAKI_USER,
               first=lambda dev, prefix: dm._owned(dev.first_rule(), prefix)),  # type: ignore[attr-defined]
    DeviceCase("edgeos-free-interface", "edgeos", rm.edgeos_device, EDGEOS_USER, hooks={"<interface>": "eth1"}),
    DeviceCase("edgeos-into-the-users-modify", "edgeos", rm.edgeos_device, EDGEOS_USER,
               options={"modify-ruleset": "LAN_QOS"}, hooks={"<interface>": "eth0"}),
    DeviceCase("vyos-beside-a-pbr-policy", "vyos", rm.edgeos_device, VYOS_USER, hooks={"<interface>": "eth1"}),
    DeviceCase("vyos-into-the-users-policy", "vyos", rm.edgeos_device, VYOS_USER,
               options={"policy": "PBR", "first-rule": "500"}, hooks={"<interface>": "eth0"}),
    DeviceCase("nftables-beside-a-filter-table", "nftables", lambda: rm.KernelDevice("nftables"), NFT_USER),
    DeviceCase("openwrt-fw4-with-a-user-include", "openwrt-fw4", lambda: rm.KernelDevice("openwrt-fw4"), FW4_USER),
    DeviceCase("iptables-beside-a-user-chain", "iptables", lambda: rm.KernelDevice("iptables"), IPTABLES_USER),
    *(DeviceCase(f"{t}-file", t, (lambda t=t: rm.FileDevice(t))) for t in ("csv", "json", "plain", "openwrt-qosify")),  # type: ignore[misc]
]
