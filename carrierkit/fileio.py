"""Atomic file writes, shared by every command that writes a file (simtool and wifiq).

A reader never sees a half-written file and a crash leaves the old file in place: the data goes
to a temporary file in the same directory, is flushed and fsynced, then renamed over the target.

Permissions: a file that is replaced keeps its mode (and, when the process may set them, its
owner and group) — a 0600 rules export stays 0600 after ``simtool aram export`` or
``wifiq render --out`` rewrites it. A new file gets the usual ``0666 & ~umask`` (what ``open``
would give), or 0600 with ``private=True`` for files next to secrets (nothing the tools write
today is a secret; the option is there so such a file is never world-readable for a moment).
An explicit ``mode`` wins over both.

Symbolic links: writing to a path that is a symbolic link writes the file the link points to
(followed link by link, as ``echo > link`` would), atomically in *that* file's directory, and
leaves the link in place — replacing the link by a plain file would leave the file it points to
(what a firewall include or a controller reads) with the old content, silently. A link to a
missing file creates that file. A loop, or more than 40 links, is ``OSError(ELOOP)``. A link in
a sticky world-writable directory (``/tmp``) owned by neither this user nor the directory's
owner is not followed (``PermissionError``), the kernel's ``protected_symlinks`` rule, which
resolving the link here would otherwise bypass. Hard links are not followed: the path gets a
new file, the file's other names keep the old content.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

PRIVATE_MODE = 0o600
_MAX_LINKS = 40  # as the kernel's path walk (ELOOP)


def current_umask() -> int:
    """The process umask, read without changing it (``/proc/self/status``), else by the
    set-and-restore dance."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def write_target(path: str | os.PathLike[str]) -> Path:
    """The file a write to ``path`` replaces: ``path`` itself, or the end of its chain of
    symbolic links (which may not exist yet). Raises OSError(ELOOP) for a loop and
    PermissionError for a link the kernel's ``protected_symlinks`` rule would not follow."""
    current = Path(path)
    for _ in range(_MAX_LINKS):
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return current
        if not stat.S_ISLNK(info.st_mode):
            return current
        _check_followable(current, info)
        # Not normalised: the kernel resolves "dir/../x" through the real directory.
        current = Path(os.path.join(os.path.dirname(current), os.readlink(current)))
    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))


def _check_followable(link: Path, info: os.stat_result) -> None:
    try:
        folder = os.stat(os.path.dirname(link) or ".")
    except OSError:
        return
    public = folder.st_mode & stat.S_ISVTX and folder.st_mode & stat.S_IWOTH
    if public and info.st_uid not in (os.geteuid(), folder.st_uid):
        raise PermissionError(errno.EACCES, "a symbolic link of another user in a sticky "
                              "world-writable directory: not followed", str(link))


def _mode_and_owner(target: Path, mode: int | None,
                    private: bool) -> tuple[int, tuple[int, int] | None]:
    """The mode for the new file and the (uid, gid) to give it (None: leave as created)."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    if mode is not None:
        return mode, None
    if st is not None and stat.S_ISREG(st.st_mode):
        return stat.S_IMODE(st.st_mode), (st.st_uid, st.st_gid)
    return (PRIVATE_MODE if private else 0o666 & ~current_umask()), None


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, mode: int | None = None, *,
                       private: bool = False) -> None:
    """Replace ``path`` with ``data`` atomically (same-directory temp file + fsync + rename),
    keeping the mode of the file it replaces; a symbolic link stays and the file it points to
    is replaced (see the module docstring)."""
    target = write_target(path)
    directory = target.parent if str(target.parent) else Path(".")
    new_mode, owner = _mode_and_owner(target, mode, private)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            if owner is not None and owner != (os.geteuid(), os.getegid()):
                try:
                    os.fchown(fh.fileno(), *owner)
                except PermissionError:
                    pass  # not ours to give away: the mode is still kept
            os.fchmod(fh.fileno(), new_mode)  # before the data: the final mode from the start
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_text(path: str | os.PathLike[str], text: str, mode: int | None = None, *,
                      private: bool = False) -> None:
    """Text variant of :func:`atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"), mode, private=private)
