"""The decisions of one lookup, with no I/O: what to ask next and what an answer means.

:class:`Resolution` is fed decoded answers (:class:`~wifiq.resolve.wire.Response`) or timeouts
by a driver and tells it which question to send next and after what delay; tests feed it
made-up answers. It follows CNAME chains (within an answer and across answers, up to
``max_cnames`` hops), keeps the smallest TTL, retries timeouts and SERVFAIL (never REFUSED nor
an answer) with exponential backoff, and ends in exactly one
:class:`~wifiq.resolve.lookup.Outcome`.

An empty (NODATA) or NXDOMAIN answer is only an answer when the server stands by it
(:func:`negative_problem`): it is authoritative (AA), or it recurses (RA) and shows the SOA of
a zone holding the name. An answer with addresses needs AA or RA (:func:`positive_problem`):
one with neither (a server answering from a cache it does not refresh) is ``LAME`` too. A referral (NOERROR, no answer, NS records in authority), an empty
answer from a server that neither recurses nor is authoritative, or an SOA of an unrelated
zone ends the lookup as :attr:`~wifiq.resolve.lookup.Outcome.LAME`, a failure: it never
removes an address. :func:`recursion_problem` reads the answer to the start-up probe
(:data:`PROBE_ZONE` SOA) that tells whether a resolver recurses.
"""

from __future__ import annotations

from dataclasses import dataclass

from .lookup import Lookup, Outcome, sort_addresses
from .wire import (
    RCODE_NOERROR,
    RCODE_NXDOMAIN,
    RCODE_SERVFAIL,
    TYPE_A,
    TYPE_AAAA,
    TYPE_CNAME,
    TYPE_NS,
    TYPE_SOA,
    Record,
    Response,
)

