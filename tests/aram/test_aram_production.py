"""The production line (simtool.aram.production) without pcscd: the per-card step on a scripted
card (every APDU pinned, pulls and Ctrl-C injected at a chosen APDU), the loop with scripted
waits, and the CSV audit log."""

from __future__ import annotations

import csv
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from simtool.aram.errors import OutputFileError, RuleFileError
from simtool.aram.production import (
    CSV_FIELDS, CardOutcome, Job, LineSummary, append_audit, card_line, check_audit_log, confirmed_changes,
    default_audit_log, load_rules_source, serve_card, watch,
)
from simtool.aram.rules import AccessRule
from simtool.card.errors import CardRemovedError
from simtool.card.protocol import CardProtocol
from simtool.exitcodes import ExitCode
from tests.aram.scripted import ScriptedConnection, listing_answer, store_data_hex

ICCID = "89882110000000000019"
ICCID_EF = "98881201000000000091"  # EF.ICCID: BCD, nibbles swapped
READ_ICCID = [("00A4000C023F00", "9000"), ("00A4000C022FE2", "9000"), ("00B000000A", ICCID_EF + "9000")]
SELECT = ("00A4040009A00000015141434C0000", "9000")
GET_ALL = "80CAFF4000"
REFRESH = [("80E2900002F200", "9000"), ("80CADF2000", "DF20080102030405060708" + "9000")]
SHA = "ab" * 32


def rule(n: int) -> AccessRule:
    return AccessRule(n.to_bytes(20, "big"), apdu=True)


def listing(*rules: AccessRule) -> str:
    return listing_answer(list(rules))


def store(r: AccessRule) -> str:
    return store_data_hex(0xF0, r)


def delete(r: AccessRule) -> str:
    return store_data_hex(0xF1, r)


class FaultyConnection(ScriptedConnection):
    """A scripted card that is pulled (or the operator presses Ctrl-C) when APDU ``at`` (0-based)
    is sent: it gets no answer."""

    def __init__(self, script: list[tuple[str, str]], at: int, fault: str) -> None:
        super().__init__(script)
        self.at = at
        self.fault = fault

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        if len(self.sent) == self.at:
            self.sent.append(apdu)
            if self.fault == "pull":
                raise CardRemovedError("scripted", apdu[:4].hex().upper())
            raise KeyboardInterrupt
        return super().transmit(apdu)


def connector(conn: ScriptedConnection):
    @contextmanager
    def connect() -> Iterator[CardProtocol]:
        yield CardProtocol(conn, record=True)
    return connect


def full_script(on_card: list[AccessRule], adds: list[AccessRule], deletes: list[AccessRule],
                after: list[AccessRule]) -> list[tuple[str, str]]:
    # stores come before deletes (plan.ordered_changes: a pull never leaves the app with no rule)
    return [*READ_ICCID, SELECT, (GET_ALL, listing(*on_card)),
            *[(store(r), "9000") for r in adds], *[(delete(r), "9000") for r in deletes],
            *REFRESH, (GET_ALL, listing(*after))]


def test_applied_card_counts_what_the_card_confirmed() -> None:
    conn = ScriptedConnection(full_script([rule(9)], [rule(1), rule(2)], [rule(9)], [rule(1), rule(2)]))
    out = serve_card(connector(conn), Job((rule(1), rule(2)), prune=True))
    assert conn.script == []
    assert (out.iccid, out.result, out.added, out.deleted, out.exit_code) == (ICCID, "applied", 2, 1, 0)
    assert len(out.plan.add) == 2 and len(out.plan.delete) == 1


def test_unchanged_card_sends_no_write() -> None:
    conn = ScriptedConnection([*READ_ICCID, SELECT, (GET_ALL, listing(rule(1)))])
    out = serve_card(connector(conn), Job((rule(1),)))
    assert conn.script == [] and (out.result, out.added, out.deleted) == ("unchanged", 0, 0)


@pytest.mark.parametrize("at, added, phase", [
    (5, 0, "while writing change 1 of 3"),  # the first STORE gets no answer
    (6, 1, "while writing change 2 of 3"),
    (7, 2, "while writing change 3 of 3"),
    (8, 3, "after all 3 change(s), while verifying"),  # the refresh tag
])
@pytest.mark.parametrize("fault", ["pull", "ctrl-c"])
def test_a_pull_or_ctrl_c_mid_write_reports_the_confirmed_changes_in_words(at: int, added: int, phase: str,
                                                                           fault: str) -> None:
    wanted = [rule(1), rule(2), rule(3)]
    conn = FaultyConnection(full_script([], wanted, [], wanted), at, fault)
    out = serve_card(connector(conn), Job(tuple(wanted)))
    assert out.added == added and out.deleted == 0 and out.iccid == ICCID
    if fault == "pull":
        assert out.result == "failed" and out.exit_code == ExitCode.CARD_REMOVED
        assert out.detail.startswith(f"card removed {phase}; the card confirmed {added} of 3 addition(s)")
    else:
        assert out.result == "interrupted" and out.exit_code == ExitCode.INTERRUPTED
        assert out.detail.startswith(f"stopped by the operator (Ctrl-C) {phase}; the card confirmed {added} of 3")
    assert "80E2" not in out.detail and "while sending" not in out.detail  # words, not APDU headers
    assert out.detail.endswith("insert the card again to finish")
    assert ("may or may not be stored" in out.detail) == (at < 8)


