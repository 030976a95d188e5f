"""The production-line loop (pure logic: the card side is given as callables)."""

import csv

from simtool.aram.production import CardOutcome, watch


def test_one_row_per_card_header_once_and_ctrl_c_stops_cleanly(tmp_path):
    log = tmp_path / "audit.csv"
    cards = iter([CardOutcome("111", "applied", 2, 0), CardOutcome(None, "failed", detail="6984")])
    waits = []

    def wait(present, timeout):
        waits.append(present)
        if present and len(waits) > 4:
            raise KeyboardInterrupt  # operator stops the line while waiting for a card
        return True

    seen = []
    outcomes = watch(wait=wait, process=lambda: next(cards), log_path=log, reader="r", count=None,
                     idle_timeout=None, on_outcome=seen.append)
    assert [o.result for o in outcomes] == ["applied", "failed"] == [o.result for o in seen]
    rows = list(csv.DictReader(log.open()))
    assert [(r["iccid"], r["result"], r["detail"]) for r in rows] == [("111", "applied", ""), ("", "failed", "6984")]
    assert waits == [True, False, True, False, True]


def test_count_and_idle_timeout(tmp_path):
    log = tmp_path / "audit.csv"
    done = watch(wait=lambda present, t: True, process=lambda: CardOutcome("1", "unchanged"), log_path=log,
                 reader="r", count=3, idle_timeout=None, on_outcome=lambda o: None)
    assert len(done) == 3 and len(log.read_text().splitlines()) == 4
    idle = watch(wait=lambda present, t: False, process=lambda: CardOutcome("1", "applied"),
                 log_path=tmp_path / "none.csv", reader="r", count=None, idle_timeout=1, on_outcome=print)
    assert idle == [] and not (tmp_path / "none.csv").exists()


def test_unwritable_audit_log_is_a_one_line_error_before_any_card(tmp_path, capsys):
    import pytest

    from simtool.aram.errors import OutputFileError
    from simtool.aram.production import append_audit, check_audit_log
    from simtool.cli import main

    missing = tmp_path / "no-such-dir" / "audit.csv"
    with pytest.raises(OutputFileError, match="no-such-dir/audit.csv: no such folder") as err:
        check_audit_log(missing)
    assert err.value.path == str(missing) and err.value.exit_code == 2
    with pytest.raises(OutputFileError):
        append_audit(missing, "r", CardOutcome("1", "applied"))
    rules = tmp_path / "rules.json"
    rules.write_text('{"rules": []}')
    # fails before PC/SC is asked for a reader (no rig here)
    assert main(["aram", "apply", str(rules), "--watch", "--log", str(missing)]) == 2
    err_line = capsys.readouterr().err.strip()
    assert err_line.startswith("simtool: error: cannot write the audit log") and "\n" not in err_line
    check_audit_log(tmp_path / "new.csv")
    assert not (tmp_path / "new.csv").exists()  # checked, not created: no card, no file
    with pytest.raises(OutputFileError, match="Is a directory"):
        check_audit_log(tmp_path)
