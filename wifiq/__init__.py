"""wifiq: find operators' ePDG gateways, track their addresses, and render QoS/ACL config."""

__version__ = "0.1.0"