def test_a_pull_before_the_rules_are_read_has_no_plan() -> None:
    conn = FaultyConnection([*READ_ICCID, SELECT], 4, "pull")
    out = serve_card(connector(conn), Job((rule(1),)))
    assert out.result == "failed" and out.plan is None and out.added == 0
    assert out.detail == "card removed before its rules were read; no change was written"
    assert out.row("r", SHA)["planned_add"] == ""
    line = card_line(out, " of 5")
    assert line.startswith(f"card {out.number} of 5 {out.iccid}: failed — ") and "plan unknown (the card's rules were not read)" in line
    assert "plan plan" not in line and line.endswith(out.detail)


def test_a_refused_store_row_counts_the_rules_stored_before_it() -> None:
    script = [*READ_ICCID, SELECT, (GET_ALL, listing()), (store(rule(1)), "9000"), (store(rule(2)), "6984")]
    out = serve_card(connector(ScriptedConnection(script)), Job((rule(1), rule(2), rule(3))))
    assert (out.result, out.added, out.exit_code) == ("failed", 1, ExitCode.CARD_REFUSED)
    assert "the card confirmed 1 of 3 addition(s)" in out.detail and "(while writing change 2 of 3)" in out.detail


def test_confirmed_changes_counts_delete_all_as_every_planned_delete() -> None:
    from simtool.aram.plan import make_plan
    from simtool.card.protocol import SentApdu

    plan = make_plan([rule(5), rule(6), rule(7)], [], prune=True)
    assert plan.delete_all
    sent = [SentApdu("80E2900002F100", "", 0x9000), SentApdu(store(rule(1)), "", 0x6381),
            SentApdu(store(rule(2)), None, None), SentApdu("0020000A08" + "<redacted 8 bytes>", "", 0x9000)]
    c = confirmed_changes(sent, plan)
    assert (c.added, c.deleted, c.already) == (0, 3, 1)


def test_watch_rows_prompts_and_summary_by_card(tmp_path: Path) -> None:
    log = tmp_path / "audit.csv"
    first = CardOutcome("111", "failed", 1, 0, "card removed while writing change 2 of 3", exit_code=4)
    served = iter([first, CardOutcome("222", "applied", 2, 0), CardOutcome("111", "applied", 2, 0)])
    prompts: list[tuple[str, int]] = []
    seen: list[CardOutcome] = []
    summary = watch(wait=lambda present, timeout: True, serve=lambda: next(served), log_path=log, reader="r",
                    rules_sha256=SHA, count=3, idle_timeout=None, on_outcome=seen.append,
                    on_prompt=lambda kind, n, o: prompts.append((kind, n)))
    assert prompts == [("next", 1), ("remove", 1), ("next", 2), ("remove", 2), ("next", 3)]
    assert [o.number for o in summary.outcomes] == [1, 2, 3] == [o.number for o in seen]
    assert summary.by_insertion()["failed"] == 1 and summary.by_insertion()["applied"] == 2
    assert {k: o.result for k, o in summary.by_card().items()} == {"111": "applied", "222": "applied"}
    assert summary.failed_cards() == [] and summary.exit_code == ExitCode.OK  # fixed on re-insertion
    rows = list(csv.DictReader(log.open()))
    assert tuple(rows[0]) == CSV_FIELDS and len(rows) == 3
    assert [(r["card_number"], r["iccid"], r["result"], r["added"], r["rules_sha256"]) for r in rows] == [
        ("1", "111", "failed", "1", SHA), ("2", "222", "applied", "2", SHA), ("3", "111", "applied", "2", SHA)]


def test_interrupted_card_gets_its_row_and_ends_the_line_non_zero(tmp_path: Path) -> None:
    log = tmp_path / "audit.csv"
    served = iter([CardOutcome("111", "applied", 1, 0),
                   CardOutcome("222", "interrupted", 1, 0, "stopped by the operator", exit_code=130)])
    summary = watch(wait=lambda present, timeout: True, serve=lambda: next(served), log_path=log, reader="r",
                    rules_sha256=SHA, count=None, idle_timeout=None, on_outcome=lambda o: None)
    assert summary.interrupted and summary.exit_code == ExitCode.INTERRUPTED
    rows = list(csv.DictReader(log.open()))
    assert [(r["iccid"], r["result"], r["added"]) for r in rows] == [("111", "applied", "1"), ("222", "interrupted", "1")]
    assert summary.failed_cards() == ["222"]


