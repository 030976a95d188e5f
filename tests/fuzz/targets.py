"""The fuzz targets and their seeds.

Each target takes one input's bytes and must end in success or one of the project's own errors
(``ToolError``: a one-line message). It also renders what it parsed (text and JSON for the APK
and keystore readers; encode-and-reparse for the TLV parser), so output code is fuzzed too.
"""

from __future__ import annotations

import json
import random
import resource
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from carrierkit.errors import ToolError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from simtool.apk import ApkReport, to_json
from tests.apk import hostile_inputs as hi


class Finding(AssertionError):
    """A target broke its contract on one input."""


def _check_error(err: ToolError) -> None:
    text = str(err)
    if not text or "\n" in text:
        raise Finding(f"error message is not one line: {text!r}")


def _render(report: ApkReport) -> None:
    """The text output (every line printable: nothing an input can forge) and the JSON."""
    from simtool.commands.digest import render_text

    text = render_text(report)
    if any(not line.isprintable() for line in text.splitlines()):
        raise Finding(f"text output line with a control character: {text!r}")
    # Text decoded from the file never holds a surrogate (the decoders replace what is not
    # valid; the path here is ASCII), so --json is strict JSON without json_text's repair.
    try:
        json.dumps(to_json(report), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as err:
        raise Finding(f"a text field decoded from the input holds a lone surrogate: {err}") from None


# --- APK reader -------------------------------------------------------------------------------

APK_MODES: tuple[dict, ...] = ({}, {"full_verify": True}, {"min_sdk": 28}, {"min_sdk": 1, "max_sdk": 23})


def run_apk(data: bytes, workdir: Path, rng: random.Random) -> None:
    from simtool.apk import inspect_apk

    path = workdir / ("fuzz.aab" if rng.random() < 0.15 else "fuzz.apk")
    path.write_bytes(data)
    try:
        report = inspect_apk(path, **rng.choice(APK_MODES))
    except ToolError as err:
        _check_error(err)
        return
    _render(report)


def apk_seeds(workdir: Path) -> list[bytes]:
    corpus = [hi.CORPUS / n for n in (
        "golden-aligned-v1v2v3-out.apk", "v1v2v3-with-rsa-2048-lineage-3-signers.apk",
        "v31-rsa-2048_2-tgt-33-1-tgt-28.apk", "golden-aligned-v1-out.apk",
        "v2-only-with-dsa-sha256-2048.apk", "v1-only-with-signed-attrs.apk")]
    seeds = [p.read_bytes() for p in corpus if p.exists()]
    key, cert = hi.make_key_and_cert("CN=fuzz\nseed", 1024)
    dex = [("classes.dex", b"dex\n035\0" + bytes(64))]
    seeds.append(hi.make_v1_apk(workdir / "a.apk", dex, key, cert).read_bytes())
    seeds.append(hi.make_v1_apk(workdir / "b.apk", dex, key, cert, signed_attributes=True).read_bytes())
    seeds.append(hi.make_v1_apk(workdir / "c.apk", dex, key, cert,
                                extra_raw=[("AndroidManifest.xml", b"dup")]).read_bytes())
    unsigned = hi.zip_bytes([("AndroidManifest.xml", hi.manifest_xml()), *dex])
    seeds.append(hi.v2_sign(unsigned, key, cert))
    seeds.append(hi.v2_sign(unsigned, key, cert, [(0xBEEFF00D, b"\x03")]))
    for value in ("\u00b2", "9" * 300, "Q"):
        seeds.append(hi.zip_bytes([("AndroidManifest.xml", hi.axml_with_min_sdk(value))]))
    seeds.append(hi.make_zip_bomb(workdir / "bomb.apk", key, cert, size=8 << 20).read_bytes())
    seeds.append(hi.make_tiny_pairs(workdir / "pairs.apk", pairs=2000).read_bytes())
    return seeds


# --- keystore readers -------------------------------------------------------------------------

KEYSTORE_SUFFIXES = (".p12", ".jks", ".pem", ".der", ".keystore")


def run_keystore(data: bytes, workdir: Path, rng: random.Random) -> None:
    from simtool.apk import inspect_apk

    path = workdir / ("fuzz" + rng.choice(KEYSTORE_SUFFIXES))
    path.write_bytes(data)
    password = rng.choice(("secret12", "", "wrong"))
    try:
        report = inspect_apk(path, password=password)
    except ToolError as err:
        _check_error(err)
        return
    _render(report)


def _without_memory_limit() -> None:
    """In a child: lift the fuzz run's soft address-space limit (a JVM needs more)."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def keystore_seeds(workdir: Path) -> list[bytes]:
    key, cert = hi.make_key_and_cert("CN=fuzz\x1b[8m", 1024)
    seeds = [cert.public_bytes(serialization.Encoding.PEM),
             cert.public_bytes(serialization.Encoding.DER),
             pkcs12.serialize_key_and_certificates(b"k", key, cert, None,
                                                   serialization.BestAvailableEncryption(b"secret12"))]
    legacy = (serialization.PrivateFormat.PKCS12.encryption_builder()
              .kdf_rounds(2048)
              .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
              .hmac_hash(hashes.SHA1())
              .build(b"secret12"))
    seeds.append(pkcs12.serialize_key_and_certificates(b"k", key, cert, None, legacy))
    if shutil.which("keytool"):  # a JKS and an old-keytool RC2-40 PKCS#12
        for store, extra in (("JKS", []), ("PKCS12", [
                "-J-Dkeystore.pkcs12.certProtectionAlgorithm=PBEWithSHA1AndRC2_40",
                "-J-Dkeystore.pkcs12.macAlgorithm=HmacPBESHA1"])):
            ks = workdir / f"seed.{store.lower()}"
            ks.unlink(missing_ok=True)
            made = subprocess.run(
                ["keytool", "-genkeypair", "-keystore", str(ks), "-storetype", store,
                 "-storepass", "secret12", "-keypass", "secret12", "-alias", "a", "-keyalg",
                 "EC", "-groupname", "secp256r1", "-dname", "CN=seed", "-validity", "10",
                 *extra], capture_output=True, timeout=120, preexec_fn=_without_memory_limit)
            if made.returncode == 0:
                seeds.append(ks.read_bytes())
    return seeds


# --- ARA-M BER-TLV ---------------------------------------------------------------------------

def run_tlv(data: bytes, workdir: Path, rng: random.Random) -> None:
    from simtool.aram import android, rules, tlv

    for parse in (tlv.parse_tlvs, rules.parse_all_ref_ar_do):
        try:
            parse(data)
        except ToolError as err:
            _check_error(err)
    try:
        parsed = rules.parse_all_ref_ar_do(data)
    except ToolError:
        parsed = None
    if parsed is not None:
        again = rules.parse_all_ref_ar_do(rules.encode_all_ref_ar_do(parsed))
        if again != parsed:
            raise Finding(f"encode/parse round trip changed the rules: {parsed!r} -> {again!r}")
    android.check_answer(data)


def tlv_seeds(workdir: Path) -> list[bytes]:
    from tests.aram import vectors

    hexes = [getattr(vectors, n) for n in dir(vectors) if n.startswith(("AOSP_", "EMPTY"))]
    seeds = [bytes.fromhex(h) for h in hexes if isinstance(h, str)]
    for apdu in (vectors.SEED_STORE_APDU, vectors.PACKAGE_STORE_APDU):
        body = bytes.fromhex(apdu)[5:]  # the F0 object
        seeds.append(bytes.fromhex("FF40") + bytes([len(body) - 2]) + body[2:])
    return seeds


@dataclass(frozen=True)
class Target:
    name: str
    run: Callable[[bytes, Path, random.Random], None]
    seeds: Callable[[Path], list[bytes]]


TARGETS = {t.name: t for t in (Target("apk", run_apk, apk_seeds),
                               Target("keystore", run_keystore, keystore_seeds),
                               Target("tlv", run_tlv, tlv_seeds))}

