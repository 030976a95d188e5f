"""Input hygiene: numbers in plain ASCII digits, resolvers that are unicast addresses, no silent
fallback from an empty config value, and one line (never a traceback) for a NUL in a path, a
full disk under a new state and a terminal that cannot show an operator's name."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SEL = ("--plmn", "505-01", "--timeout", "0.2", "--retries", "0")


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) >= 1 and "Traceback" not in err, err
    return lines[-1]


@pytest.mark.parametrize("option, value", [
    ("--samples", "１"), ("--samples", "1_0"), ("--samples", "0b11"), ("--samples", "٣"),
    ("--retries", "０"), ("--retries", "0x1"), ("--concurrency", "1_000"),
    ("--timeout", "１.５"), ("--timeout", "1_0"), ("--timeout", "1e-1"), ("--timeout", "0x1"),
])
def test_numeric_options_take_ascii_digits_only(wifiq, silent, option, value):
    run = wifiq("resolve", *SEL, option, value, "--resolver", silent.address)
    assert run.code == 2, run.err
    line = _one_line(run.err)
    assert option in line and repr(value) in line


@pytest.mark.parametrize("value", ["0b101", "1_000", "１２", "0o17", "12 "])
def test_area_codes_take_decimal_or_0x_hex_only(wifiq, silent, value):
    run = wifiq("resolve", *SEL, "--kind", "lac", "--lac", value, "--resolver", silent.address)
    assert run.code == 2, run.err
    assert f"invalid --lac {value!r}" in _one_line(run.err)


def test_wait_and_the_plain_forms_still_work(wifiq, silent):
    bad = wifiq("refresh", *SEL, "--wait", "６０", "--resolver", silent.address)
    assert bad.code == 2 and "'--wait'" in _one_line(bad.err)
    ok = wifiq("resolve", "--plmn", "505-01", "--kind", "lac", "--lac", "0x2a", "--samples", "1",
               "--timeout", ".2", "--retries", "0", "--resolver", silent.address)
    assert ok.code == 1, ok.err  # parsed fine; the silent resolver makes every lookup fail


@pytest.mark.parametrize("value", ["0b101", "1_0", "４６", "0o7"])
def test_render_dscp_takes_plain_numbers(wifiq, tmp_path: Path, value):
    doc = tmp_path / "doc.json"
    doc.write_text(json.dumps({"status": "resolved", "refreshed_at": "2026-11-26T09:35:24Z",
                               "wifiq_version": "0", "operators": []}))
    run = wifiq("render", "nftables", "--from", str(doc), "--dscp", value)
    assert run.code == 2, run.err
    assert f"--dscp {value!r}" in _one_line(run.err)


@pytest.mark.parametrize("resolver, kind", [
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("[::]:53", "unspecified"),
    ("224.0.0.251:5353", "multicast"), ("ff02::fb", "multicast"),
    ("255.255.255.255", "broadcast"), ("[::ffff:239.1.1.1]:53", "multicast"),
    ("127.0.0.1:５３", "port must be 1-65535"),
])
def test_resolvers_must_be_unicast(wifiq, resolver, kind):
    run = wifiq("resolve", *SEL, "--resolver", resolver)
    assert run.code == 2, run.err
    line = _one_line(run.err)
    assert f"bad resolver {resolver!r}" in line and kind in line


@pytest.mark.parametrize("text, key, problem", [
    ('[resolve]\nresolvers = []\n', "resolve.resolvers", "is empty"),
    ('[resolve]\nresolvers = ["0.0.0.0"]\n', "", "unspecified"),
    ('[resolve]\nresolvers = ["224.0.0.1:53"]\n', "", "multicast"),
    ('state = ""\n', "state", "non-empty"),
    ('state = "a\\u0000b"\n', "state", "contains a NUL character"),
    ('[[outputs]]\ntarget = "nftables"\npath = "x\\u0000.nft"\n', "outputs[0].path", "NUL"),
    ('[resolve]\nsamples = 1_0\n', "samples", "plain decimal digits"),
    ('[resolve]\nretries = 0b1\n', "retries", "plain decimal digits"),
    ('[resolve]\ntimeout = 1_0.5\n', "timeout", "plain decimal digits"),
    ('[resolve]\nconcurrency = 0x10\n', "concurrency", "0x only for tac and lac"),
    ('[selection]\nplmns = ["505-01"]\ntac = 0o17\n', "tac", "plain decimal digits"),
    ('[holddown]\nage = "１d"\n', "", "bad duration"),
    ('[holddown]\nmax_removal_percent = 1_00\n', "max_removal_percent", "plain decimal"),
    ('[holddown]\nmax_removal_percent = 101\n', "holddown.max_removal_percent", "0-100"),
    ('[holddown]\nallow_mass_removal = "yes"\n', "holddown.allow_mass_removal", "true or false"),
    ('[[outputs]]\ntarget = "nftables"\npath = "x.nft"\ndscp = "４６"\n', "outputs[0].dscp",
     "plain digits"),
])
def test_bad_config_values_are_one_line_and_nothing_is_asked(wifiq, tmp_path: Path, text, key,
                                                              problem):
    config = tmp_path / "wifiq.toml"
    if "[selection]" not in text:
        text = (text + '[selection]\nplmns = ["505-01"]\n' if not text.startswith("[")
                else '[selection]\nplmns = ["505-01"]\n' + text)
    config.write_text(text)
    # no --resolver: an empty resolvers list must not fall back to the system's (the DNS guard
    # of tests/conftest.py fails the test if anything reads /etc/resolv.conf)
    run = wifiq("refresh", "--config", str(config), "--state", str(wifiq.state))
    assert run.code == 2, run.err
    line = _one_line(run.err)
    assert line.startswith(f"wifiq: error: config {config}: {key}") and problem in line
    assert not wifiq.state.exists()


def test_config_numbers_in_strings_and_comments_are_not_numbers(wifiq, silent, tmp_path: Path):
    config = tmp_path / "wifiq.toml"
    config.write_text(f'state = "{tmp_path}/st_1_0b1.sqlite"  # samples = 1_000\n'
                      '[selection]\nplmns = ["505-01"]\ntac = 0x1b1a\n'
                      f'[resolve]\nresolvers = ["{silent.address}"]\ntimeout = 0.2\nretries = 0\n'
                      'samples = 2\n')
    run = wifiq("refresh", "--config", str(config))
    assert run.code == 1, run.err  # accepted; every lookup to the silent port failed
    assert (tmp_path / "st_1_0b1.sqlite").exists()


@pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0,
                    reason="needs root and unshare for a private tmpfs")
@pytest.mark.parametrize("fill_kib", [0, 40, 62, 64])
def test_full_disk_when_creating_a_new_state_is_one_line(wifiq, silent, tmp_path: Path,
                                                         fill_kib):
    """A 64 KiB tmpfs in a private mount namespace, filled to ``fill_kib`` before a first
    refresh creates its state there (62: room for the lock file, not for its pid)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    state = mount / "wifiq" / "state.sqlite"
    fill = f"dd if=/dev/zero of={mount}/fill bs=1k count={fill_kib} 2>/dev/null; " \
        if fill_kib else ""
    script = (f"mount -t tmpfs -o size=64k tmpfs {mount} && {fill}"
              f"exec {sys.executable} -m wifiq.cli refresh --plmn 505-01 --resolver "
              f"{silent.address} --timeout 0.2 --retries 0 --state {state}")
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                          env=wifiq.env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    line = _one_line(proc.stderr)
    assert line.startswith(f"wifiq: error: state file {state}: ")
    assert any(word in line for word in ("full", "disk", "space")), line


