"""Bad input a user would type: every case ends in one line naming the input and a documented
exit status (docs/simtool-aram.md), never a traceback. These all fail before PC/SC is touched;
the e2e tests cover readers and cards (unknown reader, no card, no pcscd)."""

from __future__ import annotations

import json

import pytest

from simtool.card.errors import NoReaderError
from simtool.card.transport import pick_reader
from simtool.cli import main

H = "A" * 40
READERS = ("Virtual PCD 00 00", "Virtual PCD 00 01", "ACS ACR39U")


def one_line_error(capsys, argv: list[str]) -> tuple[int, str]:
    rc = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return rc, lines[0]


@pytest.mark.parametrize("argv, rc, words", [
    (["aram", "add", "--hash", "XYZ"], 2, ["--hash", "'XYZ'", "not hex"]),
    (["aram", "add", "--hash", "ABC"], 2, ["--hash", "'ABC'", "odd number of hex digits (3)"]),
    (["aram", "add", "--hash", "AB" * 32 + "A"], 2, ["--hash", "odd number of hex digits (65)"]),
    (["aram", "add", "--hash", "AB" * 33], 2, ["--hash", "33 bytes", "20 or 32"]),
    (["aram", "add", "--device-app-id", "AB" * 19], 2, ["--hash", "19 bytes"]),
    (["aram", "add", "--hash", H, "--aid", "GG"], 2, ["--aid", "'GG'", "not hex"]),
    (["aram", "add", "--hash", H, "--aid", "00" * 17], 2, ["--aid", "17 bytes", "at most 16"]),
    (["aram", "add", "--hash", H, "--perm", "01"], 2, ["--perm", "1 bytes", "expected 8"]),
    (["aram", "add", "--hash", H, "--android-permissions", "zz"], 2, ["--perm", "'zz'", "not hex"]),
    (["aram", "add", "--hash", H, "--apdu-filter", "0011"], 2, ["--apdu-filter", "2 bytes"]),
    (["aram", "add", "--hash", H, "--package", "é.app"], 2, ["--package", "ASCII"]),
    (["aram", "add", "--hash", H, "--aid-empty", "--no-aid"], 2, ["at most one of --aid"]),
    (["aram", "add", "--hash", H, "--apdu-always", "--apdu-never"], 2, ["at most one of --apdu"]),
    (["aram", "add"], 2, ["exactly one of --hash"]),
    (["aram", "delete"], 2, ["--all"]),
    (["aram", "delete", "--aid", "F"], 2, ["--aid", "odd number"]),
    (["aram", "check", "--hash", "zz"], 2, ["--hash", "not hex"]),
])
def test_bad_option_values(capsys, argv, rc, words):
    got_rc, line = one_line_error(capsys, argv)
    assert got_rc == rc and line.startswith("simtool: error: ")
    for word in words:
        assert word in line, line


def test_adm_with_no_key_source_names_the_env_var(capsys, monkeypatch):
    monkeypatch.delenv("SIMTOOL_ADM", raising=False)
    rc, line = one_line_error(capsys, ["aram", "add", "--hash", H, "--adm"])
    assert rc == 1 and "ADM key" in line and "SIMTOOL_ADM" in line


def test_adm_file_missing_names_the_file(capsys, tmp_path):
    missing = tmp_path / "no-such-key"
    rc, line = one_line_error(capsys, ["aram", "add", "--hash", H, "--adm-file", str(missing)])
    assert rc == 1 and str(missing) in line


def test_adm_key_of_wrong_form_is_refused_without_echoing_it(capsys, monkeypatch):
    monkeypatch.setenv("SIMTOOL_ADM", "secret-ish-key")
    rc, line = one_line_error(capsys, ["aram", "add", "--hash", H, "--adm"])
    assert rc == 9 and "16 hex digits" in line and "secret-ish-key" not in line