_RDTYPES = {"A": TYPE_A, "AAAA": TYPE_AAAA}
_RCODE_NAMES = {1: "FORMERR", 2: "SERVFAIL", 4: "NOTIMP", 5: "REFUSED"}
#: The zone whose SOA the start-up probe asks each resolver for (every 3GPP ePDG name is in it).
PROBE_ZONE = "pub.3gppnetwork.org"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to ask: ``timeout`` per attempt, ``retries`` extra attempts
    after a timeout or SERVFAIL, waiting ``backoff * 2**(n-1)`` seconds before retry ``n``."""

    timeout: float = 2.0
    retries: int = 2
    backoff: float = 0.2

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        return self.backoff * float(2 ** (retry - 1))


@dataclass(frozen=True)
class Query:
    """The next question to send: ``qname`` (lower case, no final dot) and numeric ``qtype``,
    after waiting ``delay`` seconds."""

    qname: str
    qtype: int
    delay: float = 0.0


class Resolution:
    """The state of one (name, type) lookup against one resolver.

    Drive it with ``q = r.next_query()``; send ``q``; then call :meth:`on_response`,
    :meth:`on_timeout` or :meth:`on_bad_response`; repeat until ``next_query()`` returns None;
    then :meth:`result`. Raises ValueError for a type other than A or AAAA.
    """

    def __init__(
        self, name: str, rdtype: str, *, retry: RetryPolicy | None = None, max_cnames: int = 8
    ) -> None:
        if rdtype not in _RDTYPES:
            raise ValueError(f"unsupported record type {rdtype!r}")
        self.name = name.rstrip(".").lower()
        self.rdtype = rdtype
        self._qtype = _RDTYPES[rdtype]
        self._retry = retry or RetryPolicy()
        self._max_cnames = max_cnames
        self._current = self.name
        self._cnames: list[str] = []
        self._ttl: int | None = None
        self._attempts = 0
        self._delay = 0.0
        self._outcome: Outcome | None = None
        self._addresses: tuple[str, ...] = ()
        self._detail = ""

    @property
    def done(self) -> bool:
        """True once the lookup has its outcome."""
        return self._outcome is not None

    def next_query(self) -> Query | None:
        """The query to send now (counted as an attempt), or None when the lookup is over."""
        if self._outcome is not None:
            return None
        self._attempts += 1
        query = Query(self._current, self._qtype, self._delay)
        self._delay = 0.0
        return query

    def on_timeout(self) -> None:
        """No answer to the last query in time: retry with backoff, or end as TIMEOUT."""
        self._fail(Outcome.TIMEOUT, f"no answer after {self._attempts} tries")

    def on_bad_response(self, detail: str) -> None:
        """An answer that could not be used (malformed, TCP failed): retry like SERVFAIL."""
        self._fail(Outcome.SERVFAIL, detail)

    def on_response(self, response: Response) -> None:
        """Interpret the server's answer to the last query."""
        rcode = response.rcode
        if rcode == RCODE_SERVFAIL:
            self._fail(Outcome.SERVFAIL, "SERVFAIL")
            return
        if rcode not in (RCODE_NOERROR, RCODE_NXDOMAIN):
            self._finish(Outcome.SERVFAIL, detail=_RCODE_NAMES.get(rcode, f"RCODE{rcode}"))
            return
        owner, addresses, moved = self._walk_answer(response)
        if self._outcome is not None:  # the chain was too long or looped
            return
        if addresses:
            problem = positive_problem(response, addresses)
            if problem is not None:
                self._finish(Outcome.LAME, detail=problem)
                return
            self._finish(Outcome.ADDRESSES, addresses=addresses)
            return
        problem = negative_problem(response, owner)
        if rcode == RCODE_NOERROR and moved and (problem is not None or not _has_soa_of(
                response, owner)):
            # The chain left what this server answers for: ask again for the new target.
            self._current = owner
            self._attempts = 0
            return
        if problem is not None:
            self._finish(Outcome.LAME, detail=problem)
            return
        if rcode == RCODE_NXDOMAIN:
            self._negative_ttl(response)
            self._finish(Outcome.NXDOMAIN, detail="NXDOMAIN")
            return
        self._negative_ttl(response)
        self._finish(Outcome.NODATA, detail="NOERROR, no records")

    def result(self, *, resolver: str, sample: int = 0) -> Lookup:
        """The finished lookup; raises ValueError if it is not finished."""
        if self._outcome is None:
            raise ValueError(f"lookup of {self.name} {self.rdtype} is not finished")
        return Lookup(
            name=self.name,
            rdtype=self.rdtype,
            resolver=resolver,
            sample=sample,
            outcome=self._outcome,
            addresses=self._addresses,
            ttl=self._ttl,
            cnames=tuple(self._cnames),
            detail=self._detail,
            attempts=self._attempts,
        )

    # -- internals ---------------------------------------------------------------------------

    def _walk_answer(self, response: Response) -> tuple[str, tuple[str, ...], bool]:
        """Follow CNAMEs from the current name through the answer section.

        Returns the last owner reached, its addresses (empty if none) and whether the chain
        moved in this answer.
        """
        owner, moved = self._current, False
        while True:
            found = [r for r in response.answer if r.owner == owner and r.rdtype == self._qtype]
            if found:
                self._keep_ttl(min(r.ttl for r in found))
                return owner, sort_addresses(r.data for r in found), moved
            cname = _first(response.answer, owner, TYPE_CNAME)
            if cname is None:
                return owner, (), moved
            self._keep_ttl(cname.ttl)
            target = cname.data
            if target == self.name or target in self._cnames:
                self._finish(Outcome.SERVFAIL, detail=f"CNAME loop at {target}")
                return owner, (), moved
            self._cnames.append(target)
            if len(self._cnames) > self._max_cnames:
                self._finish(Outcome.SERVFAIL, detail=f"CNAME chain longer than {self._max_cnames}")
                return owner, (), moved
            owner, moved = target, True

    def _negative_ttl(self, response: Response) -> None:
        for record in response.authority:
            if record.rdtype == TYPE_SOA and record.data.isdigit():
                self._keep_ttl(min(record.ttl, int(record.data)))

    def _keep_ttl(self, ttl: int) -> None:
        self._ttl = ttl if self._ttl is None else min(self._ttl, ttl)

    def _fail(self, outcome: Outcome, detail: str) -> None:
        """A timeout or SERVFAIL: schedule a retry after backoff, or end with ``outcome``."""
        self._detail = detail
        if self._attempts <= self._retry.retries:
            self._delay = self._retry.delay(self._attempts)
            return
        self._finish(outcome, detail=detail)

    def _finish(
        self, outcome: Outcome, *, addresses: tuple[str, ...] = (), detail: str = ""
    ) -> None:
        self._outcome = outcome
        self._addresses = addresses
        self._detail = detail


