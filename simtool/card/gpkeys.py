"""Static secure-channel keys of one key set (KVN): ENC, MAC, DEK; their KCVs and the key
diversification schemes cards are personalised with, named as GlobalPlatformPro names them.

* ``emv`` (EMV CPS / GP "CPG 2.0.4"): 3DES-ECB(master, KDD[4:10] ‖ F0 ‖ k ‖ KDD[4:10] ‖ 0F ‖ k)
* ``visa2``: 3DES-ECB(master, KDD[0:2] ‖ KDD[4:8] ‖ F0 ‖ k ‖ KDD[0:2] ‖ KDD[4:8] ‖ 0F ‖ k)
* ``kdf3`` (SCP03, AES): SP 800-108 AES-CMAC counter mode, counter first, fixed input
  ``00 00 00 k 00 ‖ KDD``, output as long as the master key

with k = 1 (ENC), 2 (MAC), 3 (DEK) and KDD the 10-byte key diversification data the card sends
in its INITIALIZE UPDATE answer. Keys are secrets: ``repr`` shows only their KCVs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import SimtoolError
from ..exitcodes import ExitCode
from . import gpcrypto

DEFAULT_TEST_KEY = bytes(range(0x40, 0x50))  # 404142…4F: GP's well-known test key, only on request
DIVERSIFICATIONS = ("none", "emv", "visa2", "kdf3")
_PURPOSE = {"enc": 1, "mac": 2, "dek": 3}


class KeySetError(SimtoolError):
    """A key is badly formed (length, hex) or the key set is not usable for the protocol."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class StaticKeys:
    """ENC, MAC and DEK of one key set; ``kvn`` 0 means "the card's default key set"."""

    enc: bytes = field(repr=False)
    mac: bytes = field(repr=False)
    dek: bytes = field(repr=False)
    kvn: int = 0
    diversification: str = "none"

    def __post_init__(self) -> None:
        lengths = {len(self.enc), len(self.mac), len(self.dek)}
        if len(lengths) != 1 or lengths.pop() not in (16, 24, 32):
            raise KeySetError("secure channel keys must be 16, 24 or 32 bytes each and all of one length "
                            f"(got {len(self.enc)}/{len(self.mac)}/{len(self.dek)} bytes for ENC/MAC/DEK)")
        if not 0 <= self.kvn <= 0x7F:
            raise KeySetError(f"key version number {self.kvn} is out of range 0-127")
        if self.diversification not in DIVERSIFICATIONS:
            raise KeySetError(f"unknown key diversification {self.diversification!r}; one of "
                            + ", ".join(DIVERSIFICATIONS))

    def __repr__(self) -> str:
        return f"StaticKeys(kvn=0x{self.kvn:02X}, {self.diversification}, KCV {self.kcv_text('aes')})"

    def kcvs(self, cipher: str) -> dict[str, str]:
        """KCV of each key as the vendor sheets print it (hex), for ``cipher`` "des" or "aes"."""
        fn = gpcrypto.kcv_aes if cipher == "aes" else gpcrypto.kcv_des
        return {name: fn(getattr(self, name)).hex().upper() for name in ("enc", "mac", "dek")}

    def kcv_text(self, cipher: str) -> str:
        """``ENC C35280 MAC 013808 DEK 840DE5`` — safe to print."""
        return " ".join(f"{name.upper()} {value}" for name, value in self.kcvs(cipher).items())

    def diversified(self, kdd: bytes) -> "StaticKeys":
        """The card's own keys from these master keys and the card's 10-byte KDD (itself when
        the diversification is "none")."""
        if self.diversification == "none":
            return self
        if len(kdd) != 10:
            raise KeySetError(f"key diversification data must be 10 bytes (got {len(kdd)})")
        keys = {name: diversify(getattr(self, name), self.diversification, kdd, purpose)
                for name, purpose in _PURPOSE.items()}
        return StaticKeys(keys["enc"], keys["mac"], keys["dek"], self.kvn, "none")


def diversify(master: bytes, scheme: str, kdd: bytes, purpose: int) -> bytes:
    """One diversified key (see the module docstring); ``purpose`` 1 ENC, 2 MAC, 3 DEK."""
    k = bytes([purpose])
    if scheme == "emv":
        part = kdd[4:10]
    elif scheme == "visa2":
        part = kdd[0:2] + kdd[4:8]
    elif scheme == "kdf3":
        return gpcrypto.kdf_counter_first(master, b"\x00\x00\x00" + k + b"\x00" + kdd, len(master))
    else:
        raise KeySetError(f"unknown key diversification {scheme!r}")
    if len(master) != 16:
        raise KeySetError(f"{scheme} diversification needs a 16-byte 3DES master key (got {len(master)} bytes)")
    return gpcrypto.des3_ecb(master, part + b"\xf0" + k + part + b"\x0f" + k)


def parse_key_hex(text: str, what: str) -> bytes:
    """A key from hex text (spaces and colons allowed); the message never shows the key."""
    cleaned = "".join(ch for ch in text.strip() if ch not in " :")
    try:
        key = bytes.fromhex(cleaned)
    except ValueError:
        raise KeySetError(f"{what} is not hex ({len(cleaned)} characters)") from None
    if len(key) not in (16, 24, 32):
        raise KeySetError(f"{what} must be 16, 24 or 32 bytes (got {len(key)})")
    return key
