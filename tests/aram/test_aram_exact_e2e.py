"""Exact reading end to end (`simtool aram list` through pyscard + pcscd + vpcd) on a sample of
the lengths test_aram_sweep.py covers in process: the applet's chunking (sysmo: T=0, so long
pieces also go through GET RESPONSE) and a correct card (spec). Exit 0 with exactly the card's
rules, or exit 6 naming the damage with nothing on stdout."""

from __future__ import annotations

import json

import pytest

from simtool.aram.exactread import applet_breaks_at
from simtool.aram.rulefile import rule_to_dict
from simtool.aram.rules import parse_ref_ar_do
from tests.aram.sizes import rules_of_length
from tests.aram.test_aram_e2e import run

from tests.rig.pcsc_fixtures import pcsc_rig  # noqa: F401  (the fixture)

SAMPLE = (0, *range(250, 261), *range(505, 512), *range(760, 767), 1020, 1530, 1785, 2000)


def expected_rows(rules: list[bytes]) -> list[dict]:
    return [rule_to_dict(parse_ref_ar_do(r)) for r in rules]


@pytest.mark.parametrize("profile", ["sysmo", "spec"])
@pytest.mark.parametrize("length", SAMPLE)
def test_list_is_exact_or_exit_6(pcsc_rig, profile, length):
    rules = rules_of_length(length)
    card = pcsc_rig.insert_card(profile, rules=rules, capacity=65536)
    proc = run(pcsc_rig, "aram", "list", "--json")
    if profile == "sysmo" and applet_breaks_at(length):
        assert proc.returncode == 6 and proc.stdout == "", proc.stdout
        assert "damaged rule list" in proc.stderr and f"L = {length}" in proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr
        rows = json.loads(proc.stdout)
        got = [{k: v for k, v in row.items() if k not in ("index", "android", "android_reason")} for row in rows]
        assert got == expected_rows(rules)
    assert [bytes.fromhex(r) for r in card.state()["rules"]] == rules


def test_one_byte_list_on_a_correct_card_is_damaged(pcsc_rig):
    pcsc_rig.insert_card("spec", rules=[b"\x00"])
    proc = run(pcsc_rig, "aram", "list")
    assert proc.returncode == 6 and "malformed" in proc.stderr
