"""Only answers a server stands by remove anything: referrals, RA-less empty answers and lame
answers from a misconfigured resolver are failures (tests/rig/faultdns.py on loopback), a
resolver that does not recurse is reported at start, and a refresh that would remove more than
half the active set at once is refused (knot on loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.faultdns import FaultDns

from .conftest import BASE_RECORDS, operator
from .test_refresh_knot import set_zone
from .test_refresh_knot import write_config as _knot_config

TELSTRA = ["--plmn", "505-01"]
TELSTRA_ALL = ["203.0.113.10", "2001:db8::10"]
EPDG = "epdg.epc.mnc001.mcc505.pub.3gppnetwork.org"
PATIENT = ("--timeout", "2")  # after the runner's --timeout 0.3: a busy machine is no failure


def write_config(wifiq, knot, refreshes: int = 2) -> str:
    """The knot tests' config, with patience for a busy machine (a timeout here would be a
    failure, and a failure is exactly what these tests tell apart from an answer)."""
    path = _knot_config(wifiq, knot, refreshes=refreshes)
    text = Path(path).read_text()
    Path(path).write_text(text.replace("timeout = 0.3\nretries = 0", "timeout = 2.0\nretries = 1"))
    return path


@pytest.fixture
def fault() -> Iterator[FaultDns]:
    with FaultDns("referral") as server:
        yield server


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("wifiq: warning: resolver")]


def test_three_refreshes_against_a_referral_answering_resolver_remove_nothing(wifiq, knot,
                                                                               fault):
    """The issue's case: a mistyped resolver that answers with referrals (NOERROR, no answer,
    NS for '.', no AA, no RA) was read as NODATA, and the third refresh removed everything."""
    first = wifiq.refresh(*TELSTRA, "--resolver", knot.address, *PATIENT)
    assert first.code == 3, first.err
    for _ in range(3):
        run = wifiq.refresh(*TELSTRA, "--resolver", fault.address, "--json", *PATIENT)
        assert run.code == 1, run.err  # every lookup failed: nothing removed, ever
        doc = run.json
        assert doc["status"] == "failed"
        telstra = operator(doc, "505-01")
        assert telstra["active"] == TELSTRA_ALL and telstra["removed"] == []
        assert telstra["kept"] == TELSTRA_ALL
        assert all("referral to ." in f["reason"] for f in telstra["failed"])
        # reported once, at start, on stderr and in the JSON document
        assert len(_warnings(run.err)) == 1
        assert f"resolver {fault.address} does not recurse" in _warnings(run.err)[0]
        assert doc["resolvers"] == [{"resolver": fault.address, "recursion": False,
                                     "authoritative": False,
                                     "warning": _warnings(run.err)[0][len("wifiq: warning: "):]}]
    shown = wifiq("history", *TELSTRA, "--state", str(wifiq.state), "--json").json
    assert [c["change"] for c in shown["operators"][0]["changes"]] == ["added"] * 4
    assert fault.queries > 0
    # the right resolver again: nothing changed, nothing failed, nothing printed
    back = wifiq.refresh(*TELSTRA, "--resolver", knot.address, *PATIENT)
    assert (back.code, back.out, back.err) == (0, "", "")


@pytest.mark.parametrize("mode, why", [
    ("empty", "empty NOERROR, not authoritative and no recursion"),
    ("empty-ra", "empty NOERROR without the SOA of"),
    ("nxdomain-bare", "NXDOMAIN, not authoritative and no recursion"),
    ("nodata-noflags", "empty NOERROR, not authoritative and no recursion"),
    ("lame-aa", "lame: authoritative empty NOERROR with the SOA of example.org"),
])
def test_answers_nobody_stands_by_never_remove(wifiq, knot, fault, mode, why):
    config = write_config(wifiq, knot, refreshes=1)
    assert wifiq("refresh", "--config", config).code == 3
    fault.mode = mode
    run = wifiq.refresh(*TELSTRA, "--resolver", fault.address, "--allow-mass-removal", "--json",
                        *PATIENT)
    assert run.code == 1, run.err
    telstra = operator(run.json, "505-01")
    assert telstra["active"] == TELSTRA_ALL and telstra["removed"] == []
    assert all(why in f["reason"] for f in telstra["failed"]), telstra["failed"]
    outcomes = {lk["outcome"] for n in telstra["names"] for lk in n["lookups"]}
    assert outcomes == {"lame"}


@pytest.mark.parametrize("mode, word", [("recursive-nodata", "NODATA"),
                                        ("recursive-nxdomain", "NXDOMAIN")])
def test_a_recursive_resolvers_answer_with_soa_is_definitive(wifiq, knot, fault, mode, word):
    """The control: RA set and the zone's SOA in authority is an answer; with a hold-down of
    one refresh (and the mass-removal guard lifted) it removes at once."""
    config = write_config(wifiq, knot, refreshes=1)
    assert wifiq("refresh", "--config", config).code == 3
    fault.mode = mode
    run = wifiq("refresh", "--config", config, "--resolver", fault.address,
                "--allow-mass-removal", "--json")
    assert run.code == 3, run.err
    assert _warnings(run.err) == []  # it recurses: nothing to report
    assert run.json["resolvers"][0]["recursion"] is True
    telstra = operator(run.json, "505-01")
    assert telstra["active"] == [] and telstra["failed"] == []
    assert all(word in r["reason"] for r in telstra["removed"])


STALE = {EPDG: ["203.0.113.99", "2001:db8::99"], "sos." + EPDG: ["203.0.113.99"]}


def test_addresses_from_a_server_that_neither_recurses_nor_is_authoritative_change_nothing(
        wifiq, knot):
    """The gap left by issue 14: an answer WITH addresses and AA=0, RA=0 (a server answering
    from a cache it does not refresh) counted as complete. With a hold-down of one refresh
    and the guard lifted, the first such refresh replaced 505-01's addresses by its own."""
    config = write_config(wifiq, knot, refreshes=1)
    assert wifiq("refresh", "--config", config).code == 3
    with FaultDns("stale", STALE) as stale:
        for _ in range(3):
            run = wifiq.refresh(*TELSTRA, "--resolver", stale.address, "--allow-mass-removal",
                                "--json", *PATIENT)
            assert run.code == 1, run.err  # every lookup failed: nothing added, nothing removed
            telstra = operator(run.json, "505-01")
            assert telstra["active"] == TELSTRA_ALL
            assert telstra["added"] == [] and telstra["removed"] == []
            assert telstra["kept"] == TELSTRA_ALL
            lookups = [lk for n in telstra["names"] for lk in n["lookups"]]
            assert {lk["outcome"] for lk in lookups} == {"lame"}
            assert all(lk["addresses"] == [] for lk in lookups)
            reasons = " ".join(f["reason"] for f in telstra["failed"])
            assert ("A answer 203.0.113.99, not authoritative and no recursion: nobody stands "
                    "by it") in reasons, reasons
            assert len(_warnings(run.err)) == 1 and "RA not set" in _warnings(run.err)[0]
        # beside a good resolver: its addresses are not added, the name is partly failed
        mixed = wifiq.refresh(*TELSTRA, "--resolver", knot.address, "--resolver",
                              stale.address, "--json", *PATIENT)
        assert mixed.code == 4, mixed.err
        telstra = operator(mixed.json, "505-01")
        assert telstra["active"] == TELSTRA_ALL and telstra["added"] == []
        text = wifiq("resolve", *TELSTRA, "--kind", "epdg", "--resolver", stale.address,
                     *PATIENT)
        assert text.code == 1 and "203.0.113.99  [" not in text.out and "lame" in text.out
    back = wifiq.refresh(*TELSTRA, "--resolver", knot.address, *PATIENT)
    assert (back.code, back.out, back.err) == (0, "", "")


