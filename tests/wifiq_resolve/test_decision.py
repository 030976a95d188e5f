"""The pure decision class, fed made-up answers (built with dnspython) and timeouts."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from wifiq.resolve import Outcome, Resolution, RetryPolicy
from wifiq.resolve.decision import negative_problem, recursion_problem
from wifiq.resolve.wire import TYPE_A, response_from_message

NAME = "epdg.epc.mnc001.mcc505.pub.3gppnetwork.org"


def answer(qname: str, rdtype: str, *records: str, rcode: int = dns.rcode.NOERROR,
           authority: tuple[str, ...] = (), aa: bool = True, ra: bool = False):
    """A response to (qname, rdtype) with answer records 'owner ttl type data'."""
    query = dns.message.make_query(qname, rdtype)
    msg = dns.message.make_response(query)
    msg.set_rcode(rcode)
    msg.flags &= ~dns.flags.RA
    if aa:
        msg.flags |= dns.flags.AA
    if ra:
        msg.flags |= dns.flags.RA
    for text in records:
        owner, ttl, rtype, data = text.split(maxsplit=3)
        msg.answer.append(dns.rrset.from_text(owner + ".", int(ttl), "IN", rtype, data))
    for text in authority:
        owner, ttl, rtype, data = text.split(maxsplit=3)
        msg.authority.append(dns.rrset.from_text(owner.rstrip(".") + ".", int(ttl), "IN", rtype, data))
    return response_from_message(msg)


SOA = "pub.3gppnetwork.org 3600 SOA ns.pub.3gppnetwork.org. h.pub.3gppnetwork.org. 1 3600 600 86400 60"


def run(res: Resolution, *responses):
    """Feed responses (None = timeout) in order; return the queries asked."""
    asked = []
    for response in responses:
        query = res.next_query()
        assert query is not None, "the lookup ended before every response was used"
        asked.append(query)
        if response is None:
            res.on_timeout()
        else:
            res.on_response(response)
    assert res.next_query() is None
    return asked


def test_addresses_sorted_with_ttl():
    res = Resolution(NAME, "A")
    run(res, answer(NAME, "A", f"{NAME} 300 A 203.0.113.20", f"{NAME} 120 A 203.0.113.3"))
    out = res.result(resolver="r")
    assert out.outcome is Outcome.ADDRESSES
    assert out.addresses == ("203.0.113.3", "203.0.113.20")
    assert out.ttl == 120


def test_cname_in_one_answer_is_followed():
    target = "gw.mnc001.mcc505.pub.3gppnetwork.org"
    res = Resolution("sos." + NAME, "AAAA")
    run(res, answer("sos." + NAME, "AAAA", f"sos.{NAME} 50 CNAME {target}.",
                    f"{target} 300 AAAA 2001:db8::1"))
    out = res.result(resolver="r")
    assert (out.outcome, out.addresses, out.cnames, out.ttl) == (
        Outcome.ADDRESSES, ("2001:db8::1",), (target,), 50)


def test_cname_leaving_the_zone_asks_again_for_the_target():
    res = Resolution(NAME, "A")
    asked = run(
        res,
        answer(NAME, "A", f"{NAME} 300 CNAME epdg.example.net.", authority=(SOA,)),
        answer("epdg.example.net", "A", "epdg.example.net 30 A 198.51.100.7"),
    )
    assert [q.qname for q in asked] == [NAME, "epdg.example.net"]
    out = res.result(resolver="r")
    assert out.outcome is Outcome.ADDRESSES and out.addresses == ("198.51.100.7",)
    assert out.cnames == ("epdg.example.net",) and out.ttl == 30


def test_cname_to_in_zone_name_without_records_is_final_nodata():
    target = "x.mcc505.pub.3gppnetwork.org"
    res = Resolution(NAME, "AAAA")
    asked = run(res, answer(NAME, "AAAA", f"{NAME} 300 CNAME {target}.", authority=(SOA,)))
    assert len(asked) == 1
    out = res.result(resolver="r")
    assert out.outcome is Outcome.NODATA and out.ttl == 60


def test_nxdomain_and_nodata_are_different_answers():
    res = Resolution(NAME, "A")
    run(res, answer(NAME, "A", rcode=dns.rcode.NXDOMAIN, authority=(SOA,)))
    assert res.result(resolver="r").outcome is Outcome.NXDOMAIN
    res = Resolution(NAME, "A")
    run(res, answer(NAME, "A", authority=(SOA,)))
    assert res.result(resolver="r").outcome is Outcome.NODATA


def test_nxdomain_at_the_end_of_a_chain():
    res = Resolution(NAME, "A")
    run(res, answer(NAME, "A", f"{NAME} 300 CNAME gone.example.net.", rcode=dns.rcode.NXDOMAIN))
    out = res.result(resolver="r")
    assert out.outcome is Outcome.NXDOMAIN and out.cnames == ("gone.example.net",)


def test_servfail_is_retried_with_backoff_then_reported():
    res = Resolution(NAME, "A", retry=RetryPolicy(timeout=1, retries=2, backoff=0.5))
    fail = answer(NAME, "A", rcode=dns.rcode.SERVFAIL)
    asked = run(res, fail, fail, fail)
    assert [q.delay for q in asked] == [0.0, 0.5, 1.0]
    out = res.result(resolver="r")
    assert out.outcome is Outcome.SERVFAIL and out.detail == "SERVFAIL" and out.attempts == 3


def test_servfail_then_answer_succeeds():
    res = Resolution(NAME, "A", retry=RetryPolicy(retries=1, backoff=0))
    run(res, answer(NAME, "A", rcode=dns.rcode.SERVFAIL), answer(NAME, "A", f"{NAME} 9 A 192.0.2.1"))
    assert res.result(resolver="r").addresses == ("192.0.2.1",)


def test_refused_is_not_retried():
    res = Resolution(NAME, "A", retry=RetryPolicy(retries=3))
    asked = run(res, answer(NAME, "A", rcode=dns.rcode.REFUSED, aa=False))
    out = res.result(resolver="r")
    assert len(asked) == 1 and out.outcome is Outcome.SERVFAIL and out.detail == "REFUSED"


def test_timeouts_end_as_timeout_never_as_an_answer():
    res = Resolution(NAME, "AAAA", retry=RetryPolicy(retries=2, backoff=0.1))
    asked = run(res, None, None, None)
    out = res.result(resolver="r")
    assert out.outcome is Outcome.TIMEOUT and not out.outcome.definitive
    assert [round(q.delay, 3) for q in asked] == [0.0, 0.1, 0.2]


def test_cname_loop_and_long_chain_are_errors():
    res = Resolution(NAME, "A")
    run(res, answer(NAME, "A", f"{NAME} 300 CNAME a.example.", "a.example 300 CNAME " + NAME + "."))
    assert res.result(resolver="r").detail.startswith("CNAME loop")
    chain = [f"c{i}.example 60 CNAME c{i + 1}.example." for i in range(10)]
    res = Resolution("c0.example", "A", max_cnames=4)
    run(res, answer("c0.example", "A", *chain))
    out = res.result(resolver="r")
    assert out.outcome is Outcome.SERVFAIL and "longer than 4" in out.detail


def test_unfinished_result_and_bad_type_raise():
    with pytest.raises(ValueError):
        Resolution(NAME, "MX")
    res = Resolution(NAME, "A")
    assert res.next_query().qtype == TYPE_A
    with pytest.raises(ValueError):
        res.result(resolver="r")


ROOT_NS = ". 518400 NS a.root-servers.net."
OTHER_SOA = "example.org 60 SOA ns.example.org. h.example.org. 1 3600 600 86400 60"
NX = dns.rcode.NXDOMAIN


@pytest.mark.parametrize(
    "kwargs, why",
    [
        (dict(authority=(ROOT_NS,), aa=False), "referral to . (NS records, not an answer, "
                                               "not authoritative and no recursion)"),
        (dict(authority=(ROOT_NS,), aa=True), "referral to ."),  # AA set on a referral: broken
        (dict(authority=(ROOT_NS,), aa=False, ra=True), "referral to ."),
        (dict(aa=False), "empty NOERROR, not authoritative and no recursion: nobody stands by it"),
        (dict(aa=False, rcode=NX), "NXDOMAIN, not authoritative and no recursion"),
        (dict(aa=False, authority=(SOA,)), "empty NOERROR, not authoritative and no recursion"),
        (dict(aa=False, ra=True), "empty NOERROR without the SOA of " + NAME),
        (dict(aa=False, ra=True, rcode=NX), "NXDOMAIN without the SOA of"),
        (dict(aa=False, ra=True, authority=(OTHER_SOA,)), "without the SOA of"),
        (dict(aa=True, authority=(OTHER_SOA,)), "lame: authoritative empty NOERROR with the SOA "
                                                "of example.org"),
    ],
)
def test_answers_nobody_stands_by_are_lame_failures(kwargs, why):
    """Referrals, RA-less empty answers and lame answers: a failure, never NODATA/NXDOMAIN,
    and not retried (the server would say the same again)."""
    response = answer(NAME, "A", **kwargs)
    assert why in negative_problem(response, NAME)
    res = Resolution(NAME, "A", retry=RetryPolicy(retries=3))
    assert len(run(res, response)) == 1
    out = res.result(resolver="r")
    assert out.outcome is Outcome.LAME and not out.outcome.definitive
    assert why in out.detail


@pytest.mark.parametrize(
    "kwargs, outcome",
    [
        (dict(aa=True, authority=(SOA,)), Outcome.NODATA),
        (dict(aa=True), Outcome.NODATA),  # authoritative: stands by it even without the SOA
        (dict(aa=True, rcode=NX, authority=(SOA,)), Outcome.NXDOMAIN),
        (dict(aa=False, ra=True, authority=(SOA,)), Outcome.NODATA),
        (dict(aa=False, ra=True, rcode=NX, authority=(SOA,)), Outcome.NXDOMAIN),
        (dict(aa=True, ra=True, authority=(SOA,)), Outcome.NODATA),
    ],
)
def test_authoritative_or_recursive_with_soa_is_definitive(kwargs, outcome):
    response = answer(NAME, "A", **kwargs)
    assert negative_problem(response, NAME) is None
    res = Resolution(NAME, "A")
    run(res, response)
    assert res.result(resolver="r").outcome is outcome


@pytest.mark.parametrize("aa, ra, outcome", [
    (False, False, Outcome.LAME),  # neither the zone's server nor a resolver: stale or made up
    (True, False, Outcome.ADDRESSES),  # the zone's server (knot)
    (False, True, Outcome.ADDRESSES),  # a recursive resolver (from its cache or fetched)
    (True, True, Outcome.ADDRESSES),
])
def test_addresses_count_only_from_a_server_that_stands_by_them(aa, ra, outcome):
    """An answer WITH addresses, AA and RA both clear (a server answering from a cache it
    does not refresh), was used as a complete answer: it could add addresses and, after the
    hold-down, replace the real ones. Now it is lame, like the empty answers above."""
    response = answer(NAME, "A", f"{NAME} 300 A 203.0.113.99", f"{NAME} 300 A 203.0.113.98",
                      aa=aa, ra=ra)
    res = Resolution(NAME, "A", retry=RetryPolicy(retries=3))
    assert len(run(res, response)) == 1  # not retried: the server would say the same
    out = res.result(resolver="r")
    assert out.outcome is outcome
    if outcome is Outcome.LAME:
        assert out.addresses == () and not out.outcome.definitive
        assert out.detail == ("answer 203.0.113.98 203.0.113.99, not authoritative and no "
                              "recursion: nobody stands by it")
    else:
        assert out.addresses == ("203.0.113.98", "203.0.113.99")


def test_a_non_authoritative_answer_at_the_end_of_a_chain_is_lame():
    target = "x.mcc505.pub.3gppnetwork.org"
    res = Resolution(NAME, "A")
    run(res, answer(NAME, "A", f"{NAME} 300 CNAME {target}.", f"{target} 300 A 203.0.113.7",
                    aa=False, ra=False))
    out = res.result(resolver="r")
    assert out.outcome is Outcome.LAME and out.cnames == (target,)
    assert out.detail.startswith("answer 203.0.113.7, not authoritative and no recursion")


def test_recursive_answer_through_a_cname_with_the_targets_soa_is_final():
    target = "x.mcc505.pub.3gppnetwork.org"
    res = Resolution(NAME, "AAAA")
    asked = run(res, answer(NAME, "AAAA", f"{NAME} 300 CNAME {target}.", authority=(SOA,),
                            aa=False, ra=True))
    assert len(asked) == 1 and res.result(resolver="r").outcome is Outcome.NODATA


def test_start_up_probe_reads_recursion_and_authority():
    zone = "pub.3gppnetwork.org"
    assert recursion_problem(None) is None  # no answer: the lookups will say so
    assert recursion_problem(answer(zone, "SOA", aa=False, ra=True)) is None
    assert recursion_problem(answer(zone, "SOA", SOA, aa=True)) is None  # knot: authoritative
    referral = answer(zone, "SOA", authority=(ROOT_NS,), aa=False)
    assert "does not recurse (RA not set) and is not authoritative for " + zone in (
        recursion_problem(referral) or "")
    refused = answer(zone, "SOA", rcode=dns.rcode.REFUSED, aa=False)
    assert recursion_problem(refused) is not None


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_REPLIES = st.sampled_from(["timeout", "servfail", "refused", "nxdomain", "nodata", "a", "cname"])


@given(st.lists(_REPLIES, min_size=40, max_size=40), st.integers(0, 3), st.integers(1, 5))
def test_every_lookup_ends_in_one_outcome_within_bounds(replies, retries, max_cnames):
    retry = RetryPolicy(retries=retries, backoff=0)
    res = Resolution(NAME, "A", retry=retry, max_cnames=max_cnames)
    asked = 0
    for reply in replies:
        query = res.next_query()
        if query is None:
            break
        asked += 1
        name = query.qname
        if reply == "timeout":
            res.on_timeout()
        elif reply == "cname":
            res.on_response(answer(name, "A", f"{name} 60 CNAME hop{asked}.example."))
        else:
            rcode = {"servfail": dns.rcode.SERVFAIL, "refused": dns.rcode.REFUSED,
                     "nxdomain": dns.rcode.NXDOMAIN}.get(reply, dns.rcode.NOERROR)
            records = (f"{name} 60 A 192.0.2.1",) if reply == "a" else ()
            res.on_response(answer(name, "A", *records, rcode=rcode, aa=False))
    # Each name in the chain is asked at most retries + 1 times; the chain is bounded.
    assert asked <= (retries + 1) * (max_cnames + 1)
    assert res.done
    out = res.result(resolver="r")
    assert out.outcome in set(Outcome)
    assert bool(out.addresses) == (out.outcome is Outcome.ADDRESSES)
    assert len(out.cnames) <= max_cnames + 1
