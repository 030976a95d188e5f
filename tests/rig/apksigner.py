"""Test rig around the real Android signing tools: keys from ``keytool``, APKs signed and
verified by Debian's ``apksigner`` (31.0.2, apksig 0.9), and its ``--print-certs`` output
parsed into frozen dataclasses the tests compare our JSON against.

Passwords never appear in argv: each keystore gets a 0600 password file beside it and both
tools read it (``keytool -storepass:file``, ``apksigner --ks-pass file:``).

Debian's apksigner predates APK Signature Scheme v3.1: it has no ``--rotation-min-sdk-version``
(so it cannot make a v3.1 APK) and, verifying one, it skips the v3.1 block (id 0x1b93ad61),
says "v3 scheme: false" and prints only the original key (the v1/v2 signer). Tests on v3.1 APKs therefore compare with the AOSP-main output
recorded in ``tests/corpus/apksig-golden/manifest.json`` and assert Debian's older answer as a
documented difference.

Raises :class:`RigError` (with the command and its stderr) when a tool fails unexpectedly.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

APKSIGNER = "apksigner"
KEYTOOL = "keytool"
ZIPALIGN = "zipalign"

KEY_SPECS: dict[str, list[str]] = {
    "RSA": ["-keyalg", "RSA", "-keysize", "2048"],
    "EC": ["-keyalg", "EC", "-groupname", "secp256r1"],
    "DSA": ["-keyalg", "DSA", "-keysize", "2048"],
    # bigger keys: apksigner signs these with SHA-512 (algorithms 0x0104 / 0x0202) and the
    # v2/v3 content digest becomes CHUNKED_SHA512
    "RSA-4096": ["-keyalg", "RSA", "-keysize", "4096"],
    "EC-P384": ["-keyalg", "EC", "-groupname", "secp384r1"],
}


class RigError(RuntimeError):
    """A signing tool failed where the rig expected success: ``argv`` and ``stderr``."""

    def __init__(self, argv: Sequence[str], returncode: int, stderr: str) -> None:
        super().__init__(f"{argv[0]} exited {returncode}: {stderr.strip()[-2000:]}")
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr


def missing_tools() -> list[str]:
    """Names of the Debian tools this rig needs that are missing from PATH (empty: all there)."""
    return [t for t in (APKSIGNER, KEYTOOL, ZIPALIGN) if shutil.which(t) is None]


def _run(argv: Sequence[str], check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RigError(argv, proc.returncode, proc.stderr + proc.stdout)
    return proc


@dataclass(frozen=True)
class CertDigests:
    """A certificate's subject as apksigner prints it and the digests of its DER bytes."""

    subject: str
    sha256: str
    sha1: str
    md5: str

    @classmethod
    def of_der(cls, subject: str, der: bytes) -> CertDigests:
        return cls(
            subject=subject,
            sha256=hashlib.sha256(der).hexdigest(),
            sha1=hashlib.sha1(der).hexdigest(),
            md5=hashlib.md5(der).hexdigest(),
        )


@dataclass(frozen=True)
class Key:
    """A PKCS#12 keystore holding one key pair (``alias``), its password file, and its
    certificate's digests (computed here from ``keytool -exportcert``'s DER, independently of
    apksigner and of the code under test; the ``cryptography`` package rejects the DSA
    certificates Java writes, so keytool exports them)."""

    alias: str
    algorithm: str
    keystore: Path
    password_file: Path
    cert: CertDigests

    def signer_args(self) -> list[str]:
        """apksigner per-signer options selecting this key (password read from the file)."""
        return ["--ks", str(self.keystore), "--ks-key-alias", self.alias,
                "--ks-pass", f"file:{self.password_file}"]


