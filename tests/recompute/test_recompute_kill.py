"""kill -9 at random moments of `xlbridge recompute` and `--backup` (issue 13, items 8 and 9):
no corrupted workbook, no broken backup, no surviving worker, nothing left after the next
run. The ≥ 100-trial figures of docs/reliability.md come from the same harness
(`benchmarks/reliability.py kill`); here a dozen trials of each, marked slow."""

from __future__ import annotations

import sys

import pytest

from tests.killing import kill_trials

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]


@pytest.mark.parametrize("backup", [False, True], ids=["recompute", "backup"])
def test_kill_9_at_random_leaves_nothing_broken(tmp_path, backup):
    results = kill_trials(12, backup=backup, work=tmp_path, seed=1 + backup)
    assert results.killed_while_running == 12 and results.trials >= 12
    assert results.failures() == {}, results.notes