def _first(records: tuple[Record, ...], owner: str, rdtype: int) -> Record | None:
    for record in records:
        if record.owner == owner and record.rdtype == rdtype:
            return record
    return None


def _covers(zone: str, owner: str) -> bool:
    """True when ``owner`` is ``zone`` or below it (the root zone ``''`` covers every name)."""
    return not zone or owner == zone or owner.endswith("." + zone)


def _has_soa_of(response: Response, owner: str) -> bool:
    return any(r.rdtype == TYPE_SOA and _covers(r.owner, owner) for r in response.authority)


def negative_problem(response: Response, owner: str) -> str | None:
    """Why an answer with no record for ``owner`` (the end of any CNAME chain) is not a
    definitive NODATA/NXDOMAIN, or None when it is one.

    Definitive: not a referral, and either authoritative (AA; an SOA it shows must cover
    ``owner``) or from a recursive resolver (RA) showing the SOA of a zone covering ``owner``.
    """
    word = "NXDOMAIN" if response.rcode == RCODE_NXDOMAIN else "empty NOERROR"
    soas = [r for r in response.authority if r.rdtype == TYPE_SOA]
    covering = [r for r in soas if _covers(r.owner, owner)]
    if response.rcode == RCODE_NOERROR and not soas:
        ns = next((r for r in response.authority if r.rdtype == TYPE_NS), None)
        if ns is not None:
            return (f"referral to {ns.owner or '.'} (NS records, not an answer"
                    f"{_flags_note(response)})")
    if response.authoritative:
        if soas and not covering:
            return (f"lame: authoritative {word} with the SOA of {soas[0].owner or '.'}, "
                    f"which does not hold {owner}")
        return None
    if response.recursion_available:
        if covering:
            return None
        return f"{word} without the SOA of {owner}'s zone from a recursive resolver"
    return f"{word}{_flags_note(response)}: nobody stands by it"


def positive_problem(response: Response, addresses: tuple[str, ...]) -> str | None:
    """Why an answer holding ``addresses`` is not one to use, or None when it is.

    Used: authoritative (AA: the zone's own server) or recursive (RA: a resolver, which
    fetched it or holds it from a fetch, within the TTL). A server that is neither hands out
    what nobody stands by — a cache it does not refresh, a copy of an old zone — so its
    addresses are neither added nor allowed to start the hold-down of the others.
    """
    if response.authoritative or response.recursion_available:
        return None
    shown = " ".join(addresses[:4]) + (f" (+{len(addresses) - 4} more)"
                                       if len(addresses) > 4 else "")
    return f"answer {shown}{_flags_note(response)}: nobody stands by it"


def _flags_note(response: Response) -> str:
    parts = ([] if response.authoritative else ["not authoritative"]) + (
        [] if response.recursion_available else ["no recursion"])
    return f", {' and '.join(parts)}" if parts else ""


def recursion_problem(response: Response | None, zone: str = PROBE_ZONE) -> str | None:
    """What the answer to the start-up probe (``zone`` SOA, recursion desired) says about the
    resolver: None when it recurses (RA) or is authoritative for ``zone`` (or gave no usable
    answer: its lookups will say so), else a phrase for the one-line warning."""
    if response is None or response.recursion_available:
        return None
    if response.authoritative and response.rcode == RCODE_NOERROR:
        return None
    return (f"does not recurse (RA not set) and is not authoritative for {zone}: its "
            "referrals, empty answers and addresses count as failures, never as "
            "NODATA/NXDOMAIN or addresses (only its authoritative answers count)")
