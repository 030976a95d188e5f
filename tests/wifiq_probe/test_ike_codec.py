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
    for gateway in ("192.0.2.7", "2001:db8::7", "epdg.example.net"):
        assert parse_redirect(encode_redirect(gateway, b"n" * 16)).gateway == gateway
    for bad in (b"", b"\x01", b"\x01\x05abcd", b"\x09\x01a", b"\x01\x03abc"):
        with pytest.raises(IkeError):
            parse_redirect(bad)


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


SEEDS = [
    encode_response(spi_i=b"\x01" * 8, spi_r=b"\x03" * 8, proposal=CHOSEN, ke_group=14,
                    nonce=b"\x04" * 32, vendor_ids=(b"abc",)),
    encode_response(spi_i=b"\x01" * 8, spi_r=b"\x03" * 8,
                    notifies=(Notify(INVALID_KE_PAYLOAD, b"\x00\x05"),)),
    request(cookie=b"c" * 16),
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
        probe.spi_i = b"\x01" * 8
        probe.next_request(0.0)
        probe.on_reply(candidate, 0.1)  # never raises, whatever the bytes
        probe.next_request(0.2)


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
    (Notify(REDIRECT, encode_redirect("192.0.2.9", b"n" * 32)), Outcome.REDIRECTED),
    (Notify(REDIRECT, b"\x01\x09"), Outcome.MALFORMED),
])
def test_error_notifies(notify: Notify, outcome: Outcome) -> None:
    probe, _ = start()
    assert probe.on_reply(reply(probe, notifies=(notify,)), 10.1)
    assert probe.next_request(10.1) is None
    result = probe.result()
    assert result.outcome is outcome and result.outcome.reachable
    assert result.notifies == (notify.name,)
    if outcome is Outcome.REDIRECTED:
        assert result.detail == "redirected to 192.0.2.9"


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
