#!/usr/bin/env python3
"""Soak of the production line: `simtool aram apply --watch` over 300+ insertions with faults.

One command (root, like the rig)::

    .venv/bin/python benchmarks/aram_watch_soak.py [--insertions 320] [--seed 15]

One `simtool aram apply rules.json --prune --watch --json --count N` process serves every card
of a PC/SC rig (pcscd + vpcd + simulated cards). Each insertion is, at random (seeded):

- a new good card (spec or t0 profile, some already holding other rules: --prune deletes them);
- a card pulled mid-write (``remove_after_apdus`` lands on one of its STORE DATA), which is then
  inserted again at once (the same card: its memory is kept) and must end up done;
- a wrong card: an `adm` card that refuses STORE DATA without ADM (6982): a failed row;
- a card already done, inserted again: an `unchanged` row.

Checked on every row (the run stops at the first violation): one row per insertion, in order,
naming the card that was in the reader (no wrong card), ``added`` equal to what the card's own
memory gained (``added`` may be one less when a pull hit a STORE that the card did apply before
it went: then the row must say "may or may not be stored"), the rules file's SHA-256, and for
done cards exactly the file's rules on the card. Measured: time per card (insert returned →
row written), the watcher's RSS and open fds sampled after every card, outcomes by insertion
and by card. Figures we measured are in docs/benchmarks-aram.md.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simtool.aram.rules import AccessRule  # noqa: E402
from simtool.lab.rig import PcscRig, missing_requirements  # noqa: E402

RULES = [AccessRule(bytes([n]) * 20, apdu=True) for n in (0x11, 0x22, 0x33)]
OTHER = AccessRule(bytes([0x44]) * 20, apdu=True)
# APDUs before the first STORE DATA: SELECT MF, SELECT EF.ICCID, READ BINARY, SELECT ARA-M, GET DATA
BEFORE_WRITES = 5


def proc_figures(pid: int) -> tuple[int, int]:
    """RSS (KiB) and open fds of ``pid``."""
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def rows_of(log: Path) -> list[dict[str, str]]:
    if not log.exists():
        return []
    with log.open(newline="") as fh:
        return list(csv.DictReader(fh))


def wait_rows(log: Path, n: int, watcher: subprocess.Popen, timeout: float = 60) -> list[dict[str, str]]:
    deadline = time.monotonic() + timeout
    while True:
        rows = rows_of(log)
        if len(rows) >= n:
            return rows
        if watcher.poll() is not None:
            raise SystemExit(f"the watcher exited with {watcher.returncode} after {len(rows)} rows")
        if time.monotonic() > deadline:
            raise SystemExit(f"no row {n} within {timeout} s")
        time.sleep(0.005)


class Soak:
    def __init__(self, rig: PcscRig, work: Path, insertions: int, rng: random.Random) -> None:
        self.rig = rig
        self.work = work
        self.insertions = insertions
        self.rng = rng
        self.log = work / "audit.csv"
        self.rules_file = work / "rules.json"
        self.rules_file.write_text(json.dumps({"rules": [{"hash": r.hash.hex(), "apdu": "always"} for r in RULES]}))
        self.sha = hashlib.sha256(self.rules_file.read_bytes()).hexdigest()
        self.want = sorted(r.encoded().hex().upper() for r in RULES)
        self.done_cards: list[tuple[str, Path, str]] = []  # (iccid, state file, profile) of done cards
        self.kinds: Counter[str] = Counter()
        self.per_card: list[float] = []
        self.samples: list[tuple[int, int, int]] = []  # (insertion, rss KiB, fds)
        self.serial = 0

    def new_iccid(self) -> str:
        self.serial += 1
        return f"894944{self.serial:013d}"

    def run(self) -> dict:
        out = open(self.work / "stdout.jsonl", "w")
        err = open(self.work / "stderr.txt", "w")
        watcher = subprocess.Popen(
            [sys.executable, "-m", "simtool.cli", "aram", "apply", str(self.rules_file), "--prune", "--watch",
             "--json", "--count", str(self.insertions), "--log", str(self.log)],
            env=self.rig.env, stdout=out, stderr=err, cwd=ROOT)
        start = time.monotonic()
        try:
            n = 0
            while n < self.insertions:
                n = self.one(n, watcher)
                if n < self.insertions:  # after the last card the watcher ends
                    rss, fds = proc_figures(watcher.pid)
                    self.samples.append((n, rss, fds))
            watcher.wait(60)
        finally:
            if watcher.poll() is None:
                watcher.kill()
                watcher.wait()
            out.close()
            err.close()
        wall = time.monotonic() - start
        lines = (self.work / "stdout.jsonl").read_text().splitlines()
        summary = json.loads(lines[-1])["summary"]
        if len(lines) != self.insertions + 1:
            raise SystemExit(f"{len(lines)} JSON lines for {self.insertions} insertions")
        return {"wall": wall, "summary": summary, "exit": watcher.returncode,
                "stderr_tail": (self.work / "stderr.txt").read_text().splitlines()[-3:]}

    def insert(self, profile: str, iccid: str, *, state: Path | None = None, rules=(), pull_after: int | None = None):
        handle = self.rig.insert_card(profile, iccid=iccid, state_file=state, rules=list(rules),
                                      remove_after_apdus=pull_after)
        return handle, time.monotonic()  # pcscd reports the card present: the watcher can see it

    def finish(self, handle, t: float, n: int, watcher: subprocess.Popen) -> dict[str, str]:
        rows = wait_rows(self.log, n, watcher)
        self.per_card.append(time.monotonic() - t)
        if handle.running:
            self.rig.remove_card(0)
        else:
            handle.wait_removed()
        return rows[n - 1]

    def check(self, row: dict[str, str], n: int, iccid: str, before: int, after_rules: list[str], result: str) -> None:
        problems = []
        if row["card_number"] != str(n) or row["iccid"] != iccid:
            problems.append(f"row names card {row['iccid']} (#{row['card_number']}), card {iccid} was inserted")
        if row["rules_sha256"] != self.sha:
            problems.append("wrong rules hash")
        if row["result"] != result:
            problems.append(f"result {row['result']}, expected {result}")
        gained = sum(1 for r in after_rules if r in self.want) - before
        added = int(row["added"] or 0)
        unsure = "may or may not be stored" in row["detail"]
        if not (added == gained or (unsure and added == gained - 1)):
            problems.append(f"added={added} but the card gained {gained} of the file's rules")
        if result in ("applied", "unchanged") and sorted(after_rules) != self.want:
            problems.append(f"card holds {len(after_rules)} rules, not exactly the file's")
        if problems:
            raise SystemExit(f"insertion {n}: {'; '.join(problems)}: {row}")

    def one(self, n: int, watcher: subprocess.Popen) -> int:
        kind = self.rng.choices(["good", "pull", "wrong", "again"], weights=[62, 18, 10, 10])[0]
        if kind == "again" and not self.done_cards:
            kind = "good"
        if kind == "pull" and n + 2 > self.insertions:
            kind = "good"
        self.kinds[kind] += 1
        if kind == "again":
            iccid, state, profile = self.rng.choice(self.done_cards)
            handle, t = self.insert(profile, iccid, state=state)
            row = self.finish(handle, t, n + 1, watcher)
            self.check(row, n + 1, iccid, len(self.want), handle.state()["rules"], "unchanged")
            return n + 1
        if kind == "wrong":
            iccid = self.new_iccid()
            handle, t = self.insert("adm", iccid)
            row = self.finish(handle, t, n + 1, watcher)
            self.check(row, n + 1, iccid, 0, handle.state()["rules"], "failed")
            return n + 1
        profile = self.rng.choice(["spec", "spec", "t0"])
        extra = [OTHER.encoded()] if self.rng.random() < 0.3 else []
        iccid = self.new_iccid()
        if kind == "good":
            handle, t = self.insert(profile, iccid, rules=extra)
            row = self.finish(handle, t, n + 1, watcher)
            self.check(row, n + 1, iccid, 0, handle.state()["rules"], "applied")
            self.done_cards.append((iccid, handle.state_file, profile))
            return n + 1
        # pulled mid-write: the card answers up to one of its STORE DATA, then goes (t0 cards
        # answer more APDUs per command, so pull the spec profile only)
        writes = len(RULES) + (1 if extra else 0)
        pull_after = BEFORE_WRITES + self.rng.randint(0, writes - 1)
        handle, t = self.insert("spec", iccid, rules=extra, pull_after=pull_after)
        row = self.finish(handle, t, n + 1, watcher)
        self.check(row, n + 1, iccid, 0, handle.state()["rules"], "failed")
        before = sum(1 for r in handle.state()["rules"] if r in self.want)
        again, t = self.insert("spec", iccid, state=handle.state_file)
        row = self.finish(again, t, n + 2, watcher)
        self.check(row, n + 2, iccid, before, again.state()["rules"], "applied")
        self.done_cards.append((iccid, again.state_file, "spec"))
        return n + 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--insertions", type=int, default=320)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    reason = missing_requirements()
    if reason:
        raise SystemExit(reason)
    load = os.getloadavg()
    print(f"# aram --watch soak — {platform.node()} {platform.release()} Python {platform.python_version()}, "
          f"{os.cpu_count()} cores, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    with PcscRig(port=37100) as rig, tempfile.TemporaryDirectory() as tmp:
        soak = Soak(rig, Path(tmp), args.insertions, random.Random(args.seed))
        res = soak.run()
    rss = [s[1] for s in soak.samples]
    fds = [s[2] for s in soak.samples]
    tail = len(rss) // 10 or 1
    print(f"insertions: {args.insertions} ({dict(soak.kinds)} by kind; a pull is 2 insertions), "
          f"wall {res['wall']:.0f} s, watcher exit {res['exit']}")
    print(f"time per card (insert returned -> row written): median {statistics.median(soak.per_card) * 1000:.0f} ms, "
          f"p95 {sorted(soak.per_card)[int(len(soak.per_card) * 0.95)] * 1000:.0f} ms, "
          f"max {max(soak.per_card) * 1000:.0f} ms")
    print(f"watcher RSS: first {rss[0] / 1024:.1f} MiB, mean of first 10% {statistics.mean(rss[:tail]) / 1024:.1f}, "
          f"last 10% {statistics.mean(rss[-tail:]) / 1024:.1f}, max {max(rss) / 1024:.1f} MiB; "
          f"open fds first {fds[0]}, last {fds[-1]}, max {max(fds)}")
    print(f"by insertion: {res['summary']['by_insertion']}")
    by_card = Counter(res["summary"]["by_card"].values())
    print(f"by card: {len(res['summary']['by_card'])} cards, {dict(by_card)}; not done: "
          f"{len(res['summary']['not_done'])}")
    print("every row checked: card named = card inserted, added = what the card gained, rules SHA-256, "
          "done cards hold exactly the file's rules")
    print("watcher's last lines: " + " | ".join(res["stderr_tail"]))


if __name__ == "__main__":
    main()
