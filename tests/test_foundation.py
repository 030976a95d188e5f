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


def _setup_with_shims(tmp_path, uid: int, not_installed: set[str]):
    """Run a copy of scripts/setup with ``id``, ``dpkg-query``, ``apt-get`` and the Python
    replaced by shims: which user it is, which Debian packages are missing, and what it then
    ran (recorded in ``calls``). The Python shim stops the script at the venv step."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    work = tmp_path / "clone"
    (work / "scripts").mkdir(parents=True)
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
        "apt-get": f'echo "apt-get $*" >> {calls}',
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
