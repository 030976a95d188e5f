"""Verify an APK (or a JAR-signed AAB) the way apksigner does, and build its ApkReport.

The order of checks is apksig's ``ApkVerifier.verify``: v3.1 (API 33+), v3 (API 28+), v2 when
the range reaches below 28 or nothing newer was found, then v1 when the range reaches below 24
or no block signature was found; then cross-scheme checks and the target-SDK minimum scheme.
Content digests (the whole file) and v1 entry digests are checked only with ``full_verify``,
in one streaming pass (``content_digest.stream_pass``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from . import select
from .algorithms import ALGORITHMS
from .axml import ManifestSdk, parse_manifest_sdk
from .bytereader import FileSource
from .certs import CertDigests
from .content_digest import EntryCheck, stream_pass
from .errors import ApkError
from .report import SDK_MAX, ApkReport, LineageNode, Signer
from .signing_block import (SOURCE_STAMP_V2_ID, V2_BLOCK_ID, V3_BLOCK_ID, V31_BLOCK_ID,
                            SigningBlock, find_signing_block)
from .source_stamp import STAMP_CERT_ENTRY, StampResult, verify_stamp
from .v1_jar import MANIFEST, JarResult, verify_v1
from .v2v3 import (SchemeResult, check_rotation_min_sdk, check_stripping, check_v3_range,
                   parse_block)
from .v4_idsig import HashingInfo, check_v4
from .zipfile_index import (ZipEntry, ZipSections, find_zip_sections, read_central_directory,
                            read_entry)

MANIFEST_XML = "AndroidManifest.xml"
MAX_MANIFEST = 16 << 20


def _supported(max_sdk: int) -> set[str]:
    """Schemes whose stripping protection counts for devices up to ``max_sdk`` (apksig
    getSupportedSchemeNames).
    """
    if max_sdk >= select.SDK_P:
        return {"v2", "v3"}
    if max_sdk >= select.SDK_N:
        return {"v2"}
    return set()


def _block_signers(result: SchemeResult) -> list[Signer]:
    """The report's Signer entries of one verified block (v2 signers apply from API 24)."""
    out = []
    for s in result.signers:
        if s.certificate is None:
            continue
        lo, hi = (s.min_sdk, s.max_sdk) if result.scheme != "v2" else (select.SDK_N, SDK_MAX)
        out.append(Signer(result.scheme, lo, hi, s.certificate.digests, "", s.dev_release))
    return out


