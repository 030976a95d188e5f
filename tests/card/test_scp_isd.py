"""simtool's secure channel client against the simulated card's ISD (its own implementation of
the card side, ``simtool.lab.vcard.isd``), in process: every protocol, mode and security level,
the lock-out after 3 bad EXTERNAL AUTHENTICATEs, and that our client never spends one.
The same through pcscd + vpcd and the CLI: ``tests/aram/test_aram_scp_e2e.py``."""

from __future__ import annotations

import pytest

from simtool.aram.rules import AccessRule
from simtool.aram.workflow import RuleMatch, add_rule, apply_rules, delete_rules, read_rules
from simtool.card.gpkeys import DEFAULT_TEST_KEY, StaticKeys
from simtool.card.gpsd import ISD_AID, SdAccess, select_sd
from simtool.card.keysource import FixedKeys
from simtool.card.protocol import Apdu, CardProtocol, channel_cla
from simtool.card.scp02 import open_scp02
from simtool.card.scp03 import open_scp03
from simtool.card.scperrors import CardCryptogramMismatchError, SecureChannelError
from simtool.card.securechannel import LEVELS
from simtool.errors import SimtoolError
from simtool.lab.vcard.inprocess import InProcessCard
from simtool.lab.vcard.isd import IsdKeys

K = DEFAULT_TEST_KEY
CASES = [("sysmo-locked", "SCP02", 0x70, False, level) for level in ("mac", "mac+enc")]
CASES += [(p, "SCP03", 0x30, p.endswith("s16"), level) for p in ("scp03", "scp03-s16", "scp03-t0") for level in LEVELS]
CASES += [("scp02-t0", "SCP02", 0x20, False, level) for level in ("mac", "mac+enc")]


def access(scp: str, kvn: int, level: str, s16: bool = False, keys: StaticKeys | None = None) -> SdAccess:
    return SdAccess(scp, LEVELS[level], FixedKeys(keys or StaticKeys(K, K, K, kvn), "test"), s16=s16)


def rule(n: int) -> AccessRule:
    return AccessRule(n.to_bytes(20, "big"))


@pytest.mark.parametrize("profile,scp,kvn,s16,level", CASES, ids=lambda v: str(v))
def test_locked_aram_written_and_read_through_the_isd(profile: str, scp: str, kvn: int, s16: bool,
                                                      level: str) -> None:
    card = InProcessCard(profile)
    proto = CardProtocol(card, record=True)
    sd = access(scp, kvn, level, s16)
    assert add_rule(proto, rule(1), force=False, sd=sd).verified
    assert apply_rules(proto, [rule(1), rule(2), rule(3)], prune=True, force=False, sd=sd).verified
    assert {r.hash for r in read_rules(proto, sd=sd).rules} == {rule(n).hash for n in (1, 2, 3)}
    assert delete_rules(proto, RuleMatch(hash=rule(2).hash), sd=sd).verified
    assert {r.hash for r in read_rules(proto).rules} == {rule(1).hash, rule(3).hash}
    assert card.memory.isd_tries_left == 3


@pytest.mark.parametrize("profile", ["sysmo-locked", "scp03"])
def test_locked_aram_refuses_a_direct_write(profile: str) -> None:
    proto = CardProtocol(InProcessCard(profile))
    with pytest.raises(SimtoolError) as err:
        add_rule(proto, rule(1), force=False)
    assert "6982" in str(err.value)


@pytest.mark.parametrize("profile,scp,kvn,wrong", [
    ("sysmo-locked", "SCP02", 0x70, StaticKeys(bytes(16), K, K, 0x70)),  # SCP02's card cryptogram: ENC
    ("scp03", "SCP03", 0x30, StaticKeys(K, bytes(16), K, 0x30)),  # SCP03's: MAC
    ("scp03", "SCP03", 0x30, StaticKeys(bytes(16), bytes(16), bytes(16), 0x30)),
])
def test_wrong_keys_never_cost_the_card_an_attempt(profile: str, scp: str, kvn: int, wrong: StaticKeys) -> None:
    """Ten runs with wrong keys: each stops at the card cryptogram; the ISD never sees an
    EXTERNAL AUTHENTICATE, so its 3 attempts stay whole and the right keys still work."""
    card = InProcessCard(profile)
    proto = CardProtocol(card, record=True)
    for _ in range(10):
        with pytest.raises(CardCryptogramMismatchError) as err:
            add_rule(proto, rule(1), force=False, sd=access(scp, kvn, "mac", keys=wrong))
        assert f"KVN 0x{kvn:02X}" in str(err.value) and "KCV" in str(err.value)
    assert not any(s.command[2:4] == "82" for s in proto.sent)
    assert card.memory.isd_tries_left == 3
    assert add_rule(proto, rule(1), force=False, sd=access(scp, kvn, "mac")).verified


