"""Self-tests of the PC/SC rig: real pcscd + vpcd + the simulated card, through pyscard only."""

from __future__ import annotations

import pytest
from smartcard.System import readers

from tests.rig.pcsc_fixtures import pcsc_rig  # noqa: F401

ARA_M = "A00000015141434C00"
SEED_RULE = ("E22FE11E4F06FFFFFFFFFFFFC114E46872F28B350B7E1F140DE535C2A8D5804F0BE3"
             "E30DD00101DB080000000000000001")


class Link:
    """A pyscard connection with hex in, (data hex, SW hex) out."""

    def __init__(self, reader_name: str, protocol: str | None = None) -> None:
        from smartcard.CardConnection import CardConnection

        reader = next(r for r in readers() if str(r) == reader_name)
        self.conn = reader.createConnection()
        proto = {"T0": CardConnection.T0_protocol, "T1": CardConnection.T1_protocol}
        self.conn.connect(proto[protocol]) if protocol else self.conn.connect()

    def send(self, apdu: str) -> tuple[str, str]:
        data, sw1, sw2 = self.conn.transmit(list(bytes.fromhex(apdu)))
        return bytes(data).hex().upper(), f"{sw1:02X}{sw2:02X}"

    def close(self) -> None:
        self.conn.disconnect()
        self.conn.release()


@pytest.fixture
def link_factory(pcsc_rig):  # noqa: F811
    links: list[Link] = []

    def make(slot: int = 0, protocol: str | None = None) -> Link:
        link = Link(pcsc_rig.reader_names[slot], protocol)
        links.append(link)
        return link

    yield make
    for link in links:
        try:
            link.close()
        except Exception:  # the card may have been pulled: nothing left to release
            pass


def test_two_vpcd_readers_listed(pcsc_rig):  # noqa: F811
    assert [str(r) for r in readers()] == pcsc_rig.reader_names
    assert pcsc_rig.reader_names == ["Virtual PCD 00 00", "Virtual PCD 00 01"]
    assert pcsc_rig.env["PCSCLITE_CSOCK_NAME"].endswith("/run/pcscd/pcscd.comm")


def test_spec_card_select_and_get_data(pcsc_rig, link_factory):  # noqa: F811
    card = pcsc_rig.insert_card("spec", rules=[bytes.fromhex(SEED_RULE)])
    link = link_factory()
    assert link.send("00A40400 09" + ARA_M) == ("6F0B8409" + ARA_M, "9000")
    data, sw = link.send("80CAFF4000")
    assert sw == "9000" and data == "FF4031" + SEED_RULE
    assert card.state()["apdus"][-1] == ["80CAFF4000", data + "9000"]
