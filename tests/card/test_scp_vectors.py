"""Known-answer tests of SCP02 / SCP03 and the key diversifications.

Vectors (facts, not code): osmocom pySim ``tests/unittests/test_globalplatform.py`` (SCP02 at
KVN 70; SCP03 with AES-128/192/256 at security levels 03, 11 and 33: INITIALIZE UPDATE, EXTERNAL
AUTHENTICATE, a wrapped STORE DATA and its (R-MAC / R-ENC) answer, wrapped APDUs of cases 1–4,
AES KCVs) and GlobalPlatformPro ``TestPlaintextKeys.java`` / ``TestSCP03.java`` (EMV, VISA2,
KDF3 diversification KCVs; SCP02/SCP03 session key KCVs; the external KDF3 vector). Every
exchange runs through ``CardProtocol`` on a scripted connection, so the bytes compared are
the bytes a card would receive.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from simtool.card import gpcrypto
from simtool.card.gpkeys import DEFAULT_TEST_KEY, StaticKeys
from simtool.card.protocol import Apdu, CardProtocol
from simtool.card.scp02 import open_scp02
from simtool.card.scp03 import open_scp03
from simtool.card.scperrors import CardCryptogramMismatchError, ExternalAuthenticateRefusedError, ResponseMacError
from tests.aram.scripted import ScriptedConnection

h = bytes.fromhex

# the plain commands of every SCP03 vector set (pySim)
GET_EID = Apdu(0x80, 0xE2, 0x91, 0x00, h("BF3E035C015A"), le=0)
EID = h("bf3e125a1089882119900000000000000000000005")
CASES = (
    Apdu(0x80, 0xF2, 0x20, 0x02),                              # case 1
    Apdu(0x80, 0xCA, 0x00, 0x66, le=0),                        # case 2
    Apdu(0x80, 0xF2, 0x20, 0x02, h("4f0212345c054f9f70c5")),   # case 3
    Apdu(0x80, 0xF2, 0x80, 0x02, h("4f00"), le=0),             # case 4
)


def _aes_keys(n: int, kvn: int) -> StaticKeys:
    def key(first: int) -> bytes:
        return (bytes(range(first, first + 16)) * 2)[:n]
    return StaticKeys(key(0x00), key(0x10), key(0x20), kvn)


@dataclass(frozen=True)
class Scp03Vector:
    name: str
    keys: StaticKeys
    init_update: str
    answer: str
    ext_auth: str
    get_eid: str
    eid_answer: str
    cases: tuple[str, str, str, str]


SCP03_VECTORS = (
    Scp03Vector("AES128 level 11", _aes_keys(16, 0x30), "8050300008b13e5f938fc108c400",
                "000000000000000000003003703eb51047495b249f66c484c1d2ef1948000002",
                "84821100107d5f5826a993ebc89eea24957fa0b3ce", "84e291000ebf3e035c015a558d036518a2829700",
                "bf3e125a1089882119900000000000000000000005971be68992dbbdfa",
                ("84f220020863a63f8959827fb2", "84ca006608a0c6a4a74166f7ce00",
                 "84f22002124f0212345c054f9f70c52249b50272656536", "84f280020a4f00e91443f6dce6b8ed00")),
    Scp03Vector("AES128 level 03", _aes_keys(16, 0x30), "80503000088e1552d0513c60f300",
                "0000000000000000000030037030760cd2c47c1dd395065fe5ead8a9d7000001",
                "8482030010fd4721a14d9b07003c451d2f8ae6bb21",
                "84e2910018ca9c00f6713d79bc8baa642bdff51c3f6a4082d3bd9ad26c00",
                "bf3e125a1089882119900000000000000000000005",
                ("84f2200208c9811b11f1264cf1", "84ca006608e10ab60b3054798800",
                 "84f22002184e2908bdb48b2315a55482e9e936ca122d6ecfae7d17416e",
                 "84f28002180dd10a6b6193e5340b9e77d32d5a179cd710ac2773aefb2800")),
    Scp03Vector("AES128 level 33", _aes_keys(16, 0x30), "8050300008fdf38259a1e0de4400",
                "000000000000000000003003703b1aca81e821f219081cdc01c26b372d000003",
                "84823300108c36f96bcc00724a4e13ad591d7da3f0",
                "84e2910018267a85dfe4a98fca6fb0527e0dfecce4914e40401433c87f00",
                "f3ba2b1013aa6224f5e1c138d71805c569e5439b47576260b75fc021b25097cb2e68f8a0144975b9",
                ("84f2200208ac6a59024bed84cc", "84ca006608409912ad8fb7aed000",
                 "84f22002185f3dafc3ac14c381536a488bf44e06d056df9d74dbd21e5a",
                 "84f280021865165105be3373347d0424d4400af2ac393f569ec779389e00")),
    Scp03Vector("AES192 level 11", _aes_keys(24, 0x31), "80503100087396430b768b085b00",
                "000000000000000000003103708cfc23522ffdbf1e5df5542cac8fd866000003",
                "84821100102145ed30b146f5db252fb7e624cec244", "84e291000ebf3e035c015aff42cf801d14394400",
                "bf3e125a1089882119900000000000000000000005162fbd33e04940a9",
                ("84f22002084584e4f6784811ee", "84ca006608937776ebe190fa3000",
                 "84f22002124f0212345c054f9f70c59a52bddf3040368c", "84f280020a4f009804b11411f7393d00")),
    Scp03Vector("AES192 level 03", _aes_keys(24, 0x31), "805031000869c65da8202bf19f00",
                "00000000000000000000310370b570a67be38446717729d6dd3d2ec5b1000001",
                "848203001065df4f1a356a887905466516d9e5b7c1",
                "84e2910018d2c6fb477c5d4afe4fd4d21f17eff10d3578ec1774a12a2d00",
                "bf3e125a1089882119900000000000000000000005",
                ("84f2200208964e188f0b1bb697", "84ca006608f0820035a41d3e1800",
                 "84f220021806b076ed452cd1fa84f77f5c08a146aa77a9286757dea791",
                 "84f2800218d06527e39222dce091fabdb8e9b898417a67a6852d3577db00")),
    Scp03Vector("AES192 level 33", _aes_keys(24, 0x31), "80503100089b3f2eef0e8c937400",
                "00000000000000000000310370f6bb305a15bae1a68f79fb08212fbed7000002",
                "84823300109100bc22d58b45b86a26365ce39ff3cf",
                "84e29100188f7f946c84f70d17994bc6e8791251bb1bb1bf02cf8de58900",
                "c05176c1b6f72aae50c32cbee63b0e95998928fd4dfb2be9f27ffde8c8476f5909b4805cc4039599",
                ("84f2200208d5d97754b6b3d2ba", "84ca006608516c82b8e30adbeb00",
                 "84f2200218cc247f4761e6944277a4e0d6e32e44025b1e31537e2fc668",
                 "84f2800218ba22b63d509bef5d093b43e5eaed03ed23144ab2d9cb51de00")),
    Scp03Vector("AES256 level 11", _aes_keys(32, 0x32), "805032000811666d57866c6f5400",
                "0000000000000000000032037053ea8847efa7674e41498a4d66cf0dee000003",
                "84821100102f2ad190eff2fafc4908996d1cebd310", "84e291000ebf3e035c015af4b680372542b59d00",
                "bf3e125a10898821199000000000000000000000058012dd7f01f1c4c1",
                ("84f2200208d618b7da68d5fe52", "84ca0066088f3e055db23ad5e500",
                 "84f22002124f0212345c054f9f70c5b6e15cc42404915e", "84f280020a4f00aa124aa74afe7f7500")),
    Scp03Vector("AES256 level 03", _aes_keys(32, 0x32), "8050320008c6066990fc426e1d00",
                "000000000000000000003203708682cd81bbd8919f2de3f2664581f118000001",
                "848203001077c493b632edadaf865a1e64acc07ce9",
                "84e29100183ddaa60594963befaada3525b492ede23c2ab2c1ce3afe4400",
                "bf3e125a1089882119900000000000000000000005",
                ("84f2200208480ddc8e419da38d", "84ca0066083e9d6a6c0b2d732000",
                 "84f22002183ebfef2da8b04af2a85f491f299b76973df76ff08a4031be",
                 "84f2800218783fff80990f5585b1055010ea95094a26e4a8f1ef4b18e100")),
    Scp03Vector("AES256 level 33", _aes_keys(32, 0x32), "805032000897b2055fe58599fd00",
                "00000000000000000000320370a8439a22cedf045fa9f1903b2834f26e000002",
                "8482330010508a0fd959d2e547c6b33154a6be2057",
                "84e29100187a5ef717eaf1e135ae92fe54429d0e465decda65f5fe5aea00",
                "ea90dbfa648a67c5eb6abc57f8530b97d0cd5647c5e8732016b55203b078dd2ace7f8bc5d1c1cd99",
                ("84f2200208bcc5c17275545d93", "84ca00660804806aba9d543bb600",
                 "84f2200218717222491556ec81a45f49ce48be33320024801a1c4cb0e0",
                 "84f2800218561f105bccd3a1642904b251ccc1228beb80a82370a8637000")),
)


@pytest.mark.parametrize("v", SCP03_VECTORS, ids=lambda v: v.name)
def test_scp03_session_matches_published_vectors(v: Scp03Vector) -> None:
    """Authentication, a wrapped case-4 command with its R-MAC/R-ENC answer, then the four APDU
    cases: each byte as the vector says (a wrong MAC chain or counter breaks every later one)."""
    script = [(v.init_update, v.answer + "9000"), (v.ext_auth, "9000"), (v.get_eid, v.eid_answer + "9000")]
    # the vectors give the wrapped commands only: answered with an error status word, which
    # carries no R-MAC at any level
    script += [(case, "6A88") for case in v.cases]
    conn = ScriptedConnection(script)
    proto = CardProtocol(conn)
    level = h(v.ext_auth)[2]
    info = open_scp03(proto, v.keys, level, host_challenge=h(v.init_update)[5:-1])
    assert info.kvn == v.keys.kvn and info.level == level
    assert proto.send(GET_EID).data == EID
    for case in CASES:
        assert proto.send(case).sw == 0x6A88
    assert not conn.script


def test_scp03_kcvs_of_the_vector_keys() -> None:
    assert _aes_keys(16, 0x30).kcvs("aes") == {"enc": "C35280", "mac": "013808", "dek": "840DE5"}


def test_scp02_session_matches_published_vectors() -> None:
    keys = StaticKeys(h("100102030405060708090a0b0c0d0e0f"), h("101102030405060708090a0b0c0d0e0f"),
                      h("102102030405060708090a0b0c0d0e0f"), 0x20)
    conn = ScriptedConnection([
        ("805020000840A62C37FA6304F800", "00000000000000000000700200016B4524ABEE7CF32EA3838BC148F3" + "9000"),
        ("8482010010BA6961667737C5BCEBECE14C7D6A4376", "9000"),
        ("84F220020814DB34FA4341DCA8", "9000"),
        ("84CA00660855ED7C5FF069512B00", "9000"),
        ("84F22002124F0212345C054F9F70C58FC1B380C4228AF8", "9000"),
        ("84F280020A4F003B95F09317DE6A4E00", "9000"),
    ])
    proto = CardProtocol(conn)
    info = open_scp02(proto, keys, 0x01, host_challenge=h("40A62C37FA6304F8"))
    assert info.kvn == 0x70 and info.sequence_counter == h("0001")
    for case in CASES:
        assert proto.send(case).sw == 0x9000
    assert not conn.script


def test_scp02_card_cryptogram_mismatch_sends_no_external_authenticate() -> None:
    """The last cryptogram byte changed: one error naming the KVN and the KCVs, and nothing
    after INITIALIZE UPDATE reaches the card (the script has no EXTERNAL AUTHENTICATE)."""
    keys = StaticKeys(h("100102030405060708090a0b0c0d0e0f"), h("101102030405060708090a0b0c0d0e0f"),
                      h("102102030405060708090a0b0c0d0e0f"), 0x70)
    conn = ScriptedConnection([("805070000840A62C37FA6304F800",
                                "00000000000000000000700200016B4524ABEE7CF32EA3838BC148FF9000")])
    proto = CardProtocol(conn)
    with pytest.raises(CardCryptogramMismatchError) as err:
        open_scp02(proto, keys, 0x01, host_challenge=h("40A62C37FA6304F8"))
    assert "KVN 0x70" in str(err.value) and "KCV ENC E54A63 MAC 1F6BB2 DEK 3178A9" in str(err.value)
    assert "\n" not in str(err.value) and len(conn.sent) == 1 and proto.secure is None


def test_scp03_card_cryptogram_mismatch_sends_no_external_authenticate() -> None:
    v = SCP03_VECTORS[0]
    other = StaticKeys(v.keys.enc, bytes(16), v.keys.dek, 0x30)  # wrong MAC key
    conn = ScriptedConnection([(v.init_update, v.answer + "9000")])
    with pytest.raises(CardCryptogramMismatchError) as err:
        open_scp03(CardProtocol(conn), other, 0x11, host_challenge=h(v.init_update)[5:-1])
    assert "SCP03" in str(err.value) and "KVN 0x30" in str(err.value) and len(conn.sent) == 1


def test_external_authenticate_refused_is_reported_not_retried() -> None:
    v = SCP03_VECTORS[0]
    conn = ScriptedConnection([(v.init_update, v.answer + "9000"), (v.ext_auth, "6300")])
    proto = CardProtocol(conn)
    with pytest.raises(ExternalAuthenticateRefusedError) as err:
        open_scp03(proto, v.keys, 0x11, host_challenge=h(v.init_update)[5:-1])
    assert "6300" in str(err.value) and "not retried" in str(err.value)
    assert len(conn.sent) == 2 and proto.secure is None


def test_scp03_altered_response_fails_its_rmac() -> None:
    v = SCP03_VECTORS[0]  # level 11: R-MAC
    bad = bytearray(h(v.eid_answer))
    bad[3] ^= 0x01
    conn = ScriptedConnection([(v.init_update, v.answer + "9000"), (v.ext_auth, "9000"),
                               (v.get_eid, bad.hex() + "9000")])
    proto = CardProtocol(conn)
    open_scp03(proto, v.keys, 0x11, host_challenge=h(v.init_update)[5:-1])
    with pytest.raises(ResponseMacError):
        proto.send(GET_EID)


def test_scp03_error_status_word_carries_no_rmac() -> None:
    v = SCP03_VECTORS[0]
    conn = ScriptedConnection([(v.init_update, v.answer + "9000"), (v.ext_auth, "9000"), (v.get_eid, "6A88")])
    proto = CardProtocol(conn)
    open_scp03(proto, v.keys, 0x11, host_challenge=h(v.init_update)[5:-1])
    assert proto.send(GET_EID).sw == 0x6A88


def test_wrapped_command_on_t0_fetches_the_answer_with_plain_get_response() -> None:
    """T=0: the wrapped case-4 command is answered 61xx; GET RESPONSE is sent unwrapped and the
    whole answer (with its R-MAC) is checked once."""
    v = SCP03_VECTORS[0]
    answer = v.eid_answer
    conn = ScriptedConnection([(v.init_update, v.answer + "9000"), (v.ext_auth, "9000"),
                               (v.get_eid, f"61{len(h(answer)):02X}"), (f"00C00000{len(h(answer)):02X}", answer + "9000")])
    proto = CardProtocol(conn)
    open_scp03(proto, v.keys, 0x11, host_challenge=h(v.init_update)[5:-1])
    assert proto.send(GET_EID).data == EID


# --- diversification and session keys: GlobalPlatformPro's vectors (KCVs) ---------------------

KDD = bytes(range(10))


@pytest.mark.parametrize("scheme,cipher,want", [
    ("emv", "des", {"enc": "C33013", "mac": "6F4CA6", "dek": "BB8179"}),
    ("visa2", "des", {"enc": "2BE598", "mac": "58DA38", "dek": "3C328E"}),
    ("kdf3", "aes", {"enc": "E79C05", "mac": "D1BD77", "dek": "3FDE8C"}),
])
def test_diversification_kcvs(scheme: str, cipher: str, want: dict[str, str]) -> None:
    k = DEFAULT_TEST_KEY
    assert StaticKeys(k, k, k, 0, scheme).diversified(KDD).kcvs(cipher) == want


@pytest.mark.parametrize("length,want", [
    (24, {"enc": "1DE8EA", "mac": "47C00C", "dek": "C04D76"}),
    (32, {"enc": "2972D2", "mac": "036F94", "dek": "5D57B8"}),
])
def test_kdf3_diversification_of_longer_aes_keys(length: int, want: dict[str, str]) -> None:
    k = bytes(range(0x40, 0x40 + length))
    assert StaticKeys(k, k, k, 0, "kdf3").diversified(KDD).kcvs("aes") == want


def test_kdf3_external_vector() -> None:
    master = h("8C72C72CF908411653018807950D82FBAD947562F0828A0B10B8B9606ABF3BCD")
    keys = StaticKeys(master, master, master, 0, "kdf3").diversified(h("D9B1DE5D0362DEDCE4FB"))
    assert keys.enc == h("9AAC5D0B3601F89438A0D9D0B6B256CFB47E6462DFA5228D3420C4AC7C224781")


def test_session_key_kcvs() -> None:
    from simtool.card import scp02, scp03
    k = DEFAULT_TEST_KEY
    s2 = scp02.session_keys(StaticKeys(k, k, k), b"\x00\x00")
    assert [gpcrypto.kcv_des(x).hex().upper() for x in (s2.s_enc, s2.s_mac, s2.s_dek, s2.s_rmac)] == \
        ["F2DCDD", "5FCC69", "85272E", "9F749A"]
    s3 = scp03.session_keys(StaticKeys(k, k, k), KDD)
    assert [gpcrypto.kcv_aes(x).hex().upper() for x in (s3.s_enc, s3.s_mac, s3.s_rmac)] == \
        ["C25559", "0E12CC", "9ACB9C"]


def test_keys_never_in_repr() -> None:
    k = DEFAULT_TEST_KEY
    text = repr(StaticKeys(k, k, k, 0x30))
    assert k.hex() not in text.lower() and "KCV" in text
