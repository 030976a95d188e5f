"""`simtool lab`: the documented way to try simtool without hardware, and every `simtool aram`
example of the README run against it, as a user would type them (root: private namespaces).

Each command runs as its own process with only the environment `eval "$(simtool lab start)"`
gives a shell (PCSCLITE_CSOCK_NAME), in a fresh folder. Placeholders the README leaves to the
reader are filled in: app.apk is an APK of the test corpus, <SHA-1> the seed hash, rules.toml a
one-rule file. `--watch` gets `--count 1` so the line stops after the card in the reader.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from simtool.lab.control import export_line
from simtool.lab.rig import missing_requirements
from tests.aram import vectors

ROOT = Path(__file__).resolve().parents[2]
APK = ROOT / "tests" / "corpus" / "apksig-golden" / "v1v2v3-with-rsa-2048-lineage-3-signers.apk"
RULES_TOML = f'[[rules]]\nhash = "{vectors.SEED_HASH}"\napdu = "always"\n'


def _need_rig() -> None:
    reason = missing_requirements()
    if reason:
        if os.geteuid() != 0:
            pytest.skip(reason)
        pytest.fail(reason)


def simtool(*args: str, env: dict[str, str], cwd: Path, rc: int | None = 0,
            timeout: float = 60) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "simtool.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)
    assert "Traceback" not in proc.stderr, proc.stderr
    if rc is not None:
        assert proc.returncode == rc, f"{args}: rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def readme_aram_commands() -> list[list[str]]:
    """The shell commands of the README's `simtool aram` block, continuation lines joined."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## simtool aram", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    joined = re.sub(r"\\\n\s*", " ", block)
    commands = []
    for line in joined.splitlines():
        line = line.split("  #", 1)[0].strip()
        if line and not line.startswith("#"):
            commands.append(shlex.split(line))
    return commands


@pytest.fixture
def lab_dir(tmp_path: Path):
    _need_rig()
    folder = Path("/tmp") / f"ck-lab-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    yield folder
    subprocess.run([sys.executable, "-m", "simtool.cli", "lab", "stop", "--dir", str(folder)],
                   capture_output=True, timeout=60)
    assert not folder.exists()


def user_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PCSCLITE", "SIMTOOL"))}
    env["SIMTOOL_LAB_DIR"] = str(folder)
    return env


def test_every_readme_aram_example_runs_against_the_lab(lab_dir: Path, tmp_path: Path) -> None:
    env = user_env(lab_dir)
    (tmp_path / "rules.toml").write_text(RULES_TOML)
    commands = readme_aram_commands()
    assert commands[0] == ["eval", "$(simtool lab start)"] and commands[-1] == ["simtool", "lab", "stop"]
    ran = []
    for argv in commands:
        if argv[0] == "eval":
            out = simtool("lab", "start", env=env, cwd=tmp_path).stdout
            assert out.strip() == export_line(lab_dir)
            name, value = out.strip().removeprefix("export ").split("=", 1)
            env[name] = value  # what eval does in the user's shell
            continue
        assert argv[0] == "simtool", argv
        args = [str(APK) if a == "app.apk" else vectors.SEED_HASH if a == "<SHA-1>" else a for a in argv[1:]]
        if "--watch" in args:
            args += ["--count", "1"]
        proc = simtool(*args, env=env, cwd=tmp_path)
        ran.append((args, proc))
    by_cmd = {" ".join(a[:3]): p for a, p in reversed(ran)}  # the first run of each
    assert "Virtual PCD 00 00" in by_cmd["readers"].stdout
    assert "89882110000000000019" in by_cmd["card info"].stdout
    assert "GRANTED" in by_cmd["aram check --apk"].stdout and "not granted" not in by_cmd["aram check --apk"].stdout
    assert "honoured" in by_cmd["aram check --rules"].stdout
    assert (tmp_path / "backup.toml").read_text().count("[[rules]]") == 1
    assert (tmp_path / "audit.csv").exists()
    assert not lab_dir.exists()  # the README's last line stopped the lab


