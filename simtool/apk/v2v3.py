"""APK Signature Scheme v2, v3 and v3.1 blocks: signers, signed data, signatures.

Block value layout (little-endian, every "prefixed" item is u32 length + bytes)::

    prefixed sequence of signers, each:
        prefixed signed data:
            prefixed sequence of digests      (u32 algorithm id, prefixed digest)
            prefixed sequence of certificates (prefixed X.509, first one is the signer's)
            [v3/v3.1: u32 minSdk, u32 maxSdk]
            prefixed sequence of attributes   (u32 id, value)
        [v3/v3.1: u32 minSdk, u32 maxSdk]  -- must equal the signed copies
        prefixed sequence of signatures       (u32 algorithm id, prefixed signature)
        prefixed public key (SubjectPublicKeyInfo)

Checks follow apksig's V2SchemeVerifier / V3SchemeVerifier: every signature with a known
algorithm must verify over the signed data with the record's public key, the key must be the
first certificate's key, digests and signatures must name the same algorithms, and v3 signers
must cover the SDK range without gaps. Content digests are only collected here
(``content_digest.py`` checks them). Problems are returned as messages, not raised: apksig
reports them per signer and so do we; only an unreadable block raises ApkError.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from . import algorithms
from .bytereader import ByteReader
from .certs import Certificate, parse_certificate
from .errors import ApkError
from .lineage import LineageEntry, parse_lineage

STRIPPING_PROTECTION_ATTR = 0xBEEFF00D
PROOF_OF_ROTATION_ATTR = 0x3BA06F8C
ROTATION_MIN_SDK_ATTR = 0x559F8B02
ROTATION_DEV_RELEASE_ATTR = 0xC2A6B3BA
MAX_SIGNERS = 10
SCHEME_TITLES = {"v2": "APK Signature Scheme v2", "v3": "APK Signature Scheme v3",
                 "v3.1": "APK Signature Scheme v3.1"}
SCHEME_IDS = {2: "v2", 3: "v3", 31: "v3.1"}


@dataclass(frozen=True)
class BlockSigner:
    """One signer of a v2/v3/v3.1 block as parsed and checked (``errors`` empty when good)."""

    index: int
    min_sdk: int
    max_sdk: int
    certs: tuple[Certificate, ...] = ()
    digests: dict[int, bytes] = field(default_factory=dict)  # signature algorithm id -> digest
    verified_algorithms: tuple[int, ...] = ()
    attributes: dict[int, bytes] = field(default_factory=dict)
    lineage: tuple[LineageEntry, ...] = ()
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def certificate(self) -> Certificate | None:
        return self.certs[0] if self.certs else None

    @property
    def dev_release(self) -> bool:
        return ROTATION_DEV_RELEASE_ATTR in self.attributes

    def u32_attribute(self, attr_id: int) -> int | None:
        """An additional attribute holding a little-endian u32 (None when absent or too short)."""
        raw = self.attributes.get(attr_id)
        return int.from_bytes(raw[:4], "little") if raw is not None and len(raw) >= 4 else None


@dataclass(frozen=True)
class SchemeResult:
    """The outcome for one block: its signers, block-level errors, the lineage (v3). The
    ``check_*`` functions return a copy with more errors."""

    scheme: str
    signers: tuple[BlockSigner, ...]
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    lineage: tuple[LineageEntry, ...] = ()

    def with_errors(self, *errors: str, lineage: tuple[LineageEntry, ...] | None = None) -> SchemeResult:
        return replace(self, errors=self.errors + errors,
                       lineage=self.lineage if lineage is None else lineage)

    @property
    def all_errors(self) -> list[str]:
        """Block-level errors, then each signer's prefixed with apksigner's "<scheme> signer #n: "."""
        title = SCHEME_TITLES[self.scheme]
        out = list(self.errors)
        for s in self.signers:
            out += [f"{title} signer #{s.index + 1}: {e}" for e in s.errors]
        return out

    @property
    def verified(self) -> bool:
        return not self.all_errors


def _parse_signer(r: ByteReader, scheme: str, index: int, path: str) -> BlockSigner:
    """Parse one signer and check its signatures, key, digests list, SDK range and lineage;
    problems are returned in ``errors``, broken framing raises ApkError.
    """
    signed_reader = r.prefixed("signed data")
    signed_data = bytes(signed_reader.data)
    v3 = scheme != "v2"
    outer_min, outer_max = (r.u32("minSdk"), r.u32("maxSdk")) if v3 else (0, 0x7FFFFFFF)
    signatures = [(s.u32("signature algorithm"), s.prefixed_bytes("signature"))
                  for s in r.sequence("signatures")]
    public_key = r.prefixed_bytes("public key")
    warnings = tuple(f"Unknown signature algorithm: 0x{alg_id:08x}" for alg_id, _ in signatures
                     if alg_id not in algorithms.ALGORITHMS)
    partial = BlockSigner(index, outer_min, outer_max, warnings=warnings)

    def fail(*errors: str, **found: Any) -> BlockSigner:
        return replace(partial, errors=errors, **found)

    if v3 and (outer_min > 0x7FFFFFFF or outer_max > 0x7FFFFFFF or outer_min > outer_max):
        return fail(f"Invalid SDK version range: minSdkVersion={outer_min}, "
                    f"maxSdkVersion={outer_max}")
    if not signatures:
        return fail("No signatures")
    known = [(alg_id, sig) for alg_id, sig in signatures if alg_id in algorithms.ALGORITHMS]
    if not known:
        return fail("No supported signatures")
    try:
        key = algorithms.load_public_key(public_key)
    except algorithms.BadPublicKey as exc:
        return fail(f"Malformed public key: {exc}")
    for alg_id, sig in known:
        alg = algorithms.ALGORITHMS[alg_id]
        if not alg.verify(key, sig, signed_data):
            return fail(f"{alg.name} signature over signed-data did not verify")

    sd = ByteReader(signed_data, path, signed_reader.base)
    digests = [(d.u32("digest algorithm"), d.prefixed_bytes("digest")) for d in sd.sequence("digests")]
    certs: list[Certificate] = []
    for i, cert_reader in enumerate(sd.sequence("certificates")):
        try:
            certs.append(parse_certificate(bytes(cert_reader.data), path))
        except ApkError as exc:
            return fail(f"Malformed certificate #{i + 1}: {exc.what}")
    errors: list[str] = []
    if v3:
        inner_min, inner_max = sd.u32("signed minSdk"), sd.u32("signed maxSdk")
        if inner_min != outer_min:
            errors.append(f"minSdkVersion mismatch between signed and unsigned: "
                          f"{outer_min} vs {inner_min}")
        if inner_max != outer_max:
            errors.append(f"maxSdkVersion mismatch between signed and unsigned: "
                          f"{outer_max} vs {inner_max}")
    attributes: dict[int, bytes] = {}
    # Attributes holding a u32 must hold 4 bytes: apksig reads them with getInt() and reports
    # the BufferUnderflowException as a malformed attribute (never as "absent").
    u32_attr = STRIPPING_PROTECTION_ATTR if scheme == "v2" else ROTATION_MIN_SDK_ATTR
    for count, attr in enumerate(sd.sequence("additional attributes"), 1):
        if attr.remaining() < 4:
            return fail(*errors, f"Malformed additional attribute #{count}")
        attr_id = attr.u32("attribute id")
        value = bytes(attr.data[attr.pos :])
        if attr_id == u32_attr and len(value) < 4:
            return fail(*errors, f"Malformed additional attribute #{count}")
        attributes.setdefault(attr_id, value)
    partial = replace(partial, certs=tuple(certs), attributes=attributes,
                      verified_algorithms=tuple(a for a, _ in known))
    if not certs:
        return fail(*errors, "No certificates")
    if not algorithms.same_public_key(certs[0].spki, public_key):
        return fail(*errors, "Public key mismatch between certificate and signature record")
    if [a for a, _ in signatures] != [a for a, _ in digests]:
        return fail(*errors, "Signature algorithms don't match between digests and signatures "
                    "records")
    partial = replace(partial, digests=dict(digests))
    if PROOF_OF_ROTATION_ATTR not in attributes:
        return fail(*errors)
    if scheme == "v2":
        return replace(partial, errors=tuple(errors),
                       warnings=warnings + ("proof-of-rotation attribute on a v2 signer ignored",))
    try:
        lineage = parse_lineage(attributes[PROOF_OF_ROTATION_ATTR], path)
    except ApkError as exc:
        return fail(*errors, f"Invalid signing certificate lineage: {exc.what}")
    if lineage[-1].certificate.encoded != certs[0].encoded:
        errors.append("APK signing certificate differs from the last certificate of its lineage")
    return fail(*errors, lineage=lineage)


def parse_block(value: bytes, scheme: str, path: str, base: int) -> SchemeResult:
    """Parse a v2/v3/v3.1 block value and check each signer's signatures (no content digests,
    no SDK-range checks: see ``check_v3_range``). Raises ApkError when the framing is broken."""
    r = ByteReader(value, path, base)
    signers_seq = r.sequence(f"{SCHEME_TITLES[scheme]} signers")
    if not signers_seq:
        return SchemeResult(scheme, (), (f"{SCHEME_TITLES[scheme]}: no signers",))
    errors: tuple[str, ...] = ()
    if scheme == "v2" and len(signers_seq) > MAX_SIGNERS:
        errors = (f"APK Signature Scheme V2 only supports a maximum of {MAX_SIGNERS} signers, "
                  f"found {len(signers_seq)}",)
    signers = []
    for i, sr in enumerate(signers_seq):
        try:
            signers.append(_parse_signer(sr, scheme, i, path))
        except ApkError as exc:
            signers.append(BlockSigner(i, 0, 0, errors=(f"Malformed signer block: {exc.what}",)))
    warnings = tuple(f"{SCHEME_TITLES[scheme]} signer #{s.index + 1}: {w}" for s in signers
                     for w in s.warnings)
    return SchemeResult(scheme, tuple(signers), errors, warnings)


def check_v3_range(result: SchemeResult, min_sdk: int, max_sdk: int,
                   rotation_min_sdk: int | None) -> SchemeResult:
    """apksig's v3 coverage rule: signers sorted by maxSdk must be contiguous (a dev-release
    signer may start on its predecessor's max) and cover min_sdk..max_sdk (up to
    rotation_min_sdk - 1 when a v3.1 block takes over from there)."""
    if result.all_errors:
        return result
    title = SCHEME_TITLES[result.scheme]
    ordered = sorted(result.signers, key=lambda s: s.max_sdk)
    first_min = last_max = 0
    lineage: tuple[LineageEntry, ...] = ()
    for i, s in enumerate(ordered):
        if i == 0:
            first_min = s.min_sdk
        elif s.min_sdk != last_max + 1 and not (s.min_sdk == last_max and s.dev_release):
            return result.with_errors(f"{title} signers supported min/max SDK versions are not "
                                      "continuous")
        last_max = s.max_sdk
        if s.lineage:
            if len(s.lineage) < len(lineage):
                return result.with_errors("SigningCertificateLineages targeting different "
                                          "platform versions are not all a part of the same "
                                          "overall lineage")
            lineage = s.lineage
    want_max = rotation_min_sdk - 1 if rotation_min_sdk is not None else max_sdk
    if first_min > min_sdk or last_max < want_max:
        return result.with_errors(f"{title} signers supported min/max SDK versions do not cover "
                                  f"the entire desired range. Found min: {first_min} max "
                                  f"{last_max}", lineage=lineage)
    return result.with_errors(lineage=lineage)


def check_rotation_min_sdk(result: SchemeResult, rotation_min_sdk: int | None,
                           max_sdk: int) -> SchemeResult:
    """v3.1 stripping protection: a v3.0 signer's rotation-min-SDK attribute must match the v3.1
    block's lowest signer, and must not be there without a v3.1 block."""
    if max_sdk < 33:
        return result
    errors = []
    for s in result.signers:
        attr = s.u32_attribute(ROTATION_MIN_SDK_ATTR)
        if attr is None:
            continue
        if rotation_min_sdk is None:
            errors.append(f"{SCHEME_TITLES[result.scheme]} signer #{s.index + 1}: The v3 "
                          f"signer indicates key rotation should be supported starting "
                          f"from SDK version {attr}, but a v3.1 block was not found")
        elif attr != rotation_min_sdk:
            errors.append(f"{SCHEME_TITLES[result.scheme]} signer #{s.index + 1}: The v3 "
                          f"signer indicates key rotation should be supported starting "
                          f"from SDK version {attr}, but the v3.1 block targets "
                          f"{rotation_min_sdk}")
    return result.with_errors(*errors)


def check_stripping(result: SchemeResult, found: set[str], supported: set[str]) -> SchemeResult:
    """v2 stripping protection: a v2 signer naming a newer scheme that is missing means someone
    removed that block."""
    errors = []
    for s in result.signers:
        scheme_id = s.u32_attribute(STRIPPING_PROTECTION_ATTR)
        name = SCHEME_IDS.get(scheme_id) if scheme_id is not None else None
        if name and name in supported and name not in found:
            errors.append(
                f"{SCHEME_TITLES[result.scheme]} signer #{s.index + 1}: {SCHEME_TITLES[result.scheme]} "
                f"signature indicates the APK is signed using {SCHEME_TITLES[name]} but no such "
                "signature was found. Signature stripped?")
    return result.with_errors(*errors)
