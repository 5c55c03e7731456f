"""Text output that never fails on the console's encoding.

A Chinese Windows console, or a pipe or file under it, encodes as GBK (code page 936) — or
whatever ``PYTHONIOENCODING`` says — and Python raises ``UnicodeEncodeError`` at the first
character outside it (``−``, ``✓``, a rare name character), after half the output is written.
:func:`configure_streams` makes standard output and error safe before anything is printed:

* a **file** (``xlbridge score … > 申诉.txt``) under a non-UTF-8 encoding is written as UTF-8
  with a byte-order mark, which Notepad, Excel and WPS open correctly, so nothing is lost
  (appending to a file that is not empty adds no second mark);
* a **terminal or pipe** keeps its encoding — the program at the other end expects it — and
  a character it cannot hold is replaced (``?``) instead of ending the run.

UTF-8 streams are left exactly as they are.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import stat
import sys
from typing import Any, TextIO


def _is_utf8(encoding: str | None) -> bool:
    if not encoding:
        return False
    try:
        return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    except LookupError:
        return False


def _kind(stream: Any) -> str | None:
    """'file', 'tty' or 'pipe' for a stream backed by a file descriptor; None otherwise."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None
    try:
        if os.isatty(fd):
            return "tty"
        mode = os.fstat(fd).st_mode
    except OSError:
        return None
    return "file" if stat.S_ISREG(mode) else "pipe"


def safe_stream(stream: TextIO, marked: set[tuple[int, int]] | None = None) -> TextIO:
    """Reconfigure ``stream`` (see the module docstring); returns it. ``marked`` holds the
    files already given a byte-order mark (``> out.txt 2>&1``: one mark, not two)."""
    if not isinstance(stream, io.TextIOWrapper) or _is_utf8(stream.encoding):
        return stream
    kind = _kind(stream)
    if kind is None:
        return stream
    with contextlib.suppress(Exception):
        stream.flush()
    if kind == "file":
        marked = set() if marked is None else marked
        try:
            st = os.fstat(stream.fileno())
            first = st.st_size == 0 and (st.st_dev, st.st_ino) not in marked
            marked.add((st.st_dev, st.st_ino))
        except OSError:
            first = False
        stream.reconfigure(encoding="utf-8", errors="replace")
        if first:   # now, so that stderr written first into the same file cannot precede it
            stream.buffer.write(codecs.BOM_UTF8)
            stream.buffer.flush()
    else:
        stream.reconfigure(errors="replace")
    return stream


def configure_streams() -> None:
    """Make ``sys.stdout`` and ``sys.stderr`` safe for any text (call before printing)."""
    marked: set[tuple[int, int]] = set()
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name, None)
        if stream is not None:
            safe_stream(stream, marked)
