"""Signing certificates from key files: PEM/DER certificates, PKCS#12 and JKS keystores.

PKCS#12 is read by ``pkcs12_certs`` (``cryptography`` for legacy encryptions). JKS (Java's own
format, which ``cryptography`` does not read) is parsed here: big-endian ``magic FEEDFEED,
version, count``, then entries (private key with its certificate chain, or trusted
certificate), then a SHA-1 integrity digest over ``password (UTF-16BE) | "Mighty Aphrodite" |
everything before it``. Certificates in a JKS are not encrypted, so they can be listed without a
password (with a warning); when one is given the integrity digest
is checked. The password is fetched lazily (a callable) so a certificate file never prompts.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import hmac
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

from .algorithms import quiet_dsa
from .bytereader import ByteReader
from .certs import Certificate, parse_certificate
from carrierkit.errors import SecretMissingError
from .errors import ApkError
from .pkcs12_certs import UnsupportedEncryption, read_pkcs12_certificates
from .report import SDK_MAX, ApkReport, SdkCertificates, Signer

MAX_KEY_FILE = 16 << 20
#: Keystores hold a few keys (Java's cacerts: about 150 certificates); chains a few certificates.
MAX_JKS_ENTRIES = 4096
MAX_CHAIN = 64
JKS_MAGIC, JCEKS_MAGIC = 0xFEEDFEED, 0xCECECECE
PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.S)

Password = str | Callable[[], str] | None


@dataclass(frozen=True)
class KeyEntry:
    """A keystore entry's certificate: a private key's own (first of its chain, ``of_key``) or
    a trusted / CA certificate."""

    alias: str
    certificate: Certificate
    of_key: bool



def java_utf(data: bytes) -> str:
    """Text written by Java's ``DataOutput.writeUTF`` (how a JKS stores an alias): "modified
    UTF-8", where NUL is ``c0 80`` and a character above U+FFFF is its UTF-16 surrogate pair,
    each half in 3 bytes (``ed a0 bd ed b8 80`` for U+1F600). Read as plain UTF-8 those are
    invalid; here they become the characters. Decoded sequence by sequence: what is still
    invalid becomes U+FFFD — each stray byte one, a lone surrogate half one — and valid
    sequences beside it, pairs included, keep their characters; never a surrogate in the
    string."""
    raw = data.replace(b"\xc0\x80", b"\x00")  # c0 is no lead byte otherwise: nothing else to hit
    halves = raw.decode("utf-8", errors=_JAVA_UTF_ERRORS)  # surrogate halves kept, bad bytes U+FFFD
    # Pair the halves: high + low becomes the character; a half alone becomes U+FFFD.
    return halves.encode("utf-16-be", errors="surrogatepass").decode("utf-16-be",
                                                                     errors="replace")


_JAVA_UTF_ERRORS = "simtool.java-utf"


def _surrogate_half_or_replace(exc: UnicodeError) -> tuple[str, int]:
    """Decoding error handler of :func:`java_utf`: at a CESU-8 surrogate half (``ed``,
    ``a0``-``bf``, ``80``-``bf``) that half (U+D800-U+DFFF, paired later); otherwise U+FFFD for
    the one byte there, the decoding going on at the next byte."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    half = exc.object[exc.start:exc.start + 3]
    if len(half) == 3 and half[0] == 0xED and 0xA0 <= half[1] <= 0xBF and 0x80 <= half[2] <= 0xBF:
        return half.decode("utf-8", errors="surrogatepass"), exc.start + 3
    return "\ufffd", exc.start + 1


codecs.register_error(_JAVA_UTF_ERRORS, _surrogate_half_or_replace)


def _be(r: ByteReader, n: int, what: str) -> int:
    return int.from_bytes(r.take(n, what), "big")


def parse_jks(data: bytes, path: str, password: str | None) -> list[KeyEntry]:
    """The certificate of each entry of a JKS keystore (a key's: its chain's first). Raises
    ApkError."""
    r = ByteReader(data, path)
    magic = _be(r, 4, "JKS magic")
    if magic not in (JKS_MAGIC, JCEKS_MAGIC):
        raise ApkError(path, "not a JKS keystore", 0)
    version = _be(r, 4, "JKS version")
    if version not in (1, 2):
        raise ApkError(path, f"unsupported JKS version {version}", 4)
    count = _be(r, 4, "JKS entry count")
    if count > MAX_JKS_ENTRIES:
        raise ApkError(path, f"JKS keystore claims {count} entries, more than the "
                       f"{MAX_JKS_ENTRIES} accepted", 8)
    entries: list[KeyEntry] = []

    def cert() -> Certificate:
        if version == 2:
            r.take(_be(r, 2, "certificate type length"), "certificate type")
        return parse_certificate(r.take(_be(r, 4, "certificate length"), "certificate"), path)

    for _ in range(count):
        tag = _be(r, 4, "JKS entry tag")
        alias = java_utf(r.take(_be(r, 2, "alias length"), "alias"))
        r.take(8, "timestamp")
        if tag == 1:
            r.take(_be(r, 4, "private key length"), "encrypted private key")
            chain_len = _be(r, 4, "certificate chain length")
            if chain_len > min(r.remaining(), MAX_CHAIN):
                raise r.fail(f"certificate chain of {chain_len} entries")
            chain = [cert() for _ in range(chain_len)]
            if chain:
                entries.append(KeyEntry(alias, chain[0], True))
        elif tag == 2:
            entries.append(KeyEntry(alias, cert(), False))
        else:
            raise ApkError(path, f"JKS entry {alias!r} has type {tag} (only keys and "
                           "certificates are supported)", r.base + r.pos)
    body_end = r.pos
    stored = r.take(20, "JKS integrity digest")
    if password is not None:
        h = hashlib.sha1(password.encode("utf-16-be") + b"Mighty Aphrodite")
        h.update(data[:body_end])
        if not hmac.compare_digest(h.digest(), stored):
            raise ApkError(path, "keystore password is wrong or the keystore was tampered with")
    return entries


