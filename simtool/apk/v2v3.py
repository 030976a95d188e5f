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

from dataclasses import dataclass, field

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


@dataclass
class BlockSigner:
    """One signer of a v2/v3/v3.1 block as parsed and checked."""

    index: int
    min_sdk: int
    max_sdk: int
    certs: list[Certificate] = field(default_factory=list)
    digests: dict[int, bytes] = field(default_factory=dict)  # signature algorithm id -> digest
    verified_algorithms: list[int] = field(default_factory=list)
    attributes: dict[int, bytes] = field(default_factory=dict)
    lineage: tuple[LineageEntry, ...] = ()
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def certificate(self) -> Certificate | None:
        return self.certs[0] if self.certs else None

    @property
    def dev_release(self) -> bool:
        return ROTATION_DEV_RELEASE_ATTR in self.attributes


@dataclass
class SchemeResult:
    """The outcome for one block: its signers, block-level errors, the lineage (v3)."""

    scheme: str
    signers: list[BlockSigner]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lineage: tuple[LineageEntry, ...] = ()

    @property
    def all_errors(self) -> list[str]:
        title = SCHEME_TITLES[self.scheme]
        out = list(self.errors)
        for s in self.signers:
            out += [f"{title} signer #{s.index + 1}: {e}" for e in s.errors]
        return out

    @property
    def verified(self) -> bool:
        return not self.all_errors


def _parse_signer(r: ByteReader, scheme: str, index: int, path: str) -> BlockSigner:
    signed_reader = r.prefixed("signed data")
    signed_data = bytes(signed_reader.data)
    v3 = scheme != "v2"
    outer_min, outer_max = (r.u32("minSdk"), r.u32("maxSdk")) if v3 else (0, 0x7FFFFFFF)
    signer = BlockSigner(index, outer_min, outer_max)
    if v3 and (outer_min > 0x7FFFFFFF or outer_max > 0x7FFFFFFF or outer_min > outer_max):
        signer.errors.append(f"Invalid SDK version range: minSdkVersion={outer_min}, "
                             f"maxSdkVersion={outer_max}")
    signatures = [(s.u32("signature algorithm"), s.prefixed_bytes("signature"))
                  for s in r.sequence("signatures")]
    public_key = r.prefixed_bytes("public key")
    if not signatures:
        signer.errors.append("No signatures")
        return signer
    known = [(alg_id, sig) for alg_id, sig in signatures if alg_id in algorithms.ALGORITHMS]
    for alg_id, _ in signatures:
        if alg_id not in algorithms.ALGORITHMS:
            signer.warnings.append(f"Unknown signature algorithm: 0x{alg_id:08x}")
    if not known:
        signer.errors.append("No supported signatures")
        return signer
    try:
        key = algorithms.load_public_key(public_key)
    except algorithms.BadPublicKey as exc:
        signer.errors.append(f"Malformed public key: {exc}")
        return signer
    for alg_id, sig in known:
        alg = algorithms.ALGORITHMS[alg_id]
        if not algorithms.verify_signature(key, alg.key, alg.hash, alg.pss, sig, signed_data):
            signer.errors.append(f"{alg.name} signature over signed-data did not verify")
            return signer
        signer.verified_algorithms.append(alg_id)

    sd = ByteReader(signed_data, path, signed_reader.base)
    digests = [(d.u32("digest algorithm"), d.prefixed_bytes("digest")) for d in sd.sequence("digests")]
    for i, cert_reader in enumerate(sd.sequence("certificates")):
        try:
            signer.certs.append(parse_certificate(bytes(cert_reader.data), path))
        except ApkError as exc:
            signer.errors.append(f"Malformed certificate #{i + 1}: {exc.what}")
            return signer
    if v3:
        inner_min, inner_max = sd.u32("signed minSdk"), sd.u32("signed maxSdk")
        if inner_min != outer_min:
            signer.errors.append(f"minSdkVersion mismatch between signed and unsigned: "
                                 f"{outer_min} vs {inner_min}")
        if inner_max != outer_max:
            signer.errors.append(f"maxSdkVersion mismatch between signed and unsigned: "
                                 f"{outer_max} vs {inner_max}")
    for attr in sd.sequence("additional attributes"):
        attr_id = attr.u32("attribute id")
        signer.attributes.setdefault(attr_id, bytes(attr.data[attr.pos :]))
    if not signer.certs:
        signer.errors.append("No certificates")
        return signer
    if not algorithms.same_public_key(signer.certs[0].spki, public_key):
        signer.errors.append("Public key mismatch between certificate and signature record")
        return signer
    if [a for a, _ in signatures] != [a for a, _ in digests]:
        signer.errors.append("Signature algorithms don't match between digests and signatures "
                             "records")
        return signer
    signer.digests = dict(digests)
    if PROOF_OF_ROTATION_ATTR in signer.attributes:
        if scheme == "v2":
            signer.warnings.append("proof-of-rotation attribute on a v2 signer ignored")
        else:
            try:
                signer.lineage = parse_lineage(signer.attributes[PROOF_OF_ROTATION_ATTR], path)
            except ApkError as exc:
                signer.errors.append(f"Invalid signing certificate lineage: {exc.what}")
                return signer
            if signer.lineage[-1].certificate.encoded != signer.certs[0].encoded:
                signer.errors.append("APK signing certificate differs from the last certificate "
                                     "of its lineage")
    return signer


