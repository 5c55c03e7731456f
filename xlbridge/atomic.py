"""Writing a file all at once or not at all — the one file writer of the whole package.

Every file xlbridge writes (recomputed workbooks and their backups, ``score --output``, the
recompute report, the scheme store and the sync's bookkeeping) goes through
:func:`write_atomic`, so that a crash, a full disk or ``kill -9`` at any moment leaves either
the old file or the complete new one, never half of one:

* the new contents go to a temporary file in the target's own folder (a rename across
  folders could cross file systems), named ``.~xlbridge-<name>.<pid>.<random>.tmp`` so that
  folder walks skip it and :func:`remove_stale_temps` can recognise it later;
* the temporary file is flushed and ``fsync``-ed, optionally checked (``before_replace``),
  then renamed over the target with ``os.replace``, and the folder is ``fsync``-ed so that the
  rename itself survives a power cut;
* on Windows a target another process has open for a moment (Excel, a virus scanner, a
  worksheet function reading the store) refuses the rename with a sharing violation: the
  rename is retried for a few seconds before giving up;
* a target that is a pipe or a device (``--output /dev/stdout``) is written into directly —
  renaming a file over it would replace the device;
* a symbolic link is written through: its target is replaced, the link stays a link;
* a file with several hard links is rewritten in place — a rename would leave the other
  names with the old contents — from a complete, ``fsync``-ed copy kept beside it until the
  copy is done (``<temp>.inplace``); if the copy is interrupted, :func:`remove_stale_temps`
  finishes it on the next run;
* a target without write permission (mode 444, the Windows read-only attribute) is refused
  with :class:`ReadOnlyTarget`: the rename would work, but the owner has said no;
* a new file gets the mode the user's umask gives (``0666 & ~umask``), as ``open()`` would
  make it; a replaced file keeps its mode (and, where allowed, its owner).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from xlbridge.i18n import t

__all__ = ["TEMP_PREFIX", "ReadOnlyTarget", "is_read_only", "pid_alive", "remove_stale_temps",
           "write_atomic"]

#: Every temporary file of xlbridge starts with this (folder walks skip ``.~`` names).
TEMP_PREFIX = ".~xlbridge-"
_WINDOWS = sys.platform.startswith("win")
#: How long a sharing violation on Windows is waited out before the write fails.
SHARING_RETRY_SECONDS = 5.0

Contents = bytes | str | Callable[[BinaryIO], object]


class ReadOnlyTarget(PermissionError):
    """The file exists and is read-only: xlbridge never replaces it."""

    def __init__(self, path: str | os.PathLike[str]):
        super().__init__(errno.EACCES, t("文件是只读的（没有写权限），xlbridge 不会改写它；"
                                         "如需更新，请先去掉只读属性"), str(path))


def is_read_only(st: os.stat_result, path: Path) -> bool:
    """True for a file its owner has made read-only."""
    # no write bit at all (chmod 444, the Windows read-only attribute) counts even for root,
    # for whom access() always says yes
    return not (st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) or \
        not os.access(path, os.W_OK)


def _retry(action: Callable[[], object]) -> None:
    """Run ``action``, retrying a Windows sharing violation for a few seconds."""
    deadline = time.monotonic() + SHARING_RETRY_SECONDS
    delay = 0.02
    while True:
        try:
            action()
            return
        except PermissionError:
            if not _WINDOWS or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def _fsync_dir(folder: Path) -> None:
    if _WINDOWS:  # a folder cannot be opened for fsync on Windows; NTFS journals the rename
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def temp_name(name: str) -> str:
    """A fresh temporary file name for a target called ``name``."""
    return f"{TEMP_PREFIX}{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


def _write_into(fh: BinaryIO, data: Contents, encoding: str) -> None:
    if isinstance(data, str):
        fh.write(data.encode(encoding))
    elif isinstance(data, bytes | bytearray | memoryview):
        fh.write(data)
    else:
        data(fh)


def write_atomic(path: str | os.PathLike[str], data: Contents, *, encoding: str = "utf-8",
                 mode: int | None = None, mode_from: str | os.PathLike[str] | None = None,
                 tag: str | None = None,
                 before_replace: Callable[[Path], None] | None = None) -> Path:
    """Write ``data`` to ``path`` atomically; returns the file actually written (a symbolic
    link's target).

    ``data`` is bytes, text (encoded with ``encoding``; ``"utf-8-sig"`` for a CSV file Excel
    opens) or a function that writes into the binary file it is given. ``mode`` sets the
    permission bits (``0o600`` for a secret); otherwise an existing file keeps its own,
    ``mode_from`` names a file to copy them from, and a new file follows the umask. ``tag``
    replaces the target's name inside the temporary file's name (so that the temporary files
    of a workbook's backup are found with the workbook's). ``before_replace`` is called with
    the complete temporary file just before it replaces the target — to check it, or to do
    what must happen first (a backup of the old file); raising there aborts the write.

    Raises :class:`ReadOnlyTarget` for a read-only target, ``IsADirectoryError`` for a
    folder, and whatever the disk raises (``OSError`` 28 when it is full) — in every case
    with the target as it was and no temporary file left.
    """
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, t("这是一个文件夹，不是文件"), str(path))
        if not stat.S_ISREG(st.st_mode):
            # a pipe, a terminal or a device: there is nothing to replace, write into it
            with open(target, "wb") as fh:
                _write_into(fh, data, encoding)
            return target
        if is_read_only(st, target):
            raise ReadOnlyTarget(path)
    folder = target.parent
    tmp = folder / temp_name(tag or target.name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
    done = False
    try:
        with os.fdopen(fd, "wb") as fh:
            if mode is not None:
                _chmod(fh.fileno(), tmp, mode)
            elif st is not None:
                _chmod(fh.fileno(), tmp, stat.S_IMODE(st.st_mode))
                _chown(fh.fileno(), st)
            elif mode_from is not None:
                with contextlib.suppress(OSError):
                    _chmod(fh.fileno(), tmp, stat.S_IMODE(os.stat(mode_from).st_mode))
            _write_into(fh, data, encoding)
            fh.flush()
            os.fsync(fh.fileno())
        if before_replace is not None:
            before_replace(tmp)
        if st is not None and st.st_nlink > 1:
            _rewrite_in_place(tmp, target)
        else:
            _retry(lambda: os.replace(tmp, target))
        done = True
    finally:
        if not done:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    _fsync_dir(folder)
    return target


def _chmod(fd: int, path: Path, mode: int) -> None:
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:  # Windows: only the read-only bit exists, and a temporary file never has it
        os.chmod(path, mode | stat.S_IWUSR)


def _chown(fd: int, st: os.stat_result) -> None:
    if hasattr(os, "fchown") and (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
        with contextlib.suppress(OSError):  # only root may give a file away
            os.fchown(fd, st.st_uid, st.st_gid)


def _rewrite_in_place(tmp: Path, target: Path) -> None:
    """Copy the complete file ``tmp`` into ``target`` (which has other hard links).

    The copy is renamed to ``….inplace`` first: that name says "complete, not yet copied
    into the target", so an interrupted copy is finished by :func:`remove_stale_temps`."""
    journal = tmp.with_suffix(".inplace")
    os.replace(tmp, journal)
    _fsync_dir(target.parent)
    _copy_into(journal, target)
    os.unlink(journal)


def _copy_into(source: Path, target: Path) -> None:
    def copy() -> None:
        with open(source, "rb") as src, open(target, "r+b") as dst:
            dst.truncate(0)
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())

    _retry(copy)




