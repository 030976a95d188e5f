"""Would Android honour these rules as carrier privileges? A byte-faithful model of its parser.

Android (telephony ``UiccCarrierPrivilegeRules``: isDataComplete / parseRules / parseRefArdo)
reads ``FF40`` on a logical channel and walks each REF-AR-DO with a home-grown TLV reader:

- REF-DO must start with ``C1``, or with ``4F 06 FFFFFFFFFFFF`` directly followed by ``C1``;
  any other AID, ``4F 00`` or ``C0`` -> the rule is skipped silently.
- after ``C1`` only ``CA`` may follow (else skipped); anything after ``CA`` -> parse error.
- AR-DO: objects before ``DB`` are skipped; no ``DB`` -> skipped; anything after ``DB`` ->
  parse error. A REF-AR-DO holding anything but E1/E3 throws.
- a parse error anywhere, a status word other than 9000 or an empty answer puts the whole set
  in error: no app gets carrier privileges from this card.

A rule then matches an app when the hash equals the SHA-1 or SHA-256 of one of its signing
certificates (so only 20- or 32-byte hashes can ever match) and the package is absent/empty
or equal to the app's package (``UiccAccessRule``).
"""

from __future__ import annotations

from dataclasses import dataclass

from carrierkit.textsafe import escape_controls

from .rules import CARRIER_PRIVILEGE_AID
from .tlv import encode_tlv


@dataclass(frozen=True)
class AndroidVerdict:
    """What Android does with one REF-AR-DO: ``honoured`` (can grant), with the ``reason``."""

    honoured: bool
    reason: str
    hash: bytes | None = None
    package: str | None = None


@dataclass(frozen=True)
class RuleSetVerdict:
    """Android's view of a whole answer: ``error`` (all rules lost) or one verdict per rule."""

    error: str | None
    rules: tuple[AndroidVerdict, ...]


class _WholeSetError(Exception):
    """Android's parser threw: the whole rule set is in error."""


def _tlv(data: bytes, tag: bytes, consume_all: bool) -> tuple[bytes, bytes, bytes]:
    """Android's TLV.parse on bytes: returns (length bytes, value, rest)."""
    if not data.startswith(tag):
        raise _WholeSetError(f"expected tag {tag.hex().upper()}, found {data[:len(tag)].hex().upper() or 'nothing'}")
    index = len(tag)
    if index + 1 > len(data):
        raise _WholeSetError(f"no length after tag {tag.hex().upper()}")
    first = data[index]
    # Android's quirk: a first length byte >= 0x80 still counts as a one-byte length when the
    # object then ends exactly at the end of the input.
    if first < 0x80 or index + 1 + first == len(data):
        length_bytes, length = data[index : index + 1], first
    else:
        n = first - 0x80
        if n == 0 or index + 1 + n > len(data):
            raise _WholeSetError(f"bad length field after tag {tag.hex().upper()}")
        length_bytes = data[index : index + 1 + n]
        length = int.from_bytes(data[index + 1 : index + 1 + n], "big")
    start = index + len(length_bytes)
    remaining = len(data) - (start + length)
    if remaining < 0:
        raise _WholeSetError(f"tag {tag.hex().upper()} announces {length} bytes, {len(data) - start} present")
    if consume_all and remaining:
        raise _WholeSetError(f"{remaining} bytes after tag {tag.hex().upper()} where none may follow")
    return length_bytes, data[start : start + length], data[start + length :]