@pytest.mark.parametrize("env, json_out", [
    ({"PYTHONIOENCODING": "latin-1"}, False), ({"PYTHONIOENCODING": "latin-1"}, True),
    ({"PYTHONIOENCODING": "iso8859-2:strict"}, False), ({"LC_ALL": "C", "LANG": "C"}, False),
])
def test_operators_under_a_narrow_encoding_escape_instead_of_failing(wifiq, env, json_out):
    """'ŽSR' cannot be written in latin-1: escaped as \\u017d, never a traceback (and where the
    encoding has the character, as in latin-2, it is written as it is)."""
    encoding = env.get("PYTHONIOENCODING", "utf-8").split(":")[0]
    proc = subprocess.run([sys.executable, "-m", "wifiq.cli", "operators", "--country", "SK",
                           *(["--json"] if json_out else [])],
                          env={**wifiq.env, **env}, capture_output=True, timeout=60)
    err = proc.stderr.decode(encoding, "replace")
    assert proc.returncode == 0 and "Traceback" not in err, err
    out = proc.stdout.decode(encoding)
    if json_out:  # the escape is a JSON escape: the document still reads as the real name
        assert "ŽSR" in [op["brand"] for op in json.loads(out)["operators"]]
    elif encoding == "latin-1":
        assert "\\u017dSR" in out and "Slovakia" in out
    else:
        assert "ŽSR" in out  # latin-2 has Ž; the C locale is coerced to UTF-8 by Python
