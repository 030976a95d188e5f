"""The IKEv2 codec and the decisions of one probe, on made-up bytes (pure logic)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wifiq.probe.decision import Outcome, Probe, ProbePolicy
from wifiq.probe.ike import (
    COOKIE,
    DH,
    ENCR,
    ENCR_AES_CBC,
    FLAG_INITIATOR,
    HEADER_SIZE,
    IKE_SA_INIT,
    INTEG,
    INVALID_KE_PAYLOAD,
    NAT_DETECTION_DESTINATION_IP,
    NAT_DETECTION_SOURCE_IP,
    NO_PROPOSAL_CHOSEN,
    NON_ESP_MARKER,
    PAYLOAD_KE,
    PAYLOAD_NONCE,
    PAYLOAD_NOTIFY,
    PAYLOAD_SA,
    PRF,
    REDIRECT,
    REDIRECT_SUPPORTED,
    IkeError,
    Notify,
    Proposal,
    Redirect,
    Transform,
    android_proposals,
    encode_redirect,
    encode_response,
    encode_sa_init,
    nat_detection_hash,
    parse_message,
    parse_redirect,
    random_ke,
)

SRC = ("198.51.100.2", 40000)
DST = ("203.0.113.10", 500)
CHOSEN = Proposal(1, 1, (Transform(ENCR, ENCR_AES_CBC, 256), Transform(PRF, 5),
                         Transform(INTEG, 12), Transform(DH, 14)))


def request(*, cookie: bytes | None = None, natt: bool = False, group: int = 14) -> bytes:
    return encode_sa_init(spi_i=b"\x01" * 8, nonce=b"\x02" * 32, ke_group=group,
                          ke_data=random_ke(group), proposals=android_proposals(),
                          source=SRC, destination=DST, cookie=cookie, natt=natt)


def test_request_round_trips_with_every_payload() -> None:
    msg = parse_message(request())
    assert msg.spi_i == b"\x01" * 8 and msg.spi_r == bytes(8)
    assert msg.exchange == IKE_SA_INIT and msg.flags == FLAG_INITIATOR and msg.message_id == 0
    assert msg.payload_types == (PAYLOAD_SA, PAYLOAD_KE, PAYLOAD_NONCE, PAYLOAD_NOTIFY,
                                 PAYLOAD_NOTIFY, PAYLOAD_NOTIFY)
    assert msg.proposals == android_proposals()
    assert msg.ke_group == 14 and msg.nonce == b"\x02" * 32
    types = [n.type for n in msg.notifies]
    assert types == [NAT_DETECTION_SOURCE_IP, NAT_DETECTION_DESTINATION_IP, REDIRECT_SUPPORTED]
    assert msg.notifies[0].data == nat_detection_hash(b"\x01" * 8, bytes(8), *SRC)
    assert msg.notifies[1].data == nat_detection_hash(b"\x01" * 8, bytes(8), *DST)
    assert str(msg.proposals[0]).startswith("aes-cbc-128/aes-cbc-256/hmac-sha2-256-128")
    assert str(msg.proposals[1]).startswith("aes-ctr-128/aes-ctr-256/")
    assert str(msg.proposals[0]).endswith("modp14/modp5/modp2")


def test_cookie_comes_first_and_natt_has_the_marker() -> None:
    wire = request(cookie=b"\xaa" * 20, natt=True)
    assert wire[:4] == NON_ESP_MARKER
    with pytest.raises(IkeError):
        parse_message(wire)  # without natt the marker is read as a SPI: the length is wrong
    msg = parse_message(wire, natt=True)
    assert msg.payload_types[0] == PAYLOAD_NOTIFY and msg.notifies[0] == Notify(COOKIE, b"\xaa" * 20)
    assert msg.payload_types[1] == PAYLOAD_SA


@pytest.mark.parametrize("group,size", [(2, 128), (5, 192), (14, 256)])
def test_ke_sizes(group: int, size: int) -> None:
    ke = random_ke(group)
    assert len(ke) == size and 0 < ke[0] < 0xFF
    with pytest.raises(ValueError):
        random_ke(19)


def test_response_round_trip_and_redirect() -> None:
    wire = encode_response(spi_i=b"\x01" * 8, spi_r=b"\x03" * 8, proposal=CHOSEN, ke_group=14,
                           nonce=b"\x04" * 32, vendor_ids=(b"\x88\x2f\xe5\x6d", b"strongSwan"))
    msg = parse_message(wire)
    assert msg.is_response and msg.proposals == (CHOSEN,) and msg.ke_group == 14
    assert msg.vendor_ids == (b"\x88\x2f\xe5\x6d", b"strongSwan")
    assert str(CHOSEN) == "aes-cbc-256/prf-hmac-sha2-256/hmac-sha2-256-128/modp14"
    for gateway in ("192.0.2.7", "2001:db8::7", "epdg.example.net", "e" * 255):
        for nonce in (b"n" * 16, b"m" * 256, b""):
            assert parse_redirect(encode_redirect(gateway, nonce)) == Redirect(gateway, nonce)
    for bad in (b"", b"\x01", b"\x01\x05abcd", b"\x09\x01a", b"\x01\x03abc", b"\x03\x00",
                b"\x03\x00" + b"n" * 16, b"\x02\x04" + b"n" * 16, b"\x03\x02\xff\xfe"):
        with pytest.raises(IkeError):
            parse_redirect(bad)


@pytest.mark.parametrize("size", [1, 15, 257, 300])
def test_redirect_nonce_outside_16_to_256_bytes_is_refused(size: int) -> None:
    with pytest.raises(IkeError, match=f"Nonce Data of 16 to 256 bytes .*not {size}"):
        parse_redirect(encode_redirect("192.0.2.7", b"n" * size))


def test_redirect_identity_length_beyond_the_notify_is_refused() -> None:
    """GW Ident Len is checked against the notify's length, not read past it: a length that
    claims the nonce's bytes too, or more than is there."""
    data = encode_redirect("epdg.example.net", b"n" * 32)
    for claimed in (len("epdg.example.net") + 32 + 1, 255):
        with pytest.raises(IkeError, match="gateway identity length of at most 48"):
            parse_redirect(data[:1] + bytes([claimed]) + data[2:])
    # claiming some of the nonce as the name leaves a nonce too short to be one
    with pytest.raises(IkeError, match="Nonce Data"):
        parse_redirect(data[:1] + bytes([len("epdg.example.net") + 20]) + data[2:])