def test_scp02_wrong_mac_key_costs_one_attempt_and_is_not_retried() -> None:
    """SCP02's card cryptogram proves only the ENC key: a wrong MAC key shows first at EXTERNAL
    AUTHENTICATE, which the card counts. One attempt, then a stop naming the MAC KCV."""
    card = InProcessCard("sysmo-locked")
    proto = CardProtocol(card, record=True)
    with pytest.raises(SecureChannelError) as err:
        add_rule(proto, rule(1), force=False, sd=access("SCP02", 0x70, "mac", keys=StaticKeys(K, bytes(16), K, 0x70)))
    assert "6300" in str(err.value) and "not retried" in str(err.value) and "MAC" in str(err.value)
    assert sum(1 for s in proto.sent if s.command[2:4] == "82") == 1
    assert card.memory.isd_tries_left == 2


def _bad_external_authenticate(proto: CardProtocol, scp_id: int) -> int:
    """What a careless client does: INITIALIZE UPDATE, then an EXTERNAL AUTHENTICATE with a
    made-up cryptogram. Returns the card's status word."""
    select_sd(proto, ISD_AID)
    iu = proto.send(Apdu(0x80, 0x50, 0x00, 0x00, bytes(8), le=0))
    if iu.sw != 0x9000:
        return iu.sw
    return proto.send(Apdu(0x84, 0x82, 0x01, 0x00, bytes(16))).sw


@pytest.mark.parametrize("profile,scp,kvn", [("sysmo-locked", "SCP02", 0x70), ("scp03", "SCP03", 0x30)])
def test_isd_locks_after_three_bad_cryptograms(profile: str, scp: str, kvn: int) -> None:
    card = InProcessCard(profile)
    proto = CardProtocol(card)
    assert [_bad_external_authenticate(proto, 2) for _ in range(3)] == [0x6300] * 3
    assert card.memory.isd_tries_left == 0
    assert _bad_external_authenticate(proto, 2) == 0x6983
    with pytest.raises(SecureChannelError) as err:  # the right keys cannot help any more
        add_rule(proto, rule(1), force=False, sd=access(scp, kvn, "mac"))
    assert "6983" in str(err.value) and "locked" in str(err.value)


def test_a_good_authentication_restores_the_attempts() -> None:
    card = InProcessCard("scp03")
    proto = CardProtocol(card)
    assert [_bad_external_authenticate(proto, 3) for _ in range(2)] == [0x6300] * 2
    assert card.memory.isd_tries_left == 1
    assert add_rule(proto, rule(1), force=False, sd=access("SCP03", 0x30, "mac")).verified
    assert card.memory.isd_tries_left == 3


def test_isd_ends_the_session_on_a_bad_cmac() -> None:
    card = InProcessCard("scp03")
    proto = CardProtocol(card)
    select_sd(proto, ISD_AID)
    open_scp03(proto, StaticKeys(K, K, K, 0x30), 0x01)
    install = Apdu(0x80, 0xE6, 0x20, 0x00, bytes.fromhex("000009A00000015141434C00000000"), le=0)
    forged = Apdu(0x84, 0xE6, 0x20, 0x00, install.data + bytes(8), le=0)  # a C-MAC of zeros
    assert card.transmit(forged.encode())[1] == 0x6982
    assert proto.send(install).sw == 0x6982  # the session is over: a right C-MAC does not help


