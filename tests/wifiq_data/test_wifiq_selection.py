"""Selection → names: TS 23.003 forms plus published override names, in a stable order."""

from __future__ import annotations

from wifiq.names import EpdgName
from wifiq.operators import load_operators
from wifiq.plmn import Plmn
from wifiq.selection import PUBLISHED, names_for_selection, published_sources

VERIZON, TELSTRA = Plmn("311", "480"), Plmn("505", "01")


def test_published_names_follow_each_plmn():
    db = load_operators(user_files=False)
    got = names_for_selection(db, [VERIZON, TELSTRA], ("epdg",))
    assert got == (
        EpdgName(VERIZON, "epdg", "epdg.epc.mnc480.mcc311.pub.3gppnetwork.org"),
        EpdgName(VERIZON, PUBLISHED, "wo.vzwwo.com"),
        EpdgName(TELSTRA, "epdg", "epdg.epc.mnc001.mcc505.pub.3gppnetwork.org"),
    )
    assert names_for_selection(db, [VERIZON], ("epdg",), published=False) == got[:1]
    assert "AdguardTeam/DnsLibs" in published_sources(db, [VERIZON])["wo.vzwwo.com"]
    assert published_sources(db, [TELSTRA]) == {}


def test_same_name_from_two_files_is_listed_once(tmp_path):
    extra = tmp_path / "o.toml"
    extra.write_text('[[operator]]\nplmns = ["311-480"]\nnames = ["WO.vzwwo.com"]\n')
    db = load_operators(overrides_files=[extra], user_files=False)
    got = names_for_selection(db, [VERIZON], ())
    assert got == (EpdgName(VERIZON, PUBLISHED, "wo.vzwwo.com"),)
