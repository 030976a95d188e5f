"""Hostile input to ``simtool digest``: mutated real APKs and the bad inputs the issue lists.

The library (``simtool.apk.inspect_apk``) may raise only ``SimtoolError`` subclasses; the CLI
must end a bad input with one line on stderr naming the file, a non-zero exit and no traceback,
inside an address-space limit (so a 4 GiB length field cannot turn into a 4 GiB allocation).

Mutations (hypothesis, bounded: ~30 s in all): byte flips, truncation, inserted garbage, and
length fields set to edge values in the EOCD, the APK Signing Block (header and footer sizes,
pair lengths) and the length-prefixed sequences inside the v2/v3 blocks. Set
``CARRIERKIT_FUZZ_EXAMPLES`` to run more examples.
"""

from __future__ import annotations

import inspect
import io
import os
import resource
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simtool.errors import SimtoolError
from tests.rig import apksigner as rig
from tests.rig.digest_cli import assert_one_line_error, run_digest, simtool_argv

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "apksig-golden"
SEEDS = {  # small real APKs covering v1, v2, v3, lineage and v3.1 structures
    "v1v2v3": (CORPUS / "golden-aligned-v1v2v3-out.apk").read_bytes(),
    "lineage": (CORPUS / "v1v2v3-with-rsa-2048-lineage-3-signers.apk").read_bytes(),
    "v31": (CORPUS / "v31-rsa-2048_2-tgt-33-1-tgt-28.apk").read_bytes(),
    "v1-only": (CORPUS / "golden-aligned-v1-out.apk").read_bytes(),
}
EXAMPLES = int(os.environ.get("CARRIERKIT_FUZZ_EXAMPLES", "0")) or None
#: Address-space cap for the CLI child: plenty for Python + OpenSSL, far below 4 GiB.
CHILD_AS_LIMIT = 1024 * 1024 * 1024
EDGE_U32 = [0, 1, 7, 8, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF]
EDGE_U64 = [0, 1, 24, 2**31, 2**32, 2**32 + 24, 2**63, 2**64 - 1]


def _inspect():
    from simtool.apk import inspect_apk
    return inspect_apk


def _call_library(path: Path) -> None:
    """inspect_apk on ``path``, then with full verification (``full_verify=True``, what
    ``--verify`` does) and for SDK 28+: any exception that is not a SimtoolError fails."""
    inspect_apk = _inspect()
    params = inspect.signature(inspect_apk).parameters
    assert "full_verify" in params and "min_sdk" in params, params
    modes: list[dict] = [{}, {"full_verify": True}, {"min_sdk": 28}]
    for kwargs in modes:
        try:
            inspect_apk(path, **kwargs)
        except SimtoolError as err:
            assert str(err) and "\n" not in str(err), repr(err)


def _limit_child() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_AS_LIMIT, CHILD_AS_LIMIT))


def _run_cli(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*simtool_argv(), "digest", *extra, str(path)], capture_output=True,
                          text=True, timeout=60, preexec_fn=_limit_child, stdin=subprocess.DEVNULL)


# --- structure of a real APK, to aim mutations at its length fields ---------------------------

def eocd_offset(data: bytes) -> int:
    return data.rindex(b"PK\x05\x06")


def signing_block_span(data: bytes) -> tuple[int, int] | None:
    """(start, end) of the APK Signing Block: start at its leading u64 size, end at the CD."""
    eocd = eocd_offset(data)
    cd_offset = struct.unpack_from("<I", data, eocd + 16)[0]
    if data[cd_offset - 16:cd_offset] != b"APK Sig Block 42":
        return None
    size = struct.unpack_from("<Q", data, cd_offset - 24)[0]
    return cd_offset - size - 8, cd_offset


def length_field_offsets(data: bytes) -> list[tuple[int, int]]:
    """(offset, width) of length-like fields: EOCD counts/size/offset, the signing block's two
    sizes and pair lengths, and every u32 inside the block (the v2/v3 signer sequences are
    u32-length-prefixed all the way down)."""
    eocd = eocd_offset(data)
    fields = [(eocd + 8, 2), (eocd + 10, 2), (eocd + 12, 4), (eocd + 16, 4), (eocd + 20, 2)]
    span = signing_block_span(data)
    if span:
        start, end = span
        fields += [(start, 8), (end - 24, 8)]
        pos = start + 8
        while pos + 12 <= end - 24:
            fields.append((pos, 8))
            pair_len = struct.unpack_from("<Q", data, pos)[0]
            fields += [(p, 4) for p in range(pos + 12, min(pos + 8 + pair_len, end - 24) - 3, 4)]
            pos += 8 + pair_len
    return fields


def _v1_entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("META-INF/")}


V1_SEED_ENTRIES = _v1_entries(SEEDS["v1-only"])


