"""Builds the hostile inputs of issue 9 at test time (none is committed as a binary).

Each ``make_*`` writes one file and returns its path. Run as a script to write them all (the
huge ones only with ``--huge``) as fuzz seeds or for a manual look::

    python -m tests.apk.hostile_inputs OUTDIR [--huge]

* certificates, PKCS#12 keystores and JAR (v1) signatures are made with ``cryptography``
  (PKCS#7 ``SignedData`` over the ``.SF``, with or without signed attributes);
* ``make_zip_bomb``: a validly v1-signed APK of ~1.9 MB whose one entry inflates to 1.9 GiB of
  zeros (the deflate stream is one 1 MiB block repeated: full flushes make it repeatable);
* ``make_tiny_pairs``: a real v1/v2/v3 APK whose APK Signing Block gains 5.5 million 12-byte
  pairs (66 MB, under the 64 MiB block cap) — still valid, the pairs are unknown ids.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
import struct
import sys
import warnings
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import NameOID

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "apksig-golden"
#: A real binary AndroidManifest.xml (from apksig's test corpus) to put in made-up APKs.
MANIFEST_SOURCE = CORPUS / "golden-aligned-in.apk"
HOSTILE_DNS = {  # what a certificate subject may hold; each must print on one line
    "newline": "evil\nsimtool: SIM hash (matches on SDK 1-2147483647): SHA-1 " + "0" * 40,
    "cr": "evil\rsimtool: SIM hash: SHA-1 " + "0" * 40,
    "esc": "evil\x1b[8mhidden\x1b[0m\x1b[2K\x1b]0;title\x07",
    "bidi": "evil\u202edesrever\u202c\u2066iso\u2069\u200f",
    "nul": "evil\x00tail\x7f\x85\u2028",
}
BOMB_SIZE = 1900 << 20  # 1.9 GiB of zeros
BOMB_STEP = 1 << 20
TINY_PAIRS = 5_500_000


def make_key_and_cert(common_name: str, key_size: int = 2048) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A self-signed RSA certificate whose subject CN is ``common_name`` (any characters)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    with warnings.catch_warnings():  # a CN over 64 characters is part of the point
        warnings.simplefilter("ignore", UserWarning)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name, _validate=False)])
    now = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(0x1234)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    return key, cert


def write_pem(path: Path, cert: x509.Certificate) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def write_pkcs12(path: Path, key: rsa.RSAPrivateKey, cert: x509.Certificate, password: bytes,
                 alias: bytes = b"key") -> Path:
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        alias, key, cert, None, serialization.BestAvailableEncryption(password)))
    return path


def manifest_xml() -> bytes:
    with zipfile.ZipFile(MANIFEST_SOURCE) as z:
        return z.read("AndroidManifest.xml")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def jar_signature(entries: Sequence[tuple[str, bytes]], key: rsa.RSAPrivateKey,
                  cert: x509.Certificate, *, signed_attributes: bool = False,
                  apk_signed: str | None = None) -> list[tuple[str, bytes]]:
    """META-INF/MANIFEST.MF, CERT.SF and CERT.RSA for entries given as (name, SHA-256 digest).

    With ``signed_attributes`` the PKCS#7 SignerInfo carries signed attributes (content type,
    message digest, signing time: what jarsigner writes); without, none (what apksigner writes).
    """
    mf = b"Manifest-Version: 1.0\r\nCreated-By: hostile_inputs\r\n\r\n"
    sf_sections = b""
    for name, digest in entries:
        section = f"Name: {name}\r\nSHA-256-Digest: {_b64(digest)}\r\n\r\n".encode()
        mf += section
        sf_sections += (f"Name: {name}\r\nSHA-256-Digest: "
                        f"{_b64(hashlib.sha256(section).digest())}\r\n\r\n").encode()
    sf = (b"Signature-Version: 1.0\r\nCreated-By: hostile_inputs\r\n"
          + f"SHA-256-Digest-Manifest: {_b64(hashlib.sha256(mf).digest())}\r\n".encode()
          + (f"X-Android-APK-Signed: {apk_signed}\r\n".encode() if apk_signed else b"")
          + b"\r\n" + sf_sections)
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    if not signed_attributes:
        options.append(pkcs7.PKCS7Options.NoAttributes)
    else:
        options.append(pkcs7.PKCS7Options.NoCapabilities)
    block = (pkcs7.PKCS7SignatureBuilder().set_data(sf).add_signer(cert, key, hashes.SHA256())
             .sign(serialization.Encoding.DER, options))
    return [("META-INF/MANIFEST.MF", mf), ("META-INF/CERT.SF", sf), ("META-INF/CERT.RSA", block)]


def make_v1_apk(path: Path, files: Sequence[tuple[str, bytes]], key: rsa.RSAPrivateKey,
                cert: x509.Certificate, *, signed_attributes: bool = False,
                extra_raw: Sequence[tuple[str, bytes]] = (),
                manifest: bytes | None = None) -> Path:
    """A v1-signed APK holding ``files`` (deflated) and AndroidManifest.xml (``manifest``, else
    the corpus APK's); ``extra_raw`` entries are added after signing, unsigned (for
    duplicate-name cases)."""
    all_files = [("AndroidManifest.xml", manifest or manifest_xml()), *files]
    sig = jar_signature([(n, hashlib.sha256(d).digest()) for n, d in all_files], key, cert,
                        signed_attributes=signed_attributes)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in [*sig, *all_files]:
            z.writestr(name, data)
        for name, data in extra_raw:
            with _quiet_duplicates():
                z.writestr(name, data)
    return path


class _quiet_duplicates:  # noqa: N801 - a context manager used like a function
    """zipfile warns on a duplicate name; here the duplicate is the point."""

    def __enter__(self) -> None:
        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(*exc)


def _bomb_stream(size: int) -> tuple[bytes, bytes, bytes, int]:
    """(first, repeated, last, count): the raw deflate stream of ``size`` zeros is
    ``first + repeated * count + last`` — each 1 MiB block ends in a full flush, so every block
    after the first compresses to the same bytes."""
    zeros = bytes(BOMB_STEP)
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = co.compress(zeros) + co.flush(zlib.Z_FULL_FLUSH)
    second = co.compress(zeros) + co.flush(zlib.Z_FULL_FLUSH)
    third = co.compress(zeros) + co.flush(zlib.Z_FULL_FLUSH)
    assert second == third, "full-flush blocks are not repeatable"
    blocks = size // BOMB_STEP
    last = co.compress(bytes(size - blocks * BOMB_STEP)) + co.flush(zlib.Z_FINISH)
    return first, second, last, blocks - 1  # blocks 2..n are `second`


def _zeros_digests(size: int) -> tuple[bytes, int]:
    """SHA-256 and CRC-32 of ``size`` zero bytes."""
    h, crc, zeros = hashlib.sha256(), 0, bytes(BOMB_STEP)
    left = size
    while left:
        n = min(left, BOMB_STEP)
        piece = zeros if n == BOMB_STEP else zeros[:n]
        h.update(piece)
        crc = zlib.crc32(piece, crc)
        left -= n
    return h.digest(), crc


def make_zip_bomb(path: Path, key: rsa.RSAPrivateKey, cert: x509.Certificate,
                  size: int = BOMB_SIZE, digest_size: int | None = None) -> Path:
    """A validly v1-signed APK whose entry ``assets/zeros`` inflates to ``size`` zeros (its
    manifest digest is over ``digest_size`` zeros: give another size to make it wrong)."""
    first, repeated, last, count = _bomb_stream(size)
    _, crc = _zeros_digests(size)
    digest = _zeros_digests(size if digest_size is None else digest_size)[0]
    manifest = manifest_xml()
    sig = jar_signature([("AndroidManifest.xml", hashlib.sha256(manifest).digest()),
                         ("assets/zeros", digest)], key, cert)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in [*sig, ("AndroidManifest.xml", manifest)]:
            z.writestr(name, data)
    # Append the bomb entry by hand: zipfile would deflate 1.9 GiB itself.
    raw = path.read_bytes()
    cd_at = struct.unpack_from("<I", raw, raw.rindex(b"PK\x05\x06") + 16)[0]
    entries, cd = raw[:cd_at], raw[cd_at : raw.rindex(b"PK\x05\x06")]
    count_before = struct.unpack_from("<H", raw, raw.rindex(b"PK\x05\x06") + 10)[0]
    name = b"assets/zeros"
    csize = len(first) + len(repeated) * count + len(last)
    lfh_at = len(entries)
    lfh = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, csize, size,
                      len(name), 0) + name
    cdr = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, csize, size,
                      len(name), 0, 0, 0, 0, 0, lfh_at) + name
    with open(path, "wb") as fh:
        fh.write(entries)
        fh.write(lfh)
        fh.write(first)
        for _ in range(count):
            fh.write(repeated)
        fh.write(last)
        new_cd_at = fh.tell()
        fh.write(cd + cdr)
        fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count_before + 1, count_before + 1,
                             len(cd) + len(cdr), new_cd_at, 0))
    return path


def make_tiny_pairs(path: Path, source: Path | None = None, pairs: int = TINY_PAIRS) -> Path:
    """``source`` (a real v1/v2/v3 APK) with ``pairs`` 12-byte unknown pairs appended inside
    its APK Signing Block; the content digests stay valid (the block's start does not move)."""
    raw = (source or CORPUS / "golden-aligned-v1v2v3-out.apk").read_bytes()
    eocd_at = raw.rindex(b"PK\x05\x06")
    cd_at = struct.unpack_from("<I", raw, eocd_at + 16)[0]
    assert raw[cd_at - 16 : cd_at] == b"APK Sig Block 42"
    size = struct.unpack_from("<Q", raw, cd_at - 24)[0]
    start = cd_at - size - 8
    pairs_end = cd_at - 24
    extra = pairs * 12
    new_size = size + extra
    pair = struct.pack("<QI", 4, 0x0BADF00D)
    with open(path, "wb") as fh:
        fh.write(raw[:start])
        fh.write(struct.pack("<Q", new_size))
        fh.write(raw[start + 8 : pairs_end])
        chunk = pair * 100_000
        left = pairs
        while left:
            n = min(left, 100_000)
            fh.write(chunk if n == 100_000 else pair * n)
            left -= n
        fh.write(struct.pack("<Q", new_size) + b"APK Sig Block 42")
        fh.write(raw[cd_at:eocd_at])
        eocd = bytearray(raw[eocd_at:])
        struct.pack_into("<I", eocd, 16, cd_at + extra)
        fh.write(eocd)
    return path


def _lp(data: bytes) -> bytes:
    return struct.pack("<I", len(data)) + data


def _chunked_sha256(sections: Sequence[bytes]) -> bytes:
    """APK Signature Scheme v2 CHUNKED_SHA256 content digest over the given sections."""
    chunks = [section[i : i + (1 << 20)] for section in sections
              for i in range(0, len(section), 1 << 20)]
    top = hashlib.sha256(b"\x5a" + struct.pack("<I", len(chunks)))
    for c in chunks:
        top.update(hashlib.sha256(b"\xa5" + struct.pack("<I", len(c)) + c).digest())
    return top.digest()


def v2_sign(apk: bytes, key: rsa.RSAPrivateKey, cert: x509.Certificate,
            attributes: Sequence[tuple[int, bytes]] = (), v3: bool = False) -> bytes:
    """``apk`` (a ZIP without a signing block) with an APK Signature Scheme v2 block (or, with
    ``v3``, a v3 block for SDK 28 and up) of one signer (RSA PKCS#1 v1.5 SHA-256, algorithm
    0x0103) whose signed data carries ``attributes`` as given — malformed ones included."""
    from cryptography.hazmat.primitives.asymmetric import padding

    eocd_at = apk.rindex(b"PK\x05\x06")
    cd_at = struct.unpack_from("<I", apk, eocd_at + 16)[0]
    entries, cd, eocd = apk[:cd_at], apk[cd_at:eocd_at], apk[eocd_at:]
    digest = _chunked_sha256([entries, cd, eocd])  # EOCD's CD offset == the block's offset
    algorithm = 0x0103
    sdk = struct.pack("<II", 28, 0x7FFFFFFF) if v3 else b""
    signed_data = (_lp(_lp(struct.pack("<I", algorithm) + _lp(digest)))
                   + _lp(_lp(cert.public_bytes(serialization.Encoding.DER))) + sdk
                   + _lp(b"".join(_lp(struct.pack("<I", i) + v) for i, v in attributes)))
    signature = key.sign(signed_data, padding.PKCS1v15(), hashes.SHA256())
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    signer = (_lp(signed_data) + sdk + _lp(_lp(struct.pack("<I", algorithm) + _lp(signature)))
              + _lp(spki))
    value = _lp(_lp(signer))
    pair = struct.pack("<QI", len(value) + 4, 0xF05368C0 if v3 else 0x7109871A) + value
    size = len(pair) + 8 + 16
    block = struct.pack("<Q", size) + pair + struct.pack("<Q", size) + b"APK Sig Block 42"
    new_eocd = bytearray(eocd)
    struct.pack_into("<I", new_eocd, 16, cd_at + len(block))
    return entries + block + cd + bytes(new_eocd)


def make_many_signers(path: Path, block_id: int = 0x7109871A, source: Path | None = None) -> Path:
    """``source`` with its signing block replaced by one pair (``block_id``) whose 8 MiB value
    is a sequence of two million empty signers."""
    raw = (source or CORPUS / "golden-aligned-v1v2v3-out.apk").read_bytes()
    eocd_at = raw.rindex(b"PK\x05\x06")
    cd_at = struct.unpack_from("<I", raw, eocd_at + 16)[0]
    start = cd_at - struct.unpack_from("<Q", raw, cd_at - 24)[0] - 8
    signers = bytes(4 * ((8 << 20) // 4 - 4))
    value = _lp(signers)
    pair = struct.pack("<QI", len(value) + 4, block_id) + value
    size = len(pair) + 8 + 16
    block = struct.pack("<Q", size) + pair + struct.pack("<Q", size) + b"APK Sig Block 42"
    eocd = bytearray(raw[eocd_at:])
    struct.pack_into("<I", eocd, 16, start + len(block))
    path.write_bytes(raw[:start] + block + raw[cd_at:eocd_at] + bytes(eocd))
    return path


def der(tag: int, content: bytes) -> bytes:
    """One DER element (definite length)."""
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


_OID_SIGNED_DATA = bytes.fromhex("06092a864886f70d010702")
_OID_DATA = bytes.fromhex("06092a864886f70d010701")


def pkcs7_wide(size: int = 15 << 20) -> bytes:
    """A SignedData whose certificate set holds ``size / 2`` NULL elements."""
    sd = der(0x30, der(0x02, b"\x01") + der(0x31, b"") + der(0x30, _OID_DATA)
             + der(0xA0, b"\x05\x00" * (size // 2)) + der(0x31, b""))
    return der(0x30, _OID_SIGNED_DATA + der(0xA0, sd))


def pkcs7_deep(size: int = 15 << 20, depth: int = 28) -> bytes:
    """A SignedData whose certificate is ``depth`` SEQUENCEs around a ``size``-byte OCTET STRING."""
    inner = der(0x04, bytes(size))
    for _ in range(depth):
        inner = der(0x30, inner)
    sd = der(0x30, der(0x02, b"\x01") + der(0x31, b"") + der(0x30, _OID_DATA)
             + der(0xA0, inner) + der(0x31, b""))
    return der(0x30, _OID_SIGNED_DATA + der(0xA0, sd))


def apk_with_signature_block(block: bytes) -> bytes:
    """An APK whose META-INF/CERT.RSA is ``block`` (the rest: a manifest and an empty .SF)."""
    return zip_bytes([("AndroidManifest.xml", manifest_xml()),
                      ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"),
                      ("META-INF/CERT.SF", b"Signature-Version: 1.0\r\n\r\n"),
                      ("META-INF/CERT.RSA", block)])


def jks_of_certificates(cert_der: bytes, count: int) -> bytes:
    """A JKS (version 2) of ``count`` trusted-certificate entries, all ``cert_der``, with a
    zero integrity digest."""
    entries = []
    for i in range(count):
        alias = b"a%d" % i
        entries.append(struct.pack(">IH", 2, len(alias)) + alias + struct.pack(">QH", 0, 5)
                       + b"X.509" + struct.pack(">I", len(cert_der)) + cert_der)
    return struct.pack(">III", 0xFEEDFEED, 2, count) + b"".join(entries) + bytes(20)


def axml_with_min_sdk(value: str) -> bytes:
    """A minimal binary AndroidManifest.xml: ``<manifest package="p"><uses-sdk
    android:minSdkVersion="value"/></manifest>`` with the value as a string."""
    strings = ["manifest", "uses-sdk", "minSdkVersion", "package", "p", value]
    pool_data = b""
    offsets = []
    for s in strings:
        offsets.append(len(pool_data))
        enc = s.encode("utf-16-le")
        n = len(enc) // 2
        pool_data += (struct.pack("<HH", 0x8000 | (n >> 16), n & 0xFFFF) if n > 0x7FFF
                      else struct.pack("<H", n)) + enc + b"\0\0"
    pool_data += b"\0" * (-len(pool_data) % 4)
    header = 28
    strings_start = header + 4 * len(strings)
    pool = struct.pack("<HHIIIIII", 0x0001, header, strings_start + len(pool_data), len(strings),
                       0, 0, strings_start, 0) + b"".join(struct.pack("<I", o) for o in offsets)
    pool += pool_data
    resmap = struct.pack("<HHI", 0x0180, 8, 8 + 4 * 3) + struct.pack("<III", 0, 0, 0x0101020C)

    def start(name: int, attrs: list[tuple[int, int, int, int]]) -> bytes:
        body = struct.pack("<IIHHHHHH", 0xFFFFFFFF, name, 20, 20, len(attrs), 0, 0, 0)
        for aname, raw, dtype, data in attrs:
            body += struct.pack("<IIIHBBI", 0xFFFFFFFF, aname, raw, 8, 0, dtype, data)
        return struct.pack("<HHII", 0x0102, 16, 16 + len(body), 0) + struct.pack("<I", 0xFFFFFFFF) \
            + body

    def end(name: int) -> bytes:
        return struct.pack("<HHIIIII", 0x0103, 16, 24, 0, 0xFFFFFFFF, 0xFFFFFFFF, name)

    body = (pool + resmap + start(0, [(3, 4, 0x03, 4)]) + start(1, [(2, 5, 0x03, 5)])
            + end(1) + end(0))
    return struct.pack("<HHI", 0x0003, 8, 8 + len(body)) + body


def zip_bytes(files: Sequence[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z, _quiet_duplicates():
        for name, data in files:
            z.writestr(name, data)
    return buf.getvalue()


def main(argv: Sequence[str]) -> int:
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    key, cert = make_key_and_cert("hostile")
    for label, dn in HOSTILE_DNS.items():
        write_pem(out / f"dn-{label}.pem", make_key_and_cert(dn, 1024)[1])
    make_v1_apk(out / "duplicate-manifest.apk", [], key, cert,
                extra_raw=[("AndroidManifest.xml", manifest_xml())])
    make_v1_apk(out / "signed-attributes.apk", [], key, cert, signed_attributes=True)
    for label, value in (("superscript", "\u00b2"), ("5000-digits", "9" * 5000)):
        (out / f"min-sdk-{label}.apk").write_bytes(
            zip_bytes([("AndroidManifest.xml", axml_with_min_sdk(value))]))
    unsigned = zip_bytes([("AndroidManifest.xml", manifest_xml()), ("classes.dex", b"dex")])
    (out / "v2-short-stripping-attribute.apk").write_bytes(
        v2_sign(unsigned, key, cert, [(0xBEEFF00D, b"\x03\x00")]))
    (out / "pkcs7-wide.apk").write_bytes(apk_with_signature_block(pkcs7_wide(1 << 20)))
    (out / "pkcs7-deep.apk").write_bytes(apk_with_signature_block(pkcs7_deep(1 << 20)))
    (out / "many.jks").write_bytes(jks_of_certificates(
        cert.public_bytes(serialization.Encoding.DER), 5000))
    if "--huge" in argv:
        make_zip_bomb(out / "zip-bomb.apk", key, cert)
        make_tiny_pairs(out / "tiny-pairs.apk")
        make_many_signers(out / "many-signers-v2.apk")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