def parse_block(value: bytes, scheme: str, path: str, base: int) -> SchemeResult:
    """Parse a v2/v3/v3.1 block value and check each signer's signatures (no content digests,
    no SDK-range checks: see ``check_v3_range``). Raises ApkError when the framing is broken."""
    r = ByteReader(value, path, base)
    signers_seq = r.sequence("signers")
    result = SchemeResult(scheme, [])
    if not signers_seq:
        result.errors.append(f"{SCHEME_TITLES[scheme]}: no signers")
        return result
    if scheme == "v2" and len(signers_seq) > MAX_SIGNERS:
        result.errors.append(f"APK Signature Scheme V2 only supports a maximum of {MAX_SIGNERS} "
                             f"signers, found {len(signers_seq)}")
    for i, sr in enumerate(signers_seq):
        try:
            signer = _parse_signer(sr, scheme, i, path)
        except ApkError as exc:
            signer = BlockSigner(i, 0, 0)
            signer.errors.append(f"Malformed signer block: {exc.what}")
        result.signers.append(signer)
        result.warnings += [f"{SCHEME_TITLES[scheme]} signer #{i + 1}: {w}" for w in signer.warnings]
    return result


def check_v3_range(result: SchemeResult, min_sdk: int, max_sdk: int,
                   rotation_min_sdk: int | None) -> None:
    """apksig's v3 coverage rule: signers sorted by maxSdk must be contiguous (a dev-release
    signer may start on its predecessor's max) and cover min_sdk..max_sdk (up to
    rotation_min_sdk - 1 when a v3.1 block takes over from there)."""
    if result.all_errors:
        return
    ordered = sorted(result.signers, key=lambda s: s.max_sdk)
    first_min = last_max = 0
    lineage_size = 0
    for i, s in enumerate(ordered):
        if i == 0:
            first_min = s.min_sdk
        elif s.min_sdk != last_max + 1 and not (s.min_sdk == last_max and s.dev_release):
            result.errors.append(f"{SCHEME_TITLES[result.scheme]} signers supported min/max SDK "
                                 "versions are not continuous")
            return
        last_max = s.max_sdk
        if s.lineage:
            if len(s.lineage) < lineage_size:
                result.errors.append("SigningCertificateLineages targeting different platform "
                                     "versions are not all a part of the same overall lineage")
                return
            lineage_size = len(s.lineage)
            result.lineage = s.lineage
    want_max = rotation_min_sdk - 1 if rotation_min_sdk is not None else max_sdk
    if first_min > min_sdk or last_max < want_max:
        result.errors.append(f"{SCHEME_TITLES[result.scheme]} signers supported min/max SDK "
                             f"versions do not cover the entire desired range. Found min: "
                             f"{first_min} max {last_max}")


def check_rotation_min_sdk(result: SchemeResult, rotation_min_sdk: int | None,
                           max_sdk: int) -> None:
    """v3.1 stripping protection: a v3.0 signer's rotation-min-SDK attribute must match the v3.1
    block's lowest signer, and must not be there without a v3.1 block."""
    if max_sdk < 33:
        return
    for s in result.signers:
        raw = s.attributes.get(ROTATION_MIN_SDK_ATTR)
        if raw is None or len(raw) < 4:
            continue
        attr = int.from_bytes(raw[:4], "little")
        if rotation_min_sdk is None:
            result.errors.append(f"{SCHEME_TITLES[result.scheme]} signer #{s.index + 1}: The v3 "
                                 f"signer indicates key rotation should be supported starting "
                                 f"from SDK version {attr}, but a v3.1 block was not found")
        elif attr != rotation_min_sdk:
            result.errors.append(f"{SCHEME_TITLES[result.scheme]} signer #{s.index + 1}: The v3 "
                                 f"signer indicates key rotation should be supported starting "
                                 f"from SDK version {attr}, but the v3.1 block targets "
                                 f"{rotation_min_sdk}")


def check_stripping(result: SchemeResult, found: set[str], supported: set[str]) -> None:
    """v2 stripping protection: a v2 signer naming a newer scheme that is missing means someone
    removed that block."""
    for s in result.signers:
        raw = s.attributes.get(STRIPPING_PROTECTION_ATTR)
        if raw is None or len(raw) < 4:
            continue
        scheme_id = int.from_bytes(raw[:4], "little")
        name = SCHEME_IDS.get(scheme_id)
        if name and name in supported and name not in found:
            result.errors.append(
                f"{SCHEME_TITLES[result.scheme]} signer #{s.index + 1}: {SCHEME_TITLES[result.scheme]} "
                f"signature indicates the APK is signed using {SCHEME_TITLES[name]} but no such "
                "signature was found. Signature stripped?")
