"""APK signing certificates: parse and verify v1/v2/v3/v3.1 signatures, report the digests.

Public API (used by ``simtool digest`` and ``simtool aram --apk``)::

    inspect_apk(path, *, min_sdk=None, max_sdk=None, full_verify=False) -> ApkReport

Modules, one concern each, lowest first: ``bytereader`` (bounded reads), ``der`` (ASN.1),
``zipfile_index`` (EOCD, central directory, entry streams), ``signing_block``, ``certs``,
``algorithms``, ``lineage``, ``v2v3``, ``pkcs7``, ``v1_jar``, ``v4_idsig``, ``source_stamp``,
``axml``, ``content_digest``, ``keystore``, ``pkcs12_certs``, ``select``, ``verifier``, ``report``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .certs import CertDigests
from .errors import ApkError
from .report import KEY_FILE_KINDS, ApkReport, LineageNode, SdkCertificates, Signer, to_json, unreadable

__all__ = ["KEY_FILE_KINDS", "ApkError", "ApkReport", "CertDigests", "LineageNode",
           "SdkCertificates", "Signer", "inspect_apk", "to_json", "unreadable"]

ZIP_MAGIC = b"PK"


def inspect_apk(path: Path, *, min_sdk: int | None = None, max_sdk: int | None = None,
                full_verify: bool = False, password: str | Callable[[], str] | None = None,
                progress: Callable[[int], None] | None = None) -> ApkReport:
    """Report the signing certificates of an APK, AAB, certificate or keystore file.

    ``min_sdk``/``max_sdk`` choose the Android versions to verify for (default: the APK's
    minSdkVersion up to the newest); ``full_verify`` also checks the whole file's content
    digests and the v1 entry digests (``progress`` is called with each byte count read).
    ``password`` (a string, or a callable asked only when a keystore needs it) opens PKCS#12
    and JKS keystores. Raises
    ApkError for unreadable or malformed input; a signature that does not verify is reported
    in ``errors`` with ``verified=False``.
    """
    p = Path(path)
    name = str(p)
    if min_sdk is not None and min_sdk < 0:
        raise ApkError(name, f"minSdkVersion must not be negative: {min_sdk}")
    suffix = p.suffix.lower()
    if p.is_dir():
        raise ApkError(name, "is a directory, not an APK, certificate or keystore file")
    if suffix == ".idsig":
        apk = p.with_suffix("")
        state = "" if apk.is_file() else ", which is missing"
        raise ApkError(name, f"a v4 signature (.idsig) is read beside its APK: give {apk}{state}")
    try:
        with open(p, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise ApkError(name, f"cannot open: {exc.strerror or exc}") from None
    if not head:
        raise ApkError(name, "is empty (0 bytes)")
    if head.startswith(ZIP_MAGIC) or suffix in (".apk", ".aab", ".zip", ".jar", ".apex"):
        from . import verifier

        kind = "aab" if suffix == ".aab" else "apk"
        return verifier.verify_apk(p, min_sdk=min_sdk, max_sdk=max_sdk, full_verify=full_verify,
                                   kind=kind, progress=progress)
    from . import keystore  # loads cryptography's PKCS#12 support only when needed

    return keystore.inspect_key_file(p, password)
