"""Certificates out of a PKCS#12 keystore, read with our DER reader (bytes kept as stored).

Why not only ``cryptography.pkcs12``: it re-parses every certificate strictly and refuses
ones keytool writes (e.g. DSA certificates whose signature AlgorithmIdentifier carries a NULL),
reporting that as a bad password. Here: the MAC is checked (RFC 7292 key derivation, so a wrong
password is named as such), then certificate bags are read from plain ``data`` contents and from
``encryptedData`` protected with PBES2 (PBKDF2 + AES-CBC, what keytool and modern OpenSSL
write) and with the PKCS#12 PBE schemes old keytool and ``openssl pkcs12 -legacy`` write
(``pbeWithSHAAnd40BitRC2-CBC``, 128-bit RC2, 2- and 3-key 3DES: RFC 7292 appendix C; RC2 in
``rc2.py``, as OpenSSL 3 keeps it in its often absent legacy provider). Other encryptions raise
``UnsupportedEncryption`` (naming the cipher) so the caller can fall back to ``cryptography``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from . import der, rc2
from .errors import ApkError

OID_DATA = "1.2.840.113549.1.7.1"
OID_ENCRYPTED_DATA = "1.2.840.113549.1.7.6"
OID_CERT_BAG = "1.2.840.113549.1.12.10.1.3"
OID_X509_CERT = "1.2.840.113549.1.9.22.1"
OID_FRIENDLY_NAME = "1.2.840.113549.1.9.20"
OID_LOCAL_KEY_ID = "1.2.840.113549.1.9.21"  # on the certificate of a private key's entry
OID_PBES2, OID_PBKDF2 = "1.2.840.113549.1.5.13", "1.2.840.113549.1.5.12"
HASH_OIDS = {"1.3.14.3.2.26": "sha1", "2.16.840.1.101.3.4.2.1": "sha256",
             "2.16.840.1.101.3.4.2.2": "sha384", "2.16.840.1.101.3.4.2.3": "sha512",
             "2.16.840.1.101.3.4.2.4": "sha224"}
PRF_OIDS = {"1.2.840.113549.2.7": "sha1", "1.2.840.113549.2.9": "sha256",
            "1.2.840.113549.2.10": "sha384", "1.2.840.113549.2.11": "sha512",
            "1.2.840.113549.2.8": "sha224"}
AES_OIDS = {"2.16.840.1.101.3.4.1.2": 16, "2.16.840.1.101.3.4.1.22": 24,
            "2.16.840.1.101.3.4.1.42": 32}
MAX_ITERATIONS = 10_000_000  # PBKDF2 (hashlib, C): about 5 s at the cap
#: The RFC 7292 KDF (MAC key, PKCS#12 PBE key and IV) runs in Python, ~1.6 s per million
#: rounds: a hostile 2 KB keystore must not cost minutes. keytool writes 10000, OpenSSL 2048.
MAX_P12_KDF_ITERATIONS = 1_000_000


#: RFC 7292 appendix C: PKCS#12 PBE OID -> (name, cipher, key bytes).
PKCS12_PBE = {
    "1.2.840.113549.1.12.1.1": ("pbeWithSHAAnd128BitRC4", "RC4", 16),
    "1.2.840.113549.1.12.1.2": ("pbeWithSHAAnd40BitRC4", "RC4", 5),
    "1.2.840.113549.1.12.1.3": ("pbeWithSHAAnd3-KeyTripleDES-CBC", "3DES", 24),
    "1.2.840.113549.1.12.1.4": ("pbeWithSHAAnd2-KeyTripleDES-CBC", "3DES", 16),
    "1.2.840.113549.1.12.1.5": ("pbeWithSHAAnd128BitRC2-CBC", "RC2", 16),
    "1.2.840.113549.1.12.1.6": ("pbeWithSHAAnd40BitRC2-CBC", "RC2", 5),
}


class UnsupportedEncryption(Exception):
    """The keystore uses an encryption this reader does not implement (``str()`` names it);
    ``password_checked`` when the MAC already proved the password right."""

    def __init__(self, cipher: str, password_checked: bool = False) -> None:
        super().__init__(cipher)
        self.cipher = cipher
        self.password_checked = password_checked


def _kids(tlv: der.Tlv, path: str, n: int, what: str) -> list[der.Tlv]:
    """The children of a constructed element, at least ``n`` of them (else ApkError)."""
    parts = tlv.children(path)
    if len(parts) < n:
        raise ApkError(path, f"PKCS#12 {what} has {len(parts)} fields, expected {n}", tlv.offset)
    return parts


def _fill(data: bytes, v: int) -> bytes:
    """``data`` repeated to the next multiple of ``v`` bytes (empty stays empty)."""
    if not data:
        return b""
    n = v * -(-len(data) // v)
    return (data * (n // len(data) + 1))[:n]


def p12_kdf(password: str, salt: bytes, purpose: int, iterations: int, size: int,
            hash_name: str) -> bytes:
    """RFC 7292 appendix B.2 key derivation (purpose 3 = MAC key)."""
    u = hashlib.new(hash_name).digest_size
    v = hashlib.new(hash_name).block_size
    pw = password.encode("utf-16-be") + b"\0\0" if password else b""
    d = bytes([purpose]) * v
    i = bytearray(_fill(salt, v) + _fill(pw, v))
    out = b""
    while len(out) < size:
        a = hashlib.new(hash_name, d + bytes(i)).digest()
        for _ in range(iterations - 1):
            a = hashlib.new(hash_name, a).digest()
        out += a
        b = int.from_bytes((a * (v // u + 1))[:v], "big")
        for j in range(0, len(i), v):
            block = (int.from_bytes(i[j : j + v], "big") + b + 1) % (1 << (8 * v))
            i[j : j + v] = block.to_bytes(v, "big")
    return out[:size]


def _unpad(padded: bytes, block: int, path: str) -> bytes:
    unpadder = sym_padding.PKCS7(8 * block).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise ApkError(path, "keystore password is wrong (PKCS#12 contents do not decrypt)") from None


def _pkcs12_pbe_decrypt(oid: str, params: der.Tlv, data: bytes, password: str, path: str) -> bytes:
    """Decrypt with a PKCS#12 PBE scheme (RFC 7292 appendix C: SHA-1 KDF, purpose 1 = key,
    2 = IV); RC4 raises UnsupportedEncryption."""
    name, cipher, key_len = PKCS12_PBE[oid]
    salt_tlv, iter_tlv = _kids(params, path, 2, "PBE parameters")[:2]
    iterations = der.decode_int(iter_tlv.content, path, iter_tlv.offset)
    if not 0 < iterations <= MAX_P12_KDF_ITERATIONS:
        raise ApkError(path, f"PKCS#12 iteration count {iterations} is out of range")
    if cipher == "RC4":
        raise UnsupportedEncryption(f"{name} ({oid})")
    if len(data) % 8:
        raise ApkError(path, f"PKCS#12 {name} data is not whole 8-byte blocks")
    key = p12_kdf(password, salt_tlv.content, 1, iterations, key_len, "sha1")
    iv = p12_kdf(password, salt_tlv.content, 2, iterations, 8, "sha1")
    if cipher == "RC2":
        padded = rc2.cbc_decrypt(key, 8 * key_len, iv, data)
    else:
        if key_len == 16:
            key += key[:8]  # 2-key 3DES: K3 = K1
        dec = Cipher(TripleDES(key), modes.CBC(iv)).decryptor()
        padded = dec.update(data) + dec.finalize()
    return _unpad(padded, 8, path)


def _decrypt(alg: der.Tlv, data: bytes, password: str, path: str) -> bytes:
    """Decrypt encryptedData content with its AlgorithmIdentifier ``alg``: PBES2 or a PKCS#12
    PBE scheme; raises ApkError on a wrong password, UnsupportedEncryption for others."""
    parts = _kids(alg, path, 1, "encryption algorithm")
    oid = der.decode_oid(parts[0].content)
    if oid in PKCS12_PBE and len(parts) >= 2:
        return _pkcs12_pbe_decrypt(oid, parts[1], data, password, path)
    return _pbes2_decrypt(parts, data, password, path)


def _pbes2_decrypt(parts: list[der.Tlv], data: bytes, password: str, path: str) -> bytes:
    """Decrypt PBES2 (PBKDF2 + AES-CBC) content; raises ApkError on a wrong password,
    UnsupportedEncryption for other schemes.
    """
    if der.decode_oid(parts[0].content) != OID_PBES2 or len(parts) < 2:
        raise UnsupportedEncryption(der.decode_oid(parts[0].content))
    kdf, scheme = _kids(parts[1], path, 2, "PBES2 parameters")[:2]
    kdf_parts = _kids(kdf, path, 2, "key derivation")
    if der.decode_oid(kdf_parts[0].content) != OID_PBKDF2:
        raise UnsupportedEncryption(der.decode_oid(kdf_parts[0].content))
    params = _kids(kdf_parts[1], path, 2, "PBKDF2 parameters")
    salt = params[0].content
    iterations = der.decode_int(params[1].content, path, params[1].offset)
    prf = "sha1"
    for extra in params[2:]:
        if extra.tag == der.SEQUENCE:
            prf_oid = der.decode_oid(extra.children(path)[0].content)
            if prf_oid not in PRF_OIDS:
                raise UnsupportedEncryption(prf_oid)
            prf = PRF_OIDS[prf_oid]
    scheme_parts = _kids(scheme, path, 2, "encryption scheme")
    cipher_oid = der.decode_oid(scheme_parts[0].content)
    if cipher_oid not in AES_OIDS:
        raise UnsupportedEncryption(cipher_oid)
    if not 0 < iterations <= MAX_ITERATIONS:
        raise ApkError(path, f"PKCS#12 iteration count {iterations} is out of range")
    key = hashlib.pbkdf2_hmac(prf, password.encode("utf-8"), salt, iterations, AES_OIDS[cipher_oid])
    iv = scheme_parts[1].content
    if len(iv) != 16 or len(data) % 16:
        raise ApkError(path, "PKCS#12 AES-CBC parameters are malformed")
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return _unpad(dec.update(data) + dec.finalize(), 16, path)


@dataclass(frozen=True)
class CertBag:
    """One certificate bag: its friendly name, the certificate as stored, and whether it is the
    certificate of a private key in the keystore (a ``localKeyId`` attribute) rather than a CA
    of its chain or a trusted certificate."""

    name: str
    encoded: bytes
    of_key: bool


def _bags(safe_contents: bytes, path: str) -> list[CertBag]:
    """The X.509 certificate bags in a SafeContents."""
    out = []
    for bag in der.parse_single(safe_contents, path, "SafeContents").children(path):
        parts = _kids(bag, path, 2, "SafeBag")
        if der.decode_oid(parts[0].content) != OID_CERT_BAG:
            continue
        cert_bag = _kids(_kids(parts[1], path, 1, "bag value")[0], path, 2, "CertBag")
        if der.decode_oid(cert_bag[0].content) != OID_X509_CERT:
            continue
        octets = _kids(cert_bag[1], path, 1, "certificate value")[0]
        name, of_key = "", False
        if len(parts) > 2 and parts[2].tag == der.SET:
            for attr in parts[2].children(path):
                a = attr.children(path)
                oid = der.decode_oid(a[0].content) if len(a) == 2 else ""
                of_key |= oid == OID_LOCAL_KEY_ID
                if oid == OID_FRIENDLY_NAME:
                    values = a[1].children(path)
                    if values:
                        name = values[0].content.decode("utf-16-be", errors="replace")
        out.append(CertBag(name, octets.content, of_key))
    return out


def read_pkcs12_certificates(data: bytes, password: str | None, path: str) -> list[CertBag]:
    """Every certificate bag (friendly name, certificate bytes as stored, whether of a key).

    Raises ApkError (malformed, wrong password) or UnsupportedEncryption.
    """
    pfx = _kids(der.parse_single(data, path, "PKCS#12"), path, 2, "PFX")
    auth = _kids(pfx[1], path, 2, "authSafe")
    if der.decode_oid(auth[0].content) != OID_DATA:
        raise UnsupportedEncryption("public-key protected PKCS#12")
    content = _kids(auth[1], path, 1, "authSafe content")[0].content
    secret = password or ""
    if len(pfx) > 2:  # MacData: check the password before trusting anything
        mac = _kids(pfx[2], path, 2, "MacData")
        digest_info = _kids(mac[0], path, 2, "DigestInfo")
        hash_oid = der.decode_oid(_kids(digest_info[0], path, 1, "MAC algorithm")[0].content)
        hash_name = HASH_OIDS.get(hash_oid)
        if hash_name is None:
            raise UnsupportedEncryption(hash_oid)
        iterations = der.decode_int(mac[2].content, path, mac[2].offset) if len(mac) > 2 else 1
        if not 0 < iterations <= MAX_P12_KDF_ITERATIONS:
            raise ApkError(path, f"PKCS#12 MAC iteration count {iterations} is out of range")
        key = p12_kdf(secret, mac[1].content, 3, iterations, hashlib.new(hash_name).digest_size,
                      hash_name)
        if not hmac.compare_digest(hmac.new(key, content, hash_name).digest(),
                                   digest_info[1].content):
            raise ApkError(path, "keystore password is wrong (PKCS#12 MAC does not match)")
    out = []
    for info in der.parse_single(content, path, "AuthenticatedSafe").children(path):
        parts = _kids(info, path, 2, "ContentInfo")
        kind = der.decode_oid(parts[0].content)
        inner = _kids(parts[1], path, 1, "content")[0]
        if kind == OID_DATA:
            out += _bags(inner.content, path)
        elif kind == OID_ENCRYPTED_DATA:
            enc = _kids(_kids(inner, path, 2, "EncryptedData")[1], path, 3, "EncryptedContentInfo")
            octets = enc[2].content if not enc[2].constructed else b"".join(
                c.content for c in enc[2].children(path))
            try:
                plain = _decrypt(enc[1], octets, secret, path)
            except UnsupportedEncryption as exc:
                raise UnsupportedEncryption(exc.cipher, password_checked=len(pfx) > 2) from None
            out += _bags(plain, path)
    return out
