"""APK signature algorithm ids and signature checks with ``cryptography``.

Ids and their content digests follow apksig ``internal/apk/SignatureAlgorithm.java``. A key is
loaded from the SubjectPublicKeyInfo bytes; RSA keys whose modulus was stored as a negative
INTEGER (old keytool bug, accepted by Android) are read as unsigned, as apksig does.
"""

from __future__ import annotations

from collections.abc import Callable
import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import load_der_public_key
from cryptography.utils import CryptographyDeprecationWarning

from . import der
from .errors import ApkError

CHUNKED_SHA256 = "CHUNKED_SHA256"
CHUNKED_SHA512 = "CHUNKED_SHA512"
VERITY_CHUNKED_SHA256 = "VERITY_CHUNKED_SHA256"


@dataclass(frozen=True)
class SigAlgorithm:
    """One APK Signature Scheme v2/v3 signature algorithm."""

    id: int
    name: str  # apksig's enum name, used in messages
    key: str  # "RSA", "EC", "DSA"
    hash: str  # "sha256" / "sha512"
    pss: bool
    content_digest: str
    min_sdk: int  # first Android version that verifies it (v2/v3)

    def verify(self, key: PublicKeyTypes, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` by ``key`` over ``data`` verifies with this algorithm."""
        return verify_signature(key, self.key, self.hash, self.pss, signature, data)


ALGORITHMS = {a.id: a for a in (
    SigAlgorithm(0x0101, "RSA_PSS_WITH_SHA256", "RSA", "sha256", True, CHUNKED_SHA256, 24),
    SigAlgorithm(0x0102, "RSA_PSS_WITH_SHA512", "RSA", "sha512", True, CHUNKED_SHA512, 24),
    SigAlgorithm(0x0103, "RSA_PKCS1_V1_5_WITH_SHA256", "RSA", "sha256", False, CHUNKED_SHA256, 24),
    SigAlgorithm(0x0104, "RSA_PKCS1_V1_5_WITH_SHA512", "RSA", "sha512", False, CHUNKED_SHA512, 24),
    SigAlgorithm(0x0201, "ECDSA_WITH_SHA256", "EC", "sha256", False, CHUNKED_SHA256, 24),
    SigAlgorithm(0x0202, "ECDSA_WITH_SHA512", "EC", "sha512", False, CHUNKED_SHA512, 24),
    SigAlgorithm(0x0301, "DSA_WITH_SHA256", "DSA", "sha256", False, CHUNKED_SHA256, 24),
    SigAlgorithm(0x0421, "VERITY_RSA_PKCS1_V1_5_WITH_SHA256", "RSA", "sha256", False,
                 VERITY_CHUNKED_SHA256, 28),
    SigAlgorithm(0x0423, "VERITY_ECDSA_WITH_SHA256", "EC", "sha256", False,
                 VERITY_CHUNKED_SHA256, 28),
    SigAlgorithm(0x0425, "VERITY_DSA_WITH_SHA256", "DSA", "sha256", False,
                 VERITY_CHUNKED_SHA256, 28),
)}

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha512": hashes.SHA512,
           "sha384": hashes.SHA384, "sha224": hashes.SHA224}


class BadPublicKey(ValueError):
    """A public key that cannot be loaded (message says why)."""


def _rsa_from_raw_spki(spki: bytes) -> rsa.RSAPublicKey | None:
    """Read an RSA SubjectPublicKeyInfo whose INTEGERs may be negative (treated as unsigned)."""
    try:
        top = der.parse_single(spki, "<key>", "key").children("<key>")
        if len(top) != 2 or top[1].tag != der.BIT_STRING:
            return None
        inner = der.parse_single(top[1].content[1:], "<key>", "RSA key").children("<key>")
        n = int.from_bytes(inner[0].content, "big")
        e = int.from_bytes(inner[1].content, "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    except (ApkError, ValueError, IndexError, OverflowError, UnsupportedAlgorithm):
        return None


@contextlib.contextmanager
def quiet_dsa() -> Iterator[None]:
    """Silence ``cryptography``'s "DSA is deprecated" warning around one use of a DSA key.

    DSA is one of the algorithms Android verifies APK signatures with (v1, v2/v3 0x0301) and
    keytool made DSA keys by default for years: verifying them is the job, and a notice that
    ``cryptography`` will drop DSA some day is not news for the user (it would print on every
    DSA APK). Only that message, only here; if DSA support does go, the key is reported as an
    unusable public key, one line, like any other.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="DSA is deprecated",
                                category=CryptographyDeprecationWarning)
        yield


def load_public_key(spki: bytes) -> PublicKeyTypes:
    """Load a DER SubjectPublicKeyInfo; raises BadPublicKey when it is not a usable key."""
    try:
        with quiet_dsa():
            return load_der_public_key(spki)
    except (ValueError, UnsupportedAlgorithm) as exc:
        key = _rsa_from_raw_spki(spki)
        if key is None:
            raise BadPublicKey(str(exc).splitlines()[0] if str(exc) else "unreadable key") from None
        return key


def same_public_key(a: bytes, b: bytes) -> bool:
    """True when two SubjectPublicKeyInfo encodings hold the same key (byte-equal, or equal
    after reading a negative RSA modulus as unsigned)."""
    if a == b:
        return True
    try:
        ka, kb = load_public_key(a), load_public_key(b)
    except BadPublicKey:
        return False
    if isinstance(ka, rsa.RSAPublicKey) and isinstance(kb, rsa.RSAPublicKey):
        return ka.public_numbers() == kb.public_numbers()
    return False


def verify_signature(key: PublicKeyTypes, kind: str, hash_name: str, pss: bool, signature: bytes,
                     data: bytes) -> bool:
    """Check ``signature`` over ``data``; False on a bad signature or a key of the wrong kind."""
    algo = _HASHES[hash_name]()
    try:
        if kind == "RSA" and isinstance(key, rsa.RSAPublicKey):
            pad = (padding.PSS(mgf=padding.MGF1(algo), salt_length=algo.digest_size) if pss
                   else padding.PKCS1v15())
            key.verify(signature, data, pad, algo)
        elif kind == "EC" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(algo))
        elif kind == "DSA":
            with quiet_dsa():
                if not isinstance(key, dsa.DSAPublicKey):
                    return False
                key.verify(signature, data, algo)
        else:
            return False
    except (InvalidSignature, ValueError, UnsupportedAlgorithm):
        return False
    return True