def test_ctrl_c_while_waiting_ends_between_cards(tmp_path: Path) -> None:
    waits: list[bool] = []

    def wait(present: bool, timeout: float | None) -> bool:
        waits.append(present)
        if present and len(waits) > 2:
            raise KeyboardInterrupt
        return True

    summary = watch(wait=wait, serve=lambda: CardOutcome("1", "failed", exit_code=5), log_path=tmp_path / "a.csv",
                    reader="r", rules_sha256=SHA, count=None, idle_timeout=None, on_outcome=lambda o: None)
    assert waits == [True, False, True] and not summary.interrupted
    assert summary.exit_code == ExitCode.NOT_VERIFIED  # the one card's last outcome failed


def test_idle_timeout_serves_nothing_and_leaves_no_file(tmp_path: Path) -> None:
    summary = watch(wait=lambda present, t: False, serve=lambda: CardOutcome("1", "applied"),
                    log_path=tmp_path / "none.csv", reader="r", rules_sha256=SHA, count=None, idle_timeout=1,
                    on_outcome=lambda o: None)
    assert summary == LineSummary((), False) and not (tmp_path / "none.csv").exists()


def test_audit_log_symlink_refused_mode_kept_new_file_private(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.csv"
    target.write_text("")
    link = tmp_path / "audit.csv"
    link.symlink_to(target)
    with pytest.raises(OutputFileError, match="symbolic link"):
        check_audit_log(link)
    with pytest.raises(OutputFileError):
        append_audit(link, "r", CardOutcome("1", "applied"), SHA)
    assert target.read_text() == ""
    new = tmp_path / "new.csv"
    append_audit(new, "r", CardOutcome("1", "applied"), SHA)
    assert new.stat().st_mode & 0o777 == 0o600
    os.chmod(new, 0o640)
    append_audit(new, "r", CardOutcome("2", "applied"), SHA)
    assert new.stat().st_mode & 0o777 == 0o640 and len(new.read_text().splitlines()) == 3


def test_audit_log_checks(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "audit.csv"
    with pytest.raises(OutputFileError, match="no-such-dir/audit.csv: no such folder") as err:
        check_audit_log(missing)
    assert err.value.exit_code == ExitCode.USAGE
    check_audit_log(missing, create_folder=True)  # the default log folder is made when missing
    assert missing.parent.is_dir() and not missing.exists()
    old = tmp_path / "old.csv"
    old.write_text("time_utc,reader,iccid,result,added,deleted,detail\n")
    with pytest.raises(OutputFileError, match="columns are not this version's"):
        check_audit_log(old)
    with pytest.raises(OutputFileError, match="Is a directory"):
        check_audit_log(tmp_path)
    assert default_audit_log().name == "aram-audit.csv" and Path.cwd() not in default_audit_log().parents


def test_rules_source_hash_is_of_the_file_bytes(tmp_path: Path) -> None:
    import hashlib

    f = tmp_path / "rules.toml"
    f.write_text('[[rules]]\nhash = "' + "11" * 20 + '"\n')
    source = load_rules_source(f)
    assert source.sha256 == hashlib.sha256(f.read_bytes()).hexdigest() and len(source.rules) == 1
    with pytest.raises(RuleFileError):
        load_rules_source(tmp_path / "missing.toml")
    with pytest.raises(RuleFileError, match="more than"):  # bounded: was read whole for its hash
        load_rules_source(Path("/dev/zero"))
    f.write_text('[[rules]]\nhash = "' + "11" * 20 + '"\napdu = "always"\n[[rules]]\nhash = "' + "11" * 20 + '"\n')
    with pytest.raises(RuleFileError, match="same REF-DO"):
        load_rules_source(f)


def test_unwritable_audit_log_is_a_one_line_error_before_any_card(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from simtool.cli import main

    rules = tmp_path / "rules.json"
    rules.write_text('{"rules": []}')
    missing = tmp_path / "no-such-dir" / "audit.csv"
    assert main(["aram", "apply", str(rules), "--watch", "--log", str(missing)]) == 2
    err_line = capsys.readouterr().err.strip()
    assert err_line.startswith("simtool: error: cannot write the audit log") and "\n" not in err_line


def test_card_removed_names_the_command_in_words() -> None:
    from simtool.card.errors import command_name

    assert str(CardRemovedError("r", "80E29000")) == "card removed from reader 'r' during STORE DATA"
    assert command_name("80CAFF60") == "GET DATA FF60" and command_name("00A4040C") == "SELECT"
    assert command_name("80AB0000") == "80AB0000"  # not a command simtool sends: shown as is
