"""Public entry points: recompute one workbook, safely."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from .book import load_book
from .core import make_key, split_key
from .evaluate import evaluate_book
from .functions import FunctionSpec
from .package import FileRejected, Limits
from .report import WorkbookReport
from .writer import plan_output, write_output

__all__ = [
    "WorkbookLocked",
    "export_values",
    "lock_path",
    "recalc_workbook",
    "recompute_file",
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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # pragma: no cover - e.g. unsupported platform
        return True
    return True


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
            holder = ""
            with contextlib.suppress(OSError):
                holder = lp.read_text("utf-8", "replace").strip()
            fields = dict(x.split("=", 1) for x in holder.split() if "=" in x)
            stale = (fields.get("host") == host and fields.get("pid", "").isdigit()
                     and not _pid_alive(int(fields["pid"])))
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


def _atomic_write(dest: Path, write: Callable[[Any], None], mode_from: Path | None) -> None:
    """Write through a temporary file in ``dest``'s folder, then rename over ``dest``."""
    fd, tmp = tempfile.mkstemp(prefix=f".~xlbridge-{dest.name}.", suffix=".tmp",
                               dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        src = mode_from if mode_from is not None and mode_from.exists() else None
        if src is not None:
            os.chmod(tmp, src.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename durable
        dfd = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def recalc_workbook(path: str | os.PathLike[str], *, out_path: str | os.PathLike[str] | None = None,
                    dry_run: bool = False, functions: Functions | None = None,
                    values_only: Callable[[str], bool] | None = None,
                    limits: Limits | None = None, compress_level: int = 6,
                    inspect: Callable[[Any], None] | None = None,
                    clock: datetime | None = None) -> WorkbookReport:
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

    Raises :class:`~xlbridge.recompute.FileRejected` for files that are not safe or not
    OOXML workbooks. Holds no lock: use :func:`recompute_file` for that.

    ``clock`` fixes the instant TODAY() and NOW() see (tests; default: now).
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
            _atomic_write(dest, lambda fh: write_output(ev, out, fh, compress_level),
                          src if same_file or not dest.exists() else dest)
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
    table = ev.table
    for st in ev.sheets:
        for i in range(st.scan.lo, st.scan.hi):
            key = table.keys[i]
            if key in ev.kept or table.kind(i) == MEMBER:
                continue
            cells = [key]
            if table.kind(i) == ARRAY and i in table.refs:
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
    original file is untouched. ``backup=True`` copies the original next to it as
    ``<name>.backup-<time>.xlsx`` before it is replaced (or pass the backup path).
    """
    src = Path(path)
    dest = Path(out_path) if out_path is not None else src
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(workbook_lock(src))
            if dest.resolve() != src.resolve():
                stack.enter_context(workbook_lock(dest))
            bpath: Path | None = None
            if backup and not dry_run:
                bpath = Path(backup) if not isinstance(backup, bool) else _backup_name(dest)
                if dest.exists():
                    shutil.copy2(dest, bpath)
                else:
                    bpath = None
            report = recalc_workbook(src, out_path=out_path, dry_run=dry_run,
                                     functions=functions, values_only=values_only,
                                     limits=limits, inspect=inspect)
            if bpath is not None:
                if report.written:
                    report.backup_path = str(bpath)
                else:  # nothing was replaced: the backup is an identical copy, drop it
                    with contextlib.suppress(OSError):
                        bpath.unlink()
            excel_lock = dest.with_name("~$" + dest.name)
            if excel_lock.exists():
                report.notes.append(f"{excel_lock.name} exists: the workbook may be open in "
                                    "Excel, which will not see the new values until reopened")
            return report
    except FileRejected as exc:
        if raise_errors:
            raise
        return WorkbookReport(str(src), str(dest), status="rejected", error=exc.reason)
    except WorkbookLocked as exc:
        if raise_errors:
            raise
        return WorkbookReport(str(src), str(dest), status="locked", error=str(exc))
    except Exception as exc:
        if raise_errors:
            raise
        return WorkbookReport(str(src), str(dest), status="failed",
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
