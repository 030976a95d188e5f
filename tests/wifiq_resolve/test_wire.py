"""The fast wire codec agrees with dnspython and rejects malformed bytes with WireError only."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wifiq.resolve.wire import (
    TYPE_AAAA,
    WireError,
    encode_query,
    parse_response,
    response_from_message,
)

label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20)
names = st.lists(label, min_size=1, max_size=5).map(".".join)
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
ipv6 = st.binary(min_size=16, max_size=16).map(
    lambda b: __import__("ipaddress").IPv6Address(b).compressed)


@st.composite
def messages(draw):
    qname = draw(names)
    msg = dns.message.make_response(dns.message.make_query(qname, draw(st.sampled_from(["A", "AAAA"]))))
    msg.set_rcode(draw(st.sampled_from([0, 2, 3, 5])))
    chain = draw(st.lists(names, min_size=0, max_size=3, unique=True).filter(lambda c: qname not in c))
    owner = qname
    for target in chain:  # distinct owners: dnspython keeps one CNAME per owner
        msg.answer.append(dns.rrset.from_text(owner + ".", draw(st.integers(0, 2**31 - 1)), "IN", "CNAME", target + "."))
        owner = target
    for address in draw(st.lists(ipv4, max_size=4, unique=True)):
        msg.answer.append(dns.rrset.from_text(owner + ".", 300, "IN", "A", address))
    for address in draw(st.lists(ipv6, max_size=4, unique=True)):
        msg.answer.append(dns.rrset.from_text(owner + ".", 300, "IN", "AAAA", address))
    if draw(st.booleans()):
        msg.authority.append(dns.rrset.from_text(
            "pub.3gppnetwork.org.", 60, "IN", "SOA", f"ns.{qname}. h.{qname}. 1 2 3 4 {draw(st.integers(0, 2**32 - 1))}"))
    if draw(st.booleans()):  # a referral's NS records (to the root or to a zone)
        msg.authority.append(dns.rrset.from_text(
            draw(st.sampled_from([".", "pub.3gppnetwork.org."])), 3600, "IN", "NS", f"ns.{qname}."))
    msg.flags &= ~(dns.flags.AA | dns.flags.RA)
    msg.flags |= draw(st.sampled_from([0, dns.flags.AA, dns.flags.RA, dns.flags.AA | dns.flags.RA]))
    return msg


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_parse_matches_dnspython(msg):
    wire = msg.to_wire()  # dnspython compresses names: pointers are exercised
    ours = parse_response(wire)
    theirs = response_from_message(dns.message.from_wire(wire))
    assert ours.rcode == theirs.rcode and ours.qname == theirs.qname and ours.qtype == theirs.qtype
    assert (ours.authoritative, ours.recursion_available) == (
        theirs.authoritative, theirs.recursion_available)
    assert (ours.authoritative, ours.recursion_available) == (
        bool(msg.flags & dns.flags.AA), bool(msg.flags & dns.flags.RA))
    assert sorted(ours.answer, key=repr) == sorted(theirs.answer, key=repr)
    assert sorted(ours.authority, key=repr) == sorted(theirs.authority, key=repr)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages(), st.data())
def test_every_truncation_or_corruption_is_a_wire_error(msg, data):
    wire = msg.to_wire()
    cut = data.draw(st.integers(0, len(wire) - 1))
    with pytest.raises(WireError):
        parse_response(wire[:cut])
    flipped = bytearray(wire)
    position = data.draw(st.integers(0, len(wire) - 1))
    flipped[position] ^= data.draw(st.integers(1, 255))
    try:
        parse_response(bytes(flipped))
    except WireError:
        pass  # the only exception allowed


def test_pointer_loop_and_forward_pointer_rejected():
    header = bytes.fromhex("1234 8180 0001 0000 0000 0000".replace(" ", ""))
    looping = header + b"\xc0\x0c" + b"\x00\x01\x00\x01"
    with pytest.raises(WireError, match="pointer"):
        parse_response(looping)
    forward = header + b"\xc0\x20" + b"\x00\x01\x00\x01"
    with pytest.raises(WireError, match="pointer"):
        parse_response(forward)


def test_encoded_query_is_read_by_dnspython():
    wire = encode_query(0xBEEF, "Epdg.epc.mnc001.mcc505.pub.3gppnetwork.org", TYPE_AAAA)
    msg = dns.message.from_wire(wire)
    assert msg.id == 0xBEEF and msg.question[0].rdtype == TYPE_AAAA
    assert msg.edns == 0 and msg.payload == 1232
    with pytest.raises(WireError):
        encode_query(1, "a" * 64 + ".example", 1)


def test_extended_rcode_from_the_opt_record_is_not_noerror():
    # BADVERS (16) lives half in the header (0) and half in the OPT record's TTL: reading the
    # header alone would take it for NOERROR with no answer, i.e. NODATA (found by fuzzing).
    query = dns.message.make_query("epdg.epc.mnc001.mcc505.pub.3gppnetwork.org", "A", use_edns=0)
    msg = dns.message.make_response(query)
    msg.set_rcode(dns.rcode.BADVERS)
    wire = msg.to_wire()
    assert wire[3] & 0x0F == 0
    assert parse_response(wire).rcode == 16 == response_from_message(dns.message.from_wire(wire)).rcode


def test_ttl_with_the_top_bit_set_is_zero():
    msg = dns.message.make_response(dns.message.make_query("a.example", "A"))
    msg.answer.append(dns.rrset.from_text("a.example.", 300, "IN", "A", "192.0.2.1"))
    wire = bytearray(msg.to_wire())
    ttl_at = wire.rindex(bytes.fromhex("0001 0001 0000012c")) + 4
    wire[ttl_at:ttl_at + 4] = (0x80000001).to_bytes(4, "big")  # RFC 2181 §8
    assert parse_response(bytes(wire)).answer[0].ttl == 0
    assert response_from_message(dns.message.from_wire(bytes(wire))).answer[0].ttl == 0


def test_label_bytes_are_escaped_as_dnspython_escapes_them():
    msg = dns.message.make_response(dns.message.make_query("a.example", "A"))
    msg.answer.append(dns.rrset.from_text(r"a\.b\016\255\"x.example.", 300, "IN", "A", "192.0.2.1"))
    wire = msg.to_wire()
    owner = parse_response(wire).answer[0].owner
    assert owner == r"a\.b\016\255\"x.example"
    assert owner == response_from_message(dns.message.from_wire(wire)).answer[0].owner
