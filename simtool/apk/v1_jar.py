"""JAR signing (v1): META-INF/MANIFEST.MF, the signers' .SF files and their PKCS#7 blocks.

What is checked, following apksig's V1SchemeVerifier:

* each signature block (``META-INF/<name>.RSA|.DSA|.EC``) is SignedData whose SignerInfo names a
  certificate in the bag by issuer + serial and signs the ``.SF`` (directly or through signed
  attributes whose messageDigest is the ``.SF``'s digest); before API 24 only the first
  SignerInfo counts, from API 24 the first one that verifies;
* the ``.SF`` covers MANIFEST.MF (whole-file digest, or main-attributes + per-section digests),
  with the digest algorithm Android would pick on each SDK version in range;
* ``X-Android-APK-Signed`` (stripping protection) names no scheme that is missing;
* with full verification, every ZIP entry's content digest matches MANIFEST.MF
  (``entry_digests_to_check`` hands them to the single streaming pass).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field

from . import algorithms
from .bytereader import FileSource
from .certs import Certificate
from .errors import ApkError
from .pkcs7 import OID_DATA, algorithm_name, parse_signed_data, unsupported_api_levels
from .zipfile_index import ZipEntry, read_entry

MANIFEST = "META-INF/MANIFEST.MF"
MAX_META_FILE = 16 << 20
MAX_SIGNERS = 10
SDK_KITKAT = 19
SIG_BLOCK_EXTS = (".RSA", ".DSA", ".EC")
# Digest attribute prefixes, strongest first (Android's JarVerifier order); "SHA1" spelled both ways.
DIGESTS = (("SHA-512", "sha512"), ("SHA-384", "sha384"), ("SHA-256", "sha256"),
           ("SHA1", "sha1"), ("SHA-1", "sha1"))
SCHEME_NAMES = {2: "v2", 3: "v3"}
TITLES = {"v2": "APK Signature Scheme v2", "v3": "APK Signature Scheme v3"}


#: Attributes anything here reads; others are skipped (a section of a million attributes
#: costs nothing), as are their continuation lines.
_KEPT_SUFFIXES = ("-Digest", "-Digest-Manifest", "-Digest-Manifest-Main-Attributes")
_KEPT_NAMES = ("Name", "X-Android-APK-Signed", "Manifest-Version", "Signature-Version", "Created-By")
#: A ZIP without ZIP64 holds at most 65535 entries: a manifest or .SF naming more is refused
#: before it can fill memory with sections.
MAX_SECTIONS = 0xFFFF
_LINE = re.compile(rb"([^\r\n]*)(\r\n|\r|\n|\Z)")


@dataclass(frozen=True, slots=True)
class Section:
    """A manifest section: its attributes (those read here) and where its raw bytes (what .SF
    sections digest) lie in the manifest."""

    name: str | None
    attrs: dict[str, str]
    data: bytes  # the whole manifest (shared, not copied)
    start: int
    end: int

    @property
    def raw(self) -> bytes:
        return self.data[self.start : self.end]


def _kept(key: str) -> bool:
    return key in _KEPT_NAMES or key.endswith(_KEPT_SUFFIXES)


def parse_manifest(data: bytes, path: str, what: str) -> tuple[Section, list[Section]]:
    """Split a JAR manifest into its main section and named sections. Raises ApkError.

    Memory is bounded by design: lines are scanned, not listed; only the attributes read here
    are kept; sections point into ``data``; at most ``MAX_SECTIONS`` named sections."""
    sections: list[Section] = []
    start = 0
    attrs: dict[str, str] = {}
    has_attrs = False
    last_key: str | None = None
    n = len(data)
    number = 0
    for m in _LINE.finditer(data):
        if m.start() == n and number:  # the empty match at the very end
            break
        number += 1
        line, end = m.group(1), m.end()
        if line.startswith(b" ") and last_key is not None:
            if last_key in attrs:
                attrs[last_key] += line[1:].decode("utf-8", errors="replace")
        elif line:
            key, sep, value = line.partition(b": ")
            if not sep:
                raise ApkError(path, f"Malformed {what}: line {number} is not 'Name: value'")
            last_key = key.decode("utf-8", errors="replace")
            has_attrs = True
            if _kept(last_key):
                attrs.setdefault(last_key, value.decode("utf-8", errors="replace"))
        if not line or end >= n:
            if has_attrs or not sections:
                if len(sections) > MAX_SECTIONS:
                    raise ApkError(path, f"Malformed {what}: more than {MAX_SECTIONS} sections "
                                   "(a ZIP without ZIP64 holds at most that many entries)")
                sections.append(Section(attrs.get("Name"), attrs, data, start, end))
            attrs, has_attrs, last_key, start = {}, False, None, end
        if end >= n:
            break
    if not sections:
        sections.append(Section(None, {}, data, 0, 0))
    main, named = sections[0], sections[1:]
    for idx, sec in enumerate(named):
        if sec.name is None:
            raise ApkError(path, f"Malformed {what}: invidual section #{idx + 1} does not have a name")
    return main, named


def _digests_to_check(attrs: dict[str, str], suffix: str, min_sdk: int,
                      max_sdk: int, every: bool = False) -> list[tuple[str, bytes]]:
    """The (hash, expected) pairs Android checks for some SDK in range: SHA-1 only before
    API 18, the strongest one present from API 18; with ``every`` (a plain JAR, as jarsigner
    checks it) each one present."""
    present = []
    for prefix, algo in DIGESTS:
        value = attrs.get(f"{prefix}{suffix}")
        if value is not None:
            try:
                present.append((algo, base64.b64decode(value, validate=False)))
            except ValueError:
                present.append((algo, b""))
    if every:
        return list(dict(present).items())  # SHA1 and SHA-1 spellings count once
    chosen: list[tuple[str, bytes]] = []
    if min_sdk < 18:
        chosen += [p for p in present if p[0] == "sha1"][:1]
    if max_sdk >= 18 and present:
        if present[0] not in chosen:
            chosen.append(present[0])
    return chosen


@dataclass(frozen=True)
class JarSigner:
    """One v1 signer: its name, certificate, the problems found, the entries its .SF names."""

    name: str
    block: str  # signature block file name, e.g. "CERT.RSA" (how apksigner names the signer)
    certificate: Certificate | None = None
    errors: tuple[str, ...] = ()
    sf_sections: frozenset[str] = frozenset()


@dataclass(frozen=True)
class JarResult:
    """All v1 signers, errors not tied to a signer, and the entry digests left to check."""

    signers: tuple[JarSigner, ...]
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    entry_digests: dict[str, tuple[tuple[str, bytes], ...]] = field(default_factory=dict)

    @property
    def all_errors(self) -> list[str]:
        return list(self.errors) + [f"JAR signer {s.block}: {e}" for s in self.signers
                                    for e in s.errors]

    @property
    def verified(self) -> bool:
        return bool(self.signers) and not self.all_errors


def _check_block(src: FileSource, block: bytes, sf: bytes, block_name: str, sf_name: str,
                 min_sdk: int, max_sdk: int) -> Certificate | str:
    """The certificate whose SignerInfo signs ``sf``, or the reason there is none."""
    sd = parse_signed_data(block, f"{src.path}!{block_name}")
    infos = sd.signer_infos if min_sdk >= 24 else sd.signer_infos[:1]
    if not infos:
        return f"JAR signature {block_name} has no SignerInfo"
    last_problem = ""
    for info in infos:
        gaps = unsupported_api_levels(info, min_sdk, max_sdk)
        if gaps:
            digest_name, sig_name = algorithm_name(info)
            levels = ", ".join(f"{lo}-{hi}" if lo != hi else str(lo) for lo, hi in gaps)
            last_problem = (f"JAR signature {block_name} uses digest algorithm {digest_name} and "
                            f"signature algorithm {sig_name} which is not supported on API "
                            f"Level(s) {levels} for which this APK is being verified")
            continue
        cert = sd.certificate_for(info)
        if cert is None:
            last_problem = (f"JAR signature {block_name}: no certificate in the PKCS#7 matches "
                            "the SignerInfo's issuer and serial number")
            continue
        signed = sf
        if info.signed_attrs is not None and min_sdk < SDK_KITKAT:
            # apksig V1SchemeVerifier: signed attributes are unsafe before Android 4.4.
            last_problem = (f"Failed to verify JAR signature {block_name} against {sf_name}: "
                            "java.security.SignatureException: APKs with Signed Attributes "
                            f"broken on platforms with API Level < {SDK_KITKAT}")
            continue
        if info.signed_attrs is not None:
            if info.content_type not in (None, OID_DATA) or info.message_digest is None or \
                    hashlib.new(info.digest, sf).digest() != info.message_digest:
                last_problem = f"JAR signature {block_name} did not verify against {sf_name}"
                continue
            signed = info.signed_attrs
        try:
            key = algorithms.load_public_key(cert.spki)
        except algorithms.BadPublicKey as exc:
            last_problem = f"JAR signature {block_name}: unusable public key: {exc}"
            continue
        if algorithms.verify_signature(key, info.key_kind, info.digest, False, info.signature, signed):
            return cert
        last_problem = f"JAR signature {block_name} did not verify against {sf_name}"
    return last_problem


def _check_signer(src: FileSource, name: str, block_entry: ZipEntry, sf_entry: ZipEntry,
                  manifest: bytes, main: Section, sections: dict[str | None, Section],
                  found: set[str], supported: set[str], min_sdk: int, max_sdk: int,
                  every: bool) -> JarSigner:
    """Verify one signer: its PKCS#7 over the .SF, stripping protection, the .SF over the
    manifest."""
    sf_name = sf_entry.name
    sf = read_entry(src, sf_entry, MAX_META_FILE, "signature file")
    block = read_entry(src, block_entry, MAX_META_FILE, "signature block")
    try:
        outcome = _check_block(src, block, sf, block_entry.name, sf_name, min_sdk, max_sdk)
    except ApkError as exc:
        outcome = f"Malformed JAR signature {block_entry.name}: {exc.what}"
    if isinstance(outcome, str):
        return JarSigner(name, block_entry.name[9:], errors=(outcome,))
    errors: list[str] = []
    sf_main, sf_named = parse_manifest(sf, src.path, sf_name)
    applied = sf_main.attrs.get("X-Android-APK-Signed")
    for token in (applied or "").split(","):
        token = token.strip()
        scheme = SCHEME_NAMES.get(int(token)) if token.isdigit() else None
        if scheme and scheme in supported and scheme not in found:
            errors.append(f"JAR signature {sf_name} indicates the APK is signed using "
                          f"{TITLES[scheme]} but no such signature was found. Signature stripped?")
    whole = _digests_to_check(sf_main.attrs, "-Digest-Manifest", min_sdk, max_sdk, every)
    if not whole or any(hashlib.new(a, manifest).digest() != d for a, d in whole):
        for algo, expected in _digests_to_check(sf_main.attrs, "-Digest-Manifest-Main-Attributes",
                                                min_sdk, max_sdk, every):
            if hashlib.new(algo, main.raw).digest() != expected:
                errors.append(f"{algo.upper()} digest of {MANIFEST} main section does not match "
                              f"the digest specified in {sf_name}")
        for sec in sf_named:
            target = sections.get(sec.name)
            if target is None:
                errors.append(f"{sf_name} names {sec.name!r}, absent from {MANIFEST}")
                continue
            checks = _digests_to_check(sec.attrs, "-Digest", min_sdk, max_sdk, every)
            if not checks:
                errors.append(f"{sf_name} section {sec.name!r} has no usable digest")
            for algo, expected in checks:
                if hashlib.new(algo, target.raw).digest() != expected:
                    errors.append(f"{algo.upper()} digest of {MANIFEST} section for {sec.name} "
                                  f"does not match the digest in {sf_name}")
    return JarSigner(name, block_entry.name[9:], outcome, tuple(errors),
                     frozenset(s.name for s in sf_named if s.name))


def verify_v1(src: FileSource, entries: list[ZipEntry], found: set[str], supported: set[str],
              min_sdk: int, max_sdk: int, every: bool = False) -> JarResult:
    """Verify the JAR signature of an APK/AAB; entry digests are returned, not checked here.
    ``every``: check every digest a manifest section lists (a bundle, verified as jarsigner
    verifies a JAR) rather than the ones Android picks for the SDK range."""
    by_name = {e.name: e for e in entries}
    manifest_entry = by_name.get(MANIFEST)
    if manifest_entry is None:
        return JarResult((), (f"Missing {MANIFEST}",))
    blocks = sorted(e.name for e in entries if e.name.startswith("META-INF/")
                    and "/" not in e.name[9:] and e.name.upper().endswith(SIG_BLOCK_EXTS))
    pairs = []
    for block_name in blocks:
        base = block_name[: block_name.rfind(".")]
        sf_entry = by_name.get(base + ".SF")
        if sf_entry is not None:
            pairs.append((base[9:], by_name[block_name], sf_entry))
    if not pairs:
        return JarResult((), ("No JAR signatures",))
    if len(pairs) > MAX_SIGNERS:
        return JarResult((), (f"APK Signature Scheme v1 only supports a maximum of {MAX_SIGNERS} "
                              f"signers, found {len(pairs)}",))
    manifest = read_entry(src, manifest_entry, MAX_META_FILE, "JAR manifest")
    main, named = parse_manifest(manifest, src.path, MANIFEST)
    sections: dict[str | None, Section] = {s.name: s for s in named}
    signers = tuple(_check_signer(src, name, block_entry, sf_entry, manifest, main, sections,
                                  found, supported, min_sdk, max_sdk, every)
                    for name, block_entry, sf_entry in pairs)
    result = JarResult(signers)
    if result.all_errors:
        return result
    # Entries every signer must cover, with the manifest digests to check in the streaming pass.
    signature_files = {MANIFEST} | {b.name for _, b, _ in pairs} | {sf.name for _, _, sf in pairs}
    entry_digests: dict[str, tuple[tuple[str, bytes], ...]] = {}
    for entry in entries:
        if entry.name.endswith("/") or entry.name in signature_files or (
                entry.name.startswith("META-INF/") and "/" not in entry.name[9:]
                and entry.name.upper().endswith((".SF", ".RSA", ".DSA", ".EC"))):
            continue
        sec = sections.get(entry.name)
        if sec is None:
            return JarResult(signers, (f"{entry.name} entry not protected by signature",))
        unsigned_by = [s.name for s in signers if entry.name not in s.sf_sections]
        if unsigned_by:
            return JarResult(signers, (f"{entry.name} entry not signed by JAR signer(s) "
                                       f"{', '.join(unsigned_by)}",))
        checks = _digests_to_check(sec.attrs, "-Digest", min_sdk, max_sdk, every)
        if not checks:
            return JarResult(signers, (f"No digest for {entry.name} in {MANIFEST}",))
        entry_digests[entry.name] = tuple(checks)
    return JarResult(signers, entry_digests=entry_digests)