def test_a_recursive_resolver_and_an_authoritative_one_draw_no_warning(wifiq, knot):
    with FaultDns("recursive", {EPDG: ["203.0.113.10", "2001:db8::10"]}) as recursive:
        run = wifiq("resolve", *TELSTRA, "--kind", "epdg", "--resolver", recursive.address,
                    "--resolver", knot.address, "--json", *PATIENT)
    assert run.code == 0, run.err
    assert _warnings(run.err) == []
    checks = {c["resolver"]: c for c in run.json["resolvers"]}
    assert checks[recursive.address]["recursion"] is True
    assert checks[knot.address] == {"resolver": knot.address, "recursion": False,
                                    "authoritative": True, "warning": None}
    assert operator(run.json, "505-01")["active"] == TELSTRA_ALL


def test_resolve_reports_a_non_recursing_resolver_in_one_line(wifiq, fault):
    run = wifiq("resolve", *TELSTRA, "--resolver", fault.address, "--timeout", "0.3")
    assert run.code == 1
    assert len(_warnings(run.err)) == 1 and "RA not set" in _warnings(run.err)[0]
    assert "lame" in run.out and "Traceback" not in run.err


def _drop(records: list[str], *parts: str) -> list[str]:
    return [r for r in records if not any(p in r for p in parts)]


