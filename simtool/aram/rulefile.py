"""Rules as plain dicts, and the JSON / TOML rule files of ``aram apply`` and ``aram export``.

One rule is an object with the keys of ``simtool aram list --json``::

    hash     "E468…" (hex; null/false = no C1)            -- required
    aid      "FFFFFFFFFFFF" (default) | "" (4F 00) | null/false (no AID-REF-DO)
    aid_implicit  true -> C0 present (default false)
    package  "com.example.app" | null                     (default null)
    apdu     "always" | "never" | ["HHHHHHHHMMMMMMMM", …] | null   (default null)
    nfc      true | false | null (absent; in TOML leave the key out)  (default null)
    perm     "0000000000000001" (default) | null/false (no DB)
    extra_ref / extra_ar  hex of objects simtool does not model (round-trip only)

A file is ``{"rules": [...]}`` (JSON, or TOML ``[[rules]]`` tables; TOML has no null, so
``false`` stands for absent). Extra keys such as ``android`` in list output are ignored.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from .errors import RuleFileError
from .rules import CARRIER_PRIVILEGE_AID, DEFAULT_PERM, AccessRule, ApduFilter
from .tlv import TlvError, encode_tlv, parse_tlvs

MAX_FILE_BYTES = 4 * 1024 * 1024
#: A rule is stored by one short STORE DATA (no chaining): its F0 object fits in 255 data bytes.
MAX_STORE_DATA = 255
_KNOWN = {"hash", "aid", "aid_implicit", "package", "apdu", "nfc", "perm", "extra_ref", "extra_ar", "ar_do",
          "android", "android_reason", "index"}


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def parse_hex(value: Any, key: str, where: str, sizes: tuple[int, ...] | None = None) -> bytes:
    """Bytes of a hex string (spaces and colons allowed), optionally of one of ``sizes``.

    Raises RuleFileError "``where``: ``key`` …" naming the problem: not a string, not hex, an
    odd number of digits, or the wrong length.
    """
    if not isinstance(value, str):
        raise RuleFileError(f"{where}: {key} must be a hex string, got {type(value).__name__}")
    digits = value.replace(" ", "").replace(":", "")
    if len(digits) % 2 and set(digits) <= _HEX_DIGITS:
        raise RuleFileError(f"{where}: {key} {value!r} has an odd number of hex digits ({len(digits)})")
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        raise RuleFileError(f"{where}: {key} {value!r} is not hex") from None
    if sizes is not None and len(raw) not in sizes:
        raise RuleFileError(f"{where}: {key} is {len(raw)} bytes, expected {' or '.join(map(str, sizes))}")
    return raw


def parse_aid(value: Any, where: str) -> bytes:
    """An AID-REF-DO value: hex, at most 16 bytes ("" = the empty AID-REF-DO ``4F 00``)."""
    aid = parse_hex(value, "aid", where)
    if len(aid) > 16:
        raise RuleFileError(f"{where}: aid is {len(aid)} bytes (at most 16)")
    return aid


def check_package(value: Any, where: str) -> str:
    """An Android package name as PKG-REF-DO holds it (non-empty printable ASCII: a control
    character matches no installed app and could forge output lines); raises RuleFileError."""
    if not isinstance(value, str) or not value or not value.isascii() or not value.isprintable():
        raise RuleFileError(f"{where}: package must be a non-empty printable ASCII string")
    return value


def _flag(d: dict, key: str, default: bool, where: str) -> bool:
    value = d.get(key, default)
    if not isinstance(value, bool):
        raise RuleFileError(f"{where}: {key} must be true or false, got {value!r}")
    return value


def _absent(value: Any) -> bool:
    return value is None or value is False


def parse_hash(text: str, where: str = "--hash") -> bytes:
    """A certificate hash given as hex (colons allowed): SHA-1 (20 B) or SHA-256 (32 B)."""
    return parse_hex(text, "hash", where, (20, 32))


def parse_apdu(value: Any, where: str) -> bool | tuple[ApduFilter, ...] | None:
    """"always" / "never" / list of 8-byte header+mask hex strings / null."""
    if _absent(value):
        return None
    if value == "always":
        return True
    if value == "never":
        return False
    if isinstance(value, list) and value:
        filters = []
        for item in value:
            raw = parse_hex(item, "apdu filter", where, (8,))
            filters.append(ApduFilter(raw[:4], raw[4:]))
        return tuple(filters)
    raise RuleFileError(f"{where}: apdu must be \"always\", \"never\", a list of filters or null")


def rule_from_dict(d: Any, where: str) -> AccessRule:
    """Build an AccessRule from one rule object; raises RuleFileError naming ``where``."""
    if not isinstance(d, dict):
        raise RuleFileError(f"{where}: a rule must be an object/table")
    unknown = set(d) - _KNOWN
    if unknown:
        raise RuleFileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if "hash" not in d:
        raise RuleFileError(f"{where}: missing hash (use null for a rule without C1)")
    aid = d.get("aid", CARRIER_PRIVILEGE_AID.hex().upper())
    perm = d.get("perm", DEFAULT_PERM.hex())
    package = d.get("package")
    if not _absent(package):
        check_package(package, where)
    nfc = d.get("nfc")
    if nfc is not None and not isinstance(nfc, bool):
        raise RuleFileError(f"{where}: nfc must be true, false or null")
    try:
        extra_ref = parse_tlvs(parse_hex(d["extra_ref"], "extra_ref", where)) if d.get("extra_ref") else ()
        extra_ar = parse_tlvs(parse_hex(d["extra_ar"], "extra_ar", where)) if d.get("extra_ar") else ()
    except TlvError as exc:
        raise RuleFileError(f"{where}: {exc}") from None
    aid_bytes = None if _absent(aid) else parse_aid(aid, where)
    return AccessRule(
        hash=None if _absent(d["hash"]) else parse_hex(d["hash"], "hash", where),
        aid=aid_bytes,
        aid_implicit=_flag(d, "aid_implicit", False, where),
        package=None if _absent(package) else package,
        apdu=parse_apdu(d.get("apdu"), where),
        nfc=nfc,
        perm=None if _absent(perm) else parse_hex(perm, "perm", where, (8,)),
        has_ar_do=_flag(d, "ar_do", True, where),
        extra_ref=tuple(extra_ref),
        extra_ar=tuple(extra_ar),
    )


def rule_to_dict(rule: AccessRule) -> dict[str, Any]:
    """The JSON form of a rule (``aram list --json`` and export): None for absent objects."""
    apdu: Any
    if rule.apdu is True:
        apdu = "always"
    elif rule.apdu is False:
        apdu = "never"
    elif rule.apdu is None:
        apdu = None
    else:
        apdu = [(f.header + f.mask).hex().upper() for f in rule.apdu]
    out: dict[str, Any] = {
        "aid": None if rule.aid is None else rule.aid.hex().upper(),
        "aid_implicit": rule.aid_implicit,
        "hash": None if rule.hash is None else rule.hash.hex().upper(),
        "package": rule.package,
        "apdu": apdu,
        "nfc": rule.nfc,
        "perm": None if rule.perm is None else rule.perm.hex().upper(),
    }
    if not rule.has_ar_do:
        out["ar_do"] = False
    if rule.extra_ref:
        out["extra_ref"] = b"".join(t.encode() for t in rule.extra_ref).hex().upper()
    if rule.extra_ar:
        out["extra_ar"] = b"".join(t.encode() for t in rule.extra_ar).hex().upper()
    return out


def load_desired_rules(path: Path) -> tuple[AccessRule, ...]:
    """:func:`load_rules` for a file to write to a card (``apply``, ``--watch``, ``check
    --rules``): two different rules with the same REF-DO (AID, hash, package) are refused, since a
    card holds one rule per REF-DO (GP SEAC: a second STORE DATA is answered 6A89), so ``apply``
    could never converge. The same rule twice is fine (it is stored once). A rule whose F0 object
    does not fit one STORE DATA (255 bytes) is refused too: no card could store it."""
    rules = load_rules(path)
    first: dict[tuple, tuple[int, AccessRule]] = {}
    for i, rule in enumerate(rules, 1):
        stored = len(encode_tlv(0xF0, rule.encoded()))
        if stored > MAX_STORE_DATA:
            raise RuleFileError(f"{path}: rule {i} encodes to {stored} bytes; one STORE DATA carries at most "
                                f"{MAX_STORE_DATA}, so no card can store it (shorten the package name)")
        seen = first.setdefault(rule.ref_identity, (i, rule))
        if seen[1].identity != rule.identity:
            raise RuleFileError(f"{path}: rules {seen[0]} and {i} have the same REF-DO (AID, hash, package) "
                                "but different access rules; a card holds one rule per REF-DO: keep one")
    return rules


def load_rules(path: Path) -> tuple[AccessRule, ...]:
    """Read a JSON (``.json``) or TOML (anything else that parses as TOML) rule file."""
    try:
        with path.open("rb") as f:  # bounded read: /dev/zero or a FIFO has no st_size to check
            data = f.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise RuleFileError(f"{path}: more than {MAX_FILE_BYTES} bytes is more than a rule file needs")
        text = data.decode("utf-8")
    except OSError as exc:
        raise RuleFileError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise RuleFileError(f"{path}: not UTF-8 text") from None
    doc: Any
    suffix = path.suffix.lower()
    as_json = suffix == ".json" or (suffix != ".toml" and text.lstrip().startswith("{"))
    if as_json:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RuleFileError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
        except RecursionError:
            raise RuleFileError(f"{path}: invalid JSON: nested too deeply") from None
    else:
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            kind = "TOML" if suffix == ".toml" else "TOML (name the file .json for JSON)"
            raise RuleFileError(f"{path}: invalid {kind}: {exc}") from None
        except RecursionError:
            raise RuleFileError(f"{path}: invalid TOML: nested too deeply") from None
    if isinstance(doc, dict):
        unknown = set(doc) - {"rules"}
        if unknown:  # e.g. "rule": a typo must not read as "no rules" (with --prune: delete all)
            raise RuleFileError(f"{path}: unknown top-level key(s) {', '.join(sorted(unknown))} "
                                "(rules go under \"rules\")")
        items = doc.get("rules", [])
    else:
        items = doc
    if not isinstance(items, list):
        raise RuleFileError(f"{path}: expected a list of rules under \"rules\"")
    return tuple(rule_from_dict(item, f"{path}: rule {i + 1}") for i, item in enumerate(items))


def _toml_value(value: Any) -> str:
    if value is None or value is False:
        return "false"
    if value is True:
        return "true"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)  # a JSON string literal is a valid TOML basic string


def dump_rules(rules: tuple[AccessRule, ...] | list[AccessRule], fmt: str) -> str:
    """Rule file text in ``fmt`` ("json" or "toml") that ``load_rules`` reads back identically."""
    dicts = [rule_to_dict(r) for r in rules]
    if fmt == "json":
        return json.dumps({"rules": dicts}, indent=2) + "\n"
    lines = ["# simtool aram rules (false = data object absent)"]
    for d in dicts:
        lines.append("")
        lines.append("[[rules]]")
        for key, value in d.items():
            if key in ("package", "apdu", "nfc") and value is None:
                continue
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"
