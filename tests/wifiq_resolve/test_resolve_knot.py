"""``wifiq resolve`` against real knot servers: every outcome, the union, exit statuses."""

from __future__ import annotations

import time

from tests.rig.relay import DelayRelay

from .conftest import operator

SEL = ["--plmn", "505-01", "--plmn", "505-02", "--plmn", "505-03", "--plmn", "999-01"]


def test_every_outcome_from_one_server(wifiq, knot):
    run = wifiq("resolve", *SEL, "--resolver", knot.address, "--timeout", "0.5", "--json")
    assert run.code == 4, run.err  # 999-01 answers SERVFAIL: a partial failure
    doc = run.json
    assert doc["status"] == "partial" and doc["refreshed_at"].endswith("Z")
    assert [op["plmn"] for op in doc["operators"]] == ["505-01", "505-02", "505-03", "999-01"]
    telstra = operator(doc, "505-01")
    assert telstra["brand"] == "Telstra"
    assert telstra["active"] == ["203.0.113.10", "2001:db8::10"]
    assert telstra["added"] == [] and telstra["removed"] == [] and telstra["failed"] == []
    sos = next(n for n in telstra["names"] if n["kind"] == "sos")
    assert sos["lookups"][0]["cnames"] == ["epdg.epc.mnc001.mcc505.pub.3gppnetwork.org"]
    optus = operator(doc, "505-02")
    epdg = next(n for n in optus["names"] if n["kind"] == "epdg")
    assert epdg["addresses"] == ["198.51.100.20", "2001:db8::20"]  # CNAME out of zone followed
    assert epdg["lookups"][0]["cnames"] == ["epdg.example.net"]
    sos = next(n for n in optus["names"] if n["kind"] == "sos")
    assert sos["outcome"] == {"A": "addresses", "AAAA": "nodata"}
    nx = operator(doc, "505-03")
    assert nx["active"] == [] and nx["failed"] == []
    assert {n["outcome"]["A"] for n in nx["names"]} == {"nxdomain"}
    broken = operator(doc, "999-01")
    assert broken["active"] == []
    assert {f["name"] for f in broken["failed"]} == {
        "epdg.epc.mnc001.mcc999.pub.3gppnetwork.org",
        "sos.epdg.epc.mnc001.mcc999.pub.3gppnetwork.org",
    }
    assert all("SERVFAIL" in f["reason"] for f in broken["failed"])


def test_union_across_resolvers_and_ipv6_transport(wifiq, knot, knot2):
    run = wifiq("resolve", "--plmn", "505-01", "--resolver", knot.address,
                "--resolver", knot2.address6, "--samples", "2", "--json")
    assert run.code == 0, run.err
    telstra = operator(run.json, "505-01")
    assert telstra["active"] == ["203.0.113.10", "203.0.113.11", "2001:db8::10"]
    lookups = telstra["names"][0]["lookups"]
    assert {lk["resolver"] for lk in lookups} == {knot.address, knot2.address6}
    assert {lk["sample"] for lk in lookups} == {0, 1}


def test_dead_resolver_is_a_timeout_never_an_empty_answer(wifiq, knot, silent):
    start = time.monotonic()
    run = wifiq("resolve", "--plmn", "505-01", "--resolver", silent.address,
                "--timeout", "0.2", "--retries", "1", "--json")
    assert time.monotonic() - start < 20
    assert run.code == 1 and run.json["status"] == "failed"
    lookups = operator(run.json, "505-01")["names"][0]["lookups"]
    assert {lk["outcome"] for lk in lookups} == {"timeout"}
    assert {lk["attempts"] for lk in lookups} == {2}
    both = wifiq("resolve", "--plmn", "505-01", "--resolver", silent.address,
                 "--resolver", knot.address, "--timeout", "0.2", "--retries", "0")
    assert both.code == 4 and "203.0.113.10" in both.out and "lookups failed" in both.err


def test_list_and_text_output(wifiq, knot):
    run = wifiq("resolve", "--plmn", "505-01", "--plmn", "505-02", "--resolver", knot.address,
                "--list")
    assert run.code == 0
    assert run.out.split() == ["198.51.100.20", "203.0.113.10", "203.0.113.21",
                               "2001:db8::10", "2001:db8::20"]
    text = wifiq("resolve", "--plmn", "505-01", "--resolver", knot.address)
    assert "505-01 Telstra" in text.out and "A:addresses AAAA:addresses" in text.out


def test_bad_input_is_one_line(wifiq):
    for args, words in [
        (["--plmn", "505-01", "--resolver", "dns.example"], "bad resolver"),
        (["--plmn", "5051"], "5051"),
        (["--plmn", "505-01", "--resolver", "127.0.0.1", "--kind", "nope"], "nope"),
        (["--resolver", "127.0.0.1"], "select operators"),
    ]:
        run = wifiq("resolve", *args)
        assert run.code == 2, (args, run.err)
        assert words in run.err and "Traceback" not in run.err
        assert len(run.err.strip().splitlines()) == 1, run.err


def test_truncated_answer_is_asked_again_over_tcp(wifiq, knot):
    run = wifiq("resolve", "--plmn", "505-09", "--kind", "epdg", "--resolver", knot.address,
                "--json")
    assert run.code == 0, run.err
    name = operator(run.json, "505-09")["names"][0]
    assert len(name["addresses"]) == 80 and name["outcome"]["AAAA"] == "addresses"
    assert "2001:db8:9::50" in name["addresses"]


