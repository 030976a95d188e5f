"""A new state file appears whole or not at all: first-run creation beside it, then a link.

SQLite creates its file empty and writes the first page only later, so a refresh killed in
between left a 0-byte state, which every command refuses (``--allow-empty-state``): cron was
blocked until somebody came. Now a new state is built in a temporary file in the same
directory, ``<state>.creating-<random>`` (schema, marks, WAL journal mode, committed and
closed, which checkpoints the WAL into the file), fsynced, and only then given its name with
``link(2)``: unlike ``rename`` it fails when the name exists, so of two processes creating the
same state at once the first one's file stays and the other one opens it (its own is
deleted). A process killed at any moment leaves no state or a complete one. (Where the file
system has no hard links, the file is renamed into place instead: :func:`_place`.)

Leftovers: a creator holds ``flock`` on its temporary file from creating it to deleting it;
the kernel drops that lock when the process dies. Every writing open deletes the temporary
files of its state whose lock is free (a killed creator's, with their ``-wal``/``-shm``); one
whose lock is held belongs to a creator still at work and is left alone. The temporary name
never ends in the state's own name, so nothing opens it as the state.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

from carrierkit.fileio import write_target

from .. import checkpoint

TEMP_INFIX = ".creating-"
"""``<state name>.creating-<16 hex digits>``: a state being built (never the state itself)."""
_SQLITE_SIBLINGS = ("-wal", "-shm", "-journal")
_ATTEMPTS = 5


def create_state(path: Path, build: Callable[[Path], None]) -> bool:
    """Build a new state with ``build(temporary path)`` and link it to ``path`` (a symbolic
    link's target when ``path`` is a dangling link). True: this process's state is now there;
    False: another file got there first, nothing of this one is left (open that one).
    Raises OSError (directory not writable, disk full, …) and whatever ``build`` raises; the
    temporary file is deleted in every case but SIGKILL (then the next open deletes it)."""
    target = write_target(path)
    directory = target.parent
    directory.mkdir(parents=True, exist_ok=True)
    temp, fd = _locked_temp(target)
    try:
        checkpoint.reached("store:create:empty")
        build(temp)
        os.fsync(fd)  # build closed its connection; this makes sure the pages are on disk
        checkpoint.reached("store:create:built")
        if not _place(temp, target):
            return False
        _fsync_directory(directory)
        checkpoint.reached("store:create:linked")
        return True
    finally:
        _remove(temp)
        os.close(fd)


def _place(temp: Path, target: Path) -> bool:
    """Give ``temp`` the name ``target`` unless it exists (False then). Without hard links
    (vfat, some FUSE file systems: EPERM or EOPNOTSUPP) it is renamed, after a look: that
    cannot refuse a name made in between, but only ``refresh`` creates a state, under the
    refresh lock."""
    try:
        os.link(temp, target)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS):
            raise
    if os.path.lexists(target):
        return False
    os.rename(temp, target)
    return True


def remove_leftovers(path: Path) -> None:
    """Delete the temporary files of ``path``'s creators that died (their lock is free)."""
    target = write_target(path)
    directory = target.parent
    prefix = target.name + TEMP_INFIX
    try:
        names = [name for name in os.listdir(directory) if name.startswith(prefix)]
    except OSError:
        return  # no directory yet, or not readable: nothing of ours can be there
    try:
        state = os.stat(target)
        state_id: tuple[int, int] | None = (state.st_dev, state.st_ino)
    except OSError:
        state_id = None
    for name in names:
        if name.endswith(_SQLITE_SIBLINGS):
            base = directory / name.rsplit("-", 1)[0]
            if not base.exists():  # a creator deletes these before its file, never after
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(directory / name)
            continue
        _remove_if_abandoned(directory / name, state_id)


def _locked_temp(target: Path) -> tuple[Path, int]:
    """A new empty temporary file beside ``target``, created and ``flock``-ed by this process
    (retried when a cleaner deleted it between the two: the name must still be our file)."""
    for _ in range(_ATTEMPTS):
        temp = target.with_name(f"{target.name}{TEMP_INFIX}{secrets.token_hex(8)}")
        fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _same_file(temp, os.fstat(fd)):
            return temp, fd
        os.close(fd)
    raise OSError(errno.EAGAIN, "temporary files keep disappearing", str(target.parent))


def _remove_if_abandoned(temp: Path, state_id: tuple[int, int] | None) -> None:
    try:
        info = os.lstat(temp)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        return  # not something a creator makes: not ours to delete
    if (info.st_dev, info.st_ino) == state_id:
        # Linked into place, the creator killed before deleting its name. Not opened: closing
        # a descriptor of the state would drop this process's SQLite locks on it.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        return
    try:
        fd = os.open(temp, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # its creator is still at work
        if _same_file(temp, os.fstat(fd)):
            _remove(temp)
    finally:
        os.close(fd)


def _remove(temp: Path) -> None:
    """Delete ``temp`` and SQLite's files beside it, the file itself last."""
    for suffix in (*_SQLITE_SIBLINGS, ""):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{temp}{suffix}")


def _same_file(path: Path, info: os.stat_result) -> bool:
    try:
        now = os.lstat(path)
    except FileNotFoundError:
        return False
    return (now.st_dev, now.st_ino) == (info.st_dev, info.st_ino)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
