"""The crontab lines of docs/wifiq-cron.md and the systemd pair in docs/systemd/ work as written,
with a failing name present (999-01 answers SERVFAIL): run by /bin/sh with cron's PATH, only the
installation paths swapped for this checkout's and the test's files, against knot on loopback.
The reload command is a recorder script standing in for /usr/sbin/nft."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "wifiq-cron.md"
UNITS = ROOT / "docs" / "systemd"
WIFIQ = "/opt/wifiq/.venv/bin/wifiq"
CRON_PATH = "/usr/bin:/bin"


def cron_lines() -> list[str]:
    block = re.search(r"```cron\n(.*?)```", DOCS.read_text(), re.S)
    assert block, "docs/wifiq-cron.md has no cron block"
    lines = [line for line in block.group(1).splitlines()
             if line.strip() and not line.startswith("#") and "=" not in line.split()[0]]
    return [line.split(None, 5)[5] for line in lines]


def setup(wifiq, knot, on_change: bool) -> tuple[dict[str, str], Path, Path]:
    """A config (a failing PLMN included) and a recorder for nft; returns the substitutions."""
    record = wifiq.home / "nft-calls"
    fake_nft = wifiq.home / "nft"
    fake_nft.write_text(f'#!/bin/sh\necho "$@" >> "{record}"\n')
    fake_nft.chmod(0o755)
    nft_file = wifiq.home / "wifiq-epdg.nft"
    cfg = wifiq.home / "wifiq.toml"
    hook = f'on_change = "{fake_nft} -f {nft_file}"\n' if on_change else ""
    cfg.write_text(
        f'state = "{wifiq.state}"\n{hook}[selection]\nplmns = ["505-01", "999-01"]\n'
        f'[resolve]\nresolvers = ["{knot.address}"]\ntimeout = 0.3\nretries = 0\n'
        f'[[outputs]]\ntarget = "nftables"\npath = "{nft_file}"\n')
    swap = {WIFIQ: f"{shlex.quote(sys.executable)} -m wifiq.cli", "/etc/wifiq.toml": str(cfg),
            "/usr/sbin/nft": str(fake_nft), "/etc/wifiq/wifiq-epdg.nft": str(nft_file)}
    return swap, record, nft_file


def as_installed(text: str, swap: dict[str, str]) -> str:
    for written, here in swap.items():
        text = text.replace(written, here)
    return text


def cron_env(wifiq) -> dict[str, str]:
    keep = {k: v for k, v in wifiq.env.items() if k.startswith(("XDG_", "HOME", "PYTHON"))}
    return {**keep, "PATH": CRON_PATH, "SHELL": "/bin/sh", "LANG": "C"}


@pytest.mark.parametrize("index", [0, 1])
def test_the_crontab_lines_reload_on_a_change_while_a_name_fails(wifiq, knot, index):
    line = cron_lines()[index]
    assert line.startswith(WIFIQ)  # an absolute path: cron's PATH has no .venv/bin
    swap, record, nft_file = setup(wifiq, knot, on_change=index == 0)
    command = as_installed(line, swap)
    first = subprocess.run(["/bin/sh", "-c", command], env=cron_env(wifiq), cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert "Traceback" not in first.stderr, first.stderr
    assert "+ 203.0.113.10" in first.stdout and nft_file.is_file()
    assert record.read_text().split() == ["-f", str(nft_file)]  # reloaded once, despite 999-01
    again = subprocess.run(["/bin/sh", "-c", command], env=cron_env(wifiq), cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert again.stdout.startswith("2 names still failing since ")
    assert len(record.read_text().splitlines()) == 1  # nothing changed: no reload


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read(UNITS / name)
    return parser


def test_the_systemd_service_counts_changes_and_partial_failures_as_success(wifiq, knot):
    service = unit("wifiq-refresh.service")["Service"]
    assert service["Type"] == "oneshot"
    success = {0, *map(int, service["SuccessExitStatus"].split())}
    assert success == {0, 3, 4, 5}  # 1 (fatal) and 2 (bad config) fail the unit
    swap, record, _ = setup(wifiq, knot, on_change=True)
    argv = shlex.split(as_installed(service["ExecStart"], swap))
    first = subprocess.run(argv, env=cron_env(wifiq), cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    assert first.returncode == 5 and first.returncode in success, first.stderr
    assert len(record.read_text().splitlines()) == 1
    second = subprocess.run(argv, env=cron_env(wifiq), cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert second.returncode == 4 and second.returncode in success
    broken = wifiq.home / "wifiq.toml"
    broken.write_text(broken.read_text() + "bogus = 1\n")
    bad = subprocess.run(argv, env=cron_env(wifiq), cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and bad.returncode not in success


def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (scripts/setup installs Debian's systemd)")
    for name in ("wifiq-refresh.service", "wifiq-refresh.timer"):
        text = (UNITS / name).read_text()
        # verify checks that the program exists: point it at this checkout's interpreter
        (tmp_path / name).write_text(text.replace(WIFIQ, sys.executable))
    done = subprocess.run([analyze, "verify", str(tmp_path / "wifiq-refresh.service"),
                           str(tmp_path / "wifiq-refresh.timer")],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"})
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr
    timer = unit("wifiq-refresh.timer")
    assert timer["Timer"]["OnCalendar"] == "*:0/15" and timer["Install"]["WantedBy"]


def test_the_world_recipe_writes_a_config_of_every_mcc(tmp_path):
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed (scripts/setup installs the Debian package jq)")
    text = DOCS.read_text()
    recipe = re.search(r"For the whole world.*?```sh\n(.*?)```", text, re.S)
    assert recipe, "docs/wifiq-cron.md has no world recipe"
    out = tmp_path / "wifiq-world.toml"
    command = as_installed(recipe.group(1), {WIFIQ: f"{shlex.quote(sys.executable)} -m wifiq.cli",
                                             "/etc/wifiq-world.toml": str(out)})
    done = subprocess.run(["/bin/sh", "-c", command], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PATH": CRON_PATH})
    assert done.returncode == 0, done.stderr
    from wifiq.config import load_config
    from wifiq.operators import load_operators

    selection = load_config(out).selection
    assert set(selection.mccs) == {op.plmn.mcc for op in load_operators().all()}
    assert len(selection.mccs) > 200