@st.composite
def mutated_v1_signature(draw: st.DrawFn) -> bytes:
    """The v1-only seed re-zipped with one META-INF file (PKCS#7 DER block, .SF or
    MANIFEST.MF) mutated: DER length/tag bytes, flips, truncation, inserted bytes."""
    name = draw(st.sampled_from(sorted(V1_SEED_ENTRIES)))
    body = bytearray(V1_SEED_ENTRIES[name])
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "der-length"]))
    if kind == "flip" or not body:
        for _ in range(draw(st.integers(1, 4))):
            if body:
                body[draw(st.integers(0, len(body) - 1))] ^= draw(st.integers(1, 255))
    elif kind == "truncate":
        del body[draw(st.integers(0, len(body) - 1)):]
    elif kind == "insert":
        i = draw(st.integers(0, len(body)))
        body[i:i] = draw(st.binary(min_size=1, max_size=16))
    else:  # a DER length octet: long forms claiming up to 2^32-1 bytes
        i = draw(st.integers(0, len(body) - 1))
        body[i:i + 1] = draw(st.sampled_from([b"\x80", b"\x81\xff", b"\x84\xff\xff\xff\xff",
                                               b"\x88\x7f\xff\xff\xff\xff\xff\xff\xff", b"\x00"]))
    return _rezip(SEEDS["v1-only"], {name: bytes(body)})


@st.composite
def mutated_apk(draw: st.DrawFn) -> bytes:
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "length", "length", "length", "v1"]))
    if kind == "v1":
        return draw(mutated_v1_signature())
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= draw(st.integers(1, 255))
    elif kind == "truncate":
        del data[draw(st.integers(0, len(data) - 1)):]
    elif kind == "insert":
        i = draw(st.integers(0, len(data)))
        data[i:i] = draw(st.binary(min_size=1, max_size=64))
    else:
        offset, width = draw(st.sampled_from(length_field_offsets(bytes(data))))
        edges = {2: [0, 1, 0x7FFF, 0xFFFF], 4: EDGE_U32, 8: EDGE_U64}[width]
        value = draw(st.one_of(st.sampled_from(edges), st.integers(0, 256 ** width - 1)))
        data[offset:offset + width] = value.to_bytes(width, "little")
    return bytes(data)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=EXAMPLES or 400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=mutated_apk())
def test_library_raises_only_simtool_errors(scratch: Path, data: bytes) -> None:
    path = scratch / "mutated.apk"
    path.write_bytes(data)
    _call_library(path)


@settings(max_examples=EXAMPLES or 25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=mutated_apk())
def test_cli_never_tracebacks(scratch: Path, data: bytes) -> None:
    path = scratch / "mutated-cli.apk"
    path.write_bytes(data)
    proc = _run_cli(path, "--verify")
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}"
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and path.name in lines[0], proc.stderr


V4_APK = CORPUS / "v31-rsa-2048_2-tgt-10000-dev-release.apk"
IDSIG_SEED = (CORPUS / (V4_APK.name + ".idsig")).read_bytes()