def test_mass_removal_is_refused_kept_and_signalled(wifiq, knot):
    """505-01 and 505-02 hold 5 distinct addresses; the zone loses 3 of them (60 %) at once."""
    config = write_config(wifiq, knot, refreshes=1)
    assert wifiq("refresh", "--config", config).code == 3
    before = wifiq("refresh", "--config", config, "--json").json
    set_zone(knot, _drop(BASE_RECORDS, "mnc001", "203.0.113.21"), serial=2)
    for _ in range(2):  # refused every time, not only once
        run = wifiq("refresh", "--config", config, "--json")
        assert run.code == 4, run.err  # a partial failure: nothing changed, something failed
        assert run.json["status"] == "partial"
        lines = [line for line in run.err.splitlines() if "refused to remove" in line]
        assert lines == ["wifiq: refused to remove 3 of 5 active addresses in one refresh "
                         "(more than 50%); they are kept - if the change is real, refresh with "
                         "--allow-mass-removal"]
        assert run.json["mass_removal"] == {
            "refused": ["203.0.113.10", "203.0.113.21", "2001:db8::10"], "active": 5,
            "max_percent": 50}
        for plmn in ("505-01", "505-02"):
            assert operator(run.json, plmn)["active"] == operator(before, plmn)["active"]
            assert operator(run.json, plmn)["removed"] == []
    text = wifiq("refresh", "--config", config)
    assert text.code == 4 and "refused to remove 3 of 5" in text.err
    allowed = wifiq("refresh", "--config", config, "--allow-mass-removal", "--json")
    assert allowed.code == 3, allowed.err
    assert allowed.json["mass_removal"] is None
    assert operator(allowed.json, "505-01")["active"] == []
    assert operator(allowed.json, "505-02")["active"] == ["198.51.100.20", "2001:db8::20"]
    assert wifiq("refresh", "--config", config).code == 0


def test_mass_removal_share_and_permission_come_from_the_config(wifiq, knot):
    config = write_config(wifiq, knot, refreshes=1)
    assert wifiq("refresh", "--config", config).code == 3
    set_zone(knot, _drop(BASE_RECORDS, "mnc001", "203.0.113.21"), serial=2)
    strict = wifiq.home / "strict.toml"
    strict.write_text(open(config).read() + "max_removal_percent = 60\n")
    run = wifiq("refresh", "--config", str(strict), "--json")
    assert run.code == 3, run.err  # 60 % is allowed when the share is 60
    assert operator(run.json, "505-01")["active"] == []


def test_mass_removal_allowed_by_the_config_key(wifiq, knot):
    config = write_config(wifiq, knot, refreshes=1)
    assert wifiq("refresh", "--config", config).code == 3
    set_zone(knot, _drop(BASE_RECORDS, "mnc001"), serial=2)
    # 505-01 alone: all of its addresses at once
    solo = wifiq.home / "solo.toml"
    solo.write_text(open(config).read().replace('plmns = ["505-01", "505-02"]',
                                                'plmns = ["505-01"]'))
    refused = wifiq("refresh", "--config", str(solo))
    assert refused.code == 4 and "refused to remove 2 of 2" in refused.err
    solo.write_text(solo.read_text() + "allow_mass_removal = true\n")
    allowed = wifiq("refresh", "--config", str(solo), "--json")
    assert allowed.code == 3 and operator(allowed.json, "505-01")["active"] == []


def test_a_refused_removal_with_an_addition_still_adds_and_is_partial(wifiq, knot):
    config = write_config(wifiq, knot, refreshes=1)
    assert wifiq("refresh", "--config", config).code == 3
    records = _drop(BASE_RECORDS, "mnc001", "203.0.113.21", "epdg.epc.mnc002")
    records.append("sos.epdg.epc.mnc002.mcc505 IN A 203.0.113.22")  # 5 of 6 would go
    set_zone(knot, records, serial=2)
    run = wifiq("refresh", "--config", config, "--json")
    assert run.json["status"] == "partial" and run.code != 0 and run.code != 3, run.err
    optus = operator(run.json, "505-02")
    assert optus["added"] == ["203.0.113.22"] and optus["removed"] == []
    assert optus["active"] == ["198.51.100.20", "203.0.113.21", "203.0.113.22", "2001:db8::20"]
    assert operator(run.json, "505-01")["active"] == TELSTRA_ALL
    assert len(run.json["mass_removal"]["refused"]) == 5 and run.json["mass_removal"]["active"] == 6
