"""The package name from the binary AndroidManifest.xml (used by `simtool aram check --apk`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from simtool.apk import inspect_apk
from simtool.apk.axml import parse_manifest_sdk

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "apksig-golden"
TINYAPP = "android.appsecurity.cts.tinyapp"  # <manifest package=…> of apksig's test APKs


def _manifest(apk: Path) -> bytes:
    import zipfile

    with zipfile.ZipFile(apk) as zf:
        return zf.read("AndroidManifest.xml")


def test_package_read_from_binary_manifest():
    xml = _manifest(CORPUS / "golden-aligned-in.apk")
    assert parse_manifest_sdk(xml, "m").package == TINYAPP
    # the attribute's value is really that string in the manifest's UTF-16 string pool
    assert TINYAPP.encode("utf-16-le") in xml


def test_package_absent_when_manifest_has_none():
    xml = bytearray(_manifest(CORPUS / "golden-aligned-in.apk"))
    at = xml.find("package".encode("utf-16-le"))
    xml[at : at + 2] = "q".encode("utf-16-le")  # rename the attribute: no package any more
    assert parse_manifest_sdk(bytes(xml), "m").package is None


def test_report_and_json_carry_the_package():
    apk = CORPUS / "v1v2v3-with-rsa-2048-lineage-3-signers.apk"
    assert inspect_apk(apk).package == TINYAPP
    out = subprocess.run([sys.executable, "-m", "simtool.cli", "digest", "--json", str(apk)],
                         capture_output=True, text=True)
    assert out.returncode == 0
    assert json.loads(out.stdout)[0]["package"] == TINYAPP
