"""The shared pieces every command relies on: error → exit status, secrets, atomic writes."""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pytest

from simtool import cli as simtool_cli
from carrierkit.errors import SecretError
from simtool.errors import SimtoolError
from carrierkit.fileio import atomic_write_text
from carrierkit.secrets import SecretSource, read_secret, redact
from wifiq import cli as wifiq_cli


@pytest.mark.parametrize("tool", ["simtool", "wifiq"])
def test_console_scripts_run(tool):
    out = subprocess.run(
        [sys.executable, "-m", f"{tool}.cli", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert out.stdout.startswith(f"{tool}, version ")


def test_error_becomes_one_line_and_exit_code(capsys):
    @click.command("boom")
    def boom():
        err = SimtoolError("bad thing in x.apk")
        err.exit_code = 7
        raise err

    simtool_cli.cli.add_command(boom)
    try:
        assert simtool_cli.main(["boom"]) == 7
    finally:
        simtool_cli.cli.commands.pop("boom")
    assert capsys.readouterr().err == "simtool: error: bad thing in x.apk\n"


def test_command_return_value_is_exit_status():
    @click.command("three")
    def three():
        return 3

    wifiq_cli.cli.add_command(three)
    try:
        assert wifiq_cli.main(["three"]) == 3
    finally:
        wifiq_cli.cli.commands.pop("three")


def test_secret_from_env_then_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMTOOL_TEST_SECRET", "s3cret")
    assert read_secret(SecretSource("test secret", "SIMTOOL_TEST_SECRET")) == "s3cret"
    f = tmp_path / "pw"
    f.write_text("fromfile\nignored\n")
    # an explicit file wins over the environment
    assert read_secret(SecretSource("test secret", "SIMTOOL_TEST_SECRET", file=f)) == "fromfile"


def test_missing_secret_names_the_variable(monkeypatch):
    monkeypatch.delenv("SIMTOOL_TEST_SECRET", raising=False)
    monkeypatch.setattr(sys, "stdin", None)
    with pytest.raises(SecretError, match="SIMTOOL_TEST_SECRET"):
        read_secret(SecretSource("test secret", "SIMTOOL_TEST_SECRET", prompt="pw"))
    assert read_secret(SecretSource("x", "SIMTOOL_TEST_SECRET"), required=False) is None


def test_redact_keeps_only_length():
    assert redact("3838383838383838") == "<redacted 16 chars>"
    assert "38" not in redact(b"\x38" * 8)


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "state.txt"
    target.write_text("old")
    atomic_write_text(target, "new contents")
    assert target.read_text() == "new contents"
    assert os.listdir(tmp_path) == ["state.txt"]  # no temp file left behind


def test_atomic_write_failure_keeps_old_file(tmp_path):
    target = tmp_path / "state.txt"
    target.write_text("old")
    with pytest.raises(IsADirectoryError):
        # the rename fails (target replaced by a directory): the temp file must not stay
        target.unlink()
        target.mkdir()
        (target / "keep").write_text("old")
        atomic_write_text(target, "new")
    target = target / "keep"
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["state.txt"]


# Every outside tool the suite drives, and the Debian package scripts/setup installs it from.
# A missing one would turn integration tests into skips; here it is a failure instead.
REQUIRED_TOOLS = {
    "apksigner": "apksigner",
    "zipalign": "zipalign",
    "keytool": "openjdk-17-jre-headless",
    "pcscd": "pcscd",
    "knotd": "knot",
    "knotc": "knot",
    "kdig": "knot-dnsutils",
    "nft": "nftables",
    "iptables-restore": "iptables",
    "ip6tables-restore": "iptables",
    "ipset": "ipset",
    "ip": "iproute2",
    "unshare": "util-linux",
    "nsenter": "util-linux",
    "certutil": "libnss3-tools",
}


@pytest.mark.parametrize("tool", sorted(REQUIRED_TOOLS))
def test_setup_installed_tool(tool):
    import shutil

    path = shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    assert path, f"{tool} missing: scripts/setup must install Debian package {REQUIRED_TOOLS[tool]}"


def test_setup_installed_vpcd_driver():
    from pathlib import Path

    assert Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so").exists(), (
        "vpcd driver missing: scripts/setup must install Debian package vsmartcard-vpcd"
    )


def test_setup_unpacked_pluto():
    """libreswan's pluto (the responder of the wifiq probe's REDIRECT tests) is unpacked from its
    .deb, not installed (it conflicts with strongswan-libcharon): scripts/setup does it as root."""
    from tests.rig.pluto import PLUTO, TREE, version

    assert PLUTO.exists(), f"{PLUTO} missing: scripts/setup (as root) unpacks libreswan's .deb"
    assert version().startswith("4."), version()
    ldd = subprocess.run(["ldd", str(PLUTO)], capture_output=True, text=True, check=True).stdout
    assert "not found" not in ldd, f"scripts/setup must install pluto's libraries:\n{ldd}"
    listed = subprocess.run(["git", "-C", str(TREE.parents[1]), "ls-files", ".cache"],
                            capture_output=True, text=True, check=True).stdout
    assert listed == ""  # the unpacked tree stays out of git


def _setup_with_shims(tmp_path, uid: int, not_installed: set[str], pluto: bool = False,
                      fetch_fails: bool = False):
    """Run a copy of scripts/setup with ``id``, ``dpkg-query``, ``apt-get``, ``dpkg-deb`` and the
    Python replaced by shims: which user it is, which Debian packages are missing, whether
    libreswan is already unpacked (``pluto``) or cannot be downloaded (``fetch_fails``), and
    what it then ran (recorded in ``calls``; ``apt-get download`` leaves a .deb, ``dpkg-deb -x``
    a pluto). The Python shim stops the script at the venv step."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    work = tmp_path / "clone"
    (work / "scripts").mkdir(parents=True)
    if pluto:
        (work / ".cache/libreswan/usr/libexec/ipsec").mkdir(parents=True)
        (work / ".cache/libreswan/usr/libexec/ipsec/pluto").write_text("")
        (work / ".cache/libreswan/usr/libexec/ipsec/pluto").chmod(0o755)
    (work / "scripts" / "setup").write_bytes((root / "scripts" / "setup").read_bytes())
    (work / "scripts" / "setup").chmod(0o755)
    shims = tmp_path / "shims"
    shims.mkdir()
    calls = tmp_path / "calls"
    missing = " ".join(sorted(not_installed))
    scripts = {
        "id": f'echo {uid}',
        "dpkg-query": f'for a; do last=$a; done\ncase " {missing} " in *" $last "*) exit 1;; esac\n'
                      'echo "install ok installed"',
        "apt-get": f'echo "apt-get $*" >> {calls}\n' + (
            'case "$1" in download) echo "E: Unable to locate package libreswan" >&2; exit 100;;'
            ' esac' if fetch_fails else
            'case "$1" in download) : > libreswan_4.10-2+deb12u1_amd64.deb;; esac'),
        "dpkg-deb": f'echo "dpkg-deb $1 ${{2##*/}}" >> {calls}\n'
                    'case "$1" in -x) mkdir -p "$3/usr/libexec/ipsec" && '
                    ': > "$3/usr/libexec/ipsec/pluto" && chmod +x "$3/usr/libexec/ipsec/pluto";;\n'
                    '-f) echo 4.10-2+deb12u1;; esac',
        "python-shim": f'echo "python $*" >> {calls}; exit 3',
    }
    for name, body in scripts.items():
        (shims / name).write_text(f"#!/bin/sh\n{body}\n")
        (shims / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{shims}:{os.environ['PATH']}", "PYTHON": str(shims / "python-shim")}
    proc = subprocess.run([str(work / "scripts" / "setup")], capture_output=True, text=True,
                          env=env, timeout=60)
    return proc, calls.read_text().splitlines() if calls.exists() else []


def test_setup_not_root_names_missing_packages_and_stops(tmp_path):
    proc, calls = _setup_with_shims(tmp_path, 1000, {"apksigner", "knot"})
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "setup: missing Debian packages: apksigner knot",
        "setup: install them with: sudo apt-get install apksigner knot"]
    assert calls == []  # neither apt-get nor the venv


def test_setup_not_root_with_everything_installed_goes_on(tmp_path):
    proc, calls = _setup_with_shims(tmp_path, 1000, set())
    assert calls[-1] == "python -m venv .venv" and proc.returncode == 3  # the shim's exit


def test_setup_as_root_installs_what_is_missing(tmp_path):
    proc, calls = _setup_with_shims(tmp_path, 0, {"knot"})
    assert "apt-get update -qq" in calls
    assert "apt-get install -y -qq --no-install-recommends knot" in calls
    assert calls[-1] == "python -m venv .venv"


def test_setup_as_root_unpacks_libreswan_once(tmp_path):
    """libreswan's .deb is downloaded and unpacked into .cache/libreswan (never dpkg -i), with
    its version beside it; a second run with the tree in place fetches nothing."""
    proc, calls = _setup_with_shims(tmp_path, 0, set())
    assert calls == ["apt-get download -qq -o APT::Sandbox::User=root libreswan",
                     "dpkg-deb -x libreswan_4.10-2+deb12u1_amd64.deb",
                     "dpkg-deb -f libreswan_4.10-2+deb12u1_amd64.deb",
                     "python --version", "python -m venv .venv"], proc.stderr
    tree = tmp_path / "clone" / ".cache" / "libreswan"
    assert (tree / "usr/libexec/ipsec/pluto").exists()
    assert (tree / ".version").read_text() == "4.10-2+deb12u1\n"
    assert [p.name for p in tree.parent.iterdir()] == ["libreswan"]  # no download left over
    again, calls = _setup_with_shims(tmp_path / "again", 0, set(), pluto=True)
    assert calls == ["python --version", "python -m venv .venv"], again.stderr


def test_setup_as_root_stops_when_libreswan_cannot_be_fetched(tmp_path):
    """apt-get download fails (no network, no such package): setup updates the lists, tries
    once more, then stops with the failure, before the venv; nothing half unpacked is left."""
    proc, calls = _setup_with_shims(tmp_path, 0, set(), fetch_fails=True)
    assert proc.returncode == 100
    assert "E: Unable to locate package libreswan" in proc.stderr
    assert calls == ["apt-get download -qq -o APT::Sandbox::User=root libreswan",
                     "apt-get update -qq",
                     "apt-get download -qq -o APT::Sandbox::User=root libreswan"]
    assert list((tmp_path / "clone" / ".cache").iterdir()) == []


def test_setup_not_root_without_libreswan_says_so(tmp_path):
    proc, calls = _setup_with_shims(tmp_path, 1000, set())
    assert calls == ["python --version", "python -m venv .venv"]
    assert "setup: libreswan's pluto is not unpacked in .cache/libreswan: run scripts/setup as " \
           "root (without it the wifiq probe's redirect tests are skipped)" in proc.stderr
