"""A scripted CardConnection for unit tests of pure protocol logic (the real stack is tested
end to end in test_aram_e2e.py): it answers each expected command with a canned response."""

from __future__ import annotations


class ScriptedConnection:
    reader = "scripted"
    atr = bytes.fromhex("3B00")
    protocol = "T=0"

    def __init__(self, script: list[tuple[str, str]]) -> None:
        self.script = [(bytes.fromhex(c), bytes.fromhex(r)) for c, r in script]
        self.sent: list[bytes] = []

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        self.sent.append(apdu)
        assert self.script, f"unexpected APDU {apdu.hex().upper()}"
        want, resp = self.script.pop(0)
        assert apdu == want, f"sent {apdu.hex().upper()}, script expected {want.hex().upper()}"
        return resp[:-2], int.from_bytes(resp[-2:], "big")

    def close(self) -> None:
        pass


def listing_answer(rules: list) -> str:
    """The FF40 answer (hex + 9000) of a card holding ``rules`` (AccessRules)."""
    from simtool.aram.rules import encode_all_ref_ar_do

    return encode_all_ref_ar_do(list(rules)).hex() + "9000"


def store_data_hex(tag: int, rule: object) -> str:
    """STORE DATA (hex) carrying F0 (store) or F1 (delete) of ``rule``'s REF-AR-DO."""
    enc = rule.encoded()  # type: ignore[attr-defined]
    return f"80E29000{len(enc) + 2:02X}{tag:02X}{len(enc):02X}{enc.hex()}"
