"""``wifiq history`` takes the selection ``resolve``/``refresh`` take, or the config's."""

from __future__ import annotations

from .test_refresh_knot import write_config


def test_history_selects_like_refresh(wifiq, knot):
    config = write_config(wifiq, knot)  # [selection] plmns = 505-01, 505-02
    assert wifiq("refresh", "--config", config).code == 3

    from_config = wifiq("history", "--config", config, "--json")
    assert from_config.code == 0, from_config.err
    assert [op["plmn"] for op in from_config.json["operators"]] == ["505-01", "505-02"]
    assert "203.0.113.10" in {a["address"] for a in from_config.json["operators"][0]["active"]}

    # a selection on the command line wins over the config's
    one = wifiq("history", "--config", config, "--plmn", "505-02", "--json")
    assert [op["plmn"] for op in one.json["operators"]] == ["505-02"]

    # --mcc / --country: every PLMN of the data's selection, refreshed or not
    by_mcc = wifiq("history", "--mcc", "505", "--state", str(wifiq.state), "--json")
    assert by_mcc.code == 0, by_mcc.err
    shown = {op["plmn"]: op for op in by_mcc.json["operators"]}
    assert len(shown) > 20 and shown["505-01"]["active"] and shown["505-05"]["names"] == []
    by_country = wifiq("history", "--country", "AU", "--active-only", "--state",
                       str(wifiq.state), "--json")
    assert "505-01" in {op["plmn"] for op in by_country.json["operators"]}
    assert "505-05" not in {op["plmn"] for op in by_country.json["operators"]}  # not operational


def test_history_without_a_selection_says_how_to_give_one(wifiq):
    run = wifiq("history", "--state", str(wifiq.home / "none.sqlite"))
    assert run.code == 2 and run.out == ""
    assert run.err == ("wifiq: error: select operators with --plmn, --country or --mcc, or in "
                       "the [selection] table of a --config file\n")