def verify_apk(path: Path, *, min_sdk: int | None, max_sdk: int | None, full_verify: bool,
               kind: str = "apk", progress: Callable[[int], None] | None = None) -> ApkReport:
    """Verify one APK/AAB file. Malformed input raises ApkError; verification failures are
    reported in ``ApkReport.errors`` with ``verified=False``."""
    name = str(path)
    with FileSource(name) as src:
        zs = find_zip_sections(src)
        entries = read_central_directory(src, zs)
        by_name = {e.name: e for e in reversed(entries)}  # the first of a repeated name
        duplicates = _duplicate_entries(entries)
        sdk = ManifestSdk()
        manifest = by_name.get(MANIFEST_XML)
        if manifest is not None and not duplicates:
            sdk = parse_manifest_sdk(read_entry(src, manifest, MAX_MANIFEST, "manifest"), name)
            for attr, value in sdk.malformed:
                if attr != "minSdkVersion" or min_sdk is None:
                    hint = " (give --min-sdk-version)" if attr == "minSdkVersion" else ""
                    raise ApkError(name, f"{MANIFEST_XML}: malformed {attr} {value!r}: not a "
                                   f"number or a platform codename{hint}")
        elif kind == "apk" and min_sdk is None and not duplicates:
            raise ApkError(name, f"Missing {MANIFEST_XML}: not an APK (give --min-sdk-version "
                           "to verify it anyway)")
        bundle = kind == "aab"
        hi = SDK_MAX if max_sdk is None or bundle else max_sdk
        lo = sdk.min_sdk if min_sdk is None else min_sdk
        if bundle:
            # No device installs a bundle: it is a JAR, verified as jarsigner does (every
            # algorithm, every digest listed), and APK Signing Block schemes do not apply.
            lo = SDK_MAX
        if lo > hi:
            raise ApkError(name, f"minSdkVersion {lo} is greater than maxSdkVersion {hi}")
        block = None if bundle else find_signing_block(src, zs)
        errors: list[str] = duplicates  # nothing else is checked in an ambiguous archive
        warnings: list[str] = []
        found: set[str] = set()
        results: dict[str, SchemeResult] = {}
        supported = set() if bundle else _supported(hi)  # no stripping protection in a JAR

        def run(scheme: str, block_id: int) -> SchemeResult | None:
            """Parse the block with ``block_id`` when present (and note the scheme as found)."""
            value = block.get(block_id) if block is not None else None
            if block is None or value is None:
                return None
            found.add(scheme)
            return parse_block(value, scheme, name, block.value_offset(block_id) or 0)

        def keep(res: SchemeResult) -> None:
            results[res.scheme] = res
            warnings.extend(res.warnings)
            errors.extend(res.all_errors)

        rotation_min: int | None = None
        if hi >= select.SDK_N:
            if hi >= select.SDK_T:
                v31 = run("v3.1", V31_BLOCK_ID)
                if v31 is not None:
                    keep(check_v3_range(v31, hi, hi, None))
                    rotation_min = min((s.min_sdk for s in v31.signers), default=None)
            if not errors and hi >= select.SDK_P:
                v3 = run("v3", V3_BLOCK_ID)
                if v3 is not None:
                    v3 = check_v3_range(v3, max(lo, select.SDK_P), hi, rotation_min)
                    keep(check_rotation_min_sdk(v3, rotation_min, hi))
                elif "v3.1" in found:
                    errors.append("The APK contains a v3.1 signing block without a v3.0 base block")
            if not errors and (lo < select.SDK_P or not found):
                v2 = run("v2", V2_BLOCK_ID)
                if v2 is not None:
                    keep(check_stripping(v2, found, supported))
        if not errors and hi >= 26 and sdk.target_sandbox > 1 and not found:
            errors.append(f"Missing APK Signature Scheme v2 signature required for target "
                          f"sandbox version {sdk.target_sandbox}")
        jar: JarResult | None = None
        if not errors and (lo < select.SDK_N or not found):
            jar = verify_v1(src, entries, found, supported, lo, hi, every=bundle)
            errors += jar.all_errors
            warnings += jar.warnings
        verified_schemes = {s for s, r in results.items() if r.verified}
        if jar is not None and jar.verified:
            verified_schemes.add("v1")
        if not errors:
            errors += _cross_checks(results, jar, verified_schemes)
        stamp: StampResult | None = None
        stamp_entry = by_name.get(STAMP_CERT_ENTRY)
        if not errors and stamp_entry is not None:
            stamp = verify_stamp(block.get(SOURCE_STAMP_V2_ID) if block else None,
                                 read_entry(src, stamp_entry, 64, "source stamp digest"),
                                 _scheme_digests(src, by_name, results, jar), name)
            warnings += stamp.warnings
        v4_signers: list[Signer] = []
        v4_hashing: HashingInfo | None = None
        idsig = Path(name + ".idsig")
        if not errors and kind == "apk" and idsig.is_file():
            v4_errors, found_v4, v4_hashing = check_v4(idsig, src.size, results, verified_schemes)
            errors += v4_errors
            if not v4_errors:
                verified_schemes.add("v4")
                v4_signers = [Signer("v4", lo, hi, s.certificate.digests) for s in found_v4]
        if not errors and manifest is not None and sdk.target_sdk >= 30 and hi >= sdk.target_sdk \
                and not verified_schemes & {"v2", "v3", "v3.1"}:
            errors.append(f"Target SDK version {sdk.target_sdk} requires a minimum of signature "
                          "scheme v2; the APK is not signed with this or a later signature scheme")
        if not errors and not verified_schemes:
            errors.append("No JAR signatures" if jar is None else "APK is not signed")
        if not errors and full_verify:
            errors += _content_check(src, zs, block, entries, results, verified_schemes, jar,
                                     progress, v4_hashing if "v4" in verified_schemes else None)
    report = _build_report(name, kind, lo, hi, results, jar, verified_schemes, errors, warnings,
                           v4_signers, full_verify, stamp)
    if bundle:
        # The bundle's signer is the upload key; devices get APKs signed by the app signing key
        # (Play App Signing): no SDK range, no SIM hash (docs/simtool-digest.md).
        return replace(report, min_sdk=None, max_sdk=None, carrier_certificates=(),
                       recommended_sha1=None, recommended_sha256=None, recommended_subject=None)
    return replace(report, package=sdk.package)


