"""Read the package name and minSdkVersion / targetSdkVersion / targetSandboxVersion from a binary
AndroidManifest.xml.

Android's binary XML is a chunk stream (``u16 type, u16 header size, u32 size``): a string pool,
a resource-id map, then element chunks whose attributes are found by resource id (as apksig's
``AndroidBinXmlParser`` does, so an obfuscated attribute name still counts). Only ``<manifest>``
and its ``<uses-sdk>`` child are looked at. Raises ApkError on a malformed chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

from .bytereader import ByteReader
from .errors import ApkError

RES_XML, STRING_POOL, RESOURCE_MAP, START_ELEMENT, END_ELEMENT = 0x0003, 0x0001, 0x0180, 0x0102, 0x0103
ATTR_MIN_SDK, ATTR_TARGET_SDK, ATTR_SANDBOX = 0x0101020C, 0x01010270, 0x0101054C
TYPE_STRING, TYPE_INT_DEC, TYPE_INT_HEX = 0x03, 0x10, 0x11
# Codename -> API level of that (then unreleased) version, for minSdkVersion="Q" style values.
CODENAMES = {"K": 19, "L": 21, "M": 23, "N": 24, "O": 26, "P": 28, "Q": 29, "R": 30, "S": 31,
             "T": 33, "U": 34, "V": 35, "W": 36}


@dataclass(frozen=True)
class ManifestSdk:
    """The SDK versions an APK declares (defaults as Android applies them)."""

    min_sdk: int = 1
    target_sdk: int = 1
    target_sandbox: int = 1
    package: str | None = None  # <manifest package="…">, the app's name that ARA-M rules may name


def _strings(chunk: ByteReader, path: str) -> list[str]:
    """The string pool chunk's strings (UTF-8 or UTF-16); raises ApkError on an entry past the
    chunk.
    """
    header_size = chunk.u16("string pool header size")
    chunk.u32("string pool size")
    count, _styles = chunk.u32("string count"), chunk.u32("style count")
    flags, start = chunk.u32("string pool flags"), chunk.u32("strings start")
    chunk.u32("styles start")
    chunk.pos = header_size
    if count > chunk.remaining() // 4:
        raise chunk.fail(f"string pool claims {count} strings")
    offsets = [chunk.u32("string offset") for _ in range(count)]
    utf8 = bool(flags & 0x100)
    data = chunk.data
    out: list[str] = []
    for off in offsets:
        pos = start + off
        try:
            if utf8:
                n = data[pos]
                pos += 2 if n & 0x80 else 1  # skip the UTF-16 length
                n = data[pos]
                if n & 0x80:
                    n = ((n & 0x7F) << 8) | data[pos + 1]
                    pos += 1
                pos += 1
                raw = bytes(data[pos : pos + n])
                out.append(raw.decode("utf-8", errors="replace"))
            else:
                n = int.from_bytes(data[pos : pos + 2], "little")
                pos += 2
                if n & 0x8000:
                    n = ((n & 0x7FFF) << 16) | int.from_bytes(data[pos : pos + 2], "little")
                    pos += 2
                out.append(bytes(data[pos : pos + 2 * n]).decode("utf-16-le", errors="replace"))
        except IndexError:
            raise ApkError(path, "AndroidManifest.xml string pool entry runs past its chunk") from None
    return out


def _int_value(data_type: int, data: int, raw: int, strings: list[str]) -> int | None:
    """An attribute's integer value: int types as is, a numeric string parsed, a codename mapped."""
    if data_type in (TYPE_INT_DEC, TYPE_INT_HEX):
        return data - (1 << 32) if data & 0x80000000 else data
    if data_type == TYPE_STRING and raw < len(strings):
        text = strings[raw].strip()
        if text.isdigit():
            return int(text)
        if text and text[0].upper() in CODENAMES:
            return CODENAMES[text[0].upper()]
    return None


def parse_manifest_sdk(xml: bytes, path: str) -> ManifestSdk:
    """The SDK versions declared by a binary AndroidManifest.xml. Raises ApkError."""
    r = ByteReader(xml, path)
    if r.u16("XML chunk type") != RES_XML:
        raise ApkError(path, "AndroidManifest.xml is not Android binary XML", 0)
    header_size = r.u16("XML header size")
    total = r.u32("XML size")
    if total > len(xml) or header_size < 8:
        raise ApkError(path, "AndroidManifest.xml chunk sizes are inconsistent", 0)
    r = ByteReader(xml[:total], path, 0, header_size)
    strings: list[str] = []
    res_ids: list[int] = []
    depth = 0
    values: dict[int, int] = {}
    package: str | None = None
    while r.remaining() >= 8:
        at = r.pos
        ctype, _chdr, csize = r.u16("chunk type"), r.u16("chunk header size"), r.u32("chunk size")
        if csize < 8 or csize > len(r.data) - at:
            raise ApkError(path, f"AndroidManifest.xml chunk of size {csize} is out of range", at)
        chunk = ByteReader(r.data[at : at + csize], path, at, 2)
        r.pos = at + csize
        if ctype == STRING_POOL and not strings:
            strings = _strings(chunk, path)
        elif ctype == RESOURCE_MAP:
            chunk.pos = 8
            res_ids = [chunk.u32("resource id") for _ in range(chunk.remaining() // 4)]
        elif ctype == START_ELEMENT:
            depth += 1
            chunk.pos = 16
            _ns, name_idx = chunk.u32("element namespace"), chunk.u32("element name")
            attr_start, attr_size = chunk.u16("attr start"), chunk.u16("attr size")
            attr_count = chunk.u16("attr count")
            name = strings[name_idx] if name_idx < len(strings) else ""
            wanted = (depth == 1 and name == "manifest") or (depth == 2 and name == "uses-sdk")
            if not wanted:
                continue
            for i in range(attr_count):
                chunk.pos = 16 + attr_start + i * attr_size
                chunk.u32("attr ns")
                aname, raw = chunk.u32("attr name"), chunk.u32("attr raw")
                chunk.take(3, "typed value header")
                dtype, data = chunk.take(1, "typed value type")[0], chunk.u32("typed value")
                res_id = res_ids[aname] if aname < len(res_ids) else None
                if (name == "manifest" and res_id is None and aname < len(strings)
                        and strings[aname] == "package" and raw < len(strings)):
                    package = strings[raw]  # a plain attribute (no android: namespace)
                value = _int_value(dtype, data, raw, strings)
                if res_id is not None and value is not None:
                    if name == "uses-sdk" and res_id in (ATTR_MIN_SDK, ATTR_TARGET_SDK):
                        values[res_id] = value
                    elif name == "manifest" and res_id == ATTR_SANDBOX:
                        values[res_id] = value
        elif ctype == END_ELEMENT:
            depth -= 1
    min_sdk = values.get(ATTR_MIN_SDK, 1)
    return ManifestSdk(min_sdk=min_sdk, target_sdk=values.get(ATTR_TARGET_SDK, min_sdk),
                       target_sandbox=values.get(ATTR_SANDBOX, 1), package=package)