def test_progress_on_a_terminal_while_a_dead_resolver_keeps_everyone_waiting(wifiq, silent):
    """Every lookup waits on a dead resolver (at least 2 s): on a terminal, a progress line
    appears after a second although no lookup has ended, and is erased before the summary;
    with stderr not a terminal (cron, pipes) there is none."""
    import os
    import pty
    import subprocess
    import sys

    args = ["resolve", "--plmn", "505-01", "--resolver", silent.address, "--timeout", "1",
            "--retries", "1", "--list"]
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "wifiq.cli", *args], env=wifiq.env,
                                stdout=subprocess.PIPE, stderr=secondary)
        os.close(secondary)
        seen = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        out, _ = proc.communicate(timeout=60)
    finally:
        os.close(primary)
    text = seen.decode().replace("\r\n", "\n")
    assert proc.returncode == 1 and out == b""  # every lookup failed
    assert "\r\x1b[Kresolving: 0/" in text and " lookups (0%), " in text
    drawn, _, after = text.rpartition("\r\x1b[K")  # the last erase, then the messages
    assert "resolving" in drawn and "resolving" not in after and "lookups failed" in after
    piped = wifiq(*args)
    assert piped.code == 1 and "resolving" not in piped.err and "\x1b" not in piped.err


def test_history_without_state_is_a_clear_error(wifiq):
    run = wifiq("history", "--plmn", "505-01", "--state", str(wifiq.home / "none.sqlite"))
    assert run.code == 2 and "run wifiq refresh first" in run.err


def test_tac_and_lac_kinds_resolve_with_their_codes(wifiq, knot):
    run = wifiq("resolve", "--plmn", "505-01", "--kind", "tac", "--kind", "lac",
                "--tac", "0x1b1a", "--lac", "42", "--resolver", knot.address, "--json")
    assert run.code == 0, run.err
    names = {n["kind"]: n for n in operator(run.json, "505-01")["names"]}
    assert names["tac"]["name"] == "tac-lb1a.tac-hb1b.tac.epdg.epc.mnc001.mcc505.pub.3gppnetwork.org"
    assert names["tac"]["addresses"] == ["203.0.113.30"]
    assert names["lac"]["name"] == "lac002a.epdg.epc.mnc001.mcc505.pub.3gppnetwork.org"
    assert names["lac"]["addresses"] == ["2001:db8::2a"]


def test_tac_kind_without_a_tac_is_a_usage_error(wifiq, silent):
    run = wifiq("resolve", "--plmn", "505-01", "--kind", "tac", "--resolver", silent.address)
    assert run.code == 2 and run.err.strip() == "wifiq: error: name kind 'tac' needs a TAC (--tac N)"
    run = wifiq("resolve", "--plmn", "505-01", "--kind", "lac", "--lac", "0x10000",
                "--resolver", silent.address)
    assert run.code == 2 and "LAC 65536 is out of range" in run.err


def test_published_ranges_are_reported_beside_not_inside_active(wifiq, knot, tmp_path):
    overrides = tmp_path / "ours.toml"
    overrides.write_text('[[operator]]\nplmns = ["505-01"]\nranges = ["192.0.2.0/25"]\n'
                         'source = "our own test"\n')
    run = wifiq("resolve", "--plmn", "505-01", "--plmn", "310-260", "--overrides", str(overrides),
                "--resolver", knot.address, "--json")
    assert run.code == 0, run.err
    telstra = operator(run.json, "505-01")
    assert telstra["ranges"] == [{"range": "192.0.2.0/25", "source": "our own test"}]
    assert telstra["active"] == ["203.0.113.10", "2001:db8::10"]  # resolved addresses only
    tmobile = operator(run.json, "310-260")
    assert [r["range"] for r in tmobile["ranges"]] == ["208.54.0.0/17"]  # embedded overrides
    assert "MCNC" in tmobile["ranges"][0]["source"] and tmobile["active"] == []
    text = wifiq("resolve", "--plmn", "310-260", "--resolver", knot.address)
    assert "  range     208.54.0.0/17  (published, not resolved)" in text.out.splitlines()


def test_concurrency_bounds_the_queries_in_flight(wifiq, knot):
    knot_at = ("127.0.0.1", int(knot.address.rsplit(":", 1)[1]))
    three = ["--plmn", "505-01", "--plmn", "505-02", "--plmn", "505-03"]  # 12 questions, + CNAMEs
    with DelayRelay(knot_at, 0.1) as relay:
        run = wifiq("resolve", *three, "--resolver", relay.address, "--concurrency", "2",
                    "--timeout", "2", "--json")
        assert run.code == 0, run.err
        assert relay.max_in_flight == 2
    with DelayRelay(knot_at, 0.1) as relay:
        assert wifiq("resolve", *three, "--resolver", relay.address, "--timeout", "2").code == 0
        assert relay.max_in_flight > 2  # the default (256) lets them all go at once
    assert operator(run.json, "505-02")["active"] == ["198.51.100.20", "203.0.113.21",
                                                      "2001:db8::20"]
