"""wifiq: find operators' ePDG gateways, track their addresses, and render QoS/ACL config."""

from carrierkit import __version__

__all__ = ["__version__"]
