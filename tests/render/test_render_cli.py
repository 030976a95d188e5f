"""The ``wifiq render`` and ``wifiq formats`` commands, run through ``wifiq.cli.main``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wifiq.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
CURRENT, NEXT = str(FIXTURES / "current.json"), str(FIXTURES / "next.json")


def test_render_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "nftables", "--from", CURRENT]) == 0
    out = capsys.readouterr().out
    assert out.startswith("#!/usr/sbin/nft -f") and "203.0.113.10" in out


def test_render_delta_aliases_and_dscp(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "cisco_ios", "--from", NEXT, "--delta-from", CURRENT, "--dscp", "af41"]) == 0
    out = capsys.readouterr().out
    assert "DELTA since" in out and "no permit udp any host 203.0.113.11 eq 500" in out
    assert main(["render", "junos", "--from", NEXT, "--previous", CURRENT]) == 0
    assert "203.0.113.12/32" in capsys.readouterr().out


def test_render_out_file_and_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "wifiq.rsc"
    assert main(["render", "mikrotik", "--from", CURRENT, "--out", str(target)]) == 0
    assert "address-list" in target.read_text()
    assert main(["render", "iptables", "--from", CURRENT, "--out", str(tmp_path)]) == 0
    assert (tmp_path / "wifiq-epdg.ipset").read_text().startswith("# wifiq")
    assert (tmp_path / "wifiq-dscp.rules.v6").exists()
    assert main(["render", "plain", "--from", CURRENT, "--out", str(tmp_path / "nope.txt")]) == 2
    assert "give an existing directory" in capsys.readouterr().err


def test_render_json_wraps_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "plain", "--from", CURRENT, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["mode"] == "full" and set(doc["files"]) == {"wifiq-epdg-v4.txt", "wifiq-epdg-v6.txt"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["render", "nosuch", "--from", CURRENT], "unknown render target 'nosuch'"),
        (["render", "nftables", "--from", CURRENT, "--dscp", "64"], "--dscp '64'"),
        (["render", "nftables", "--from", "/nonexistent.json"], "/nonexistent.json: file:"),
    ],
)
def test_render_errors_are_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("wifiq: error: ") and message in err and err.count("\n") == 1


def test_limit_error_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = {"refreshed_at": "2026-11-26T09:00:00Z", "wifiq_version": "0.1.0",
           "operators": [{"plmn": f"2{i:02d}-01", "active": [f"192.0.2.{i + 1}"]} for i in range(9)]}
    path = tmp_path / "nine.json"
    path.write_text(json.dumps(doc))
    assert main(["render", "meraki", "--from", str(path), "--dscp", "va"]) == 1
    err = capsys.readouterr().err
    assert "meraki: cannot render: DSCP va (44) is not one Meraki accepts" in err and err.count("\n") == 1


def test_formats(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["formats"]) == 0
    text = capsys.readouterr().out
    assert "meraki" in text and "limit: at most 8 rules per SSID" in text
    assert main(["formats", "--json"]) == 0
    sheets = json.loads(capsys.readouterr().out)
    assert {s["name"] for s in sheets} >= {"nftables", "iptables", "plain", "csv", "json", "cisco-9800"}
    assert all(s["families"] == ["ipv4", "ipv6"] for s in sheets)


def test_out_directory_for_a_single_file_target_and_write_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "nftables", "--from", CURRENT, "--out", str(tmp_path)]) == 0
    assert (tmp_path / "wifiq-nftables.nft").read_text().startswith("#!/usr/sbin/nft -f")
    capsys.readouterr()
    assert main(["render", "nftables", "--from", CURRENT, "--out", str(tmp_path / "missing" / "x.nft")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("wifiq: error: --out ") and err.count("\n") == 1


def test_render_from_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(Path(CURRENT).read_bytes())))
    assert main(["render", "csv", "--from", "-"]) == 0
    assert capsys.readouterr().out.startswith("plmn,mcc,mnc,brand,operator,family,address\n")