RULE_FILES = {
    "typo.json": ('{"rules": [{"hsah": "%s"}]}' % H, ["rule 1", "unknown key(s) hsah"]),
    "toplevel.json": ('{"rule": [{"hash": "%s"}]}' % H, ["unknown top-level key(s) rule"]),
    "wrongtype.toml": ("[[rules]]\nhash = 12\n", ["rule 1", "hash must be a hex string, got int"]),
    "perm.toml": ('[[rules]]\nhash = "%s"\nperm = 5\n' % H, ["perm must be a hex string"]),
    "implicit.json": ('{"rules": [{"hash": "%s", "aid_implicit": "yes"}]}' % H,
                      ["aid_implicit must be true or false"]),
    "ardo.json": ('{"rules": [{"hash": "%s", "ar_do": "no"}]}' % H, ["ar_do must be true or false"]),
    "odd.json": ('{"rules": [{"hash": "%s"}]}' % H[:-1], ["odd number of hex digits (39)"]),
    "broken.toml": ("[[rules]\nhash=", ["invalid TOML", "line 1"]),
    "broken.json": ('{"rules": [', ["invalid JSON at line 1"]),
    "apdu.json": ('{"rules": [{"hash": "%s", "apdu": "sometimes"}]}' % H, ["apdu must be"]),
    "notlist.json": ('{"rules": {"hash": 1}}', ["expected a list of rules"]),
}


@pytest.mark.parametrize("name", sorted(RULE_FILES))
def test_bad_rule_files(capsys, tmp_path, name):
    text, words = RULE_FILES[name]
    path = tmp_path / name
    path.write_text(text)
    rc, line = one_line_error(capsys, ["aram", "apply", str(path)])
    assert rc == 2 and str(path) in line, line
    for word in words:
        assert word in line, line


def test_binary_rule_file(capsys, tmp_path):
    path = tmp_path / "rules.json"
    path.write_bytes(b"\xff\xfe\x00")
    rc, line = one_line_error(capsys, ["aram", "apply", str(path)])
    assert rc == 2 and "not UTF-8" in line


def test_empty_toml_export_still_reads_as_no_rules(tmp_path):
    from simtool.aram.rulefile import dump_rules, load_rules

    path = tmp_path / "empty.toml"
    path.write_text(dump_rules((), "toml"))
    assert load_rules(path) == ()
    path = tmp_path / "empty.json"
    path.write_text(json.dumps({"rules": []}))
    assert load_rules(path) == ()


def test_reader_selection_by_index_substring_and_ambiguity():
    assert pick_reader(READERS, "2") == "ACS ACR39U"
    assert pick_reader(READERS, "acr39") == "ACS ACR39U"
    with pytest.raises(NoReaderError, match=r"'Virtual' matches 2 readers; give its index") as err:
        pick_reader(READERS, "Virtual")
    assert err.value.matches == READERS[:2] and err.value.exit_code == 3
    with pytest.raises(NoReaderError, match="no reader matches '7'"):
        pick_reader(READERS, "7")
    with pytest.raises(NoReaderError, match="no smart card reader found"):
        pick_reader((), None)


def test_reader_from_environment(monkeypatch):
    monkeypatch.setenv("SIMTOOL_READER", "01")
    assert pick_reader(READERS, None) == "Virtual PCD 00 01"


@pytest.mark.parametrize("argv", [["readers"], ["aram", "list"], ["card", "info"]])
def test_no_pcscd_is_one_line_exit_3(tmp_path, argv):
    """No PC/SC service (the socket pcscd would listen on does not exist). In a subprocess:
    libpcsclite reads PCSCLITE_CSOCK_NAME once per process."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, PCSCLITE_CSOCK_NAME=str(tmp_path / "no-pcscd.comm"))
    proc = subprocess.run([sys.executable, "-m", "simtool.cli", *argv], env=env, capture_output=True,
                          text=True, timeout=60)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 3 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("simtool: error: PC/SC service not available") and "pcscd" in lines[0]
