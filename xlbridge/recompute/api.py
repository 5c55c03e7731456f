"""Public entry points: recompute one workbook, safely."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import socket
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from xlbridge.atomic import (
    ReadOnlyTarget,
    is_read_only,
    pid_alive,
    remove_stale_temps,
    write_atomic,
)
from xlbridge.i18n import t as tr

from .book import load_book
from .core import make_key, split_key
from .evaluate import evaluate_book
from .functions import FunctionSpec
from .package import DEFLATE_LEVEL, FileRejected, Limits
from .report import WorkbookReport
from .writer import plan_output, write_output

__all__ = [
    "BackupFailed",
    "WorkbookLocked",
    "export_values",
    "lock_path",
    "recalc_workbook",
    "recompute_file",
    "release_after",
    "write_backup",
]

Functions = Mapping[str, Callable[..., Any] | FunctionSpec]


class WorkbookLocked(Exception):
    """Another recompute is working on this workbook (its lock file exists)."""

    def __init__(self, path: str, lock: str, holder: str = ""):
        self.path = path
        self.lock = lock
        msg = f"{path}: another xlbridge recompute is working on this file (lock {lock}"
        msg += f", held by {holder})" if holder else ")"
        msg += "; if no recompute is running, delete the lock file"
        super().__init__(msg)


def lock_path(path: str | os.PathLike[str]) -> Path:
    """The lock file for ``path``: ``.~xlbridge-<name>.lock`` in the same folder."""
    p = Path(path)
    return p.with_name(f".~xlbridge-{p.name}.lock")


@contextlib.contextmanager
def workbook_lock(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the lock for ``path`` (O_EXCL create); a lock left by a dead process on this
    machine is taken over, any other lock raises :class:`WorkbookLocked`."""
    lp = lock_path(path)
    host = socket.gethostname()
    info = f"pid={os.getpid()} host={host} time={datetime.now().isoformat(timespec='seconds')}"
    for attempt in range(2):
        try:
            fd = os.open(lp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _lock_holder(lp)
            fields = dict(x.split("=", 1) for x in holder.split() if "=" in x)
            stale = (fields.get("host") == host and fields.get("pid", "").isdigit()
                     and not pid_alive(int(fields["pid"])))
            # an empty lock: its maker was killed between creating it and writing its pid
            # (a live maker writes within microseconds) — it holds nothing
            stale = stale or (not holder and _lock_age(lp) >= _EMPTY_LOCK_GRACE)
            if stale and attempt == 0:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(lp)
                continue
            raise WorkbookLocked(str(path), str(lp), holder) from None
        break
    try:
        os.write(fd, info.encode("utf-8"))
    finally:
        os.close(fd)
    try:
        yield lp
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lp)


#: How long an empty lock file may be young before it counts as left by a killed process.
_EMPTY_LOCK_GRACE = 1.0


def _lock_holder(lp: Path) -> str:
    """Who holds a lock (``pid=… host=… time=…``); an empty lock is read again after the
    grace time, in case its maker is between creating and writing it."""
    for wait in (0.0, _EMPTY_LOCK_GRACE):
        time.sleep(max(0.0, wait - _lock_age(lp)) if wait else 0.0)
        with contextlib.suppress(OSError):
            holder = lp.read_text("utf-8", "replace").strip()
            if holder:
                return holder
    return ""


def _lock_age(lp: Path) -> float:
    try:
        return time.time() - lp.stat().st_mtime
    except OSError:
        return 0.0


def release_after(path: str | os.PathLike[str], pid: int) -> None:
    """Clean up after the process ``pid``, killed while it recomputed ``path``: its lock and
    its temporary files (the workbook itself is as it was: it is only ever renamed over)."""
    real = Path(os.path.realpath(path))
    lp = lock_path(real)
    with contextlib.suppress(OSError):
        fields = dict(x.split("=", 1) for x in lp.read_text("utf-8").split() if "=" in x)
        if fields.get("pid") == str(pid) and fields.get("host") == socket.gethostname():
            os.unlink(lp)
    remove_stale_temps(real)