def test_lab_cards_keep_their_memory_and_slots_are_guarded(lab_dir: Path, tmp_path: Path) -> None:
    env = user_env(lab_dir)
    (tmp_path / "rules.toml").write_text(RULES_TOML)
    start = simtool("lab", "start", "--rules", "rules.toml", "--iccid", "8988211000000000035",
                    env=env, cwd=tmp_path)
    env["PCSCLITE_CSOCK_NAME"] = start.stdout.strip().split("=", 1)[1]
    again = simtool("lab", "start", env=env, cwd=tmp_path, rc=2)
    assert "already running" in again.stderr and again.stderr.count("\n") == 1
    assert simtool("lab", "env", env=env, cwd=tmp_path).stdout.strip() == export_line(lab_dir)
    rules = json.loads(simtool("aram", "list", "--json", env=env, cwd=tmp_path).stdout)
    assert [r["hash"] for r in rules] == [vectors.SEED_HASH]
    busy = simtool("lab", "insert", "--iccid", "8988211000000000043", env=env, cwd=tmp_path, rc=2)
    assert "slot 0 already holds card 8988211000000000035" in busy.stderr
    simtool("aram", "delete", "--all", env=env, cwd=tmp_path)
    simtool("lab", "remove", env=env, cwd=tmp_path)
    assert simtool("card", "info", env=env, cwd=tmp_path, rc=3).returncode == 3
    simtool("lab", "insert", "--iccid", "8988211000000000043", "--profile", "aram-applet", env=env, cwd=tmp_path)
    status = json.loads(simtool("lab", "status", "--json", env=env, cwd=tmp_path).stdout)
    assert status["slots"][0]["iccid"] == "8988211000000000043" and status["slots"][0]["profile"] == "aram-applet"
    simtool("lab", "remove", env=env, cwd=tmp_path)
    simtool("lab", "insert", "--iccid", "8988211000000000035", env=env, cwd=tmp_path)  # the first card again
    assert json.loads(simtool("aram", "list", "--json", env=env, cwd=tmp_path).stdout) == []
    wrong = simtool("lab", "insert", "--iccid", "8988211000000000043", "--profile", "spec", "--slot", "1",
                    env=env, cwd=tmp_path, rc=2)
    assert "is a 'aram-applet' card" in wrong.stderr
    simtool("lab", "stop", env=env, cwd=tmp_path)
    assert not lab_dir.exists()
    gone = simtool("lab", "status", env=env, cwd=tmp_path, rc=3)
    assert "no lab running" in gone.stderr


def test_lab_needs_root_and_says_so(tmp_path: Path) -> None:
    script = ("import os, sys; os.geteuid = lambda: 1000; from simtool.cli import main; "
              f"sys.exit(main(['lab', 'start', '--dir', {str(tmp_path / 'lab')!r}]))")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3
    assert proc.stderr.strip().endswith("the PC/SC rig needs root: pcscd runs in private mount+net namespaces "
                                        "(unshare)") and proc.stderr.count("\n") == 1
    assert not (tmp_path / "lab").exists()


def test_a_lab_killed_hard_is_cleaned_up_by_stop(lab_dir: Path, tmp_path: Path) -> None:
    env = user_env(lab_dir)
    simtool("lab", "start", env=env, cwd=tmp_path)
    pid = int((lab_dir / "lab.pid").read_text())
    os.kill(pid, 9)  # the lab process dies without stopping pcscd and the card
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1][:3]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    marks = (str(lab_dir / "rig") + "/", str(lab_dir / "cards") + "/")

    def leftovers() -> list[str]:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                cmd = (entry / "cmdline").read_bytes().decode(errors="replace") if entry.name.isdigit() else ""
            except OSError:
                continue
            if any(m in cmd for m in marks):
                found.append(entry.name)
        return found

    assert leftovers()  # pcscd and the card outlived it
    stopped = simtool("lab", "stop", env=env, cwd=tmp_path)
    assert "no lab running" in stopped.stderr
    assert not lab_dir.exists() and leftovers() == []


def test_production_line_against_the_lab(lab_dir: Path, tmp_path: Path) -> None:
    """The docs' production-line try-out: `--watch` in one terminal, `simtool lab remove` /
    `simtool lab insert` in another."""
    env = user_env(lab_dir)
    (tmp_path / "rules.toml").write_text(RULES_TOML)
    start = simtool("lab", "start", env=env, cwd=tmp_path)
    env["PCSCLITE_CSOCK_NAME"] = start.stdout.strip().split("=", 1)[1]
    watcher = subprocess.Popen([sys.executable, "-m", "simtool.cli", "aram", "apply", "rules.toml", "--watch",
                                "--count", "2", "--log", "audit.csv"], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        log = tmp_path / "audit.csv"
        deadline = time.monotonic() + 30
        while not (log.exists() and len(log.read_text().splitlines()) == 2):
            assert time.monotonic() < deadline and watcher.poll() is None
            time.sleep(0.05)
        simtool("lab", "remove", env=env, cwd=tmp_path)
        simtool("lab", "insert", "--iccid", "8988211000000000050", "--profile", "sysmo", env=env, cwd=tmp_path)
        out, err = watcher.communicate(timeout=60)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    assert watcher.returncode == 0, err
    assert [line.split("  ")[0] for line in out.splitlines()] == ["89882110000000000019", "8988211000000000050"]
    assert "remove card 1 of 2 (89882110000000000019)" in err
    assert "by card (last outcome per ICCID): 2 card(s), 2 done, 0 not done" in err
