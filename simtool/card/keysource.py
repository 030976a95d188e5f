"""Where the static secure-channel keys come from: a key file, the environment, a prompt —
never the command line — or, only when asked for explicitly, GP's test key 404142…4F.

Key files (``--key-file F``):

* TOML (``.toml``): ``enc``, ``mac``, ``dek`` as hex strings; optional ``kvn`` (integer; must
  agree with ``--kvn`` when both are given).
* CSV (anything else): one row per card, indexed by the ``ICCID`` column, the layout SIM vendors
  ship and pySim's CardKeyProviderCsv reads. Key columns, first match wins:
  ``SCP02_ENC_<suffix>``/``SCP02_MAC_<suffix>``/``SCP02_DEK_<suffix>`` (``SCP03_…`` for SCP03)
  for the one suffix the header has (``--key-suffix`` picks one when there are several), else
  the vendor names ``KIC1``/``KID1``/``KIK1`` (sysmocom sheets: ENC = KIC1, MAC = KID1,
  DEK = KIK1). The card's ICCID (read from EF.ICCID) picks the row.

Environment: ``SIMTOOL_SCP_ENC``, ``SIMTOOL_SCP_MAC``, ``SIMTOOL_SCP_DEK`` (all three). Else a
prompt on the terminal for each. Messages name files, columns and rows, never a key.
"""

from __future__ import annotations

import csv
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from carrierkit.secrets import SecretSource, read_secret
from .gpkeys import DEFAULT_TEST_KEY, KeySetError, StaticKeys, parse_key_hex

ENV = {"enc": "SIMTOOL_SCP_ENC", "mac": "SIMTOOL_SCP_MAC", "dek": "SIMTOOL_SCP_DEK"}
VENDOR_COLUMNS = {"enc": "KIC1", "mac": "KID1", "dek": "KIK1"}


@dataclass(frozen=True)
class FixedKeys:
    """One key set for every card."""

    keys: StaticKeys
    origin: str  # "key file F", "environment", "prompt", "test key"
    needs_iccid: bool = False

    @property
    def kvn(self) -> int:
        return self.keys.kvn

    def keys_for(self, iccid: str | None) -> StaticKeys:
        return self.keys


@dataclass(frozen=True)
class PerCardKeys:
    """Keys per ICCID from a vendor CSV."""

    path: Path
    rows: dict[str, tuple[bytes, bytes, bytes]] = field(repr=False)
    kvn: int
    diversification: str
    columns: tuple[str, str, str]
    origin: str = "key file"
    needs_iccid: bool = True

    def keys_for(self, iccid: str | None) -> StaticKeys:
        if iccid is None:
            raise KeySetError(f"{self.path}: keys are per ICCID but the card's ICCID could not be read")
        row = self.rows.get(normalise_iccid(iccid))
        if row is None:
            raise KeySetError(f"{self.path}: no row for ICCID {iccid} ({len(self.rows)} cards in the file)")
        return StaticKeys(*row, kvn=self.kvn, diversification=self.diversification)


KeySource = FixedKeys | PerCardKeys


def normalise_iccid(text: str) -> str:
    """Digits only, filler F dropped (vendor sheets write 20 digits, some with a trailing F)."""
    return "".join(ch for ch in text.strip().upper() if ch.isdigit())


def load_key_source(scp: str, *, kvn: int, diversification: str = "none", key_file: Path | None = None,
                    test_key: bool = False, key_suffix: str | None = None) -> KeySource:
    """The key source the options ask for (file > test key > environment > prompt)."""
    if key_file is not None:
        if key_file.suffix.lower() == ".toml":
            return FixedKeys(_toml_keys(key_file, kvn, diversification), f"key file {key_file}")
        return _csv_keys(key_file, scp, kvn, diversification, key_suffix)
    if test_key:
        k = DEFAULT_TEST_KEY
        return FixedKeys(StaticKeys(k, k, k, kvn, diversification), "test key 404142…4F")
    if any(os.environ.get(env) is not None for env in ENV.values()):
        missing = [env for env in ENV.values() if os.environ.get(env) is None]
        if missing:
            raise KeySetError(f"set all of {', '.join(ENV.values())} (missing: {', '.join(missing)})")
        origin = "environment"
    else:
        origin = "prompt"
    keys = {}
    for name, env in ENV.items():
        text = read_secret(SecretSource(f"SCP {name.upper()} key", env, prompt=f"{scp} {name.upper()} key (hex)"))
        keys[name] = parse_key_hex(text or "", f"{scp} {name.upper()} key (from {origin})")
    return FixedKeys(StaticKeys(keys["enc"], keys["mac"], keys["dek"], kvn, diversification), origin)


