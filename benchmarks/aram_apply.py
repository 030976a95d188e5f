"""Benchmark: `simtool aram apply` of 1, 20 and 100 new rules on the virtual card (PC/SC rig).

For each N it inserts a fresh spec card (T=1) and measures, in the same run:
- ours: `simtool aram apply FILE --json` in a subprocess (read, plan, N stores, refresh tag,
  read-back verification): APDUs the card received, wall time, peak RSS of the process;
- anchor: a bare pyscard script sending only SELECT + N STORE DATA (no read, no plan, no
  refresh tag, no verification): the least any tool can send.
It prints a table with the APDU budget check (N+6 when the rule list fits one response) and the
time ratio ours/anchor. Run: `.venv/bin/python benchmarks/aram_apply.py` (root: namespaces).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simtool.aram.rules import AccessRule  # noqa: E402
from simtool.aram.session import store_apdu  # noqa: E402
from tests.rig.pcsc import PcscRig  # noqa: E402

SIZES = (1, 20, 100)

ANCHOR = r"""
import sys
from smartcard import scard
hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
hr, readers = scard.SCardListReaders(ctx, [])
hr, card, proto = scard.SCardConnect(ctx, sorted(readers)[0], scard.SCARD_SHARE_EXCLUSIVE,
                                     scard.SCARD_PROTOCOL_T1)
for line in sys.stdin:
    hr, resp = scard.SCardTransmit(card, scard.SCARD_PCI_T1, list(bytes.fromhex(line.strip())))
    assert hr == 0 and resp[-2:] == [0x90, 0x00], (hex(hr), resp)
scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)
scard.SCardReleaseContext(ctx)
"""


def rules(n: int) -> list[AccessRule]:
    return [AccessRule(i.to_bytes(20, "big"), apdu=True) for i in range(1, n + 1)]


def timed(argv: list[str], env: dict, stdin: str | None = None) -> tuple[float, int, str]:
    """Wall time, peak RSS (KiB) and stdout of one subprocess.

    The peak is that process's own (``os.wait4`` on its pid): RUSAGE_CHILDREN would be the
    largest of every child reaped so far, simulated cards and the anchor included.
    """
    with tempfile.TemporaryFile("w+") as fin, tempfile.TemporaryFile("w+") as fout, \
            tempfile.TemporaryFile("w+") as ferr:
        fin.write(stdin or "")
        fin.seek(0)
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdin=fin, stdout=fout, stderr=ferr, text=True, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        fout.seek(0)
        ferr.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{argv[2:5]} failed: {ferr.read()}")
        return wall, usage.ru_maxrss, fout.read()


def main() -> None:
    print(f"# aram apply benchmark — {platform.node()} {platform.release()} Python {platform.python_version()} "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"{'N':>4} {'ours APDUs':>10} {'FF60':>5} {'budget':>7} {'anchor APDUs':>12} {'ours s':>8} "
          f"{'anchor s':>9} {'ratio':>6} {'ours peak MiB':>13}")
    with PcscRig(port=36900) as rig, tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            path = Path(tmp) / f"rules{n}.json"
            path.write_text(json.dumps({"rules": [{"hash": r.hash.hex(), "apdu": "always"} for r in rules(n)]}))
            card = rig.insert_card("spec", capacity=1 << 16)
            wall, peak, out = timed([sys.executable, "-m", "simtool.cli", "aram", "apply", str(path), "--json"],
                                    rig.env)
            ours_apdus = len(card.state()["apdus"])
            # the read-back of a list over 255 bytes needs FF60 continuations: budget N+6+those
            continuations = sum(c.upper().startswith("80CAFF60") for c, _ in card.state()["apdus"])
            budget = n + 6 + continuations
            verdict = "ok" if ours_apdus <= budget else "OVER"
            assert json.loads(out)["apdus_sent"] == ours_apdus and len(card.state()["rules"]) == n
            rig.remove_card(0)

            card = rig.insert_card("spec", capacity=1 << 16)
            lines = ["00A4040009A00000015141434C0000"] + [store_apdu(r).encode().hex() for r in rules(n)]
            a_wall, _, _ = timed([sys.executable, "-c", ANCHOR], rig.env, "\n".join(lines) + "\n")
            anchor_apdus = len(card.state()["apdus"])
            rig.remove_card(0)
            print(f"{n:>4} {ours_apdus:>10} {continuations:>5} {budget:>4} {verdict:<2} {anchor_apdus:>12} "
                  f"{wall:>8.3f} {a_wall:>9.3f} "
                  f"{wall / a_wall:>6.2f} {peak / 1024:>13.1f}")


if __name__ == "__main__":
    main()