def _duplicate_entries(entries: list[ZipEntry]) -> list[str]:
    """apksigner's ``Duplicate entry: NAME`` for each name the central directory repeats
    (Android refuses such an APK: which copy is meant cannot be told)."""
    seen: set[str] = set()
    out: list[str] = []
    for e in entries:
        if e.name in seen:
            out.append(f"Duplicate entry: {e.name}")
        seen.add(e.name)
    return out


def _scheme_digests(src: FileSource, by_name: dict[str, ZipEntry],
                    results: dict[str, SchemeResult],
                    jar: JarResult | None) -> dict[int, dict[str, bytes]]:
    """What the source stamp signs: per scheme that ran, the content digests its signers
    declare (v1: SHA-256 of META-INF/MANIFEST.MF), as apksig collects them."""
    out: dict[int, dict[str, bytes]] = {}
    for scheme, scheme_id in (("v2", 2), ("v3", 3), ("v3.1", 31)):
        res = results.get(scheme)
        if res is not None:
            digests: dict[str, bytes] = {}
            for s in res.signers:
                for alg_id, value in s.digests.items():
                    if alg_id in ALGORITHMS:
                        digests[ALGORITHMS[alg_id].content_digest] = value
            out[scheme_id] = digests
    manifest = by_name.get(MANIFEST)
    if jar is not None and manifest is not None:
        data = read_entry(src, manifest, 16 << 20, "JAR manifest")
        out[1] = {"SHA256": hashlib.sha256(data).digest()}
    return out


def _cross_checks(results: dict[str, SchemeResult], jar: JarResult | None,
                  verified: set[str]) -> list[str]:
    """v1 and v2 signers must be the same; v3's oldest certificate must be the v1/v2 signer."""
    errors: list[str] = []
    v2 = results.get("v2")
    v1_certs = [s.certificate.encoded for s in jar.signers if s.certificate] if jar else []
    v2_certs = [s.certificate.encoded for s in v2.signers if s.certificate] if v2 else []
    if "v1" in verified and "v2" in verified:
        if any(c not in v2_certs for c in v1_certs):
            errors.append("v1 signer has no matching APK Signature Scheme v2 signer")
        elif any(c not in v1_certs for c in v2_certs):
            errors.append("APK Signature Scheme v2 signer has no matching JAR signer")
    v3 = results.get("v3")
    if "v3" in verified and v3 is not None and verified & {"v1", "v2"}:
        old = v1_certs if "v1" in verified else v2_certs
        if len(old) != 1:
            errors.append("APK Signature Scheme v3 only supports one signer for older schemes")
        elif v3.lineage:
            if v3.lineage[0].certificate.encoded != old[0]:
                errors.append("v1/v2 signer is not the oldest certificate of the v3 lineage")
        elif len(v3.signers) != 1 or v3.signers[0].certificate is None or \
                v3.signers[0].certificate.encoded != old[0]:
            errors.append("APK Signature Scheme v3 signer differs from the v1/v2 signer")
    return errors


def _content_check(src: FileSource, zs: ZipSections, block: SigningBlock | None,
                   entries: list[ZipEntry], results: dict[str, SchemeResult], verified: set[str],
                   jar: JarResult | None, progress: Callable[[int], None] | None,
                   v4: HashingInfo | None) -> list[str]:
    """The ``--verify`` part: one streaming pass, then compare with what the signers claim."""
    block_signers = []  # (block, signer) of each verified v3.1 / v3 / v2 block, newest first
    for scheme in ("v3.1", "v3", "v2"):
        if scheme in verified and scheme in results:
            block_signers += [(results[scheme], s) for s in results[scheme].signers]
    wanted = {ALGORITHMS[a].content_digest for _, s in block_signers for a in s.verified_algorithms}
    checks = []
    if jar is not None and "v1" in verified:
        by_name = {e.name: e for e in entries}
        checks = [EntryCheck(by_name[n], tuple(d)) for n, d in jar.entry_digests.items()]
    if not wanted and not checks and v4 is None:
        return []
    sb_offset = block.offset if block is not None and wanted else zs.cd_offset
    passed = stream_pass(src, zs, sb_offset, wanted, checks, progress,
                         v4.salt if v4 is not None else None)
    errors = list(passed.entry_mismatches)
    if v4 is not None and passed.file_root != v4.root_hash:
        errors.append(f"v4 signature's hash tree root did not verify. Expected: "
                      f"<{v4.root_hash.hex()}>, actual: <{(passed.file_root or b'').hex()}>")
    for res, s in block_signers:
        for alg_id in s.verified_algorithms:
            algo = ALGORITHMS[alg_id].content_digest
            expected = s.digests.get(alg_id)
            actual = passed.digests.get(algo)
            if expected is not None and actual is not None and expected != actual:
                errors.append(f"{res.scheme} signer #{s.index + 1}: APK integrity check "
                              f"failed. {algo} digest mismatch. Expected: <{expected.hex()}>, "
                              f"actual: <{actual.hex()}>")
    return errors


