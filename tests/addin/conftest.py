"""Fixtures for the Excel add-in: a private scheme store, and real xlwings Books built by
xlwings' remote engine from a sheet's JSON (the shape the Office.js client sends)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import xlwings as xw

from xlbridge.store import REPO_SCHEMES, SchemeStore, reset_default_store


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SchemeStore]:
    """The process-wide store on a temporary 'synced' folder plus the shipped schemes."""
    synced = tmp_path / "synced"
    synced.mkdir()
    monkeypatch.setenv("XLBRIDGE_STORE", str(synced))
    s = reset_default_store([synced, REPO_SCHEMES])
    s.recheck_seconds = 0  # notice new files at once
    yield s
    # Restore XLBRIDGE_STORE before rebuilding the default store: this teardown runs before
    # monkeypatch's own, and a store built now would keep pointing at this test's folder
    # (and its version-2 schemes) for every later test in the process.
    monkeypatch.undo()
    reset_default_store()


@pytest.fixture
def remote_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[xw.Engine]:
    """xlwings' remote engine, which needs a license key: the noncommercial one, set here
    only (end users of the desktop add-in need no key)."""
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    added = None
    if "remote" not in [e.name for e in xw.engines]:
        from xlwings.pro import _xlremote

        added = xw.Engine(impl=_xlremote.engine)
        xw.engines.add(added)
    yield xw.engines["remote"]
    if added is not None:
        xw.engines.engines.remove(added)
        xw.engines.engines_by_name.pop("remote", None)


def number(text: str) -> Any:
    """A CSV field as Excel holds it: numbers as floats, blanks as None."""
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text


def sheet_json(name: str, values: list[list[Any]], **extra: Any) -> dict[str, Any]:
    return {"name": name, "values": values, "pictures": [], "tables": [], "notes": [],
            **extra}


@pytest.fixture
def make_book(remote_engine: xw.Engine) -> Callable[..., xw.Book]:
    """``make_book(sheets, names=[...])`` → an xw.Book as Excel's Office.js client sends it."""

    def make(sheets: list[dict[str, Any]], names: list[dict[str, Any]] | None = None,
             name: str = "考核表.xlsx", active: int = 0) -> xw.Book:
        data = {"client": "Office.js", "version": xw.__version__,
                "book": {"name": name, "active_sheet_index": active, "selection": "A1"},
                "names": names or [], "sheets": sheets}
        return xw.Book(json=data)

    return make


def actions(book: xw.Book, func: str | None = None) -> list[dict[str, Any]]:
    acts = book.json()["actions"]
    return [a for a in acts if func is None or a["func"] == func]