@pytest.mark.parametrize("cut", range(0, 100, 3))
def test_truncated_messages_are_refused(cut: int) -> None:
    wire = encode_response(spi_i=b"\x01" * 8, spi_r=b"\x03" * 8, proposal=CHOSEN, ke_group=14,
                           nonce=b"\x04" * 32)
    with pytest.raises(IkeError):
        parse_message(wire[:cut])
    # a length field pointing past the bytes present
    bad = wire[:24] + struct.pack("!I", len(wire) + 1) + wire[28:]
    with pytest.raises(IkeError):
        parse_message(bad)


def test_payload_length_below_four_and_trailing_garbage() -> None:
    wire = bytearray(encode_response(spi_i=b"\x01" * 8, spi_r=b"\x03" * 8,
                                     notifies=(Notify(NO_PROPOSAL_CHOSEN, b""),)))
    wire[HEADER_SIZE + 2 : HEADER_SIZE + 4] = b"\x00\x03"
    with pytest.raises(IkeError, match="payload length"):
        parse_message(bytes(wire))
    ok = encode_response(spi_i=b"\x01" * 8, spi_r=b"\x03" * 8,
                         notifies=(Notify(NO_PROPOSAL_CHOSEN, b""),))
    assert parse_message(ok + b"\x00").notifies[0].type == NO_PROPOSAL_CHOSEN  # beyond length
    longer = ok[:24] + struct.pack("!I", len(ok) + 1) + ok[28:] + b"\x00"
    with pytest.raises(IkeError, match="end of the message"):
        parse_message(longer)


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_parser_raises_only_ike_error(data: bytes) -> None:
    try:
        parse_message(data)
    except IkeError:
        pass


#: REDIRECT data as it comes: any bytes, or a plausible identity (type 0-4, a length that may
#: be wrong) followed by any tail (a nonce of any size, or none)
REDIRECT_DATA = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda kind, size, body, tail: bytes([kind, size]) + body + tail,
              st.integers(0, 4), st.sampled_from([0, 4, 16, 12, 255]),
              st.sampled_from([b"\xc0\x00\x02\x09", bytes(16), b"epdg.example.net"]),
              st.binary(max_size=300)))