@st.composite
def mutated_idsig(draw: st.DrawFn) -> bytes:
    """The v4 signature file with flips, truncation, or a u32 (its lengths are u32 LE) set to
    an edge value."""
    data = bytearray(IDSIG_SEED)
    kind = draw(st.sampled_from(["flip", "truncate", "u32", "u32"]))
    if kind == "flip":
        data[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
    elif kind == "truncate":
        del data[draw(st.integers(0, len(data) - 1)):]
    else:
        at = draw(st.integers(0, len(data) // 4 - 1)) * 4
        data[at:at + 4] = draw(st.sampled_from(EDGE_U32)).to_bytes(4, "little")
    return bytes(data)


@pytest.fixture(scope="module")
def v4_folder(scratch: Path) -> Path:
    folder = scratch / "v4"
    folder.mkdir()
    (folder / V4_APK.name).write_bytes(V4_APK.read_bytes())
    return folder


@settings(max_examples=EXAMPLES or 150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(idsig=mutated_idsig())
def test_library_mutated_idsig_beside_apk(v4_folder: Path, idsig: bytes) -> None:
    """A damaged .idsig next to a good APK: only SimtoolError (or an unverified report)."""
    (v4_folder / (V4_APK.name + ".idsig")).write_bytes(idsig)
    _call_library(v4_folder / V4_APK.name)


# --- the bad inputs the issue names ---------------------------------------------------------

def _set(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out)


def _block_sizes_disagree() -> bytes:
    data = SEEDS["v1v2v3"]
    start, _ = signing_block_span(data)
    return _set(data, start, "<Q", struct.unpack_from("<Q", data, start)[0] + 8)


def _garbage_before_eocd() -> bytes:
    data = SEEDS["v1v2v3"]
    e = eocd_offset(data)
    return data[:e] + b"\x00garbage\xff" * 4 + data[e:]


def _four_gib_block() -> bytes:
    data = SEEDS["v1v2v3"]
    start, end = signing_block_span(data)
    data = _set(data, start, "<Q", 2**32)
    return _set(data, end - 24, "<Q", 2**32)


def _four_gib_pair() -> bytes:
    data = SEEDS["lineage"]
    start, _ = signing_block_span(data)
    return _set(data, start + 8, "<Q", 0xFFFFFFFF)


def _four_gib_cd_size() -> bytes:
    data = SEEDS["v1-only"]
    return _set(data, eocd_offset(data) + 12, "<I", 0xFFFFFFFF)


def _four_gib_signer_sequence() -> bytes:
    data = SEEDS["v1v2v3"]
    start, _ = signing_block_span(data)
    # first pair: u64 length, u32 id, then the u32-prefixed sequence of signers
    return _set(data, start + 8 + 12, "<I", 0xFFFFFFFF)


def _rezip(src: bytes, replace: dict[str, bytes]) -> bytes:
    """Copy a ZIP with some entries' contents replaced (same names and compression)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, replace.get(info.filename, zin.read(info.filename)))
    return out.getvalue()


def _pkcs7_without_matching_cert() -> bytes:
    """A v1 APK whose SignerInfo names a serial number no certificate in the bag has."""
    from cryptography.hazmat.primitives.serialization import pkcs7

    src = SEEDS["v1-only"]
    with zipfile.ZipFile(io.BytesIO(src)) as z:
        name = next(n for n in z.namelist() if n.endswith(".RSA"))
        block = z.read(name)
    serial = pkcs7.load_der_pkcs7_certificates(block)[0].serial_number
    raw = serial.to_bytes((serial.bit_length() + 8) // 8, "big")
    at = block.rindex(raw)  # the SignerInfo's issuerAndSerialNumber comes after the cert
    assert at > block.index(raw)
    patched = block[:at] + bytes([raw[0] ^ 0x01]) + block[at + 1:]
    return _rezip(src, {name: patched})


def _unsigned_aab() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("BundleConfig.pb", b"\x0a\x05\x0a\x031.0")
        z.writestr("base/manifest/AndroidManifest.xml", b"\x0a\x00")
        z.writestr("base/dex/classes.dex", b"dex\n035\x00" + bytes(64))
    return out.getvalue()


BAD_INPUTS = {
    "not-a-zip.apk": lambda: b"This is a text file, not an APK.\n" * 20,
    "empty.apk": lambda: b"",
    "truncated-half.apk": lambda: SEEDS["v1v2v3"][: len(SEEDS["v1v2v3"]) // 2],
    "truncated-in-eocd.apk": lambda: SEEDS["v1v2v3"][:-10],
    "sig-block-sizes-disagree.apk": _block_sizes_disagree,
    "corpus-sig-block-size-mismatch.apk": lambda: (CORPUS / "v2-only-apk-sig-block-size-mismatch.apk").read_bytes(),
    "garbage-before-eocd.apk": _garbage_before_eocd,
    "corpus-garbage-between-cd-and-eocd.apk": lambda: (CORPUS / "v2-only-garbage-between-cd-and-eocd.apk").read_bytes(),
    "4gib-signing-block.apk": _four_gib_block,
    "4gib-pair-length.apk": _four_gib_pair,
    "4gib-cd-size.apk": _four_gib_cd_size,
    "4gib-signer-sequence.apk": _four_gib_signer_sequence,
    "pkcs7-no-matching-cert.apk": _pkcs7_without_matching_cert,
    "unsigned.aab": _unsigned_aab,
}


@pytest.fixture(scope="module")
def bad_files(scratch: Path) -> dict[str, Path]:
    paths = {}
    for name, make in BAD_INPUTS.items():
        paths[name] = scratch / name
        paths[name].write_bytes(make())
    return paths


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
@pytest.mark.parametrize("verify", [False, True], ids=["default", "verify"])
def test_bad_input_one_line_error(bad_files: dict[str, Path], name: str, verify: bool) -> None:
    """Each bad input the issue lists: one line naming the file, non-zero exit, no traceback."""
    proc = _run_cli(bad_files[name], *(["--verify"] if verify else []))
    assert proc.returncode > 0, proc.stdout[:500]
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert name in lines[0], lines[0]


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_library(bad_files: dict[str, Path], name: str) -> None:
    """The library raises a SimtoolError (or reports the APK unverified) on each bad input."""
    _call_library(bad_files[name])


@pytest.mark.skipif(bool(rig.missing_tools()), reason="needs Debian's apksigner")
def test_pkcs7_case_is_rejected_by_apksigner_too(bad_files: dict[str, Path]) -> None:
    """Ground truth for the hand-made PKCS#7 case: apksigner rejects it as well."""
    assert not rig.verify(bad_files["pkcs7-no-matching-cert.apk"]).verifies


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_json_mode_bad_input(bad_files: dict[str, Path], name: str) -> None:
    """With --json a bad input exits non-zero without a traceback, and says why: either in its
    report (``verified`` false, one-line ``errors``) or as one line on stderr."""
    run = run_digest([bad_files[name]], verify=True)
    assert run.exit_code > 0 and "Traceback" not in run.stderr + run.stdout, run.stderr
    if run.reports:
        report = run.only()
        assert Path(report["path"]).name == name
        assert report["verified"] is False
        assert report["errors"] and all(e and "\n" not in e for e in report["errors"])
    else:
        assert_one_line_error(run)


def test_child_limit_leaves_room_for_a_real_apk() -> None:
    """The address-space cap is not what makes the tests above fail: a good APK passes under it."""
    proc = _run_cli(CORPUS / "golden-aligned-v1v2v3-out.apk", "--verify")
    assert proc.returncode == 0, proc.stderr
