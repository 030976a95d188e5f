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
ATTR_NAMES = {ATTR_MIN_SDK: "minSdkVersion", ATTR_TARGET_SDK: "targetSdkVersion",
              ATTR_SANDBOX: "targetSandboxVersion"}
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
    #: attribute name -> its malformed value (escaped, shortened) when it could not be read
    malformed: tuple[tuple[str, str], ...] = ()


class StringPool:
    """The string pool chunk's strings (UTF-8 or UTF-16), decoded only when asked for: a pool
    of millions of strings costs its bytes, not millions of objects."""

    def __init__(self, chunk: ByteReader, path: str) -> None:
        header_size = chunk.u16("string pool header size")
        chunk.u32("string pool size")
        count, _styles = chunk.u32("string count"), chunk.u32("style count")
        flags, self._start = chunk.u32("string pool flags"), chunk.u32("strings start")
        chunk.u32("styles start")
        chunk.pos = header_size
        if count > chunk.remaining() // 4:
            raise chunk.fail(f"string pool claims {count} strings")
        self._count, self._offsets_at = count, header_size
        self._utf8 = bool(flags & 0x100)
        self._data, self._path = chunk.data, path

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < self._count:
            raise IndexError(index)
        at = self._offsets_at + 4 * index
        pos = self._start + int.from_bytes(self._data[at : at + 4], "little")
        data = self._data
        try:
            if self._utf8:
                n = data[pos]
                pos += 2 if n & 0x80 else 1  # skip the UTF-16 length
                n = data[pos]
                if n & 0x80:
                    n = ((n & 0x7F) << 8) | data[pos + 1]
                    pos += 1
                pos += 1
                return bytes(data[pos : pos + n]).decode("utf-8", errors="replace")
            n = int.from_bytes(data[pos : pos + 2], "little")
            pos += 2
            if n & 0x8000:
                n = ((n & 0x7FFF) << 16) | int.from_bytes(data[pos : pos + 2], "little")
                pos += 2
            return bytes(data[pos : pos + 2 * n]).decode("utf-16-le", errors="replace")
        except IndexError:
            raise ApkError(self._path, "AndroidManifest.xml string pool entry runs past its "
                           "chunk") from None


class _ResourceIds:
    """The resource-id map chunk's u32 ids, read by index (not listed)."""

    def __init__(self, chunk: ByteReader) -> None:
        self._data = chunk.data[8 : 8 + (len(chunk.data) - 8) // 4 * 4]

    def __len__(self) -> int:
        return len(self._data) // 4

    def __getitem__(self, index: int) -> int:
        return int.from_bytes(self._data[4 * index : 4 * index + 4], "little")


#: Longest numeric string accepted for an SDK version (Android parses an int).
MAX_DIGITS = 10


class MalformedValue(Exception):
    """An SDK attribute whose string value is neither a decimal int nor a codename."""


def _int_value(data_type: int, data: int, raw: int, strings: StringPool | tuple[()]) -> int | None:
    """An attribute's integer value: int types as is, a numeric string parsed, a codename mapped.

    A string whose first character is an ASCII digit must be a decimal int that fits in 32 bits
    (Android's ``Integer.parseInt``); one starting with a letter is a codename; anything else
    (``"²"``, a 5000-digit number, an empty string) raises MalformedValue."""
    if data_type in (TYPE_INT_DEC, TYPE_INT_HEX):
        return data - (1 << 32) if data & 0x80000000 else data
    if data_type == TYPE_STRING and raw < len(strings):
        text = strings[raw].strip()
        if text[:1].isascii() and text[:1].isdigit():
            if len(text) > MAX_DIGITS or not (text.isascii() and text.isdigit()) \
                    or int(text) > 0x7FFFFFFF:
                raise MalformedValue(text)
            return int(text)
        if text[:1].isascii() and text[:1].isalpha() and text[0].upper() in CODENAMES:
            return CODENAMES[text[0].upper()]
        raise MalformedValue(text)
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
    strings: StringPool | tuple[()] = ()
    res_ids: _ResourceIds | tuple[()] = ()
    depth = 0
    values: dict[int, int] = {}
    bad: list[tuple[str, str]] = []
    package: str | None = None
    while r.remaining() >= 8:
        at = r.pos
        ctype, _chdr, csize = r.u16("chunk type"), r.u16("chunk header size"), r.u32("chunk size")
        if csize < 8 or csize > len(r.data) - at:
            raise ApkError(path, f"AndroidManifest.xml chunk of size {csize} is out of range", at)
        chunk = ByteReader(r.data[at : at + csize], path, at, 2)
        r.pos = at + csize
        if ctype == STRING_POOL and not strings:
            strings = StringPool(chunk, path)
        elif ctype == RESOURCE_MAP:
            res_ids = _ResourceIds(chunk)
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
                try:
                    value = _int_value(dtype, data, raw, strings)
                except MalformedValue as exc:
                    if res_id in ATTR_NAMES and (name == "uses-sdk") == (res_id != ATTR_SANDBOX):
                        text = str(exc)
                        shown = text if len(text) <= 24 else f"{text[:20]}… ({len(text)} characters)"
                        bad.append((ATTR_NAMES[res_id], shown))
                    continue
                if res_id is not None and value is not None:
                    if name == "uses-sdk" and res_id in (ATTR_MIN_SDK, ATTR_TARGET_SDK):
                        values[res_id] = value
                    elif name == "manifest" and res_id == ATTR_SANDBOX:
                        values[res_id] = value
        elif ctype == END_ELEMENT:
            depth -= 1
    min_sdk = values.get(ATTR_MIN_SDK, 1)
    return ManifestSdk(min_sdk=min_sdk, target_sdk=values.get(ATTR_TARGET_SDK, min_sdk),
                       target_sandbox=values.get(ATTR_SANDBOX, 1), package=package,
                       malformed=tuple(bad))