def _certs_from_pem_or_der(data: bytes, path: str) -> list[Certificate] | None:
    """Certificates of a PEM or DER certificate file, or None when it is neither."""
    pems = PEM_CERT.findall(data)
    if pems:
        try:
            return [parse_certificate(base64.b64decode(b"".join(p.split())), path) for p in pems]
        except ValueError:
            raise ApkError(path, "PEM certificate is not valid base64") from None
    if data[:1] == b"\x30":
        try:
            return [parse_certificate(data, path)]
        except ApkError:
            return None
    return None


def _one_signing_certificate(certs: list[Certificate], path: str) -> list[Certificate]:
    """The one certificate of a certificate file (repeats of it dropped). A file holding several
    different ones (a chain, a bundle) raises ApkError naming them: which of them signs the app
    cannot be told from the file, and a SIM needs exactly that one."""
    unique = list({c.encoded: c for c in certs}.values())
    if len(unique) > 1:
        subjects = "; ".join(c.subject for c in unique)
        raise ApkError(path, f"holds {len(unique)} different certificates ({subjects}): give a "
                       "file with only the app's signing certificate")
    return unique


def _resolve(password: Password) -> str | None:
    """The password, asking the callable (env / file / prompt) only now that it is needed."""
    return password() if callable(password) else password


def inspect_key_file(path: Path, password: Password) -> ApkReport:
    """Report the certificates of a certificate file or keystore (one signer per key entry)."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_KEY_FILE:
            raise ApkError(name, f"{size} bytes is too large for a certificate or keystore")
        data = path.read_bytes()
    except OSError as exc:
        raise ApkError(name, f"cannot read: {exc.strerror or exc}") from None
    entries: list[KeyEntry]
    warnings: list[str] = []
    certs = _certs_from_pem_or_der(data, name)
    if certs is not None:
        kind = "certificate"
        entries = [KeyEntry("", c, True) for c in _one_signing_certificate(certs, name)]
    elif len(data) >= 4 and struct.unpack(">I", data[:4])[0] in (JKS_MAGIC, JCEKS_MAGIC):
        kind = "jks"
        try:
            secret = _resolve(password)
        except SecretMissingError:  # none given; a given but unreadable one is an error
            secret = None  # JKS certificates are readable without it; integrity is then unchecked
            warnings.append("no keystore password: the JKS integrity digest was not checked")
        entries = parse_jks(data, name, secret)
    elif data[:1] == b"\x30":
        kind = "pkcs12"
        entries = _pkcs12_entries(data, name, _resolve(password))
    else:
        raise ApkError(name, "not an APK, certificate (PEM/DER), PKCS#12 or JKS keystore")
    # A key's certificate is what can sign an app; CA and trusted certificates count only in a
    # keystore without keys. The same certificate twice is listed once.
    chosen = [e for e in entries if e.of_key] or entries
    if not chosen:
        raise ApkError(name, "holds no certificates")
    unique = {e.certificate.encoded: e for e in reversed(chosen)}  # first alias wins
    signers = tuple(Signer(kind, 0, SDK_MAX, e.certificate.digests, e.alias)
                    for e in chosen if unique[e.certificate.encoded] is e)
    first = signers[0].certificate if len(signers) == 1 else None
    return ApkReport(
        path=name, kind=kind, verified=True, schemes={}, signers=signers, lineage=(),
        recommended_sha1=first.sha1 if first else None,
        carrier_certificates=(SdkCertificates(0, SDK_MAX, tuple(s.certificate for s in signers)),),
        errors=(), warnings=tuple(warnings), recommended_sha256=first.sha256 if first else None,
        recommended_subject=first.subject if first else None, all_signers=signers)


def _pkcs12_entries(data: bytes, name: str, secret: str | None) -> list[KeyEntry]:
    """Certificates of a PKCS#12 file: our reader first (exact bytes, clear password errors),
    ``cryptography`` for the legacy encryptions ours does not implement."""
    try:
        return [KeyEntry(bag.name, parse_certificate(bag.encoded, name), bag.of_key)
                for bag in read_pkcs12_certificates(data, secret, name)]
    except UnsupportedEncryption as exc:
        unsupported = exc
    try:
        with quiet_dsa():
            bundle = pkcs12.load_pkcs12(data, secret.encode() if secret is not None else None)
    except (ValueError, UnsupportedAlgorithm) as exc:
        if unsupported.password_checked:  # OpenSSL's "invalid password" would be a lie
            raise ApkError(name, f"cannot open PKCS#12 keystore: its certificates are encrypted "
                           f"with {unsupported.cipher}, which neither simtool nor this system's "
                           "OpenSSL (legacy provider not loaded) decrypts; the password is right "
                           "(the MAC matches): re-export it with keytool -importkeystore "
                           "(AES)") from None
        raise ApkError(name, f"cannot open PKCS#12 keystore: {str(exc).splitlines()[0]} "
                       f"(encryption {unsupported.cipher})") from None
    certs = [(c, True) for c in (bundle.cert,) if c is not None]
    certs += [(c, False) for c in bundle.additional_certs]
    return [KeyEntry((c.friendly_name or b"").decode(errors="replace"),
                     parse_certificate(c.certificate.public_bytes(Encoding.DER), name), of_key)
            for c, of_key in certs]
