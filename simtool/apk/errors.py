"""The one error type of the APK library: which file, where in it, and what was wrong.

Every parser raises :class:`ApkError`. The lowest byte-reading level (``simtool.apk.bytereader``,
``simtool.apk.der``) checks each length against the bytes actually there before taking them and
raises it with the file, the offset and the field, so a short or hostile file never becomes a
``struct.error`` / ``IndexError`` traceback or an allocation sized by a length field.
"""

from __future__ import annotations

from ..errors import SimtoolError


class ApkError(SimtoolError):
    """A malformed or unverifiable input: ``path`` (the file), ``offset`` (byte offset in the file
    or ``None`` when it does not apply) and ``what`` (one line naming the problem)."""

    def __init__(self, path: str, what: str, offset: int | None = None) -> None:
        where = f" (at offset {offset})" if offset is not None else ""
        super().__init__(f"{path}: {what}{where}")
        self.path = path
        self.offset = offset
        self.what = what