def test_unknown_kvn_and_wrong_protocol_are_named() -> None:
    proto = CardProtocol(InProcessCard("scp03"))
    select_sd(proto, ISD_AID)
    with pytest.raises(SecureChannelError, match="6A88: no key set"):
        open_scp03(proto, StaticKeys(K, K, K, 0x31), 0x01)
    with pytest.raises(SecureChannelError, match="not SCP02 \\(try --scp03\\)"):
        open_scp02(proto, StaticKeys(K, K, K, 0x30), 0x01)
    with pytest.raises(SecureChannelError, match="6700: wrong host challenge length"):
        open_scp03(proto, StaticKeys(K, K, K, 0x30), 0x01, s16=True)


def test_per_card_keys_open_only_their_own_card() -> None:
    keys_a = IsdKeys(bytes(range(16)), bytes(range(1, 17)), bytes(range(2, 18)))
    card = InProcessCard("scp03", iccid="89882110000000000027", isd_keys=keys_a)
    proto = CardProtocol(card)
    good = StaticKeys(keys_a.enc, keys_a.mac, keys_a.dek, 0x30)
    assert add_rule(proto, rule(7), force=False, sd=access("SCP03", 0x30, "mac+enc+rmac+renc", keys=good)).verified
    with pytest.raises(CardCryptogramMismatchError):
        add_rule(proto, rule(8), force=False, sd=access("SCP03", 0x30, "mac"))  # the test key is not this card's


def test_dry_run_opens_no_secure_channel() -> None:
    card = InProcessCard("scp03")
    proto = CardProtocol(card, dry_run=True, record=True)
    result = add_rule(proto, rule(1), force=False, sd=access("SCP03", 0x30, "mac"))
    assert not result.plan.empty
    assert card.memory.isd_counter == 0 and card.memory.rules == []


@pytest.mark.parametrize("profile,scp,kvn,level", [
    ("scp03", "SCP03", 0x30, "mac+enc+rmac+renc"), ("scp03-s16", "SCP03", 0x30, "mac+enc+rmac"),
    ("scp02-t0", "SCP02", 0x20, "mac+enc"), ("scp03-t0", "SCP03", 0x30, "mac+enc+rmac+renc"),
])
@pytest.mark.parametrize("channel", [1, 3, 4, 19])
def test_secure_channel_on_a_logical_channel(profile: str, scp: str, kvn: int, level: str, channel: int) -> None:
    """The ISD selected on logical channel N (CLA 8N/C(N-4), SM bit b3 or b6): the whole route
    and the read-back run there; channel 0 keeps its own selection."""
    from simtool.aram.session import AramSession

    card = InProcessCard(profile)
    proto = CardProtocol(card, record=True)
    assert proto.check(Apdu(0x00, 0x70, 0x00, channel)).sw == 0x9000  # MANAGE CHANNEL open N
    session = AramSession(proto, channel, via=access(scp, kvn, level, profile.endswith("s16")))
    session.select()
    assert session.store(rule(5)) == 0x9000
    assert session.route is not None and session.route.channel == channel
    assert [r.hash for r in session.read_rules().rules] == [rule(5).hash]
    install = [bytes.fromhex(s.command) for s in proto.sent if s.command[2:4] == "E6"]
    assert [c[0] for c in install] == [channel_cla(0x80, channel)] and proto.secure is None
    assert card.memory.isd_tries_left == 3
    proto.close_channel(channel)


def test_a_card_that_refused_external_authenticate_is_not_tried_again_in_the_run() -> None:
    """--watch keeps one SdAccess: the same card inserted again after a refused EXTERNAL
    AUTHENTICATE (SCP02, wrong MAC key) is refused before INITIALIZE UPDATE; another card is not."""
    sd = access("SCP02", 0x70, "mac", keys=StaticKeys(K, bytes(16), K, 0x70))
    card = InProcessCard("sysmo-locked", iccid="89882110000000000027")
    for attempt in range(3):
        proto = CardProtocol(card, record=True)
        with pytest.raises(SecureChannelError) as err:
            add_rule(proto, rule(1), force=False, sd=sd)
        if attempt:
            assert "refused EXTERNAL AUTHENTICATE earlier in this run" in str(err.value)
            assert not any(s.command[2:4] in ("50", "82") for s in proto.sent)
    assert card.memory.isd_tries_left == 2 and sd.refused == {"89882110000000000027"}
    other = InProcessCard("sysmo-locked", iccid="89882110000000000035")
    with pytest.raises(SecureChannelError, match="check the MAC key"):
        add_rule(CardProtocol(other), rule(1), force=False, sd=sd)