def recalc_workbook(path: str | os.PathLike[str], *, out_path: str | os.PathLike[str] | None = None,
                    dry_run: bool = False, functions: Functions | None = None,
                    values_only: Callable[[str], bool] | None = None,
                    limits: Limits | None = None, compress_level: int = DEFLATE_LEVEL,
                    inspect: Callable[[Any], None] | None = None,
                    clock: datetime | None = None,
                    before_replace: Callable[[], None] | None = None) -> WorkbookReport:
    """Recompute every formula of an .xlsx/.xlsm file and store the values in the file.

    The result goes to ``out_path`` (default: ``path`` itself), written atomically — a
    temporary file in the same folder renamed over the target — so the target is either the
    old file or the complete new one. Nothing is written when nothing changed and
    ``out_path`` is the input, or with ``dry_run``.

    ``functions`` adds worksheet functions for this call only (name → callable, same calling
    convention as :func:`~xlbridge.recompute.functions.register_function`).

    ``values_only`` (a predicate on formula text, without ``=``) removes the formulas it
    selects and keeps their values — see :func:`export_values`.

    ``inspect(evaluation)`` is called once every formula is computed, before anything is
    written (``xlbridge recompute`` audits the sheets' own results there).

    ``before_replace`` runs once the new file is complete, just before it replaces the
    target, and only if something is written (:func:`recompute_file` makes its backup there).

    Raises :class:`~xlbridge.recompute.FileRejected` for files that are not safe or not
    OOXML workbooks, and :class:`~xlbridge.atomic.ReadOnlyTarget` for a read-only target.
    Holds no lock: use :func:`recompute_file` for that.

    ``clock`` fixes the instant TODAY() and NOW() see (tests; default: now).
    ``compress_level`` is ISA-L's deflate level for the rewritten parts (0–3; 1, its fast
    level, by default).
    """
    t0 = time.perf_counter()
    src = Path(path)
    dest = Path(out_path) if out_path is not None else src
    report = WorkbookReport(str(src), str(dest))
    book = load_book(str(src), limits)
    try:
        ev = evaluate_book(book, report, functions, clock)
        if inspect is not None:
            inspect(ev)
        t1 = time.perf_counter()
        out = plan_output(ev, report, values_only)
        report.changed = out.changed_cells
        report.error_values = _error_values(ev)
        t2 = time.perf_counter()
        report.timings["plan"] = t2 - t1
        same_file = dest.resolve() == src.resolve() if dest.exists() else False
        if dry_run:
            report.status = "dry-run"
            report.notes = [f"(dry run, not written) {n}" for n in report.notes]
        elif out.changes or not same_file:
            write_atomic(dest, lambda fh: write_output(ev, out, fh, compress_level),
                         mode_from=src, before_replace=(lambda _tmp: before_replace())
                         if before_replace is not None else None)
            report.written = True
        report.timings["write"] = time.perf_counter() - t2
    finally:
        book.pkg.close()
    report.timings["total"] = time.perf_counter() - t0
    return report


def _error_values(ev: Any) -> list[Any]:
    from xlbridge.xlvalues import ExcelError

    from .formula import col_letters
    from .report import CellIssue
    from .sheetxml import ARRAY, MEMBER, parse_ref_range

    out = []
    values = ev.ctx.values
    get = values.get
    table = ev.table
    keys = table.keys
    meta = table.meta
    for st in ev.sheets:
        for i in range(st.scan.lo, st.scan.hi):
            key = keys[i]
            kind = meta[3 * i]
            if kind != ARRAY and type(get(key)) is not ExcelError:
                continue  # the usual cell: no error, nothing to look at
            if key in ev.kept or kind == MEMBER:
                continue
            cells = [key]
            if kind == ARRAY and i in table.refs:
                # every cell of an array formula shows its own value: count each error
                span = parse_ref_range(table.refs[i])
                if span is not None:
                    s, r1, c1, r2, c2 = (split_key(key)[0], *span)
                    cells = [make_key(s, r, c) for r in range(r1, r2 + 1)
                             for c in range(c1, c2 + 1)]
            for cell in cells:
                v = values.get(cell)
                if type(v) is ExcelError:
                    _s, r, c = split_key(cell)
                    msg = v.code + (f": {v.reason}" if v.reason else "")
                    out.append(CellIssue(st.info.name, f"{col_letters(c)}{r}", "error-value",
                                         msg))
    return out


