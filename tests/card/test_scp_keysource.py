"""Where secure-channel keys come from: TOML and per-ICCID CSV key files, the environment, the
explicit test key; every message names the file, line and column, never a key."""

from __future__ import annotations

from pathlib import Path

import pytest

from carrierkit.errors import SecretError
from simtool.card.gpkeys import DEFAULT_TEST_KEY, KeySetError
from simtool.card.keysource import ENV, FixedKeys, PerCardKeys, load_key_source

A = bytes(range(16))
B = bytes(range(16, 32))
C = bytes(range(32, 48))


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for env in ENV.values():
        monkeypatch.delenv(env, raising=False)


def test_toml_key_file(tmp_path: Path) -> None:
    f = tmp_path / "keys.toml"
    f.write_text(f'enc = "{A.hex()}"\nmac = "{B.hex(" ")}"\ndek = "{C.hex(":")}"\nkvn = 0x70\n')
    src = load_key_source("SCP02", kvn=0, key_file=f)
    assert isinstance(src, FixedKeys)
    keys = src.keys_for(None)
    assert (keys.enc, keys.mac, keys.dek, keys.kvn) == (A, B, C, 0x70)


@pytest.mark.parametrize("body,problem", [
    ('enc = "00"\nmac = "00"\ndek = "00"\n', "must be 16, 24 or 32 bytes (got 1)"),
    ('enc = "zz"\nmac = "00"\ndek = "00"\n', "is not hex"),
    ('mac = "00"\ndek = "00"\n', "'enc' must be a hex string"),
    (f'enc = "{A.hex()}"\nmac = "{A.hex()}"\ndek = "{A.hex()}"\nkvn = 0x31\n', "holds KVN 0x31, --kvn asks for 0x30"),
    (f'enc = "{A.hex()}"\nmac = "{A.hex()}"\ndek = "{A.hex()}"\nkey = "x"\n', "unknown key(s) key"),
    ("enc = [", "is not TOML"),
])
def test_toml_key_file_problems(tmp_path: Path, body: str, problem: str) -> None:
    f = tmp_path / "keys.toml"
    f.write_text(body)
    with pytest.raises(KeySetError) as err:
        load_key_source("SCP03", kvn=0x30, key_file=f)
    assert problem in str(err.value) and str(f) in str(err.value)
    assert A.hex() not in str(err.value)


def test_vendor_csv_with_kic_kid_kik(tmp_path: Path) -> None:
    f = tmp_path / "batch.csv"
    f.write_text("ICCID,IMSI,ADM1,KIC1,KID1,KIK1\n"
                 f"8988211000000000001,001010000000001,12345678,{A.hex()},{B.hex()},{C.hex()}\n"
                 f"8988211000000000002F,001010000000002,12345678,{B.hex()},{C.hex()},{A.hex()}\n")
    src = load_key_source("SCP02", kvn=0x70, key_file=f)
    assert isinstance(src, PerCardKeys) and src.needs_iccid and src.columns == ("KIC1", "KID1", "KIK1")
    one = src.keys_for("8988211000000000001")
    assert (one.enc, one.mac, one.dek, one.kvn) == (A, B, C, 0x70)
    assert src.keys_for("8988211000000000002").enc == B  # the sheet's trailing F is filler
    with pytest.raises(KeySetError, match="no row for ICCID 8988211000000000003 \\(2 cards"):
        src.keys_for("8988211000000000003")


def test_pysim_style_csv_columns_and_suffix(tmp_path: Path) -> None:
    f = tmp_path / "card_data.csv"
    f.write_text("ICCID,SCP03_ENC_ISDR,SCP03_MAC_ISDR,SCP03_DEK_ISDR,SCP03_ENC_ISDA,SCP03_MAC_ISDA,SCP03_DEK_ISDA\n"
                 f"8988211000000000001,{A.hex()},{A.hex()},{A.hex()},{B.hex()},{B.hex()},{B.hex()}\n")
    with pytest.raises(KeySetError, match="ISDA, ISDR: pick one with --key-suffix"):
        load_key_source("SCP03", kvn=0x30, key_file=f)
    src = load_key_source("SCP03", kvn=0x30, key_file=f, key_suffix="ISDA")
    assert src.keys_for("8988211000000000001").enc == B
    with pytest.raises(KeySetError, match="no SCP02_ENC_"):
        load_key_source("SCP02", kvn=0x70, key_file=f)


@pytest.mark.parametrize("text,problem", [
    ("IMSI,KIC1,KID1,KIK1\n1,00,00,00\n", "no ICCID column"),
    ("ICCID,KIC1,KID1,KIK1\n", "has no card rows"),
    (f"ICCID,KIC1,KID1,KIK1\n1,{A.hex()},{A.hex()},{A.hex()}\n1,{A.hex()},{A.hex()},{A.hex()}\n",
     "line 3: ICCID 1 appears twice"),
    (f"ICCID,KIC1,KID1,KIK1\n1,{A.hex()},{A.hex()[:-2]},{A.hex()}\n", "line 2 column KID1 must be 16, 24 or 32 bytes"),
])
def test_csv_problems_name_line_and_column(tmp_path: Path, text: str, problem: str) -> None:
    f = tmp_path / "batch.csv"
    f.write_text(text)
    with pytest.raises(KeySetError) as err:
        load_key_source("SCP02", kvn=0x70, key_file=f)
    assert problem in str(err.value) and A.hex() not in str(err.value)


def test_environment_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV["enc"], A.hex())
    monkeypatch.setenv(ENV["mac"], B.hex())
    with pytest.raises(KeySetError, match="missing: SIMTOOL_SCP_DEK"):
        load_key_source("SCP03", kvn=0x30)
    monkeypatch.setenv(ENV["dek"], C.hex())
    src = load_key_source("SCP03", kvn=0x30)
    assert isinstance(src, FixedKeys) and src.origin == "environment" and src.keys.mac == B


def test_no_source_and_no_terminal_is_an_error_not_the_test_key() -> None:
    with pytest.raises(SecretError, match="SIMTOOL_SCP_ENC"):
        load_key_source("SCP02", kvn=0x70)


def test_test_key_only_when_asked() -> None:
    src = load_key_source("SCP02", kvn=0x70, test_key=True)
    assert isinstance(src, FixedKeys) and src.keys.enc == DEFAULT_TEST_KEY and "test key" in src.origin
