"""The wire codec against anything: random bytes, and real answers from knot — read exactly as
dnspython reads them, then cut and mutated — never raise anything but WireError."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from pathlib import Path

import dns.message
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.rig.knot import KnotServer, have_knot
from wifiq.resolve.wire import (
    TYPE_A,
    TYPE_AAAA,
    WireError,
    encode_query,
    parse_response,
    response_from_message,
)

from .conftest import BASE_RECORDS, PARENT, zones

QUESTIONS = [
    (f"{owner}.{PARENT}", qtype)
    for owner in ("epdg.epc.mnc001.mcc505", "sos.epdg.epc.mnc001.mcc505",  # addresses, CNAME in zone
                  "epdg.epc.mnc002.mcc505",  # CNAME out of zone (and its target's records)
                  "sos.epdg.epc.mnc002.mcc505",  # A, and AAAA NODATA (SOA in authority)
                  "epdg.epc.mnc003.mcc505",  # NXDOMAIN
                  "epdg.epc.mnc001.mcc999")  # SERVFAIL
    for qtype in (TYPE_A, TYPE_AAAA)
]


@pytest.fixture(scope="module")
def knot_answers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[bytes]]:
    """The raw UDP answers knot gives to :data:`QUESTIONS` (our own queries, our own zone)."""
    if not have_knot():
        pytest.skip("knotd is not installed (scripts/setup installs the Debian package knot)")
    server = KnotServer(Path(tmp_path_factory.mktemp("knot-wire")), zones(BASE_RECORDS)).start()
    answers = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(5)
            sock.connect(("127.0.0.1", server.port))
            for qid, (name, qtype) in enumerate(QUESTIONS, start=1):
                sock.send(encode_query(qid, name, qtype))
                answers.append(sock.recv(65535))
        yield answers
    finally:
        server.stop()


def _parse_or_wire_error(wire: bytes) -> None:
    try:
        parse_response(wire)
    except WireError:
        pass  # the only exception allowed


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_raise_only_wire_error(wire: bytes):
    _parse_or_wire_error(wire)


@settings(max_examples=2000, deadline=None)
@given(st.binary(min_size=12, max_size=12), st.binary(max_size=400))
def test_plausible_header_then_random_bytes_raise_only_wire_error(header: bytes, rest: bytes):
    # A header that claims a question and a few records sends the parser deep into ``rest``.
    counts = bytes([0, 1, 0, header[7] % 8, 0, header[9] % 4, 0, header[11] % 4])
    _parse_or_wire_error(header[:4] + counts + rest)


def test_real_answers_read_as_dnspython_reads_them(knot_answers: list[bytes]):
    assert len(knot_answers) == len(QUESTIONS)
    rcodes = set()
    for wire, (name, qtype) in zip(knot_answers, QUESTIONS):
        ours = parse_response(wire)
        theirs = response_from_message(dns.message.from_wire(wire))
        assert ours == theirs, name
        assert (ours.qname, ours.qtype) == (name, qtype)
        rcodes.add(ours.rcode)
    assert rcodes == {0, 2, 3}  # NOERROR, SERVFAIL and NXDOMAIN were all exercised


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_real_answers_raise_only_wire_error(knot_answers: list[bytes], data: st.DataObject):
    wire = bytearray(data.draw(st.sampled_from(knot_answers)))
    for _ in range(data.draw(st.integers(1, 6))):
        position = data.draw(st.integers(0, len(wire) - 1))
        action = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        if action == "flip":
            wire[position] ^= data.draw(st.integers(1, 255))
        elif action == "insert":
            wire[position:position] = data.draw(st.binary(min_size=1, max_size=8))
        elif len(wire) > 1:
            del wire[position]
    _parse_or_wire_error(bytes(wire))


def test_every_truncation_of_real_answers_is_a_wire_error(knot_answers: list[bytes]):
    # Also a cut inside the additional section (knot's EDNS OPT record, with an Extended DNS
    # Error option on SERVFAIL): it carries the extended RCODE, so it is read too.
    for wire in knot_answers:
        assert wire[10:12] == b"\x00\x01"  # one additional record: the OPT
        for cut in range(len(wire)):
            with pytest.raises(WireError):
                parse_response(wire[:cut])


def test_mutated_answers_dnspython_accepts_are_read_alike(knot_answers: list[bytes]):
    """Where a single corrupted byte still leaves a message dnspython reads, both agree on the
    parts wifiq uses or ours refuses it (never a silently different answer)."""
    rng = random.Random(4)
    agreed = 0
    for _ in range(3000):
        wire = bytearray(rng.choice(knot_answers))
        wire[rng.randrange(len(wire))] ^= rng.randrange(1, 256)
        try:
            theirs = response_from_message(dns.message.from_wire(bytes(wire)))
        except Exception:  # dnspython refuses it: nothing to compare
            continue
        try:
            ours = parse_response(bytes(wire))
        except WireError:
            continue
        assert ours == theirs, bytes(wire).hex()
        agreed += 1
    assert agreed > 100
