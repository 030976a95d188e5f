"""simtool: APK signing-certificate digests and ARA-M access rules on SIM cards."""

from carrierkit import __version__

__all__ = ["__version__"]
