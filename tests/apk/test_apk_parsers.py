"""Unit tests of the simtool.apk parsers on real apksig corpus bytes and corrupt variants of
them; each corrupt variant is pinned to its one-line error."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from simtool.apk import ApkError, inspect_apk
from simtool.apk import der
from simtool.apk.axml import parse_manifest_sdk
from simtool.apk.bytereader import ByteReader, FileSource
from simtool.apk.certs import parse_certificate
from simtool.apk.lineage import parse_lineage
from simtool.apk.signing_block import V3_BLOCK_ID, find_signing_block
from simtool.apk.v1_jar import parse_manifest
from simtool.apk.v2v3 import PROOF_OF_ROTATION_ATTR, parse_block
from simtool.apk.zipfile_index import find_zip_sections, read_central_directory, read_entry

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "apksig-golden"
LINEAGE_APK = CORPUS / "v1v2v3-with-rsa-2048-lineage-3-signers.apk"


def _mutated(tmp_path: Path, src: Path, edit) -> Path:  # noqa: ANN001
    data = bytearray(src.read_bytes())
    edit(data)
    out = tmp_path / src.name
    out.write_bytes(bytes(data))
    return out


def _sections(path: Path):  # noqa: ANN202
    src = FileSource(str(path))
    zs = find_zip_sections(src)
    return src, zs


def test_byte_reader_rejects_4gib_length() -> None:
    r = ByteReader(struct.pack("<I", 0xFFFFFFFF) + b"abc", "x.apk")
    with pytest.raises(ApkError, match="length 4294967295 exceeds the 3 bytes available"):
        r.prefixed("signer")


def test_der_depth_and_length_limits() -> None:
    deep = b"\x30\x80" * (der.MAX_DEPTH + 2)
    with pytest.raises(ApkError, match="nested deeper"):
        der.parse_one(deep, 0, "x")
    with pytest.raises(ApkError, match="ASN.1 length 1000 exceeds"):
        der.parse_one(b"\x04\x82\x03\xe8abc", 0, "x")


def test_zip_index_reads_corpus_apk() -> None:
    src, zs = _sections(LINEAGE_APK)
    entries = read_central_directory(src, zs)
    names = {e.name for e in entries}
    assert "AndroidManifest.xml" in names and "META-INF/MANIFEST.MF" in names
    assert zs.cd_offset + zs.cd_size == zs.eocd_offset
    manifest = read_entry(src, next(e for e in entries if e.name == "META-INF/MANIFEST.MF"),
                          1 << 20, "manifest")
    assert manifest.startswith(b"Manifest-Version: 1.0")
    src.close()


def test_max_sized_eocd_comment_is_found() -> None:
    src, zs = _sections(CORPUS / "v2-only-max-sized-eocd-comment.apk")
    assert len(zs.eocd) == 22 + 0xFFFF
    src.close()


@pytest.mark.parametrize(("name", "message"), [
    ("v2-only-garbage-between-cd-and-eocd.apk", "bytes of garbage between the central directory and the EOCD"),
    ("v2-only-truncated-cd.apk", "runs past the EOCD"),
    ("v2-only-apk-sig-block-size-mismatch.apk", "APK Signing Block sizes disagree"),
    ("empty-unsigned.apk", "Missing AndroidManifest.xml"),
])
def test_malformed_corpus_files_raise_one_line_errors(name: str, message: str) -> None:
    with pytest.raises(ApkError) as info:
        inspect_apk(CORPUS / name)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert info.value.path.endswith(name)


def test_not_a_zip(tmp_path: Path) -> None:
    bad = tmp_path / "x.apk"
    bad.write_bytes(b"hello world" * 10)
    with pytest.raises(ApkError, match="no end-of-central-directory record"):
        inspect_apk(bad)


def test_truncated_file(tmp_path: Path) -> None:
    data = LINEAGE_APK.read_bytes()
    bad = tmp_path / "t.apk"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ApkError, match="end-of-central-directory"):
        inspect_apk(bad)


def test_zip64_locator_rejected(tmp_path: Path) -> None:
    def edit(data: bytearray) -> None:
        eocd = data.rfind(b"PK\x05\x06")
        data[eocd - 20 : eocd - 16] = struct.pack("<I", 0x07064B50)
    with pytest.raises(ApkError, match="ZIP64"):
        inspect_apk(_mutated(tmp_path, LINEAGE_APK, edit))


def test_giant_central_directory_refused_before_reading(tmp_path: Path) -> None:
    """A 40 MiB (sparse) file whose EOCD says the whole file is central directory: refused by
    size, not read into memory."""
    bad = tmp_path / "giant-cd.apk"
    size = 40 << 20
    with open(bad, "wb") as fh:
        fh.truncate(size - 22)
        fh.seek(size - 22)
        fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, size - 22, 0, 0))
    with pytest.raises(ApkError, match=f"central directory of {size - 22} bytes is larger than "
                       f"the {32 << 20} accepted"):
        inspect_apk(bad)


def test_signing_block_pairs_and_4gib_pair_length(tmp_path: Path) -> None:
    src, zs = _sections(LINEAGE_APK)
    block = find_signing_block(src, zs)
    assert block is not None and {0x7109871A, V3_BLOCK_ID} <= set(block.pairs)
    first_pair = block.offset + 8
    src.close()

    def edit(data: bytearray) -> None:
        data[first_pair : first_pair + 8] = struct.pack("<Q", 1 << 32)
    with pytest.raises(ApkError, match="pair length 4294967296 is out of range"):
        inspect_apk(_mutated(tmp_path, LINEAGE_APK, edit))


def test_wrong_magic_means_no_block() -> None:
    src, zs = _sections(CORPUS / "v2-only-wrong-apk-sig-block-magic.apk")
    assert find_signing_block(src, zs) is None
    src.close()


def test_v3_block_and_lineage_parse() -> None:
    src, zs = _sections(LINEAGE_APK)
    block = find_signing_block(src, zs)
    result = parse_block(block.get(V3_BLOCK_ID), "v3", src.path, block.value_offset(V3_BLOCK_ID))
    assert result.verified
    signer = result.signers[0]
    assert signer.certificate.subject == "CN=rsa-2048_3"
    lineage = parse_lineage(signer.attributes[PROOF_OF_ROTATION_ATTR], src.path)
    assert [e.certificate.subject for e in lineage] == ["CN=rsa-2048", "CN=rsa-2048_2", "CN=rsa-2048_3"]
    src.close()


def test_lineage_with_tampered_node_signature_is_rejected() -> None:
    src, zs = _sections(LINEAGE_APK)
    block = find_signing_block(src, zs)
    result = parse_block(block.get(V3_BLOCK_ID), "v3", src.path, 0)
    value = bytearray(result.signers[0].attributes[PROOF_OF_ROTATION_ATTR])
    value[-5] ^= 0xFF  # inside the last node's signature
    with pytest.raises(ApkError, match="signature by the previous certificate did not verify"):
        parse_lineage(bytes(value), src.path)
    src.close()


def test_certificate_subject_and_digests_over_stored_bytes() -> None:
    src, zs = _sections(CORPUS / "v1v2v3-rsa-2048-negmod-in-cert.apk")
    block = find_signing_block(src, zs)
    result = parse_block(block.get(V3_BLOCK_ID), "v3", src.path, 0)
    cert = result.signers[0].certificate
    assert parse_certificate(cert.encoded, "x").subject == cert.subject
    report = inspect_apk(CORPUS / "v1v2v3-rsa-2048-negmod-in-cert.apk")
    assert report.verified and report.signers[0].certificate.sha256 == cert.digests.sha256
    src.close()


def test_binary_manifest_sdk_versions() -> None:
    src, zs = _sections(CORPUS / "v1-ec-p256-targetSdk-30.apk")
    entry = next(e for e in read_central_directory(src, zs) if e.name == "AndroidManifest.xml")
    sdk = parse_manifest_sdk(read_entry(src, entry, 1 << 20, "manifest"), src.path)
    assert sdk.target_sdk == 30
    src.close()
    with pytest.raises(ApkError, match="not Android binary XML"):
        parse_manifest_sdk(b"<manifest/>", "x")


def test_jar_manifest_sections_and_missing_name() -> None:
    main, named = parse_manifest(b"Manifest-Version: 1.0\r\n\r\nName: a\r\nSHA-256-Digest: x\r\n\r\n",
                                 "x", "MANIFEST.MF")
    assert main.attrs["Manifest-Version"] == "1.0"
    assert named[0].name == "a" and named[0].raw == b"Name: a\r\nSHA-256-Digest: x\r\n\r\n"
    with pytest.raises(ApkError, match="section #1 does not have a name"):
        parse_manifest(b"Manifest-Version: 1.0\n\nSHA-256-Digest: x\n\n", "x", "MANIFEST.MF")


def test_pkcs7_cert_chosen_by_issuer_and_serial() -> None:
    report = inspect_apk(CORPUS / "v1-only-pkcs7-cert-bag-first-cert-not-used.apk")
    assert report.verified and len(report.signers) == 1


def test_pkcs7_without_matching_certificate(tmp_path: Path) -> None:
    """Change the serial the SignerInfo names: no certificate in the bag matches any more."""
    import zipfile

    from simtool.apk.pkcs7 import parse_signed_data

    apk = CORPUS / "v1-only-with-rsa-pkcs1-sha1-1.2.840.113549.1.1.1-1024.apk"
    out = tmp_path / "no-match.apk"
    with zipfile.ZipFile(apk) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename.endswith(".RSA"):
                info = parse_signed_data(data, "x").signer_infos[0]
                serial = info.serial.to_bytes((info.serial.bit_length() + 8) // 8, "big",
                                              signed=True)
                at = data.rfind(serial) + len(serial) - 1
                data = data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]
            zout.writestr(item, data)
    report = inspect_apk(out, min_sdk=1)
    assert not report.verified
    assert "no certificate in the PKCS#7 matches" in report.errors[0]


def test_aab_without_signature(tmp_path: Path) -> None:
    import zipfile
    aab = tmp_path / "app.aab"
    with zipfile.ZipFile(aab, "w") as z:
        z.writestr("base/manifest/AndroidManifest.xml", b"\x0a\x00")
        z.writestr("BundleConfig.pb", b"")
    report = inspect_apk(aab)
    assert not report.verified and report.errors == ("Missing META-INF/MANIFEST.MF",)


def test_v4_idsig_checked_and_root_recomputed(tmp_path: Path) -> None:
    """The .idsig beside an APK is verified; --verify recomputes the whole-file Merkle root."""
    import shutil

    name = "v31-rsa-2048_2-tgt-10000-dev-release.apk"
    apk = tmp_path / name
    shutil.copyfile(CORPUS / name, apk)
    assert inspect_apk(apk).schemes["v4"] is False  # no .idsig yet
    shutil.copyfile(CORPUS / (name + ".idsig"), tmp_path / (name + ".idsig"))
    report = inspect_apk(apk, full_verify=True)
    assert report.verified and report.schemes["v4"] is True
    data = bytearray(apk.read_bytes())
    data[100] ^= 0xFF  # inside the first entry
    apk.write_bytes(bytes(data))
    report = inspect_apk(apk, full_verify=True)
    assert not report.verified
    assert any(e.startswith("v4 signature's hash tree root did not verify") for e in report.errors)


def test_source_stamp_reported_and_broken_stamp_only_warns() -> None:
    report = inspect_apk(CORPUS / "stamp-lineage-valid.apk")
    assert report.verified and report.schemes["stamp"] is True
    assert report.source_stamp.subject == "CN=rsa-2048_2"
    assert all(s.certificate != report.source_stamp for s in report.signers)
    broken = inspect_apk(CORPUS / "stamp-malformed-signature.apk")
    assert broken.verified and broken.schemes["stamp"] is False and broken.source_stamp is None
    assert broken.warnings[-1].startswith("SourceStamp: malformed stamp block")


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 128 * 4096, 128 * 4096 + 1,
                                  3 * 128 * 4096 - 7, 128 * 128 * 4096, 128 * 128 * 4096 + 4097])
def test_streamed_merkle_root_equals_the_whole_tree(size: int) -> None:
    """The --verify pass keeps one unfinished page per tree level; its root must equal the tree
    built level by level over all the leaves (apksig's definition: each level zero-padded to
    whole 4 KiB pages until one page is left), at every level boundary."""
    import hashlib

    from simtool.apk.content_digest import PAGE, _page_digests, _Verity

    data = (bytes(range(251)) * (size // 251 + 1))[:size]
    salt = b"salt" if size % 2 else b"\0" * 8
    leaves = b"".join(hashlib.sha256(salt + data[i : i + PAGE].ljust(PAGE, b"\0")).digest()
                      for i in range(0, size, PAGE))
    level = leaves or _page_digests(b"\0" * PAGE, salt)
    while len(level) > PAGE:
        level = _page_digests(level + b"\0" * (-len(level) % PAGE), salt)
    expected = _page_digests(level + b"\0" * (PAGE - len(level)), salt)
    tree = _Verity(salt)
    for pos in range(0, size, 1_000_003):  # pieces that do not fall on page boundaries
        tree.add(_page_digests(tree.pages_of(data[pos : pos + 1_000_003])[0], salt))
    assert tree.root() == expected and tree.total == size
    assert all(len(buf) < PAGE for buf in tree.levels)  # nothing but unfinished pages kept
