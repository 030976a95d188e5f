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