@settings(max_examples=3000, deadline=None)
@given(REDIRECT_DATA)
def test_fuzz_redirect_parser(data: bytes) -> None:
    """Any notify data: a gateway and a nonce of 0 or 16-256 bytes that together are the data,
    or IkeError — never another exception, never a nonce RFC 7296 does not allow."""
    try:
        redirect = parse_redirect(data)
    except IkeError:
        return
    assert redirect.gateway and (not redirect.nonce or 16 <= len(redirect.nonce) <= 256)
    assert data.endswith(redirect.nonce) and len(data) == 2 + data[1] + len(redirect.nonce)


#: The Ni the fuzzed probe sends (test_fuzz_mutated_messages sets it).
FUZZ_NONCE = b"\x02" * 32
SEEDS = [
    encode_response(spi_i=b"\x01" * 8, spi_r=b"\x03" * 8, proposal=CHOSEN, ke_group=14,
                    nonce=b"\x04" * 32, vendor_ids=(b"abc",)),
    encode_response(spi_i=b"\x01" * 8, spi_r=b"\x03" * 8,
                    notifies=(Notify(INVALID_KE_PAYLOAD, b"\x00\x05"),)),
    request(cookie=b"c" * 16),
    encode_response(spi_i=b"\x01" * 8, spi_r=b"\x03" * 8,
                    notifies=(Notify(REDIRECT, encode_redirect("192.0.2.9", FUZZ_NONCE)),)),
    encode_response(spi_i=b"\x01" * 8, spi_r=b"\x03" * 8,
                    notifies=(Notify(REDIRECT, encode_redirect("epdg.example", FUZZ_NONCE)),)),
]


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)),
                                        max_size=6), st.integers(0, 2000))