def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine is still running (a zombie — dead, waiting
    for a parent that was killed too — is not)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # someone else's process, or no way to ask: alive
        return True
    with contextlib.suppress(OSError, IndexError):
        stat_line = Path(f"/proc/{pid}/stat").read_text()
        return stat_line.rsplit(") ", 1)[1][:1] not in ("Z", "X")
    return True


def remove_stale_temps(path: str | os.PathLike[str], *, owned: bool = False) -> list[Path]:
    """Clean up after writers of ``path`` that were killed: remove their temporary files and
    finish an interrupted in-place rewrite (``.inplace``). Returns what was removed.

    A temporary file whose writer (the pid in its name) is still running is left alone,
    unless ``owned``: the caller holds the file's lock, so no other writer can exist."""
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    # exactly what temp_name() makes for this name: not the temporaries of "a.xlsx.old.xlsx"
    ours = re.compile(re.escape(f"{TEMP_PREFIX}{target.name}.") +
                      r"(\d+)\.[0-9a-f]{8}\.(?:tmp|inplace)")
    removed: list[Path] = []
    try:
        names = os.listdir(target.parent or ".")
    except OSError:
        return removed
    for name in sorted(names):
        m = ours.fullmatch(name)
        if m is None:
            continue
        leftover = target.parent / name
        if not owned and pid_alive(int(m.group(1))):
            continue
        with contextlib.suppress(OSError):
            if name.endswith(".inplace") and target.exists():
                _copy_into(leftover, target)  # complete: finish what was interrupted
            os.unlink(leftover)
            removed.append(leftover)
    return removed