def _build_report(name: str, kind: str, lo: int, hi: int, results: dict[str, SchemeResult],
                  jar: JarResult | None, verified: set[str], errors: list[str],
                  warnings: list[str], v4_signers: list[Signer], full_verify: bool,
                  stamp: StampResult | None) -> ApkReport:
    """Assemble the ApkReport: apksigner's printed signers, lineage, per-SDK certificates, SIM
    hash.
    """
    ok = not errors
    per_scheme: dict[str, list[Signer]] = {s: _block_signers(r) for s, r in results.items()
                                           if s in verified}
    if jar is not None and "v1" in verified:
        per_scheme["v1"] = [Signer("v1", lo, SDK_MAX, s.certificate.digests, s.name)
                            for s in jar.signers if s.certificate]
    printed: list[Signer] = []
    if ok:
        if "v3.1" in verified:
            printed = per_scheme["v3.1"] + per_scheme.get("v3", [])
        elif "v3" in verified:
            printed = per_scheme["v3"][-1:]
        elif "v2" in verified:
            printed = per_scheme["v2"]
        elif "v1" in verified:
            printed = per_scheme["v1"]
    lineage_src = results.get("v3.1") if "v3.1" in verified else results.get("v3")
    lineage = tuple(LineageNode(e.certificate.digests, e.flags)
                    for e in (lineage_src.lineage if lineage_src and ok else ()))
    scheme_signers = []
    for scheme, signers in per_scheme.items():
        ranges = []
        for s, raw in zip(signers, _raw_signers(results, jar, scheme), strict=False):
            history = raw if raw else (s.certificate,)
            ranges.append((s.min_sdk, s.max_sdk, history))
        scheme_signers.append(select.SchemeSigners(scheme, tuple(ranges)))
    carrier = select.carrier_certificates(lo, hi, scheme_signers) if ok else ()
    best = select.recommend(carrier, tuple(n.certificate for n in lineage)) if ok else None
    all_signers = tuple(s for scheme in ("v1", "v2", "v3", "v3.1") for s in per_scheme.get(scheme, []))
    schemes = {"v1": "v1" in verified and ok, "v2": "v2" in verified and ok,
               "v3": "v3" in verified and ok, "v3.1": "v3.1" in verified and ok,
               "v4": "v4" in verified and ok,
               "stamp": bool(ok and stamp is not None and stamp.verified)}
    return ApkReport(
        path=name, kind=kind, verified=ok, schemes=schemes, signers=tuple(printed),
        lineage=lineage, recommended_sha1=best.sha1 if best else None,
        carrier_certificates=carrier, errors=tuple(errors), warnings=tuple(warnings),
        recommended_sha256=best.sha256 if best else None,
        recommended_subject=best.subject if best else None, min_sdk=lo, max_sdk=hi,
        all_signers=all_signers + tuple(v4_signers), full_verify=full_verify,
        source_stamp=stamp.certificate.digests if ok and stamp and stamp.certificate else None)


def _raw_signers(results: dict[str, SchemeResult], jar: JarResult | None,
                 scheme: str) -> list[tuple[CertDigests, ...]]:
    """Per signer of ``scheme``, its lineage certificates (empty tuple when it has none)."""
    if scheme == "v1":
        return [() for s in (jar.signers if jar else []) if s.certificate]
    res = results[scheme]
    return [tuple(e.certificate.digests for e in s.lineage) for s in res.signers if s.certificate]
