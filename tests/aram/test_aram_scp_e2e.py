"""``simtool aram`` through a security domain, end to end: the CLI in a subprocess, pcscd +
vpcd, and simulated cards whose ARA-M is locked behind an ISD speaking SCP02 (sysmocom's
locked applet, KVN 0x70, T=0) or SCP03 (KVN 0x30, T=1, S8 and S16): add, list and apply at every
security level; a wrong key set stops before EXTERNAL AUTHENTICATE with exit 10; ``--trace``
never shows a key; ``apply --watch`` provisions a batch with per-ICCID keys from a vendor CSV."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.rig.pcsc_fixtures import pcsc_rig  # noqa: F401  (the fixture)

HASHES = [f"{n:02d}" * 20 for n in (11, 22, 33)]
LEVELS = ("mac", "mac+enc", "mac+enc+rmac", "mac+enc+rmac+renc")


def _keys(seed: int, length: int = 16) -> tuple[bytes, bytes, bytes]:
    return tuple(bytes((seed * 16 + k * 5 + i) & 0xFF for i in range(length)) for k in range(3))  # type: ignore[return-value]


def _key_file(tmp_path: Path, keys: tuple[bytes, bytes, bytes], name: str = "keys.toml") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(f'{n} = "{k.hex()}"' for n, k in zip(("enc", "mac", "dek"), keys)) + "\n")
    return path


def _simtool(rig, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simtool.cli", *args], env={**rig.env, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def _rules_file(tmp_path: Path, hashes: list[str]) -> Path:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": [{"hash": h, "apdu": "always"} for h in hashes]}))
    return path


SCP_CASES = [("sysmo-locked", "--scp02", "0x70", level, ()) for level in LEVELS[:2]]
SCP_CASES += [("scp03", "--scp03", "0x30", level, ()) for level in LEVELS]
SCP_CASES += [("scp03-s16", "--scp03", "48", "mac+enc+rmac+renc", ("--scp03-s16",))]
SCP_CASES += [("scp03-t0", "--scp03", "0x30", "mac+enc+rmac+renc", ())]  # R-MAC'd answers via 61xx


@pytest.mark.parametrize("profile,scp,kvn,level,extra", SCP_CASES, ids=lambda v: str(v))
def test_locked_aram_add_list_apply_through_the_isd(pcsc_rig, tmp_path, profile, scp, kvn, level, extra):
    keys = _keys(3)
    card = pcsc_rig.insert_card(profile, isd_keys=keys)
    opts = [scp, "--kvn", kvn, "--security-level", level, "--key-file", str(_key_file(tmp_path, keys)), *extra]
    direct = _simtool(pcsc_rig, "aram", "add", "--hash", HASHES[0])
    assert direct.returncode == 5 and "6982" in direct.stderr  # locked: not without the ISD
    added = _simtool(pcsc_rig, "aram", "add", "--hash", HASHES[0], *opts, "--json")
    assert added.returncode == 0, added.stderr
    doc = json.loads(added.stdout)
    assert doc["verified"] is True
    assert doc["secure_channel"]["scp"] == scp[2:].upper() and doc["secure_channel"]["kvn"] == int(kvn, 0)
    assert doc["secure_channel"]["security_level"] == level and set(doc["secure_channel"]["kcv"]) == {"ENC", "MAC", "DEK"}
    assert f"secure channel open: KVN 0x{int(kvn, 0):02X}, security level {level}" in added.stderr
    applied = _simtool(pcsc_rig, "aram", "apply", str(_rules_file(tmp_path, HASHES)), "--prune", *opts)
    assert applied.returncode == 0, applied.stderr
    listed = _simtool(pcsc_rig, "aram", "list", "--json", *opts)  # a read that checks the keys too
    assert listed.returncode == 0, listed.stderr
    assert sorted(r["hash"].lower() for r in json.loads(listed.stdout)) == sorted(HASHES)
    state = card.state()
    assert len(state["rules"]) == 3 and state["isd_tries_left"] == 3
    # the one plain STORE DATA (the direct try) was refused; every one the card took came wrapped
    stores = [(c, r[-4:]) for c, r in state["apdus"] if c[2:4] == "E2"]
    assert [sw for c, sw in stores if not int(c[:2], 16) & 0x04] == ["6982"]
    wrapped = [sw for c, sw in stores if int(c[:2], 16) & 0x04]
    # apply replaces HASHES[0]'s rule: it tries the new rule first (so a pull never leaves the
    # app with none), this card refuses two rules with one REF-DO (6A89), the old one goes first
    assert wrapped.count("6A89") <= 1
    assert len(wrapped) >= 4 and all(sw in ("9000", "6A89") or sw.startswith("61") for sw in wrapped), " ".join(wrapped)


def test_wrong_keys_stop_before_external_authenticate_with_kcvs(pcsc_rig, tmp_path):
    card = pcsc_rig.insert_card("scp03", isd_keys=_keys(3))
    wrong = _key_file(tmp_path, _keys(4))
    for _ in range(4):  # more than the card's 3 attempts: none is spent
        run = _simtool(pcsc_rig, "aram", "add", "--hash", HASHES[0], "--scp03", "--kvn", "0x30", "--key-file", str(wrong))
        assert run.returncode == 10, run.stderr
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and "card cryptogram mismatch at KVN 0x30" in lines[0]
        assert "EXTERNAL AUTHENTICATE not sent" in lines[0] and "KCV ENC " in lines[0]
    state = card.state()
    assert state["isd_tries_left"] == 3 and state["rules"] == []
    assert not [c for c, _ in state["apdus"] if c[2:4] == "82"]


def test_trace_shows_no_key_and_env_keys_work(pcsc_rig, tmp_path):
    keys = _keys(5)
    pcsc_rig.insert_card("sysmo-locked", isd_keys=keys)
    env = {"SIMTOOL_SCP_ENC": keys[0].hex(), "SIMTOOL_SCP_MAC": keys[1].hex(), "SIMTOOL_SCP_DEK": keys[2].hex()}
    run = _simtool(pcsc_rig, "aram", "add", "--hash", HASHES[1], "--scp02", "--kvn", "112", "--security-level",
                   "mac+enc", "--trace", env=env)
    assert run.returncode == 0, run.stderr
    assert "apdu > 8050700008" in run.stderr  # the trace is there …
    for key in keys:
        assert key.hex().upper() not in run.stderr.upper() and key.hex() not in run.stdout  # … without keys


def test_options_need_a_protocol_and_keys_never_default(pcsc_rig, tmp_path):
    pcsc_rig.insert_card("scp03", isd_keys=_keys(3))
    run = _simtool(pcsc_rig, "aram", "list", "--kvn", "0x30")
    assert run.returncode == 2 and "--kvn needs --scp02 or --scp03" in run.stderr
    run = _simtool(pcsc_rig, "aram", "list", "--scp03", "--kvn", "0x30")  # no file, no env, no terminal
    assert run.returncode == 1 and "SIMTOOL_SCP_ENC" in run.stderr
    run = _simtool(pcsc_rig, "aram", "list", "--scp02", "--security-level", "mac+enc+rmac", "--test-key")
    assert run.returncode == 10 and "R-MAC and R-ENC are SCP03" in run.stderr


def test_watch_provisions_a_batch_with_per_iccid_keys(pcsc_rig, tmp_path):
    cards = {f"894944000000000{n:04d}": _keys(n) for n in (201, 202, 203)}
    stranger = "8949440000000000299"  # not in the vendor file
    sheet = tmp_path / "vendor.csv"
    with sheet.open("w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["ICCID", "IMSI", "ADM1", "KIC1", "KID1", "KIK1"])
        for iccid, (enc, mac, dek) in cards.items():
            w.writerow([iccid, "001010000000001", "12345678", enc.hex().upper(), mac.hex().upper(), dek.hex().upper()])
    log = tmp_path / "audit.csv"
    proc = subprocess.Popen([sys.executable, "-m", "simtool.cli", "aram", "apply", str(_rules_file(tmp_path, HASHES)),
                             "--watch", "--log", str(log), "--count", "4", "--scp02", "--kvn", "0x70",
                             "--security-level", "mac+enc", "--key-file", str(sheet)],
                            env=pcsc_rig.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        handles = []
        for number, iccid in enumerate([*cards, stranger], start=1):
            handle = pcsc_rig.insert_card("sysmo-locked", iccid=iccid, isd_keys=cards.get(iccid, _keys(9)))
            deadline = time.monotonic() + 60
            while not (log.exists() and len(log.read_text().splitlines()) == number + 1):
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.05)
            handles.append(handle)
            pcsc_rig.remove_card()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 7, err  # one card of the batch failed
    rows = list(csv.DictReader(log.open()))
    assert [(r["iccid"], r["result"], r["added"]) for r in rows] == [
        *[(iccid, "applied", "3") for iccid in cards], (stranger, "failed", "0")]
    assert f"no row for ICCID {stranger}" in rows[3]["detail"]
    assert [len(h.state()["rules"]) for h in handles] == [3, 3, 3, 0]
    assert all(h.state()["isd_tries_left"] == 3 for h in handles)
