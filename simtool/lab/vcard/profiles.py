"""The card profiles: which ATR, which ARA-M implementation, which quirks (see the docs page)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

AID_ARA_M = bytes.fromhex("A00000015141434C00")
AID_ARA_D = bytes.fromhex("A00000015144414300")
AID_PKCS15 = bytes.fromhex("A000000063504B43532D3135")
AID_ISD = bytes.fromhex("A000000151000000")


def atr_with_tck(body: bytes) -> bytes:
    """Append the TCK check byte (XOR of T0…last byte) that an ATR offering T=1 needs."""
    return body + bytes([reduce(lambda a, b: a ^ b, body[1:], 0)])


def _t1_atr(historical: bytes) -> bytes:
    # TS, T0 (TD1 + K historical), TD1 = T=1 with TD2, TD2 = T=1 with TA3 TB3, IFSC 254, BWI/CWI.
    assert len(historical) <= 15
    return atr_with_tck(bytes([0x3B, 0x80 | len(historical), 0x81, 0x31, 0xFE, 0x45]) + historical)


def _t0_atr(historical: bytes) -> bytes:
    # No interface bytes at all: T=0 is the only protocol and there is no TCK.
    return bytes([0x3B, len(historical)]) + historical


@dataclass(frozen=True)
class Profile:
    """How one kind of card behaves.

    `aram` is "spec" (GP SEAC v1.1 behaviour, `aram_spec.py`) or "applet" (bertrandmartel's
    aram-applet as observed, `aram_applet.py`). `apps` are the optional applications present
    besides ARA-M ("ara-d": present but inert, "pkcs15"); `ara_d_rules` gives an ARA-D that
    answers Android's GET DATA with rules; `arf` gives the PKCS#15 application Access Rule Files
    ("android", "dodf" or "records" layout) and `has_aram` False leaves the ARA-M out.
    """

    name: str
    atr: bytes
    t0: bool
    aram: str
    apps: frozenset[str] = frozenset()
    logical_channels: bool = True
    select_fci: bool = True
    refuse_db: bool = False
    needs_adm: bool = False
    max_hash: int = 20  # applet only: SIZE_HASH (the sysmocom fork: 32)
    isd_scp: int = 0  # 2 or 3: an ISD speaking SCP02/SCP03 (isd.py); 0: no security domain
    isd_kvn: int = 0
    isd_i: int = 0  # the "i" parameter: SCP02 0x55; SCP03 0x70 (S8, R-MAC, R-ENC, pseudo-random), 0x71 S16
    aram_locked: bool = False  # STORE DATA only through the ISD (INSTALL [for personalization])
    lockable: bool = False  # applet only: sysmocom's fork, STORE DATA A1 locks it (memory.aram_locked)
    arf: str = ""  # Access Rule Files in the PKCS#15 application: "android", "dodf", "records" (pkcs15.py)
    has_aram: bool = True  # False: no ARA-M applet (Android then falls back to the ARF)
    ara_d_rules: bool = False  # an ARA-D answering GET DATA FF40 from the state file (ara_d.py)

    def aids(self) -> dict[bytes, str]:
        """AID → application name for every application this card holds."""
        table = {AID_ARA_M: "ara-m"} if self.has_aram else {}
        if "ara-d" in self.apps or self.ara_d_rules:
            table[AID_ARA_D] = "ara-d"
        if "pkcs15" in self.apps or self.arf:
            table[AID_PKCS15] = "pkcs15"
        if self.isd_scp:
            table[AID_ISD] = "isd"
        return table


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("spec", _t1_atr(b"ck-spec-T1"), t0=False, aram="spec"),
        Profile("t0", _t0_atr(b"ck-spec-T0"), t0=True, aram="spec", apps=frozenset({"pkcs15"})),
        Profile("no-db", _t1_atr(b"ck-no-db"), t0=False, aram="spec", apps=frozenset({"ara-d"}),
                refuse_db=True),
        Profile("adm", _t1_atr(b"ck-adm"), t0=False, aram="spec", needs_adm=True),
        # jcardsim's JCOP41 ATR: the applet was observed in a Java Card simulator behind pcscd.
        Profile("aram-applet",
                atr_with_tck(bytes.fromhex("3BFA1800008131FE454A434F50343156323231")), t0=False,
                aram="applet", logical_channels=False, select_fci=False),
        # sysmoISIM-SJA2's ATR (T=0): the sysmocom fork of the applet, 32-byte hashes accepted,
        # not yet locked: STORE DATA A1 (`simtool aram lock`) locks it; its ISD speaks SCP02 at KVN 0x70.
        Profile("sysmo", bytes.fromhex("3B9F96801F878031E073FE211B674A4C753034054BA9"), t0=True,
                aram="applet", logical_channels=False, select_fci=False, max_hash=32,
                isd_scp=2, isd_kvn=0x70, isd_i=0x55, lockable=True),
        # the same card after sysmocom's aram_lock: ARA-M written only through the ISD (SCP02, KVN 0x70)
        Profile("sysmo-locked", bytes.fromhex("3B9F96801F878031E073FE211B674A4C753034054BA9"), t0=True,
                aram="applet", logical_channels=False, select_fci=False, max_hash=32,
                isd_scp=2, isd_kvn=0x70, isd_i=0x55, aram_locked=True, lockable=True),
        # a commercial-style card: spec ARA-M behind an SCP03 ISD (AES, KVN 0x30), S8 and S16
        Profile("scp03", _t1_atr(b"ck-scp03"), t0=False, aram="spec",
                isd_scp=3, isd_kvn=0x30, isd_i=0x70, aram_locked=True),
        Profile("scp03-s16", _t1_atr(b"ck-scp03-16"), t0=False, aram="spec",
                isd_scp=3, isd_kvn=0x30, isd_i=0x71, aram_locked=True),
        # T=0 with logical channels: SCP02 (KVN 0x20, i=15) under GET RESPONSE and on channels 1-19
        Profile("scp02-t0", _t0_atr(b"ck-scp02-T0"), t0=True, aram="spec",
                isd_scp=2, isd_kvn=0x20, isd_i=0x15, aram_locked=True),
        Profile("scp03-t0", _t0_atr(b"ck-scp03-T0"), t0=True, aram="spec",
                isd_scp=3, isd_kvn=0x30, isd_i=0x70, aram_locked=True),
        # Access Rule Files without ARA-M (Android's fallback): Android's fixed file ids, or a
        # chain reachable only through the DODF; and a card holding both ARA-M and ARF rules.
        Profile("arf", _t1_atr(b"ck-arf"), t0=False, aram="spec", arf="android", has_aram=False),
        Profile("arf-dodf", _t0_atr(b"ck-arf-dodf"), t0=True, aram="spec", arf="dodf", has_aram=False),
        Profile("aram-arf", _t1_atr(b"ck-aram-arf"), t0=False, aram="spec", arf="android"),
        # an ARA-D holding rules (seeded in the state file) with an ARA-M and the ARF, T=1; and
        # without an ARA-M, T=0 (Android then uses the ARA-D's rules and never reads the ARF)
        Profile("arad-aram", _t1_atr(b"ck-arad-aram"), t0=False, aram="spec", arf="android",
                ara_d_rules=True),
        Profile("arad-arf", _t0_atr(b"ck-arad-arf"), t0=True, aram="spec", arf="android",
                ara_d_rules=True, has_aram=False),
        # Android's file ids with the DODF, ACRF and ACCFs linear fixed (records), T=1 and T=0
        Profile("arf-records", _t1_atr(b"ck-arf-rec"), t0=False, aram="spec", arf="records", has_aram=False),
        Profile("arf-records-t0", _t0_atr(b"ck-arf-rec-T0"), t0=True, aram="spec", arf="records",
                has_aram=False),
    )
}


def get_profile(name: str) -> Profile:
    """The profile called `name`; raises KeyError naming the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown card profile {name!r}; known: {', '.join(PROFILES)}") from None
