"""simtool: APK signing-certificate digests and ARA-M access rules on SIM cards."""

__version__ = "0.1.0"
