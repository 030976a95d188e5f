"""Per-operator diffs and the JSON document (pure), and the 'previous' view outputs use."""

from __future__ import annotations

from wifiq.holddown import Change
from wifiq.names import EpdgName
from wifiq.operators import load_operators
from wifiq.plmn import Plmn
from wifiq.render import parse_render_input
from wifiq.render_state import previous_document
from wifiq.report import document, format_news, lookup_status, operator_reports
from wifiq.resolve import Lookup, Outcome, summarize

TELSTRA = Plmn("505", "01")
EPDG = "epdg.epc.mnc001.mcc505.pub.3gppnetwork.org"
SOS = "sos." + EPDG


def lk(name, rdtype, outcome, *addresses, resolver="192.0.2.53"):
    return Lookup(name, rdtype, resolver, 0, outcome, tuple(addresses), 300,
                  detail="" if outcome.definitive else "SERVFAIL")


def test_diff_added_removed_kept_and_document():
    db = load_operators(user_files=False)
    targets = [EpdgName(TELSTRA, "epdg", EPDG), EpdgName(TELSTRA, "sos", SOS)]
    lookups = [
        lk(EPDG, "A", Outcome.ADDRESSES, "203.0.113.12"),
        lk(EPDG, "AAAA", Outcome.NODATA),
        lk(SOS, "A", Outcome.SERVFAIL),
        lk(SOS, "AAAA", Outcome.ADDRESSES, "2001:db8::1"),
    ]
    before = {EPDG: ["203.0.113.10", "203.0.113.11"], SOS: ["198.51.100.1"]}
    after = {EPDG: ["203.0.113.11", "203.0.113.12"], SOS: ["198.51.100.1", "2001:db8::1"]}
    changes = [Change(EPDG, "203.0.113.10", 4, "removed", "gone; missing from 3 …")]
    [report] = operator_reports(db, targets, summarize(lookups), before, after, changes)
    assert report.brand == "Telstra"
    assert report.active == ("198.51.100.1", "203.0.113.11", "203.0.113.12", "2001:db8::1")
    assert report.added == ("203.0.113.12", "2001:db8::1")
    assert report.removed == (("203.0.113.10", "gone; missing from 3 …"),)
    assert report.unchanged == 2
    assert report.failed == ((SOS, "A SERVFAIL from 192.0.2.53"),)
    assert report.kept == ("198.51.100.1", "2001:db8::1")
    status = lookup_status(lookups, changed=True)
    assert status == "partial"
    doc = document(status, 0.0, [report])
    assert doc["refreshed_at"] == "1970-01-01T00:00:00Z"
    op = doc["operators"][0]
    assert op["removed"] == [{"address": "203.0.113.10", "reason": "gone; missing from 3 …"}]
    assert op["failed"] == [{"name": SOS, "reason": "A SERVFAIL from 192.0.2.53"}]
    assert [n["kind"] for n in op["names"]] == ["epdg", "sos"]
    lines = format_news([report])
    assert lines[0] == "505-01 Telstra: +2 -1 =2, 1 lookups failed (last good kept)"
    # What outputs render as "previous": now - added + removed, readable by wifiq.render.
    previous = previous_document(doc, 1764147600.0)
    [prev] = previous["operators"]
    assert prev["active"] == ["198.51.100.1", "203.0.113.10", "203.0.113.11"]
    assert previous["refreshed_at"] == "2025-11-26T09:00:00Z"
    parse_render_input(previous, "test")


def test_status_words():
    ok = [lk(EPDG, "A", Outcome.NXDOMAIN)]
    bad = [lk(EPDG, "A", Outcome.TIMEOUT)]
    assert lookup_status(ok) == "resolved"
    assert lookup_status(ok, changed=False) == "unchanged"
    assert lookup_status(ok, changed=True) == "changed"
    assert lookup_status(bad, changed=True) == "failed"
    assert lookup_status(ok + bad) == "partial"
