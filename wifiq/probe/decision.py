"""The decisions of one probe, with no I/O: what to send next and what a reply means.

A :class:`Probe` is one IKE_SA_INIT exchange with one (address, port). A driver sends what
:meth:`Probe.next_request` returns and feeds back replies (:meth:`Probe.on_reply`), timeouts
(:meth:`Probe.on_timeout`) and ICMP errors (:meth:`Probe.on_unreachable`); tests feed it
made-up bytes. It resends with a COOKIE when asked (RFC 7296 §2.6), retries with the group an
INVALID_KE_PAYLOAD names (§1.2) when it is one the probe offers, takes a REDIRECT (RFC 5685)
only when it echoes the probe's nonce, and ends in exactly one :class:`Outcome` — never going
past IKE_SA_INIT.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass

from .ike import (
    COOKIE,
    DEFAULT_GROUPS,
    INVALID_KE_PAYLOAD,
    MODP_SIZES,
    NATT_PORT,
    NO_PROPOSAL_CHOSEN,
    REDIRECT,
    IKE_SA_INIT,
    IkeError,
    IkeMessage,
    android_proposals,
    encode_sa_init,
    groups_with_first,
    parse_message,
    parse_redirect,
    random_ke,
)


class Outcome(str, enum.Enum):
    """How a probe of one address and port ended (``docs/wifiq-probe.md``)."""

    ANSWERED = "answered"                      # SA + KE + Nr: an IKEv2 responder accepts us
    NO_PROPOSAL_CHOSEN = "no_proposal_chosen"  # reachable, but refuses the phone's proposals
    ERROR_NOTIFY = "error_notify"              # reachable, another error notify
    REDIRECTED = "redirected"                  # reachable, sends us to another gateway
    MALFORMED = "malformed"                    # something answered, not in IKEv2
    UNREACHABLE = "unreachable"                # an ICMP error came back
    SILENT = "silent"                          # nothing after every retry
    NOT_PROBED = "not_probed"                  # the state's address is no ePDG's (targets.py)

    @property
    def reachable(self) -> bool:
        """Whether an IKE speaker (or at least a UDP listener) answered from this network."""
        return self not in (Outcome.UNREACHABLE, Outcome.SILENT, Outcome.NOT_PROBED)


@dataclass(frozen=True)
class ProbePolicy:
    """How patiently to probe: ``timeout`` per request, ``retries`` resends after a timeout,
    ``max_steps`` COOKIE/INVALID_KE_PAYLOAD round trips, ``groups`` offered (first in KE)."""

    timeout: float = 2.0
    retries: int = 2
    max_steps: int = 3
    groups: tuple[int, ...] = DEFAULT_GROUPS


@dataclass(frozen=True)
class ProbeResult:
    """One probe's end: outcome, round-trip time (s) of the reply that ended it, the chosen
    proposal, the notify types and vendor IDs (hex) of the last reply, the DH group of the
    last request, how many requests were sent, the round trips the responder asked for on the
    way (``COOKIE``, ``INVALID_KE_PAYLOAD 5``) and a one-line detail."""

    address: str
    port: int
    outcome: Outcome
    rtt: float | None
    chosen: str | None
    notifies: tuple[str, ...]
    vendor_ids: tuple[str, ...]
    group: int
    requests: int
    detail: str
    steps: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "address": self.address, "port": self.port, "outcome": self.outcome.value,
            "reachable": self.outcome.reachable,
            "rtt_ms": None if self.rtt is None else round(self.rtt * 1000, 3),
            "chosen": self.chosen, "notifies": list(self.notifies),
            "vendor_ids": list(self.vendor_ids), "group": self.group,
            "requests": self.requests, "steps": list(self.steps), "detail": self.detail,
        }


class Probe:
    """The state of one IKE_SA_INIT probe of ``address`` on ``port`` from ``source``
    ((address, port) of the local socket, for the NAT detection hashes)."""

    def __init__(
        self,
        address: str,
        port: int,
        *,
        source: tuple[str, int],
        policy: ProbePolicy | None = None,
    ) -> None:
        self.address = address
        self.port = port
        self.source = source
        self.policy = policy or ProbePolicy()
        if not self.policy.groups or any(g not in MODP_SIZES for g in self.policy.groups):
            raise ValueError(f"groups must be among {sorted(MODP_SIZES)}")
        self.natt = port == NATT_PORT
        self.spi_i = secrets.token_bytes(8)
        self.nonce = secrets.token_bytes(32)
        self.group = self.policy.groups[0]
        self.cookie: bytes | None = None
        self._steps: list[str] = []
        self._sends = 0  # of the current request
        self._requests = 0
        self._sent_at = 0.0
        self._wire: bytes | None = None
        self._outcome: Outcome | None = None
        self._rtt: float | None = None
        self._reply: IkeMessage | None = None
        self._detail = ""
        self._malformed: str | None = None
        self._malformed_rtt: float | None = None
        self._malformed_reply: IkeMessage | None = None

    @property
    def done(self) -> bool:
        return self._outcome is not None

    @property
    def wants_to_send(self) -> bool:
        """Whether :meth:`next_request` would return a request (not the end) now."""
        return self._outcome is None and self._sends <= self.policy.retries

    def next_request(self, now: float) -> bytes | None:
        """The datagram to send now, or None when the probe has ended."""
        if self._outcome is not None:
            return None
        if self._sends > self.policy.retries:
            if self._malformed is not None:
                self._rtt = self._malformed_rtt
                self._reply = self._malformed_reply or self._reply
                self._end(Outcome.MALFORMED, self._malformed)
            else:
                plural = "" if self._sends == 1 else "s"
                self._end(Outcome.SILENT, f"no reply to {self._sends} request{plural}")
            return None
        if self._wire is None:
            self._wire = encode_sa_init(
                spi_i=self.spi_i, nonce=self.nonce, ke_group=self.group,
                ke_data=random_ke(self.group),
                proposals=android_proposals(groups_with_first(self.group, self.policy.groups)),
                source=self.source, destination=(self.address, self.port),
                cookie=self.cookie, natt=self.natt)
        self._sends += 1
        self._requests += 1
        self._sent_at = now
        return self._wire

    def on_timeout(self) -> None:
        """No reply within the timeout: the next request is a resend (or the end)."""

    def on_unreachable(self, reason: str, now: float) -> None:
        """An ICMP error (port/host unreachable, prohibited) for this destination."""
        if self._outcome is None:
            self._rtt = now - self._sent_at if self._requests else None
            self._end(Outcome.UNREACHABLE, reason)

    def on_reply(self, data: bytes, now: float) -> bool:
        """Read a datagram from the destination; True when it was a reply to this probe (the
        driver then asks :meth:`next_request` again), False when it is ignored (malformed,
        another exchange, another SPI, a REDIRECT not echoing this probe's Ni)."""
        if self._outcome is not None:
            return False
        try:
            message = parse_message(data, natt=self.natt)
        except IkeError as exc:
            self._note_malformed(str(exc), now)
            return False
        if message.spi_i == self.spi_i and not message.is_response:
            # our own request came back: an echo service (or a reflector) on this port
            self._note_malformed("the request came back unchanged: an echo, not an IKE "
                                 "responder" if data == self._wire else
                                 "an IKE request with this probe's SPI came back", now)
            return False
        if (message.spi_i != self.spi_i or not message.is_response
                or message.exchange != IKE_SA_INIT or message.message_id != 0):
            return False
        previous, self._reply = self._reply, message
        rtt = now - self._sent_at
        cookie = message.notify(COOKIE)
        invalid_ke = message.notify(INVALID_KE_PAYLOAD)
        if cookie is not None:
            if len(self._steps) >= self.policy.max_steps:
                self._finish(Outcome.ERROR_NOTIFY, rtt, "COOKIE demanded again after "
                             f"{len(self._steps)} round trips")
            elif not 1 <= len(cookie.data) <= 64:
                self._finish(Outcome.MALFORMED, rtt,
                             f"COOKIE of {len(cookie.data)} bytes (1 to 64 allowed)")
            else:
                self._next_step(cookie=cookie.data)
            return True
        if invalid_ke is not None:
            wanted = int.from_bytes(invalid_ke.data[:2], "big") if len(invalid_ke.data) >= 2 \
                else None
            if wanted is None:
                self._finish(Outcome.MALFORMED, rtt, "INVALID_KE_PAYLOAD without a group")
            elif wanted == self.group:
                self._finish(Outcome.ERROR_NOTIFY, rtt,
                             f"INVALID_KE_PAYLOAD asks for DH group {wanted}, the group of the "
                             "KE sent: the responder cannot use the group it chose")
            elif wanted not in self.policy.groups:
                self._finish(Outcome.ERROR_NOTIFY, rtt,
                             f"INVALID_KE_PAYLOAD asks for DH group {wanted}, which the probe "
                             f"does not offer")
            elif len(self._steps) >= self.policy.max_steps:
                self._finish(Outcome.ERROR_NOTIFY, rtt, "INVALID_KE_PAYLOAD again after "
                             f"{len(self._steps)} round trips")
            else:
                self._next_step(group=wanted)
            return True
        redirect = message.notify(REDIRECT)
        if redirect is not None:
            gateway, problem = self._check_redirect(redirect.data)
            if problem is not None:
                # not shown to come from the responder this request reached (RFC 5685 §3, §8):
                # kept as this probe's end unless a verified reply follows, as a spoofed
                # datagram must not hide the real answer
                self._reply = previous
                self._note_malformed(problem, now, message)
                return False
            self._finish(Outcome.REDIRECTED, rtt, f"redirected to {gateway}")
            return True
        if message.notify(NO_PROPOSAL_CHOSEN) is not None:
            self._finish(Outcome.NO_PROPOSAL_CHOSEN, rtt, "NO_PROPOSAL_CHOSEN")
            return True
        errors = [n.name for n in message.notifies if n.is_error]
        if errors:
            self._finish(Outcome.ERROR_NOTIFY, rtt, ", ".join(errors))
            return True
        if len(message.proposals) == 1 and message.nonce is not None \
                and message.ke_group is not None:
            proposal = message.proposals[0]
            self._finish(Outcome.ANSWERED, rtt, f"proposal {proposal.number} chosen")
            return True
        self._finish(Outcome.MALFORMED, rtt, "a reply with neither one SA, KE and Nr nor an "
                                             "error notify")
        return True

    def _check_redirect(self, data: bytes) -> tuple[str | None, str | None]:
        """(gateway, None) for a REDIRECT whose Nonce Data is the Ni of the request sent (every
        request of a probe carries the same Ni: resends are the same datagram, a COOKIE retry
        must repeat it — RFC 7296 §2.6 — and the INVALID_KE_PAYLOAD retry keeps it); else
        (gateway or None, what is wrong)."""
        try:
            redirect = parse_redirect(data)
        except IkeError as exc:
            return None, f"REDIRECT: {exc}"
        if redirect.nonce == self.nonce:
            return redirect.gateway, None
        if not redirect.nonce:
            wrong = "without Nonce Data (RFC 5685: the responder echoes the request's Ni)"
        else:
            wrong = (f"whose Nonce Data ({len(redirect.nonce)} bytes) is not the Ni of this "
                     "probe's request (spoofed or stale)")
        return redirect.gateway, f"unverified REDIRECT (gateway {redirect.gateway}) {wrong}"

    def _note_malformed(self, detail: str, now: float, message: IkeMessage | None = None) -> None:
        """A datagram from the destination that is no reply to this probe (``message`` when
        it parsed as IKE): kept, and the probe's end when no real reply follows (it goes on
        waiting: a stray datagram must not hide an answer)."""
        if self._malformed is None:
            self._malformed = detail
            self._malformed_rtt = now - self._sent_at
            self._malformed_reply = message

    def _next_step(self, *, cookie: bytes | None = None, group: int | None = None) -> None:
        self._steps.append("COOKIE" if cookie is not None else f"INVALID_KE_PAYLOAD {group}")
        if cookie is not None:
            self.cookie = cookie
        if group is not None:
            self.group = group
        self._sends = 0
        self._wire = None

    def _finish(self, outcome: Outcome, rtt: float, detail: str) -> None:
        self._rtt = rtt
        self._end(outcome, detail)

    def _end(self, outcome: Outcome, detail: str) -> None:
        self._outcome = outcome
        self._detail = detail

    def result(self) -> ProbeResult:
        """The end of the probe. Raises RuntimeError before :meth:`next_request` returned
        None."""
        if self._outcome is None:
            raise RuntimeError("the probe has not ended")
        reply = self._reply
        chosen = None
        if self._outcome is Outcome.ANSWERED and reply is not None:
            chosen = str(reply.proposals[0])
        return ProbeResult(
            address=self.address, port=self.port, outcome=self._outcome, rtt=self._rtt,
            chosen=chosen,
            notifies=() if reply is None else tuple(n.name for n in reply.notifies),
            vendor_ids=() if reply is None else tuple(v.hex() for v in reply.vendor_ids),
            group=self.group, requests=self._requests, detail=self._detail,
            steps=tuple(self._steps),
        )
