"""The shared pieces every command relies on: error → exit status, secrets, atomic writes."""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pytest

from simtool import cli as simtool_cli
from simtool.errors import SecretError, SimtoolError
from simtool.fileio import atomic_write_text
from simtool.secrets import SecretSource, read_secret, redact
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
