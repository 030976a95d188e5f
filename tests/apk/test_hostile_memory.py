"""Issue 9 (2): memory bounded by design — peak RSS of the real CLI under 100 MB on hostile APKs.

Each case runs ``simtool digest --verify`` in a child process and reads that child's own peak
RSS from ``os.wait4`` (``ru_maxrss``, KiB on Linux) through ``tests/rig/peak_rss.py``, so
neither pytest's size nor other children of the test run count. The inputs are made here by ``tests/apk/hostile_inputs.py``:

* the zip bomb: a 1.9 MB APK, validly v1-signed, whose entry inflates to 1.9 GiB of zeros;
* 5.5 million 12-byte pairs in the APK Signing Block (66 MB file, under the 64 MiB block cap);
* a MANIFEST.MF of 16 MiB of tiny sections, an AndroidManifest.xml whose string pool claims
  four million strings.

Times are not asserted here (benchmarks time things); the figures measured by hand are in
docs/simtool-digest.md.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import pytest

from simtool.apk.errors import ApkError
from simtool.apk.zipfile_index import INFLATE_STEP, EntryInflater, ZipEntry
from tests.apk import hostile_inputs as hi
from tests.rig.digest_cli import simtool_argv

PEAK_LIMIT_KIB = 100 * 1000  # 100 MB
ROOT = Path(__file__).resolve().parents[2]


def _run_measured(*args: str) -> tuple[int, str, str, int]:
    """(exit status, stdout, stderr, peak RSS in KiB) of ``simtool digest ARGS``, measured by
    ``tests/rig/peak_rss.py`` (so pytest's own size is not counted)."""
    with tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak"
        proc = subprocess.run([sys.executable, "-m", "tests.rig.peak_rss", str(peak_file),
                               *simtool_argv(), "digest", *args], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=300, cwd=ROOT)
        return proc.returncode, proc.stdout, proc.stderr, int(peak_file.read_text())


@pytest.fixture(scope="module")
def signer() -> tuple:
    return hi.make_key_and_cert("CN=hostile memory")


def test_zip_bomb_verifies_in_bounded_memory(tmp_path: Path, signer: tuple) -> None:
    bomb = hi.make_zip_bomb(tmp_path / "bomb.apk", *signer)
    assert bomb.stat().st_size < 2_000_000
    code, out, err, peak = _run_measured("--verify", str(bomb))
    assert code == 0, err
    assert out.startswith("Verifies") and "Traceback" not in err
    assert peak < PEAK_LIMIT_KIB, f"peak RSS {peak} KiB on the zip bomb"


def test_zip_bomb_with_wrong_digest_is_caught(tmp_path: Path, signer: tuple) -> None:
    """The bounded steps still hash every byte: the same bomb, one byte short of what its
    manifest digest covers (declared size and CRC kept consistent), fails --verify."""
    size = 64 << 20
    bomb = hi.make_zip_bomb(tmp_path / "bomb.apk", *signer, size=size,
                            digest_size=size - 1)
    assert subprocess.run([*simtool_argv(), "digest", str(bomb)], capture_output=True,
                          timeout=60).returncode == 0  # signatures over the .SF verify
    code, out, err, _ = _run_measured("--verify", str(bomb))
    assert code == 1 and "digest of assets/zeros does not match" in out, (out, err)


def test_tiny_pairs_in_bounded_memory(tmp_path: Path) -> None:
    apk = hi.make_tiny_pairs(tmp_path / "pairs.apk")
    assert apk.stat().st_size > 66_000_000
    for args in (("--verify",), ()):
        code, out, err, peak = _run_measured(*args, str(apk))
        assert code == 0, err  # unknown pairs are allowed; the v2/v3 digests still match
        assert out.startswith("Verifies")
        assert peak < PEAK_LIMIT_KIB, f"peak RSS {peak} KiB on 5.5 million pairs ({args})"


def test_manifest_of_tiny_sections_refused_in_bounded_memory(tmp_path: Path) -> None:
    body = b"".join(b"Name: %06x\r\n\r\n" % i for i in range((16 << 20) // 14))
    mf = (b"Manifest-Version: 1.0\r\n\r\n" + body)[: 16 << 20]
    apk = tmp_path / "mf.apk"
    apk.write_bytes(hi.zip_bytes([("AndroidManifest.xml", hi.manifest_xml()),
                                  ("META-INF/MANIFEST.MF", mf), ("META-INF/CERT.SF", b"x"),
                                  ("META-INF/CERT.RSA", b"x")]))
    code, out, err, peak = _run_measured(str(apk))
    assert code == 1 and "more than 65535 sections" in err, err
    assert len(err.splitlines()) == 1
    assert peak < PEAK_LIMIT_KIB, f"peak RSS {peak} KiB"


def test_manifest_string_pool_of_millions_in_bounded_memory(tmp_path: Path) -> None:
    """An AndroidManifest.xml whose pool lists four million (identical) strings: decoded only
    when an element asks for one."""
    good = hi.axml_with_min_sdk("21")
    count = 4_000_000
    pool_at = 8
    pool_header = struct.unpack_from("<HHIIIIII", good, pool_at)
    old_size = pool_header[2]
    strings = good[pool_at + 28 : pool_at + old_size]  # 6 offsets + string data
    offsets, data = strings[:24], strings[24:]
    new_offsets = offsets + b"\0\0\0\0" * (count - 6)
    pool = struct.pack("<HHIIIIII", 0x0001, 28, 28 + len(new_offsets) + len(data), count, 0, 0,
                       28 + len(new_offsets), 0) + new_offsets + data
    rest = good[pool_at + old_size :]
    xml = struct.pack("<HHI", 0x0003, 8, 8 + len(pool) + len(rest)) + pool + rest
    apk = tmp_path / "pool.apk"
    apk.write_bytes(hi.zip_bytes([("AndroidManifest.xml", xml)]))
    code, _, err, peak = _run_measured("--json", str(apk))
    assert code == 1 and "Missing META-INF/MANIFEST.MF" in err, err
    assert peak < PEAK_LIMIT_KIB, f"peak RSS {peak} KiB"


@pytest.mark.parametrize("block_id", [0x7109871A, 0xF05368C0], ids=["v2", "v3"])
def test_two_million_empty_signers_refused_in_bounded_memory(tmp_path: Path, block_id: int) -> None:
    apk = hi.make_many_signers(tmp_path / "signers.apk", block_id)
    code, _, err, peak = _run_measured("--min-sdk-version", "24", str(apk))
    assert code == 1 and "signers: more than 64 items" in err, err
    assert len(err.splitlines()) == 1
    assert peak < PEAK_LIMIT_KIB, f"peak RSS {peak} KiB"


@pytest.mark.parametrize("shape", ["wide", "deep"])
def test_pkcs7_of_15_mib_in_bounded_memory(tmp_path: Path, shape: str) -> None:
    """ASN.1 elements point into one buffer (no copy per nesting level); a SET of millions of
    elements is refused at the 4097th."""
    block = hi.pkcs7_wide() if shape == "wide" else hi.pkcs7_deep()
    apk = tmp_path / "p7.apk"
    apk.write_bytes(hi.apk_with_signature_block(block))
    code, out, err, peak = _run_measured(str(apk))
    assert code == 1 and "Traceback" not in err, err
    assert "JAR signer CERT.RSA" in out
    assert peak < PEAK_LIMIT_KIB, f"peak RSS {peak} KiB"


def test_jks_of_37000_certificates_refused_in_bounded_memory(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding
    cert = hi.make_key_and_cert("CN=many", 1024)[1].public_bytes(Encoding.DER)
    ks = tmp_path / "many.jks"
    ks.write_bytes(hi.jks_of_certificates(cert, (16 << 20) // (len(cert) + 40)))
    code, _, err, peak = _run_measured(str(ks))
    assert code == 1 and "more than the 4096 accepted" in err, err
    assert peak < PEAK_LIMIT_KIB, f"peak RSS {peak} KiB"
    small = tmp_path / "small.jks"
    small.write_bytes(hi.jks_of_certificates(cert, 3))
    code, out, err, _ = _run_measured(str(small))
    assert code == 0 and out.count("certificate SHA-1 digest") == 1, (out, err)  # one cert, 3 aliases


def test_inflater_steps_are_bounded() -> None:
    """One 1 MiB piece of compressed zeros inflates in steps of at most INFLATE_STEP."""
    size = 256 << 20
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = b"".join(co.compress(bytes(1 << 20)) for _ in range(size >> 20)) + co.flush()
    assert len(stream) < 1 << 20
    entry = ZipEntry("zeros", 8, 0, 0, len(stream), size, 0)
    inflater = EntryInflater("x", entry)
    steps = [len(piece) for piece in inflater.feed(stream)]
    inflater.finish()
    assert sum(steps) == size and max(steps) <= INFLATE_STEP and len(steps) >= size // INFLATE_STEP
    small = EntryInflater("x", ZipEntry("zeros", 8, 0, 0, len(stream), size - 1, 0))
    with pytest.raises(ApkError, match="inflates past"):
        for _ in small.feed(stream):
            pass
