"""End to end over every ARF layout of the simulated card: ``simtool arf list/add/delete/apply``
through pyscard + pcscd + vpcd, with the card's file contents checked after each write (from
its state file, not through simtool), the read-back verification, the ACMF refresh tag and
Android's verdict in the output.

Layouts: ``arf`` (Android's fixed ids, transparent, T=1), ``arf-dodf`` (reachable only through
the DODF, T=0), ``arf-records`` / ``arf-records-t0`` (Android's ids, DODF/ACRF/ACCF linear fixed).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from simtool.lab.vcard.pkcs15 import LAB_ARF_HASH, initial_files
from simtool.lab.vcard.state import CardMemory, save_memory

from tests.arf.test_arf_e2e import ADM_ENV, jrun, run
from tests.rig.pcsc_fixtures import pcsc_rig  # noqa: F401  (the fixture)

LAB = LAB_ARF_HASH.hex().upper()
H1 = "11" * 20
H2 = "22" * 32
H3 = "33" * 20


@dataclass(frozen=True)
class Layout:
    profile: str
    acmf: str
    acrf: str
    accf: str
    accf_size: int
    record_size: int  # of the carrier ACCF; 0: transparent
    android_reads: bool
    android_reason: str  # in the listing's reason for the carrier hashes Android does not read


LAYOUTS = [
    Layout("arf", "4200", "4300", "4310", 96, 0, True, ""),
    Layout("arf-dodf", "4400", "4401", "4402", 96, 0, False, "not read by Android: ACRF 4300: SELECT 4300 answers 6A82"),
    Layout("arf-records", "4200", "4300", "4310", 144, 36, False,
           "not read by Android: Android does not read record-structured ACRF 4300"),
    Layout("arf-records-t0", "4200", "4300", "4310", 144, 36, False,
           "not read by Android: Android does not read record-structured ACRF 4300"),
]


def cond(h: str) -> str:
    return ("3016" + "0414" if len(h) == 40 else "3022" + "0420") + h


def expected_accf(layout: Layout, hashes: list[str | None]) -> str:
    """The carrier ACCF's bytes (hex) as the card must hold them: back to back and FF-padded,
    or one condition per record (None: a free record) for a linear fixed ACCF."""
    if not layout.record_size:
        body = "".join(cond(h) for h in hashes if h)
        return body + "FF" * (layout.accf_size - len(body) // 2)
    count = layout.accf_size // layout.record_size
    slots = hashes + [None] * (count - len(hashes))
    return "".join((cond(h) if h else "") + "FF" * (layout.record_size - (len(cond(h)) // 2 if h else 0))
                   for h in slots)


def tag_in(files: dict[str, str], acmf: str) -> str:
    return files[acmf][8:24]  # 30 10 04 08 <tag>


@pytest.mark.parametrize("layout", LAYOUTS, ids=[x.profile for x in LAYOUTS])
def test_list_add_delete_apply_on_every_layout(pcsc_rig, layout: Layout):
    card = pcsc_rig.insert_card(layout.profile)
    listed = jrun(pcsc_rig, "arf", "list")
    assert listed["acrf"] == layout.acrf and listed["acmf"] == layout.acmf
    assert listed["refresh_tag"] == "0000000000000001" and listed["chain_error"] is None
    carrier = [r for r in listed["rules"] if r["target"] == "FFFFFFFFFFFF"]
    assert [r["hash"] for r in carrier] == [LAB] and carrier[0]["accf"] == layout.accf
    assert carrier[0]["android"] is layout.android_reads
    if not layout.android_reads:
        assert carrier[0]["android_reason"].startswith(layout.android_reason), carrier[0]["android_reason"]
        assert listed["android_hashes"] == [] and listed["warnings"] == [f"the two reads disagree: Android does not read {LAB}"]
    structure = listed["files"][layout.accf]
    assert structure == (f"linear fixed, 4 records of {layout.record_size} bytes" if layout.record_size else "transparent")
    text = run(pcsc_rig, "arf", "list", check_rc=0)
    assert ("android: yes" in text.stdout) is layout.android_reads
    if layout.record_size:
        assert f"EF {layout.acrf}: linear fixed" in text.stdout

    # add: into the ACCF in place (a free record, or after the last condition), tag 1 → 2, verified
    doc = jrun(pcsc_rig, "arf", "add", "--hash", H1, "--hash", H2, "--adm", env=ADM_ENV)
    assert doc["after"] == [LAB, H1, H2] and doc["verified"] and doc["changed"]
    assert doc["refresh_tag_before"] == "0000000000000001" and doc["refresh_tag_after"] == "0000000000000002"
    assert doc["android_reads"] is layout.android_reads
    assert doc["record_updates"] == (2 if layout.record_size else 0)
    files = card.state()["files"]
    assert files[layout.accf] == expected_accf(layout, [LAB, H1, H2])
    assert tag_in(files, layout.acmf) == "0000000000000002"
    if layout.android_reads:
        assert doc["android_hashes_after"] == [LAB, H1, H2] and doc["android_note"] is None
    elif layout.record_size:
        assert doc["android_hashes_after"] == [] and "record-structured" in doc["android_note"]

    # delete: the condition goes; a record file keeps the others where they are
    doc = jrun(pcsc_rig, "arf", "delete", "--hash", LAB, "--adm", env=ADM_ENV)
    assert doc["after"] == [H1, H2] and doc["refresh_tag_after"] == "0000000000000003" and doc["verified"]
    files = card.state()["files"]
    assert files[layout.accf] == expected_accf(layout, [None, H1, H2] if layout.record_size else [H1, H2])
    assert tag_in(files, layout.acmf) == "0000000000000003"

    # apply: exactly these; the kept one stays, the new one takes the first free space
    proc = run(pcsc_rig, "arf", "apply", "--hash", H2, "--hash", H3, "--adm", check_rc=0, env=ADM_ENV)
    assert "verified by reading back" in proc.stdout and "refresh tag 0000000000000003 → 0000000000000004" in proc.stdout
    assert f"add     {H3}" in proc.stdout and f"delete  {H1}" in proc.stdout
    if layout.record_size:
        assert "UPDATE RECORD command(s)" in proc.stdout
        assert "warning: ACRF 4300 and ACCF 4310 are record-structured" in proc.stderr
    elif not layout.android_reads:
        assert f"does not reach ACCF {layout.accf}" in proc.stderr
    else:
        assert proc.stderr == ""
    files = card.state()["files"]
    assert files[layout.accf] == expected_accf(layout, [H3, None, H2] if layout.record_size else [H2, H3])
    assert tag_in(files, layout.acmf) == "0000000000000004"

    # what a reader sees afterwards, and Android's verdict on it
    listed = jrun(pcsc_rig, "arf", "list")
    carrier = [r for r in listed["rules"] if r["target"] == "FFFFFFFFFFFF"]
    assert sorted(r["hash"] for r in carrier) == sorted([H2, H3]) and listed["refresh_tag"] == "0000000000000004"
    assert all(r["android"] is layout.android_reads for r in carrier)
    assert listed["android_hashes"] == ([H2, H3] if layout.android_reads else [])


def test_apply_on_the_dodf_only_layout(pcsc_rig):
    """Android's fixed path finds no 4300: the write goes ahead with a note, verified by
    reading back; the dry run first sends no update."""
    card = pcsc_rig.insert_card("arf-dodf")
    before = card.state()["files"]
    dry = jrun(pcsc_rig, "arf", "apply", "--hash", H2, "--dry-run", "--adm", env=ADM_ENV)
    assert dry["dry_run"] and not dry["verified"] and dry["after"] == [H2] and card.state()["files"] == before
    unsent = [a["command"] for a in dry["apdus"] if not a["sent"] and a["command"][2:4] == "D6"]
    # the ACCF from its first differing byte (30 stays) to the last, then the tag's last byte
    assert unsent == ["00D6000123" + cond(H2)[2:], "00D6000B0102"]
    proc = run(pcsc_rig, "arf", "apply", "--hash", H2, "--hash", H1, "--adm", check_rc=0, env=ADM_ENV)
    assert "written with 2 UPDATE BINARY command(s), refresh tag 0000000000000001 → 0000000000000002, verified by reading back" in proc.stdout
    assert "note: Android's fixed path (ACRF 4300, last FFFFFFFFFFFF rule) does not reach ACCF 4402" in proc.stderr
    files = card.state()["files"]
    layout = LAYOUTS[1]
    assert files["4402"] == expected_accf(layout, [H2, H1]) and tag_in(files, "4400") == "0000000000000002"
    assert files["4403"] == before["4403"] and files["4401"] == before["4401"]  # other files untouched
    listed = jrun(pcsc_rig, "arf", "list")
    rows = {r["hash"]: r for r in listed["rules"] if r["accf"] == "4402"}
    assert list(rows) == [H2, H1] and not any(r["android"] for r in rows.values())
    assert all("SELECT 4300 answers 6A82" in r["android_reason"] for r in rows.values())


# --- record-structured files: full, too small, read-back mismatch --------------------------------

def records_card(pcsc_rig, tmp_path, profile: str, accf_record: int, accf_records: int, **kwargs):
    """An arf-records card whose carrier ACCF 4310 has other records: LAB in record 1."""
    files, sizes = initial_files("records")
    first = bytes.fromhex(cond(LAB))
    assert len(first) <= accf_record
    files["4310"] = (first + b"\xff" * (accf_record - len(first))) + b"\xff" * (accf_record * (accf_records - 1))
    sizes["4310"] = accf_record
    state = tmp_path / "card.json"
    save_memory(state, CardMemory(files=files, record_sizes=sizes))
    return pcsc_rig.insert_card(profile, state_file=state, **kwargs)


@pytest.mark.parametrize("profile", ["arf-records", "arf-records-t0"])
def test_records_full_and_too_small_are_one_line_errors_and_write_nothing(pcsc_rig, tmp_path, profile):
    card = records_card(pcsc_rig, tmp_path, profile, accf_record=24, accf_records=2)
    before = card.state()["files"]
    small = run(pcsc_rig, "arf", "add", "--hash", H2, "--adm", check_rc=2, env=ADM_ENV)
    assert small.stdout == "" and small.stderr.strip().splitlines() == [
        "simtool: error: EF.ACCF 4310: an entry of 36 bytes does not fit its records of 24 bytes "
        "(simtool never resizes card files)"]
    full = run(pcsc_rig, "arf", "add", "--hash", H1, "--hash", H3, "--adm", check_rc=2, env=ADM_ENV)
    assert full.stderr.strip().splitlines() == [
        "simtool: error: EF.ACCF 4310 is full: 2 new entries need a free record each, 1 of its 2 records "
        "(24 bytes each) is free (simtool never resizes card files)"]
    assert card.state()["files"] == before
    assert not [c for c, _ in card.state()["apdus"] if c[2:4] in ("D6", "DC")]  # nothing sent
    doc = jrun(pcsc_rig, "arf", "add", "--hash", H1, "--adm", env=ADM_ENV)  # exactly fills the last record
    assert doc["after"] == [LAB, H1] and doc["verified"] and doc["record_updates"] == 1
    assert card.state()["files"]["4310"] == cond(LAB) + cond(H1)


@pytest.mark.parametrize("profile,accf", [("arf-records", "4310"), ("arf", "4310"), ("arf-records-t0", "4310")])
def test_read_back_mismatch_is_exit_7(pcsc_rig, profile, accf):
    """The card acknowledges the ACCF's update (9000) and keeps the old content: reading back
    catches it (exit 7, one line naming the file); the tag update before it still landed."""
    card = pcsc_rig.insert_card(profile, drop_updates=[accf])
    before = card.state()["files"]
    proc = run(pcsc_rig, "arf", "add", "--hash", H1, "--adm", check_rc=7, env=ADM_ENV)
    lines = proc.stderr.strip().splitlines()
    assert lines[-1] == (f"simtool: error: EF {accf}: reading back does not give what was written "
                         "(24 bytes differ)"), proc.stderr
    assert proc.stdout == "" and card.state()["files"][accf] == before[accf]
    sent = [c for c, _ in card.state()["apdus"] if c[2:4] in ("D6", "DC")]
    assert sent and sent[0][2:4] == ("DC" if "records" in profile else "D6")


def test_rules_check_on_the_record_card_says_android_reads_no_arf(pcsc_rig):
    """The chain holds the hash, but Android's READ BINARY of 4300 gets 6981: not granted, and
    the reason names the record structure."""
    pcsc_rig.insert_card("arf-records-t0")
    doc = jrun(pcsc_rig, "rules", "check", "--hash", LAB, check_rc=8)
    assert [s["state"] for s in doc["sources"]] == ["absent", "absent", "absent"]
    reasons = doc["results"][0]["reasons"]
    assert any(r.startswith("ARF: ACRF 4300: READ BINARY of 4300 answers 6981") and "record-structured" in r
               for r in reasons), reasons
