"""The checks of an exact list read (simtool.aram.exactread) on a scripted card: piece sizes,
the second read, 6F00 to FF60, and FF50 confirmation of the applet's stale-byte shape."""

from __future__ import annotations

import pytest

from simtool.aram.errors import DamagedAnswerError
from simtool.aram.exactread import applet_breaks_at, stale_byte_shape
from simtool.aram.session import AramSession
from simtool.aram.tlv import encode_tlv
from simtool.card.protocol import CardProtocol
from tests.aram.scripted import ScriptedConnection
from tests.aram.sizes import rules_of_length, rule_of_size

GET_ALL, GET_NEXT = "80CAFF4000", "80CAFF6000"


def session(script: list[tuple[str, str]]) -> AramSession:
    return AramSession(CardProtocol(ScriptedConnection(script)))


def pieces_of(answer: bytes, sizes: list[int]) -> list[tuple[str, str]]:
    out, at = [], 0
    for i, size in enumerate(sizes):
        out.append((GET_ALL if i == 0 else GET_NEXT, answer[at:at + size].hex() + "9000"))
        at += size
    assert at == len(answer)
    return out


def stale_shape_list() -> tuple[bytes, list[bytes]]:
    """A 506-byte list (L mod 255 = 251) whose last rule is a plain 4F + C1 + DB rule."""
    rules = rules_of_length(506 - 46) + [rule_of_size(46, 99)]
    return encode_tlv(0xFF40, b"".join(rules)), rules


def ff50(last: bytes, answer_value: bytes) -> tuple[str, str]:
    ref = last[2:2 + 2 + last[3]]
    query = f"80CAFF50{len(ref):02X}{ref.hex()}00"
    return query, encode_tlv(0xFF50, answer_value).hex() + "9000"


def test_applet_sizes():
    broken = [n for n in range(0, 1100) if applet_breaks_at(n)]
    assert broken[:8] == [253, 254, 255, 506, 507, 508, 509, 510] and 1020 in broken and 505 not in broken
    assert stale_byte_shape((255, 256)) and stale_byte_shape((255, 255, 256))
    assert not stale_byte_shape((256,)) and not stale_byte_shape((255, 255)) and not stale_byte_shape((200, 256))


@pytest.mark.parametrize("form", ["ar-do", "ref-ar-do"])
def test_stale_shape_confirmed_by_ff50_is_read(form):
    answer, rules = stale_shape_list()
    script = pieces_of(answer, [255, 256])
    last = rules[-1]
    value = last[-12:] if form == "ar-do" else last  # E3 0A DB08… or the whole E2
    got = session(script + script + [ff50(last, value)]).read_rules()
    assert [r.raw for r in got.rules] == rules and got.pieces == (255, 256)


def test_stale_final_byte_is_damage_named_never_a_rule():
    answer, rules = stale_shape_list()
    stale = answer[:-1] + bytes([answer[-1] ^ 0xFF])
    script = pieces_of(stale, [255, 256])
    with pytest.raises(DamagedAnswerError, match="final byte is stale") as err:
        session(script + script + [ff50(rules[-1], rules[-1][-12:])]).read_rules()
    assert err.value.exit_code == 6 and "L = 506" in str(err.value) and "Android" in str(err.value)
    with pytest.raises(DamagedAnswerError, match="could not confirm the last rule \\(FF50 answered 6A86\\)"):
        session(script + script + [(ff50(rules[-1], b"")[0], "6A86")]).read_rules()


def test_two_reads_that_differ_are_damage():
    answer, _ = stale_shape_list()
    first = pieces_of(answer, [255, 256])
    other = bytearray(answer)
    other[100] ^= 1
    with pytest.raises(DamagedAnswerError, match="two reads of the list differ \\(first at byte 100"):
        session(first + pieces_of(bytes(other), [255, 256])).read_rules()


@pytest.mark.parametrize("sw,problem", [("6F00", "FF60 answered 6F00"), ("6A88", "stopped early")])
def test_ff60_refusals_are_a_damaged_list(sw, problem):
    answer = encode_tlv(0xFF40, b"".join(rules_of_length(510)))
    with pytest.raises(DamagedAnswerError, match=problem) as err:
        session([(GET_ALL, answer[:255].hex() + "9000"), (GET_NEXT, sw)]).read_rules()
    assert err.value.announced == 510 and err.value.received == 250
    assert "the open-source ARA-M applet cannot return intact" in str(err.value)


def test_oversize_single_answer_names_the_announced_length():
    answer = encode_tlv(0xFF40, b"".join(rules_of_length(253)))
    with pytest.raises(DamagedAnswerError, match="one response of 257 bytes") as err:
        session([(GET_ALL, answer.hex() + "9000")]).read_rules()
    assert err.value.announced == 253
