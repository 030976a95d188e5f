"""Protocol layer: T=0 recovery, channel CLA bits, typed status words, redacted traces."""

import logging

import pytest

from simtool.card import statuswords
from simtool.card.errors import ApduTooLongError, CardProtocolError
from simtool.card.protocol import MAX_CHAINED_RESPONSES, Apdu, CardProtocol, channel_cla, get_response_cla
from tests.aram.scripted import ScriptedConnection


def test_61xx_is_followed_by_get_response():
    conn = ScriptedConnection([("80CAFF4000", "6104"), ("00C0000004", "FF4000009000")])
    resp = CardProtocol(conn).send(Apdu(0x80, 0xCA, 0xFF, 0x40, le=0))
    assert resp.data == bytes.fromhex("FF400000") and resp.sw == 0x9000


def test_chained_61xx_accumulates():
    conn = ScriptedConnection([("80CAFF4000", "6102"), ("00C0000002", "AABB6101"), ("00C0000001", "CC9000")])
    assert CardProtocol(conn).send(Apdu(0x80, 0xCA, 0xFF, 0x40, le=0)).data == bytes.fromhex("AABBCC")


def test_endless_61xx_is_a_typed_error_not_a_loop():
    script = [("80CAFF4000", "6101")] + [("00C0000001", "AA6101")] * MAX_CHAINED_RESPONSES
    with pytest.raises(CardProtocolError, match="80CAFF40 against the protocol: still 61xx") as err:
        CardProtocol(ScriptedConnection(script)).send(Apdu(0x80, 0xCA, 0xFF, 0x40, le=0))
    assert err.value.command == "80CAFF40" and err.value.exit_code == 5


@pytest.mark.parametrize("answer", ["9000", "009000", "149000", "01029000"])
def test_manage_channel_answer_that_is_no_channel_number(answer):
    conn = ScriptedConnection([("0070000001", answer)])
    with pytest.raises(CardProtocolError, match="not a channel number 1-19") as err:
        CardProtocol(conn).open_channel()
    assert err.value.command == "MANAGE CHANNEL"


def test_6cxx_resends_with_right_le():
    conn = ScriptedConnection([("00B000000A", "6C05"), ("00B0000005", "01020304059000")])
    proto = CardProtocol(conn)
    assert proto.send(Apdu(0, 0xB0, 0, 0, le=10)).data == bytes(range(1, 6))
    assert proto.apdu_count == 2


def test_get_response_on_logical_channel_keeps_channel():
    assert get_response_cla(0x81) == 0x01
    assert get_response_cla(0xC3) == 0x43
    assert get_response_cla(0xA0) == 0xA0


@pytest.mark.parametrize("cla,channel,expected", [
    (0x00, 0, 0x00), (0x00, 3, 0x03), (0x80, 2, 0x82), (0x00, 4, 0x40), (0x00, 19, 0x4F),
    (0x80, 4, 0xC0), (0x80, 19, 0xCF), (0x04, 1, 0x05),
])
def test_channel_cla(cla, channel, expected):
    assert channel_cla(cla, channel) == expected


def test_channel_out_of_range():
    with pytest.raises(ValueError):
        channel_cla(0, 20)


def test_open_and_close_channel_4_to_19():
    conn = ScriptedConnection([("0070000001", "059000"), ("4170800500", "9000")])
    proto = CardProtocol(conn)
    ch = proto.open_channel()
    assert ch == 5
    conn.script[0] = (bytes.fromhex("41708005"), bytes.fromhex("9000"))
    proto.close_channel(ch)


def test_status_words_become_named_errors():
    conn = ScriptedConnection([("80CAFF4000", "6A88")])
    with pytest.raises(statuswords.ApduError) as info:
        CardProtocol(conn).check(Apdu(0x80, 0xCA, 0xFF, 0x40, le=0))
    err = info.value
    assert type(err).__name__ == "ReferencedDataNotFound" and err.sw == 0x6A88
    assert "6A88" in str(err) and "80CAFF40" in str(err)
    assert statuswords.lookup(0x63C2).__name__ == "VerificationFailed"
    assert statuswords.lookup(0x6FFF) is statuswords.ApduError


def test_table_names_are_unique():
    names = [row[1] for row in statuswords.table()]
    assert len(names) == len(set(names))


def test_verify_data_is_redacted_in_trace(caplog):
    conn = ScriptedConnection([("002000 0A 08 3132333435363738".replace(" ", ""), "9000")])
    with caplog.at_level(logging.DEBUG, logger="simtool.card.apdu"):
        proto = CardProtocol(conn, record=True)
        proto.send(Apdu(0, 0x20, 0, 0x0A, b"12345678"))
    text = caplog.text + repr(proto.sent)
    assert "3132333435363738" not in text and "redacted" in text


def test_dry_run_does_not_send_writes():
    conn = ScriptedConnection([])
    proto = CardProtocol(conn, dry_run=True, record=True)
    assert proto.send(Apdu(0x80, 0xE2, 0x90, 0, b"\xf1\x00"), write=True).sw == 0x9000
    assert conn.sent == [] and proto.sent[0].response is None


def test_long_command_refused():
    with pytest.raises(ApduTooLongError, match="256 bytes"):
        Apdu(0x80, 0xE2, 0x90, 0, bytes(256)).encode()