def _toml_keys(path: Path, kvn: int, diversification: str) -> StaticKeys:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KeySetError(f"key file {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise KeySetError(f"key file {path} is not TOML: {str(exc).splitlines()[0]}") from None
    keys = {}
    for name in ("enc", "mac", "dek"):
        value = doc.get(name)
        if not isinstance(value, str):
            raise KeySetError(f"key file {path}: '{name}' must be a hex string")
        keys[name] = parse_key_hex(value, f"key file {path}: '{name}'")
    file_kvn = doc.get("kvn")
    if file_kvn is not None:
        if not isinstance(file_kvn, int) or isinstance(file_kvn, bool):
            raise KeySetError(f"key file {path}: 'kvn' must be an integer")
        if kvn and file_kvn != kvn:
            raise KeySetError(f"key file {path} holds KVN 0x{file_kvn:02X}, --kvn asks for 0x{kvn:02X}")
        kvn = file_kvn
    unknown = set(doc) - {"enc", "mac", "dek", "kvn"}
    if unknown:
        raise KeySetError(f"key file {path}: unknown key(s) {', '.join(sorted(unknown))} (enc, mac, dek, kvn)")
    return StaticKeys(keys["enc"], keys["mac"], keys["dek"], kvn, diversification)


def _csv_keys(path: Path, scp: str, kvn: int, diversification: str, suffix: str | None) -> PerCardKeys:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise KeySetError(f"key file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise KeySetError(f"key file {path} is not UTF-8 text") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "ICCID" not in header:
        raise KeySetError(f"key file {path}: no ICCID column (CSV header: {', '.join(header) or 'none'})")
    columns = _key_columns(path, header, scp, suffix)
    rows: dict[str, tuple[bytes, bytes, bytes]] = {}
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "") for k, v in raw.items()}
        iccid = normalise_iccid(row.get("ICCID", ""))
        if not iccid:
            continue
        if iccid in rows:
            raise KeySetError(f"key file {path} line {number}: ICCID {iccid} appears twice")
        rows[iccid] = tuple(parse_key_hex(row.get(c, ""), f"key file {path} line {number} column {c}")
                            for c in columns)  # type: ignore[assignment]
    if not rows:
        raise KeySetError(f"key file {path} has no card rows")
    return PerCardKeys(path, rows, kvn, diversification, columns)


def _key_columns(path: Path, header: list[str], scp: str, suffix: str | None) -> tuple[str, str, str]:
    prefix = scp.upper()
    if suffix is not None:
        wanted = tuple(f"{prefix}_{name}_{suffix}" for name in ("ENC", "MAC", "DEK"))
        missing = [c for c in wanted if c not in header]
        if missing:
            raise KeySetError(f"key file {path}: no column {', '.join(missing)}")
        return wanted  # type: ignore[return-value]
    suffixes = sorted({h[len(prefix) + 5:] for h in header if h.startswith(f"{prefix}_ENC_")
                       and f"{prefix}_MAC_{h[len(prefix) + 5:]}" in header
                       and f"{prefix}_DEK_{h[len(prefix) + 5:]}" in header})
    if len(suffixes) == 1:
        return tuple(f"{prefix}_{name}_{suffixes[0]}" for name in ("ENC", "MAC", "DEK"))  # type: ignore[return-value]
    if len(suffixes) > 1:
        raise KeySetError(f"key file {path} has {prefix} keys for {', '.join(suffixes)}: pick one with --key-suffix")
    if all(c in header for c in VENDOR_COLUMNS.values()):
        return tuple(VENDOR_COLUMNS.values())  # type: ignore[return-value]
    raise KeySetError(f"key file {path}: no {prefix}_ENC_/MAC_/DEK_<suffix> columns and no KIC1/KID1/KIK1")