def _ref_ar_do(rule: bytes) -> AndroidVerdict:
    """Android's parseRefArdo on the E2 value; raises _WholeSetError where Android throws."""
    cert: bytes | None = None
    package: str | None = None
    while rule:
        if rule.startswith(b"\xe1"):
            _, ref, rule = _tlv(rule, b"\xe1", False)
            if ref.startswith(b"\x4f"):
                lb, aid, remain = _tlv(ref, b"\x4f", False)
                if lb != b"\x06" or aid != CARRIER_PRIVILEGE_AID:
                    shown = aid.hex().upper() or "empty (4F 00)"
                    return AndroidVerdict(False, f"skipped: AID {shown} is not FFFFFFFFFFFF")
                if not remain.startswith(b"\xc1"):
                    return AndroidVerdict(False, "skipped: AID FFFFFFFFFFFF not followed directly by a hash (C1)")
                _, cert, rest = _tlv(remain, b"\xc1", False)
            elif ref.startswith(b"\xc1"):
                _, cert, rest = _tlv(ref, b"\xc1", False)
            elif ref.startswith(b"\xc0"):
                return AndroidVerdict(False, "skipped: implicit AID (C0) is not a carrier-privilege form")
            else:
                first = ref[:1].hex().upper() or "nothing"
                return AndroidVerdict(False, f"skipped: REF-DO starts with {first}, not C1 or 4F06FFFFFFFFFFFF")
            if rest:
                if not rest.startswith(b"\xca"):
                    return AndroidVerdict(False, f"skipped: {rest[:1].hex().upper()} after the hash (only CA may follow)")
                _, pkg, _ = _tlv(rest, b"\xca", True)
                package = pkg.decode("latin-1")
            else:
                package = None
        elif rule.startswith(b"\xe3"):
            _, remain, rule = _tlv(rule, b"\xe3", False)
            while remain and not remain.startswith(b"\xdb"):
                _, _, remain = _tlv(remain, remain[:1], False)
            if not remain:
                return AndroidVerdict(False, "skipped: AR-DO has no PERM-AR-DO (DB)")
            _tlv(remain, b"\xdb", True)
        else:
            raise _WholeSetError(f"REF-AR-DO holds {rule[:1].hex().upper()} (only E1 and E3 allowed)")
    if cert is None:
        return AndroidVerdict(False, "no hash (C1): matches no app", None, package)
    if len(cert) not in (20, 32):
        return AndroidVerdict(
            False, f"hash is {len(cert)} bytes: matches no certificate (SHA-1 is 20, SHA-256 32)", cert, package
        )
    scope = f"package {escape_controls(package)}" if package else "any package"  # card/file data
    algo = "SHA-1" if len(cert) == 20 else "SHA-256"
    return AndroidVerdict(True, f"honoured: {algo} certificate hash, {scope}", cert, package)


def check_answer(answer: bytes | None, sw: int = 0x9000) -> RuleSetVerdict:
    """Android's verdict on a complete GET DATA FF40 answer (``answer`` with its status word).

    Returns ``error`` set when Android would drop every rule; else one verdict per REF-AR-DO.
    """
    if sw != 0x9000:
        return RuleSetVerdict(f"card answers {sw:04X} to GET DATA FF40: Android puts the whole rule set in error", ())
    if not answer:
        return RuleSetVerdict("empty answer to GET DATA FF40: Android puts the whole rule set in error", ())
    try:
        _, body, _ = _tlv(answer, b"\xff\x40", True)
        verdicts: list[AndroidVerdict] = []
        while body:
            _, value, body = _tlv(body, b"\xe2", False)
            verdicts.append(_ref_ar_do(value))
    except _WholeSetError as exc:
        return RuleSetVerdict(f"Android drops all rules: {exc}", ())
    return RuleSetVerdict(None, tuple(verdicts))


def check_rule(ref_ar_do: bytes) -> AndroidVerdict:
    """The verdict for one REF-AR-DO on its own; a whole-set failure becomes not honoured."""
    result = check_answer(encode_tlv(0xFF40, ref_ar_do))
    if result.error:
        return AndroidVerdict(False, result.error)
    return result.rules[0]


def matches(verdict: AndroidVerdict, cert_hashes: set[bytes], package: str | None) -> bool:
    """UiccAccessRule.matches: honoured, hash among the app's SHA-1/SHA-256 digests, package ok."""
    if not verdict.honoured or verdict.hash is None or verdict.hash not in cert_hashes:
        return False
    return not verdict.package or verdict.package == package


# Android's TLV reader, shared with the ARF model (simtool/arf/android.py: UiccPkcs15 uses it too).
AndroidTlvError = _WholeSetError
android_tlv = _tlv
