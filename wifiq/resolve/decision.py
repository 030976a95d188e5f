"""The decisions of one lookup, with no I/O: what to ask next and what an answer means.

:class:`Resolution` is fed responses (``dns.message.Message``) or timeouts by a driver and tells
it which query to send next and after what delay; tests feed it made-up messages. It follows
CNAME chains (within a response and across responses, up to ``max_cnames`` hops), keeps the
smallest TTL, retries timeouts and SERVFAIL (never REFUSED or an answer) with exponential
backoff, and ends in exactly one :class:`~wifiq.resolve.lookup.Outcome`.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from .lookup import Lookup, Outcome, sort_addresses

_RDTYPES = {"A": dns.rdatatype.A, "AAAA": dns.rdatatype.AAAA}


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to ask: ``timeout`` per attempt, ``retries`` extra attempts
    after a timeout or SERVFAIL, waiting ``backoff * 2**(n-1)`` seconds before retry ``n``."""

    timeout: float = 2.0
    retries: int = 2
    backoff: float = 0.2

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        return self.backoff * (2 ** (retry - 1))


@dataclass(frozen=True)
class Query:
    """The next question to send: ``qname`` and ``rdtype``, after ``delay`` seconds."""

    qname: dns.name.Name
    rdtype: dns.rdatatype.RdataType
    delay: float = 0.0


class Resolution:
    """The state of one (name, type) lookup against one resolver.

    Drive it with ``q = r.next_query()``; send ``q``; then call :meth:`on_response` or
    :meth:`on_timeout`; repeat until ``next_query()`` returns None; then :meth:`result`.
    """

    def __init__(
        self, name: str, rdtype: str, *, retry: RetryPolicy | None = None, max_cnames: int = 8
    ) -> None:
        if rdtype not in _RDTYPES:
            raise ValueError(f"unsupported record type {rdtype!r}")
        self.name = name.rstrip(".").lower()
        self.rdtype = rdtype
        self._rdtype = _RDTYPES[rdtype]
        self._retry = retry or RetryPolicy()
        self._max_cnames = max_cnames
        self._current = dns.name.from_text(self.name)
        self._cnames: list[dns.name.Name] = []
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
        query = Query(self._current, self._rdtype, self._delay)
        self._delay = 0.0
        return query

    def on_timeout(self) -> None:
        """No answer to the last query in time: retry with backoff, or end as TIMEOUT."""
        self._fail(Outcome.TIMEOUT, f"no answer after {self._attempts} tries")

    def on_bad_response(self, detail: str) -> None:
        """An answer that could not be used (malformed, TCP fallback failed): retry like SERVFAIL."""
        self._fail(Outcome.SERVFAIL, detail)

    def on_response(self, response: dns.message.Message) -> None:
        """Interpret the server's answer to the last query (whose question it must carry)."""
        rcode = response.rcode()
        if rcode == dns.rcode.SERVFAIL:
            self._fail(Outcome.SERVFAIL, "SERVFAIL")
            return
        if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            self._finish(Outcome.SERVFAIL, detail=dns.rcode.to_text(rcode))
            return
        owner, records, moved = self._walk_answer(response)
        if self._outcome is not None:  # the chain was too long or looped
            return
        if records is not None:
            self._finish(Outcome.ADDRESSES, addresses=records)
            return
        if rcode == dns.rcode.NXDOMAIN:
            self._negative_ttl(response)
            self._finish(Outcome.NXDOMAIN, detail="NXDOMAIN")
            return
        if moved and not self._authoritative_for(response, owner):
            # The chain left what this server answers for: ask again for the new target.
            self._current = owner
            self._attempts = 0
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
            cnames=tuple(n.to_text(omit_final_dot=True).lower() for n in self._cnames),
            detail=self._detail,
            attempts=self._attempts,
        )

    # -- internals ---------------------------------------------------------------------------

    def _walk_answer(
        self, response: dns.message.Message
    ) -> tuple[dns.name.Name, tuple[str, ...] | None, bool]:
        """Follow CNAMEs from the current name through the answer section.

        Returns the last owner reached, its addresses (None if the answer has none for it) and
        whether the chain moved in this response.
        """
        owner, moved = self._current, False
        while True:
            rrset = _find(response, owner, self._rdtype)
            if rrset is not None:
                self._keep_ttl(rrset.ttl)
                return owner, sort_addresses({r.address for r in rrset}), moved
            cname = _find(response, owner, dns.rdatatype.CNAME)
            if cname is None:
                return owner, None, moved
            target = cname[0].target
            self._keep_ttl(cname.ttl)
            if target in self._cnames or target == dns.name.from_text(self.name):
                self._finish(Outcome.SERVFAIL, detail=f"CNAME loop at {target}")
                return owner, None, moved
            self._cnames.append(target)
            if len(self._cnames) > self._max_cnames:
                self._finish(Outcome.SERVFAIL, detail=f"CNAME chain longer than {self._max_cnames}")
                return owner, None, moved
            owner, moved = target, True

    def _authoritative_for(self, response: dns.message.Message, owner: dns.name.Name) -> bool:
        """True when an authoritative answer's SOA covers ``owner`` (so its NODATA is final)."""
        if not response.flags & dns.flags.AA:
            return False
        return any(
            rrset.rdtype == dns.rdatatype.SOA and owner.is_subdomain(rrset.name)
            for rrset in response.authority
        )

    def _negative_ttl(self, response: dns.message.Message) -> None:
        for rrset in response.authority:
            if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
                self._keep_ttl(min(rrset.ttl, rrset[0].minimum))

    def _keep_ttl(self, ttl: int) -> None:
        self._ttl = ttl if self._ttl is None else min(self._ttl, ttl)

    def _fail(self, outcome: Outcome, detail: str) -> None:
        """A timeout or SERVFAIL: schedule a retry after backoff, or end with ``outcome``."""
        if self._attempts <= self._retry.retries:
            self._delay = self._retry.delay(self._attempts)
            self._detail = detail
            return
        self._finish(outcome, detail=detail)

    def _finish(self, outcome: Outcome, *, addresses: tuple[str, ...] = (), detail: str = "") -> None:
        self._outcome = outcome
        self._addresses = addresses
        self._detail = detail


def _find(
    response: dns.message.Message, owner: dns.name.Name, rdtype: dns.rdatatype.RdataType
) -> dns.rrset.RRset | None:
    for rrset in response.answer:
        if rrset.rdtype == rdtype and rrset.rdclass == dns.rdataclass.IN and rrset.name == owner:
            return rrset
    return None