def _backup_name(p: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    cand = p.with_name(f"{p.stem}.backup-{stamp}{p.suffix}")
    n = 1
    while cand.exists():
        n += 1
        cand = p.with_name(f"{p.stem}.backup-{stamp}-{n}{p.suffix}")
    return cand


class BackupFailed(OSError):
    """The backup could not be written (or did not read back as the same zip)."""


def write_backup(source: Path, backup: Path) -> Path:
    """Copy ``source`` to ``backup`` atomically: a temporary file (named after ``source``, so
    that its stale temporaries are found with the workbook's), fsync, rename — and only
    after the copy has been read back as a sound zip with the same bytes. The backup keeps
    the original's modification time."""
    digest = hashlib.sha256()

    def copy(fh: Any) -> None:
        with open(source, "rb") as src:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                fh.write(chunk)

    def check(tmp: Path) -> None:
        again = hashlib.sha256()
        with open(tmp, "rb") as fh:
            while chunk := fh.read(1 << 20):
                again.update(chunk)
        if again.digest() != digest.digest():
            raise BackupFailed(errno.EIO, tr("备份读回来与原文件不一致"), str(backup))
        try:
            with zipfile.ZipFile(tmp) as z:
                bad = z.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise BackupFailed(errno.EIO, tr("备份不是完整的 zip 文件（{reason}）",
                                             reason=exc), str(backup)) \
                from None
        if bad is not None:
            raise BackupFailed(errno.EIO, tr("备份中的 {name} 校验失败", name=bad), str(backup))

    st = source.stat()
    written = write_atomic(backup, copy, mode_from=source, tag=source.name,
                           before_replace=check)
    with contextlib.suppress(OSError):
        os.utime(written, ns=(st.st_atime_ns, st.st_mtime_ns))
    return written


def _refuse_read_only(src: Path, dest: Path, dry_run: bool) -> None:
    if dry_run:
        return
    try:
        st = dest.stat()
    except FileNotFoundError:
        return
    if is_read_only(st, dest):
        raise ReadOnlyTarget(dest)


def recompute_file(path: str | os.PathLike[str], *,
                   out_path: str | os.PathLike[str] | None = None, dry_run: bool = False,
                   backup: bool | str | os.PathLike[str] = False,
                   functions: Functions | None = None,
                   values_only: Callable[[str], bool] | None = None,
                   limits: Limits | None = None, raise_errors: bool = False,
                   inspect: Callable[[Any], None] | None = None) -> WorkbookReport:
    """Recompute one file end to end, for the CLI: lock, optional backup, atomic write.

    Never raises for a bad or busy file (unless ``raise_errors``): the report's ``status``
    is ``"rejected"``, ``"locked"`` or ``"failed"`` with ``error`` saying why, and the
    original file is untouched.

    * A read-only workbook (mode 444, the read-only attribute) is refused before anything is
      computed: its owner has said it must not change.
    * A workbook reached through a symbolic link is locked and written as its target, so
      the link stays a link and the target gets the values; one with several hard links is
      rewritten in place (:func:`xlbridge.atomic.write_atomic`), so every name sees them.
    * Temporary files left by an earlier recompute of the same workbook that was killed are
      removed first (the lock says no other recompute is writing it).
    * ``backup=True`` keeps a copy of the original next to it as
      ``<name>.backup-<time>.xlsx`` (or pass the backup path) — only when the workbook is
      about to change, made once the new file is complete, written atomically and read back
      as a sound zip before the workbook is replaced; if it cannot be made, the workbook is
      left as it was.
    """
    shown_src = Path(path)
    shown_dest = Path(out_path) if out_path is not None else shown_src
    src = Path(os.path.realpath(shown_src))
    dest = Path(os.path.realpath(shown_dest))
    bpath: Path | None = None
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(workbook_lock(src))
            if dest != src:
                stack.enter_context(workbook_lock(dest))
            remove_stale_temps(src, owned=True)
            if dest != src:
                remove_stale_temps(dest, owned=True)
            _refuse_read_only(src, dest, dry_run)

            def make_backup() -> None:
                nonlocal bpath
                if not backup or dry_run or not dest.exists():
                    return
                target = Path(backup) if not isinstance(backup, bool) else _backup_name(dest)
                try:
                    bpath = write_backup(dest, target)
                except OSError as exc:
                    raise BackupFailed(exc.errno or errno.EIO,
                                       tr("无法写入备份 {path}（{reason}），工作簿没有改动",
                                          path=target, reason=exc.strerror or exc),
                                       str(target)) from None

            report = recalc_workbook(src, out_path=dest, dry_run=dry_run,
                                     functions=functions, values_only=values_only,
                                     limits=limits, inspect=inspect,
                                     before_replace=make_backup)
            report.path, report.out_path = str(shown_src), str(shown_dest)
            if bpath is not None:
                report.backup_path = str(bpath)
            excel_lock = dest.with_name("~$" + dest.name)
            if excel_lock.exists():
                report.notes.append(
                    tr("有 {lock}：工作簿可能正在 Excel 中打开，重新打开后才能看到新的值",
                       lock=excel_lock.name))
            return report
    except FileRejected as exc:
        if raise_errors:
            raise
        return WorkbookReport(str(shown_src), str(shown_dest), status="rejected",
                              error=exc.reason)
    except WorkbookLocked as exc:
        if raise_errors:
            raise
        return WorkbookReport(str(shown_src), str(shown_dest), status="locked", error=str(exc))
    except ReadOnlyTarget as exc:
        if raise_errors:
            raise
        return WorkbookReport(str(shown_src), str(shown_dest), status="read-only",
                              error=f"{exc.filename}：{exc.strerror}")
    except BackupFailed as exc:
        if raise_errors:
            raise
        if bpath is not None:  # the workbook stayed as it was: its copy is not needed
            with contextlib.suppress(OSError):
                bpath.unlink()
        return WorkbookReport(str(shown_src), str(shown_dest), status="failed",
                              error=exc.strerror)
    except Exception as exc:
        if raise_errors:
            raise
        if bpath is not None:
            with contextlib.suppress(OSError):
                bpath.unlink()
        return WorkbookReport(str(shown_src), str(shown_dest), status="failed",
                              error=f"{type(exc).__name__}: {exc}")


def perf_formula(text: str) -> bool:
    """Default predicate of :func:`export_values`: formulas using a ``PERF_`` function."""
    return "PERF_" in text.upper()


def export_values(path: str | os.PathLike[str], out_path: str | os.PathLike[str], *,
                  predicate: Callable[[str], bool] = perf_formula,
                  functions: Functions | None = None,
                  limits: Limits | None = None) -> WorkbookReport:
    """Write a copy of ``path`` where the formulas chosen by ``predicate`` (given the formula
    text without ``=``) are replaced by their recomputed values; everything else is kept.

    Shared formulas are decided per group, on the group's first formula. Text results become
    inline strings. ``xl/calcChain.xml`` is dropped when formulas are removed (Excel rebuilds
    it silently).
    """
    if Path(out_path).resolve() == Path(path).resolve():
        raise ValueError("export_values writes a copy: out_path must differ from path")
    return recalc_workbook(path, out_path=out_path, functions=functions, values_only=predicate,
                           limits=limits)