def make_key(workdir: Path, alias: str, algorithm: str, dname: str) -> Key:
    """Generate a key pair with keytool into ``workdir/<alias>.p12`` (PKCS12, password in a 0600
    file, never in argv) and return it with its certificate digests."""
    workdir.mkdir(parents=True, exist_ok=True)
    password_file = workdir / f"{alias}.pass"
    fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"pw-{alias}-{os.getpid()}-{os.urandom(6).hex()}\n")
    keystore = workdir / f"{alias}.p12"
    _run([KEYTOOL, "-genkeypair", "-noprompt", "-keystore", str(keystore), "-storetype", "PKCS12",
          "-storepass:file", str(password_file), "-alias", alias, *KEY_SPECS[algorithm],
          "-dname", dname, "-validity", "3650"])
    der = subprocess.run(
        [KEYTOOL, "-exportcert", "-keystore", str(keystore), "-storetype", "PKCS12",
         "-storepass:file", str(password_file), "-alias", alias],
        capture_output=True, check=True, timeout=120).stdout
    return Key(alias, algorithm, keystore, password_file, CertDigests.of_der(dname, der))


def rotate(out: Path, old: Key, new: Key, lineage_in: Path | None = None) -> Path:
    """``apksigner rotate``: a SigningCertificateLineage old→new (extending ``lineage_in``)."""
    argv = [APKSIGNER, "rotate", "--out", str(out)]
    if lineage_in is not None:
        argv += ["--in", str(lineage_in)]
    argv += ["--old-signer", *old.signer_args(), "--new-signer", *new.signer_args()]
    _run(argv)
    return out


def sign(src: Path, out: Path, signers: Sequence[Key], *, v1: bool, v2: bool, v3: bool,
         v4: bool = False, min_sdk: int | None = None, max_sdk: int | None = None,
         lineage: Path | None = None, stamp: Key | None = None) -> Path:
    """``apksigner sign`` ``src`` into ``out`` with the given schemes and signers (in lineage
    order when ``lineage`` is given: oldest first), and a source stamp signed by ``stamp``."""
    def flag(b: bool) -> str:
        return "true" if b else "false"

    argv = [APKSIGNER, "sign", "--out", str(out),
            "--v1-signing-enabled", flag(v1), "--v2-signing-enabled", flag(v2),
            "--v3-signing-enabled", flag(v3), "--v4-signing-enabled", flag(v4)]
    if min_sdk is not None:
        argv += ["--min-sdk-version", str(min_sdk)]
    if max_sdk is not None:
        argv += ["--max-sdk-version", str(max_sdk)]
    if lineage is not None:
        argv += ["--lineage", str(lineage)]
    for i, key in enumerate(signers):
        if i:
            argv.append("--next-signer")
        argv += key.signer_args()
    if stamp is not None:
        argv += ["--stamp-signer", *stamp.signer_args()]
    argv.append(str(src))
    _run(argv)
    return out


def zipalign(src: Path, out: Path) -> Path:
    """``zipalign -f -p 4``: 4-byte aligned stored entries, .so files page aligned."""
    _run([ZIPALIGN, "-f", "-p", "4", str(src), str(out)])
    return out


# --- apksigner verify --print-certs, parsed ----------------------------------------------------

@dataclass(frozen=True)
class PrintedSigner:
    """One signer block of ``--print-certs``: ``label`` is "Signer #1", "Signer (minSdkVersion=33,
    maxSdkVersion=2147483647)" or "Source Stamp Signer"; min/max SDK only when printed."""

    label: str
    cert: CertDigests
    key_algorithm: str | None = None
    min_sdk: int | None = None
    max_sdk: int | None = None

    @property
    def is_stamp(self) -> bool:
        return self.label.startswith("Source Stamp")


@dataclass(frozen=True)
class Verification:
    """What ``apksigner verify --verbose --print-certs`` said about one APK.

    ``schemes`` maps "v1", "v2", "v3", "v3.1" (newer builds only), "v4", "SourceStamp" to the
    "Verified using …" booleans; ``crashed`` is True when the JVM threw (stack trace on stderr).
    """

    exit_code: int
    verifies: bool
    schemes: dict[str, bool] = field(hash=False)
    signers: tuple[PrintedSigner, ...]
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    crashed: bool

    @property
    def app_signers(self) -> tuple[PrintedSigner, ...]:
        """The APK's signers without the source-stamp signer."""
        return tuple(s for s in self.signers if not s.is_stamp)


