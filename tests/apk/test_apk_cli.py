"""The ``simtool digest`` CLI in a child process: JSON contract, text lines, exit statuses,
keystore password sources (keytool makes the keystores)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "apksig-golden"
SIMTOOL = [str(Path(sys.executable).with_name("simtool"))]
ROTATED = CORPUS / "v1v2v3-with-rsa-2048-lineage-3-signers.apk"
ORIGINAL_SHA1 = "0aa07c0f297b4ae834dc85a17eea8c2cf9380ff7"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SIMTOOL, "digest", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL, timeout=60)


def test_json_contract_on_rotated_apk() -> None:
    proc = run("--json", str(ROTATED))
    assert proc.returncode == 0, proc.stderr
    (report,) = json.loads(proc.stdout)
    for key in ("path", "verified", "schemes", "signers", "lineage", "recommended_sha1", "errors"):
        assert key in report
    assert report["verified"] is True and report["errors"] == []
    assert report["schemes"] == {"v1": True, "v2": True, "v3": True, "v3.1": False, "v4": False,
                                 "stamp": False}
    (signer,) = report["signers"]
    assert set(signer) >= {"scheme", "min_sdk", "max_sdk", "subject", "sha1", "sha256", "md5"}
    assert signer["scheme"] == "v3" and signer["subject"] == "CN=rsa-2048_3"
    assert [n["subject"] for n in report["lineage"]] == ["CN=rsa-2048", "CN=rsa-2048_2", "CN=rsa-2048_3"]
    assert report["recommended_sha1"] == ORIGINAL_SHA1


def test_text_output_mirrors_apksigner() -> None:
    proc = run(str(ROTATED))
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert "Signer #1 certificate DN: CN=rsa-2048_3" in lines
    assert any(ln.startswith("simtool: SIM hash") and ORIGINAL_SHA1 in ln for ln in lines)


def test_v31_text_uses_sdk_range_labels() -> None:
    proc = run(str(CORPUS / "v31-rsa-2048_2-tgt-33-1-tgt-28.apk"))
    assert proc.returncode == 0
    assert ("Signer (minSdkVersion=32 (dev release=true), maxSdkVersion=2147483647) certificate "
            "DN: CN=rsa-2048_2") in proc.stdout
    assert "Signer (minSdkVersion=24, maxSdkVersion=32) certificate DN: CN=rsa-2048" in proc.stdout


def test_exit_status_when_one_input_fails() -> None:
    proc = run("--json", "--verify", str(ROTATED),
               str(CORPUS / "v2-only-with-rsa-pkcs1-sha512-4096-digest-mismatch.apk"),
               "--min-sdk-version", "24")
    assert proc.returncode == 1
    ok, bad = json.loads(proc.stdout)
    assert ok["verified"] and not bad["verified"]
    assert "CHUNKED_SHA512 digest mismatch" in bad["errors"][0]
    assert proc.stderr.count("\n") == 1 and "does not verify" in proc.stderr


def test_default_does_not_hash_contents_but_verify_does() -> None:
    apk = str(CORPUS / "v2-only-with-rsa-pkcs1-sha512-4096-digest-mismatch.apk")
    assert run("--min-sdk-version", "24", apk).returncode == 0
    assert run("--min-sdk-version", "24", "--verify", apk).returncode == 1


def test_bad_input_one_line_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.apk"
    bad.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    proc = run(str(bad))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"simtool: error: {bad}: not a ZIP archive: no end-of-central-directory record"]


def test_min_greater_than_max_is_usage_error() -> None:
    proc = run("--min-sdk-version", "30", "--max-sdk-version", "20", str(ROTATED))
    assert proc.returncode == 2


@pytest.fixture(scope="module")
def keystores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A JKS and a PKCS#12 keystore and the PEM certificate, made by keytool."""
    d = tmp_path_factory.mktemp("ks")
    out = {}
    for kind in ("JKS", "PKCS12"):
        path = d / f"ks.{kind.lower()}"
        subprocess.run(["keytool", "-genkeypair", "-keystore", str(path), "-storetype", kind,
                        "-storepass", "secret12", "-keypass", "secret12", "-alias", "app",
                        "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                        "CN=App Key, O=Example", "-validity", "365"],
                       check=True, capture_output=True)
        out[kind] = path
    pem = d / "cert.pem"
    subprocess.run(["keytool", "-exportcert", "-rfc", "-keystore", str(out["JKS"]), "-storepass",
                    "secret12", "-alias", "app", "-file", str(pem)], check=True, capture_output=True)
    out["PEM"] = pem
    return out


def test_keystores_and_certificate_agree(keystores: dict[str, Path], tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("secret12\n")
    reports = {}
    for kind, path in keystores.items():
        proc = run("--json", "--password-file", str(pw), str(path))
        assert proc.returncode == 0, proc.stderr
        reports[kind] = json.loads(proc.stdout)[0]
    assert reports["JKS"]["recommended_sha1"] == reports["PEM"]["recommended_sha1"]  # same key
    assert reports["PKCS12"]["recommended_sha1"] is not None
    assert [r["kind"] for r in reports.values()] == ["jks", "pkcs12", "certificate"]
    reports = list(reports.values())
    assert {r["signers"][0]["subject"] for r in reports} == {"CN=App Key, O=Example"}


def test_keystore_password_from_env_and_wrong_password(keystores: dict[str, Path]) -> None:
    ok = run("--json", str(keystores["PKCS12"]), env={"SIMTOOL_KEYSTORE_PASSWORD": "secret12"})
    assert ok.returncode == 0
    bad = run(str(keystores["JKS"]), env={"SIMTOOL_KEYSTORE_PASSWORD": "wrong"})
    assert bad.returncode == 1 and "keystore password is wrong" in bad.stderr
    assert "wrong" not in bad.stderr.replace("is wrong", "")


def test_keytool_dsa_pkcs12(tmp_path: Path) -> None:
    """keytool's DSA certificates are refused by cryptography's PKCS#12 loader; ours reads
    them, and a wrong password is named as such (MAC check), not as a parse failure."""
    ks = tmp_path / "dsa.p12"
    subprocess.run(["keytool", "-genkeypair", "-keystore", str(ks), "-storetype", "PKCS12",
                    "-storepass", "secret12", "-alias", "d", "-keyalg", "DSA", "-keysize", "2048",
                    "-dname", "CN=dsa", "-validity", "100"], check=True, capture_output=True)
    listing = subprocess.run(["keytool", "-list", "-v", "-keystore", str(ks), "-storepass",
                              "secret12"], check=True, capture_output=True, text=True).stdout
    keytool_sha1 = next(ln.split("SHA1:")[1].strip() for ln in listing.splitlines()
                        if "SHA1:" in ln).replace(":", "").lower()
    ok = run("--json", str(ks), env={"SIMTOOL_KEYSTORE_PASSWORD": "secret12"})
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)[0]["recommended_sha1"] == keytool_sha1
    bad = run(str(ks), env={"SIMTOOL_KEYSTORE_PASSWORD": "nope"})
    assert bad.returncode == 1
    assert bad.stderr.strip() == f"simtool: error: {ks}: keystore password is wrong (PKCS#12 MAC does not match)"


def test_missing_password_fails_only_that_input(keystores: dict[str, Path]) -> None:
    """No password anywhere (no env, no file, no terminal): the PKCS#12 input fails with a
    one-line reason, the JKS is still listed (its certificates are not encrypted) with a
    warning, and the APK after them is still reported."""
    env = {k: v for k, v in os.environ.items() if k != "SIMTOOL_KEYSTORE_PASSWORD"}
    proc = subprocess.run([*SIMTOOL, "digest", "--json", str(keystores["PKCS12"]),
                           str(keystores["JKS"]), str(ROTATED)], capture_output=True, text=True,
                          env=env, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 1
    p12, jks, apk = json.loads(proc.stdout)
    assert not p12["verified"] and "SIMTOOL_KEYSTORE_PASSWORD" in p12["errors"][0]
    assert jks["verified"] and jks["warnings"] == [
        "no keystore password: the JKS integrity digest was not checked"]
    assert apk["verified"] and apk["recommended_sha1"] == ORIGINAL_SHA1
    assert proc.stderr.count("\n") == 1 and "cannot read keystore password" in proc.stderr


JSON_KEYS = {"path", "kind", "package", "verified", "full_verify", "schemes", "min_sdk", "max_sdk", "signers",
             "lineage", "source_stamp", "recommended_sha1", "recommended_sha256",
             "recommended_subject", "carrier_certificates", "errors", "warnings"}


def _mistakes(d: Path, pem: Path) -> dict[str, tuple[Path, str]]:
    """Inputs a user gets wrong, each with the one-line reason expected after its path."""
    (d / "adir").mkdir()
    (d / "empty").write_bytes(b"")
    (d / "notes.txt").write_text("the release key is in the safe\n")
    (d / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8)
    (d / "lonely.apk.idsig").write_bytes(b"\x02\0\0\0" + b"\0" * 60)
    ks = ["-keystore", str(d / "other.p12"), "-storetype", "PKCS12", "-storepass", "secret12"]
    subprocess.run(["keytool", "-genkeypair", *ks, "-alias", "o", "-keyalg", "EC", "-groupname",
                    "secp256r1", "-dname", "CN=Other", "-validity", "1"],
                   check=True, capture_output=True)
    other = subprocess.run(["keytool", "-exportcert", "-rfc", *ks, "-alias", "o"],
                           check=True, capture_output=True).stdout
    (d / "chain.pem").write_bytes(pem.read_bytes() + other)
    not_key = "not an APK, certificate (PEM/DER), PKCS#12 or JKS keystore"
    return {
        "directory": (d / "adir", "is a directory, not an APK, certificate or keystore file"),
        "missing": (d / "missing.apk", "cannot open: No such file or directory"),
        "empty": (d / "empty", "is empty (0 bytes)"),
        "text": (d / "notes.txt", not_key),
        "jpeg": (d / "photo.jpg", not_key),
        "idsig alone": (d / "lonely.apk.idsig", "a v4 signature (.idsig) is read beside its "
                        f"APK: give {d / 'lonely.apk'}, which is missing"),
        "two certificates": (d / "chain.pem", "holds 2 different certificates (CN=App Key, "
                             "O=Example; CN=Other): give a file with only the app's signing "
                             "certificate"),
    }


MISTAKES = ["directory", "missing", "empty", "text", "jpeg", "idsig alone", "two certificates"]


@pytest.mark.parametrize("mistake", MISTAKES)
def test_user_mistake_is_one_line_and_the_good_input_still_reported(
        mistake: str, keystores: dict[str, Path], tmp_path: Path) -> None:
    """Each mistake ends in one stderr line naming the input, exit 1, no traceback; the good
    input given after it is still reported, and the bad one's JSON has the same keys."""
    path, reason = _mistakes(tmp_path, keystores["PEM"])[mistake]
    text = run(str(path), str(ROTATED))
    assert text.returncode == 1 and "Traceback" not in text.stderr
    assert text.stderr.splitlines() == [f"simtool: error: {path}: {reason}"]
    assert text.stdout.startswith(f"== {ROTATED}\n") and ORIGINAL_SHA1 in text.stdout
    js = run("--json", str(path), str(ROTATED))
    assert js.returncode == 1
    bad, good = json.loads(js.stdout)
    assert set(bad) == set(good) == JSON_KEYS
    assert bad["path"] == str(path) and bad["kind"] is None and not bad["verified"]
    assert bad["errors"] == [reason]
    assert good["verified"] and good["recommended_sha1"] == ORIGINAL_SHA1


def test_pem_repeating_one_certificate_is_that_certificate(keystores: dict[str, Path],
                                                           tmp_path: Path) -> None:
    twice = tmp_path / "twice.pem"
    twice.write_bytes(keystores["PEM"].read_bytes() * 2)
    once, both = (json.loads(run("--json", str(p)).stdout)[0] for p in (keystores["PEM"], twice))
    assert len(both["signers"]) == 1 and both["recommended_sha1"] == once["recommended_sha1"]
    text = run(str(twice)).stdout.splitlines()
    assert f"simtool: SIM hash: SHA-1 {once['recommended_sha1']} (CN=App Key, O=Example)" in text


def test_password_prompt_on_a_terminal(keystores: dict[str, Path]) -> None:
    """No env var, no file, stdin a terminal: one hidden prompt on the terminal, its answer used
    for every keystore; a wrong answer fails that input with the one-line reason."""
    import pty

    def on_terminal(answer: str) -> tuple[str, int]:
        env = {k: v for k, v in os.environ.items() if k != "SIMTOOL_KEYSTORE_PASSWORD"}
        pid, fd = pty.fork()
        if pid == 0:  # child: the terminal is its stdin/stdout/stderr
            os.execve(SIMTOOL[0], [*SIMTOOL, "digest", "--json", str(keystores["PKCS12"]),
                                   str(keystores["JKS"])], env)
        out, sent = b"", False
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
            if not sent and b"Keystore password: " in out:
                os.write(fd, answer.encode() + b"\n")
                sent = True
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        return out.decode().replace("\r\n", "\n"), os.waitstatus_to_exitcode(status)

    out, code = on_terminal("secret12")
    assert code == 0, out
    assert out.count("Keystore password: ") == 1 and "secret12" not in out  # asked once, hidden
    reports = json.loads(out[out.index("["):])
    assert [r["kind"] for r in reports] == ["pkcs12", "jks"] and all(r["verified"] for r in reports)
    assert reports[1]["warnings"] == []  # the JKS integrity digest was checked with the answer
    out, code = on_terminal("wrong-one")
    assert code == 1
    assert f"simtool: error: {keystores['PKCS12']}: keystore password is wrong" in out


@pytest.mark.parametrize("storetype", ["PKCS12", "JKS"])
def test_keystore_with_ca_signed_key_reports_the_key_certificate(storetype: str,
                                                                 tmp_path: Path) -> None:
    """keytool: a key whose certificate a CA signed (chain leaf + CA) and the CA also imported as
    a trusted entry. The app is signed with the key's certificate: it is the one signer and the
    SIM hash; the CA (in the chain and as a trusted entry) is not listed."""
    import hashlib

    pw = tmp_path / "pw"
    pw.write_text("secret12\n")
    ca = ["-keystore", str(tmp_path / "ca.p12"), "-storetype", "PKCS12", "-storepass:file", str(pw)]
    ks = ["-keystore", str(tmp_path / f"app.{storetype.lower()}"), "-storetype", storetype,
          "-storepass:file", str(pw), "-keypass:file", str(pw)]

    def keytool(*args: str, stdin: bytes | None = None) -> bytes:
        return subprocess.run(["keytool", *args], input=stdin, check=True,
                              capture_output=True).stdout

    keytool("-genkeypair", *ca, "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1",
            "-dname", "CN=Test CA", "-ext", "bc:c", "-validity", "10")
    keytool("-genkeypair", *ks, "-alias", "app", "-keyalg", "EC", "-groupname", "secp256r1",
            "-dname", "CN=App Release", "-validity", "10")
    ca_pem = keytool("-exportcert", *ca, "-alias", "ca", "-rfc")
    keytool("-importcert", *ks, "-alias", "ca", "-noprompt", stdin=ca_pem)
    leaf = keytool("-gencert", *ca, "-alias", "ca", "-rfc",
                   stdin=keytool("-certreq", *ks, "-alias", "app"))
    keytool("-importcert", *ks, "-alias", "app", "-noprompt", stdin=leaf + ca_pem)
    app_der = keytool("-exportcert", *ks, "-alias", "app")
    proc = run("--json", "--password-file", str(pw), ks[1])
    assert proc.returncode == 0, proc.stderr
    (report,) = json.loads(proc.stdout)
    assert [(s["name"], s["subject"]) for s in report["signers"]] == [("app", "CN=App Release")]
    assert report["recommended_sha1"] == hashlib.sha1(app_der).hexdigest()
