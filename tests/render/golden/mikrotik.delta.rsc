# wifiq 0.1.0 - mikrotik - Wi-Fi calling (IKE udp/500, NAT-T udp/4500, ESP) marked DSCP ef (46)
# refreshed 2026-11-26T10:00:00Z; DELTA since 2026-11-26T09:00:00Z
# 6 operators, 5 IPv4 + 6 IPv6 active addresses:
#   208-10 SFR "Telecom" & Fils; l'operateur (Societe francaise du radiotelephone): 3 active
#   234-15 Vodafone UK (Vodafone Limited): 2 active
#   310-026: 1 active
#   311-480 Verizon (Verizon Wireless): 1 active
#   505-01 Telstra (Telstra Corporation Ltd): 4 active
#   1 more operator without active addresses (not listed)
# changes: +4 -4 addresses
#   234-15 (added): +203.0.113.50 +2001:db8:2::50
#   310-026 (changed): -192.0.2.40
#   310-260 (removed): -192.0.2.30 -2001:db8:2::30
#   505-01 (changed): +203.0.113.12 +2001:db8:2::12 -203.0.113.11
/ip firewall address-list remove [find list=wifiq-epdg address=192.0.2.30]
/ip firewall address-list remove [find list=wifiq-epdg address=203.0.113.11]
/ipv6 firewall address-list remove [find list=wifiq-epdg address=2001:db8:2::30/128]
/ip firewall address-list add list=wifiq-epdg address=203.0.113.12 comment="wifiq 505-01 Telstra"
/ip firewall address-list add list=wifiq-epdg address=203.0.113.50 comment="wifiq 234-15 Vodafone UK"
/ipv6 firewall address-list add list=wifiq-epdg address=2001:db8:2::12/128 comment="wifiq 505-01 Telstra"
/ipv6 firewall address-list add list=wifiq-epdg address=2001:db8:2::50/128 comment="wifiq 234-15 Vodafone UK"