def test_fuzz_mutated_messages(seed: bytes, flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(seed)
    for position, value in flips:
        data[position % len(data)] = value
    for candidate in (bytes(data), bytes(data[:cut])):
        try:
            parse_message(candidate)
        except IkeError:
            pass
        probe = Probe(*DST, source=SRC, policy=ProbePolicy(retries=0))
        probe.spi_i, probe.nonce = b"\x01" * 8, FUZZ_NONCE
        probe.next_request(0.0)
        probe.on_reply(candidate, 0.1)  # never raises, whatever the bytes
        probe.next_request(0.2)
        if probe.done and probe.result().outcome is Outcome.REDIRECTED:  # only with its Ni echoed
            notify = parse_message(candidate).notify(REDIRECT)
            assert notify is not None and parse_redirect(notify.data).nonce == FUZZ_NONCE
            assert probe.result().detail.startswith("redirected to ")


# -- the decisions ----------------------------------------------------------------------------


def start(port: int = 500, **policy: object) -> tuple[Probe, bytes]:
    probe = Probe(DST[0], port, source=SRC, policy=ProbePolicy(**policy))  # type: ignore[arg-type]
    wire = probe.next_request(10.0)
    assert wire is not None
    return probe, wire


def reply(probe: Probe, **kwargs: object) -> bytes:
    return encode_response(spi_i=probe.spi_i, spi_r=b"\x09" * 8, **kwargs)  # type: ignore[arg-type]


def test_answered_with_rtt_chosen_and_vendor_ids() -> None:
    probe, _ = start()
    assert probe.on_reply(reply(probe, proposal=CHOSEN, ke_group=14, nonce=b"n" * 32,
                                vendor_ids=(b"\xde\xad",)), 10.25)
    assert probe.next_request(10.3) is None
    result = probe.result()
    assert result.outcome is Outcome.ANSWERED and result.outcome.reachable
    assert result.rtt == pytest.approx(0.25) and result.requests == 1
    assert result.chosen == str(CHOSEN) and result.vendor_ids == ("dead",)


def test_replies_to_other_spis_are_ignored_and_silence_after_retries() -> None:
    probe, _ = start(retries=2)
    other = encode_response(spi_i=b"\x77" * 8, spi_r=b"\x09" * 8,
                            notifies=(Notify(NO_PROPOSAL_CHOSEN, b""),))
    assert not probe.on_reply(other, 10.1)
    probe.on_timeout()
    assert probe.next_request(12.0) is not None
    probe.on_timeout()
    assert probe.next_request(14.0) is not None
    probe.on_timeout()
    assert probe.next_request(16.0) is None
    result = probe.result()
    assert result.outcome is Outcome.SILENT and not result.outcome.reachable
    assert result.requests == 3 and result.rtt is None


def test_malformed_only_is_malformed_not_silent() -> None:
    probe, _ = start(retries=0)
    assert not probe.on_reply(b"\x00" * 10, 10.1)
    assert probe.next_request(12.0) is None
    assert probe.result().outcome is Outcome.MALFORMED
    assert probe.result().rtt == pytest.approx(0.1)  # of the first stray datagram


@pytest.mark.parametrize("port", [500, 4500])
def test_an_echoed_request_is_malformed_not_silent(port: int) -> None:
    probe, wire = start(port=port, retries=1)
    assert not probe.on_reply(wire, 10.2)  # an echo service sends the request back
    assert probe.next_request(12.0) == wire  # it still waits for a real reply
    assert not probe.on_reply(wire, 12.1)
    assert probe.next_request(14.0) is None
    result = probe.result()
    assert result.outcome is Outcome.MALFORMED and result.outcome.reachable
    assert result.detail == "the request came back unchanged: an echo, not an IKE responder"
    assert result.rtt == pytest.approx(0.2) and result.requests == 2


def test_a_real_reply_after_a_stray_datagram_wins() -> None:
    probe, wire = start()
    assert not probe.on_reply(wire, 10.1)
    assert probe.on_reply(reply(probe, notifies=(Notify(NO_PROPOSAL_CHOSEN, b""),)), 10.3)
    assert probe.next_request(10.3) is None
    assert probe.result().outcome is Outcome.NO_PROPOSAL_CHOSEN
    assert probe.result().rtt == pytest.approx(0.3)


def test_cookie_is_resent_first_then_answered() -> None:
    probe, first = start()
    assert probe.on_reply(reply(probe, notifies=(Notify(COOKIE, b"k" * 24),)), 10.1)
    again = probe.next_request(10.1)
    assert again is not None and again != first
    msg = parse_message(again)
    assert msg.notifies[0] == Notify(COOKIE, b"k" * 24) and msg.nonce == probe.nonce
    assert msg.spi_i == probe.spi_i
    probe.on_reply(reply(probe, proposal=CHOSEN, ke_group=14, nonce=b"n" * 32), 10.2)
    assert probe.next_request(10.3) is None
    result = probe.result()
    assert result.outcome is Outcome.ANSWERED and result.requests == 2
    assert result.rtt == pytest.approx(0.1)


def test_cookie_forever_ends_as_error() -> None:
    probe, _ = start(max_steps=2)
    for _ in range(3):
        probe.on_reply(reply(probe, notifies=(Notify(COOKIE, b"k" * 8),)), 10.1)
        probe.next_request(10.1)
    assert probe.result().outcome is Outcome.ERROR_NOTIFY
    assert "COOKIE" in probe.result().detail


def test_invalid_ke_retries_with_the_named_group() -> None:
    probe, _ = start()
    probe.on_reply(reply(probe, notifies=(Notify(INVALID_KE_PAYLOAD, b"\x00\x05"),)), 10.1)
    again = probe.next_request(10.1)
    assert again is not None
    msg = parse_message(again)
    assert msg.ke_group == 5 and str(msg.proposals[0]).endswith("modp5/modp14/modp2")
    probe.on_reply(reply(probe, proposal=CHOSEN, ke_group=5, nonce=b"n" * 32), 10.2)
    assert probe.next_request(10.2) is None
    assert probe.result().outcome is Outcome.ANSWERED and probe.result().group == 5


@pytest.mark.parametrize("data,detail", [(b"\x00\x13", "group 19, which the probe does not"),
                                         (b"\x00\x0e", "group 14, the group of the KE sent"),
                                         (b"\x05", "without a group")])
def test_invalid_ke_for_a_group_not_offered(data: bytes, detail: str) -> None:
    probe, _ = start()
    probe.on_reply(reply(probe, notifies=(Notify(INVALID_KE_PAYLOAD, data),)), 10.1)
    assert probe.next_request(10.1) is None
    assert detail in probe.result().detail
    assert probe.result().outcome in (Outcome.ERROR_NOTIFY, Outcome.MALFORMED)


@pytest.mark.parametrize("notify,outcome", [
    (Notify(NO_PROPOSAL_CHOSEN, b""), Outcome.NO_PROPOSAL_CHOSEN),
    (Notify(43, b""), Outcome.ERROR_NOTIFY),
])
def test_error_notifies(notify: Notify, outcome: Outcome) -> None:
    probe, _ = start()
    assert probe.on_reply(reply(probe, notifies=(notify,)), 10.1)
    assert probe.next_request(10.1) is None
    result = probe.result()
    assert result.outcome is outcome and result.outcome.reachable
    assert result.notifies == (notify.name,)


def redirect_reply(probe: Probe, gateway: str, nonce: bytes) -> bytes:
    return reply(probe, notifies=(Notify(REDIRECT, encode_redirect(gateway, nonce)),))


@pytest.mark.parametrize("gateway", ["192.0.2.9", "2001:db8::9", "epdg2.example.net"])
def test_redirect_echoing_the_request_nonce_is_redirected(gateway: str) -> None:
    probe, wire = start()
    assert parse_message(wire).nonce == probe.nonce  # the Ni the REDIRECT must echo
    assert probe.on_reply(redirect_reply(probe, gateway, probe.nonce), 10.1)
    assert probe.next_request(10.1) is None
    result = probe.result()
    assert (result.outcome, result.detail) == (Outcome.REDIRECTED, f"redirected to {gateway}")
    assert result.notifies == ("REDIRECT",) and result.requests == 1
    assert result.rtt == pytest.approx(0.1)


def other_nonce(probe: Probe) -> bytes:
    """A nonce of the same size as the probe's that is not it."""
    return bytes(b ^ 0x01 for b in probe.nonce)


@pytest.mark.parametrize("case,nonce,detail", [
    ("missing", lambda p: b"", "without Nonce Data"),
    ("wrong", other_nonce, "whose Nonce Data (32 bytes) is not the Ni of this probe's request"),
    ("one byte off", lambda p: p.nonce[:-1] + bytes([p.nonce[-1] ^ 0x80]), "is not the Ni"),
    ("Ni and more", lambda p: p.nonce + b"x", "Nonce Data (33 bytes) is not the Ni"),
    ("prefix of Ni", lambda p: p.nonce[:16], "Nonce Data (16 bytes) is not the Ni"),
    ("too short", lambda p: p.nonce[:15], "REDIRECT: malformed IKE message at byte 6: expected "
                                          "Nonce Data of 16 to 256 bytes"),
])
def test_redirect_not_echoing_the_nonce_is_malformed(case: str, nonce: object,
                                                    detail: str) -> None:
    """Not `redirected`: the probe goes on waiting for a reply it can verify (the datagram may be
    spoofed), resends, and ends `malformed` naming what was wrong."""
    probe, wire = start(retries=1)
    assert callable(nonce)
    assert not probe.on_reply(redirect_reply(probe, "192.0.2.9", nonce(probe)), 10.2)
    assert probe.next_request(12.0) == wire  # still waiting: a resend
    assert not probe.on_reply(redirect_reply(probe, "192.0.2.9", nonce(probe)), 12.1)
    assert probe.next_request(14.0) is None
    result = probe.result()
    assert result.outcome is Outcome.MALFORMED and result.outcome.reachable, case
    assert detail in result.detail, (case, result.detail)
    assert "redirected to" not in result.detail
    assert result.notifies == ("REDIRECT",) and result.requests == 2
    assert result.rtt == pytest.approx(0.2)  # of the first such datagram


@pytest.mark.parametrize("data", [b"\x01\x09", b"\x01\x04\xc0\x00", b"\x03\x40epdg" + b"n" * 32])
def test_truncated_redirect_is_malformed(data: bytes) -> None:
    probe, _ = start(retries=0)
    assert not probe.on_reply(reply(probe, notifies=(Notify(REDIRECT, data),)), 10.1)
    assert probe.next_request(12.0) is None
    result = probe.result()
    assert result.outcome is Outcome.MALFORMED and result.detail.startswith("REDIRECT: ")
    assert "gateway identity length of at most" in result.detail


def test_redirect_with_the_nonce_of_an_earlier_probe_is_malformed() -> None:
    """An earlier request to the same gateway (the previous run's, or the other port's probe)
    carried another Ni: a REDIRECT echoing it is not an answer to this probe, even with this
    probe's SPI."""
    earlier, _ = start()
    probe, _ = start(retries=0)
    assert earlier.nonce != probe.nonce
    assert not probe.on_reply(redirect_reply(probe, "192.0.2.9", earlier.nonce), 10.1)
    assert probe.next_request(12.0) is None
    assert probe.result().outcome is Outcome.MALFORMED
    assert "is not the Ni of this probe's request" in probe.result().detail


def test_after_cookie_and_invalid_ke_the_redirect_echoes_the_same_nonce() -> None:
    """Which request's nonce: every request of a probe carries the same Ni (a COOKIE retry must
    repeat it, RFC 7296 §2.6; the INVALID_KE_PAYLOAD retry keeps it), so a REDIRECT after
    either step echoes the Ni every request carried — checked on each request sent."""
    probe, first = start()
    sent = [first]
    assert probe.on_reply(reply(probe, notifies=(Notify(COOKIE, b"k" * 16),)), 10.1)
    sent.append(probe.next_request(10.1))  # type: ignore[arg-type]
    assert probe.on_reply(reply(probe, notifies=(Notify(INVALID_KE_PAYLOAD, b"\x00\x05"),)),
                          10.2)
    sent.append(probe.next_request(10.2))  # type: ignore[arg-type]
    sent.append(probe.next_request(12.2))  # type: ignore[arg-type]  # a resend after a timeout
    assert all(w is not None for w in sent)
    assert {parse_message(w).nonce for w in sent} == {probe.nonce}
    assert parse_message(sent[2]).ke_group == 5
    assert not probe.on_reply(redirect_reply(probe, "192.0.2.9", other_nonce(probe)), 12.3)
    assert probe.on_reply(redirect_reply(probe, "192.0.2.9", probe.nonce), 12.4)
    result = probe.result()
    assert (result.outcome, result.detail) == (Outcome.REDIRECTED, "redirected to 192.0.2.9")
    assert result.steps == ("COOKIE", "INVALID_KE_PAYLOAD 5") and result.requests == 4
    assert result.rtt == pytest.approx(0.2)


@pytest.mark.parametrize("genuine,outcome", [
    ("redirect", Outcome.REDIRECTED), ("refuse", Outcome.NO_PROPOSAL_CHOSEN)])
def test_a_verified_reply_after_an_unverified_redirect_wins(genuine: str,
                                                            outcome: Outcome) -> None:
    """A spoofed REDIRECT arriving first does not hide the responder's own answer."""
    probe, _ = start()
    assert not probe.on_reply(redirect_reply(probe, "198.51.100.66", other_nonce(probe)), 10.05)
    real = redirect_reply(probe, "192.0.2.9", probe.nonce) if genuine == "redirect" else \
        reply(probe, notifies=(Notify(NO_PROPOSAL_CHOSEN, b""),))
    assert probe.on_reply(real, 10.3)
    assert probe.next_request(10.3) is None
    result = probe.result()
    assert result.outcome is outcome and "198.51.100.66" not in result.detail
    assert result.rtt == pytest.approx(0.3)


def test_unreachable_and_natt_port() -> None:
    probe, wire = start(port=4500)
    assert wire[:4] == NON_ESP_MARKER
    natt_reply = NON_ESP_MARKER + reply(probe, notifies=(Notify(NO_PROPOSAL_CHOSEN, b""),))
    assert not probe.on_reply(natt_reply[4:], 10.1)  # without the marker: not ours
    probe.on_unreachable("connection refused (ICMP port unreachable)", 10.05)
    assert probe.next_request(10.1) is None
    result = probe.result()
    assert result.outcome is Outcome.UNREACHABLE and result.rtt == pytest.approx(0.05)


def test_result_before_the_end_is_an_error() -> None:
    probe, _ = start()
    with pytest.raises(RuntimeError):
        probe.result()
    with pytest.raises(ValueError):
        Probe(*DST, source=SRC, policy=ProbePolicy(groups=(19,)))