_SCHEME_LINE = re.compile(r"^Verified (?:using (v[\d.]+) scheme|for (SourceStamp))\b.*: (true|false)$")
_SIGNER_LINE = re.compile(
    r"^(Signer #\d+|Signer \(minSdkVersion=(\d+)(?: \(dev release=\w+\))?, maxSdkVersion=(\d+)\)"
    r"|Source Stamp Signer) (.+?): (.*)$")


def parse_verify_output(stdout: str, stderr: str, exit_code: int) -> Verification:
    """Parse apksigner's verify output (any build) into a :class:`Verification`."""
    schemes: dict[str, bool] = {}
    fields: dict[str, dict[str, str]] = {}
    ranges: dict[str, tuple[int, int]] = {}
    errors: list[str] = []
    warnings: list[str] = []
    verifies = False
    for line in (stdout + "\n" + stderr).splitlines():
        line = line.rstrip("\r")
        if line == "Verifies":
            verifies = True
        elif m := _SCHEME_LINE.match(line):
            schemes[m.group(1) or m.group(2)] = m.group(3) == "true"
        elif m := _SIGNER_LINE.match(line):
            label = m.group(1)
            fields.setdefault(label, {})[m.group(4)] = m.group(5)
            if m.group(2) is not None:
                ranges[label] = (int(m.group(2)), int(m.group(3)))
        elif line.startswith("ERROR: "):
            errors.append(line[len("ERROR: "):])
        elif line.startswith("WARNING: "):
            warnings.append(line[len("WARNING: "):])
    signers = []
    for label, f in fields.items():
        if "certificate SHA-256 digest" not in f:
            continue
        lo, hi = ranges.get(label, (None, None))
        signers.append(PrintedSigner(
            label=label,
            cert=CertDigests(subject=f.get("certificate DN", ""),
                             sha256=f["certificate SHA-256 digest"],
                             sha1=f.get("certificate SHA-1 digest", ""),
                             md5=f.get("certificate MD5 digest", "")),
            key_algorithm=f.get("key algorithm"), min_sdk=lo, max_sdk=hi))
    return Verification(exit_code=exit_code, verifies=verifies, schemes=schemes,
                        signers=tuple(signers), errors=tuple(errors), warnings=tuple(warnings),
                        crashed="Exception in thread" in stderr)


def verify(apk: Path, *, min_sdk: int | None = None, max_sdk: int | None = None,
           v4_signature_file: Path | None = None) -> Verification:
    """Run ``apksigner verify --verbose --print-certs`` (never raises on a failed verification)."""
    argv = [APKSIGNER, "verify", "--verbose", "--print-certs"]
    if min_sdk is not None:
        argv += ["--min-sdk-version", str(min_sdk)]
    if max_sdk is not None:
        argv += ["--max-sdk-version", str(max_sdk)]
    if v4_signature_file is not None:
        argv += ["--v4-signature-file", str(v4_signature_file)]
    argv.append(str(apk))
    proc = _run(argv, check=False)
    return parse_verify_output(proc.stdout, proc.stderr, proc.returncode)


_LINEAGE_LINE = re.compile(r"^Signer #(\d+) in lineage (certificate DN|certificate SHA-256 digest"
                           r"|certificate SHA-1 digest|certificate MD5 digest): (.*)$")


def lineage_certs(path: Path) -> list[CertDigests]:
    """The certificates of a lineage file or of a signed APK's lineage, oldest first, as printed
    by ``apksigner lineage --print-certs``."""
    proc = _run([APKSIGNER, "lineage", "--in", str(path), "--print-certs"])
    found: dict[int, dict[str, str]] = {}
    for line in proc.stdout.splitlines():
        if m := _LINEAGE_LINE.match(line.strip()):
            found.setdefault(int(m.group(1)), {})[m.group(2)] = m.group(3)
    return [CertDigests(subject=f.get("certificate DN", ""),
                        sha256=f.get("certificate SHA-256 digest", ""),
                        sha1=f.get("certificate SHA-1 digest", ""),
                        md5=f.get("certificate MD5 digest", ""))
            for _, f in sorted(found.items())]
