"""External programs and services some tests need (LibreOffice, Chromium, PostgreSQL).

A test that needs one calls :func:`require_tool`; without the program it is skipped on a
developer's machine and fails in CI (``XLBRIDGE_REQUIRE_ALL=1``, set by ``.ci/run``), so a
CI machine that lost a package cannot turn the oracle tests into silent skips.

This is a plain module with a unique name, not ``conftest``: test modules in different
folders importing ``conftest`` get whichever conftest was imported first.
"""

from __future__ import annotations

import os
import shutil

import pytest


def require_all() -> bool:
    """True in CI, where every optional tool must be present."""
    return os.environ.get("XLBRIDGE_REQUIRE_ALL") == "1"


def missing(what: str, hint: str = "") -> None:
    """Skip (developer machine) or fail (CI) because ``what`` is not available."""
    if require_all():
        pytest.fail(f"{what} is required in CI but not available{hint}")
    pytest.skip(f"{what} not available{hint}")


def require_tool(*names: str) -> str:
    """Path of the first of ``names`` found on PATH; skip without it unless in CI."""
    for name in names:
        path = shutil.which(name)
        if path is not None:
            return path
    missing(" or ".join(names))
    raise AssertionError("unreachable")  # missing() always raises
