# wifiq 0.1.0 - mikrotik - Wi-Fi calling (IKE udp/500, NAT-T udp/4500, ESP) marked DSCP ef (46)
# refreshed 2026-11-26T09:00:00Z; FULL configuration
# 6 operators, 5 IPv4 + 5 IPv6 active addresses:
#   208-10 SFR "Telecom" & Fils; l'operateur (Societe francaise du radiotelephone): 3 active
#   310-026: 2 active
#   310-260 T-Mobile USA, Inc. a very long operator name that no firewall accepts as an object name at all: 2 active
#   311-480 Verizon (Verizon Wireless): 1 active
#   505-01 Telstra (Telstra Corporation Ltd): 3 active
#   1 more operator without active addresses (not listed)
# Fast-tracked packets skip mangle: the accept rules below keep ePDG connections off FastTrack
/ip firewall address-list remove [find list=wifiq-epdg]
/ip firewall address-list add list=wifiq-epdg address=192.0.2.30 comment="wifiq 310-260 T-Mobile USA, Inc. a very long operator name that no firewall accepts as an object name at all"
/ip firewall address-list add list=wifiq-epdg address=192.0.2.40 comment="wifiq 310-026, 311-480 Verizon"
/ip firewall address-list add list=wifiq-epdg address=198.51.100.20 comment="wifiq 208-10 SFR Telecom & Fils; l'operateur"
/ip firewall address-list add list=wifiq-epdg address=203.0.113.10 comment="wifiq 505-01 Telstra"
/ip firewall address-list add list=wifiq-epdg address=203.0.113.11 comment="wifiq 505-01 Telstra"
/ip firewall mangle remove [find comment=wifiq-epdg-dscp]
/ip firewall mangle add chain=postrouting dst-address-list=wifiq-epdg protocol=udp dst-port=500,4500 action=change-dscp new-dscp=46 passthrough=yes comment=wifiq-epdg-dscp
/ip firewall mangle add chain=postrouting src-address-list=wifiq-epdg protocol=udp src-port=500,4500 action=change-dscp new-dscp=46 passthrough=yes comment=wifiq-epdg-dscp
/ip firewall mangle add chain=postrouting dst-address-list=wifiq-epdg protocol=ipsec-esp action=change-dscp new-dscp=46 passthrough=yes comment=wifiq-epdg-dscp
/ip firewall mangle add chain=postrouting src-address-list=wifiq-epdg protocol=ipsec-esp action=change-dscp new-dscp=46 passthrough=yes comment=wifiq-epdg-dscp
/ip firewall filter remove [find comment=wifiq-epdg-nofasttrack]
:foreach rule in=[/ip firewall filter find where action=fasttrack-connection] do={ /ip firewall filter add chain=forward action=accept connection-state=established,related comment=wifiq-epdg-nofasttrack place-before=$rule dst-address-list=wifiq-epdg; /ip firewall filter add chain=forward action=accept connection-state=established,related comment=wifiq-epdg-nofasttrack place-before=$rule src-address-list=wifiq-epdg }
/ipv6 firewall address-list remove [find list=wifiq-epdg]
/ipv6 firewall address-list add list=wifiq-epdg address=2001:db8:2::10/128 comment="wifiq 505-01 Telstra"
/ipv6 firewall address-list add list=wifiq-epdg address=2001:db8:2::20/128 comment="wifiq 208-10 SFR Telecom & Fils; l'operateur"
/ipv6 firewall address-list add list=wifiq-epdg address=2001:db8:2::21/128 comment="wifiq 208-10 SFR Telecom & Fils; l'operateur"
/ipv6 firewall address-list add list=wifiq-epdg address=2001:db8:2::30/128 comment="wifiq 310-260 T-Mobile USA, Inc. a very long operator name that no firewall accepts as an object name at all"
/ipv6 firewall address-list add list=wifiq-epdg address=2001:db8:2::41/128 comment="wifiq 310-026"
/ipv6 firewall mangle remove [find comment=wifiq-epdg-dscp]
/ipv6 firewall mangle add chain=postrouting dst-address-list=wifiq-epdg protocol=udp dst-port=500,4500 action=change-dscp new-dscp=46 passthrough=yes comment=wifiq-epdg-dscp
/ipv6 firewall mangle add chain=postrouting src-address-list=wifiq-epdg protocol=udp src-port=500,4500 action=change-dscp new-dscp=46 passthrough=yes comment=wifiq-epdg-dscp
/ipv6 firewall mangle add chain=postrouting dst-address-list=wifiq-epdg protocol=ipsec-esp action=change-dscp new-dscp=46 passthrough=yes comment=wifiq-epdg-dscp
/ipv6 firewall mangle add chain=postrouting src-address-list=wifiq-epdg protocol=ipsec-esp action=change-dscp new-dscp=46 passthrough=yes comment=wifiq-epdg-dscp
/ipv6 firewall filter remove [find comment=wifiq-epdg-nofasttrack]
:do { :foreach rule in=[/ipv6 firewall filter find where action=fasttrack-connection] do={ /ipv6 firewall filter add chain=forward action=accept connection-state=established,related comment=wifiq-epdg-nofasttrack place-before=$rule dst-address-list=wifiq-epdg; /ipv6 firewall filter add chain=forward action=accept connection-state=established,related comment=wifiq-epdg-nofasttrack place-before=$rule src-address-list=wifiq-epdg } } on-error={ :log warning "wifiq: no IPv6 FastTrack rules handled" }
