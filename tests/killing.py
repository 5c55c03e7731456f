"""kill -9 at a random moment of `xlbridge recompute` (with and without ``--backup``), then
look at what is left: every workbook must be its old bytes or its complete new bytes, every
backup a byte-identical copy of the old file, no worker may outlive the killed command, and
the next run must leave no temporary file or lock behind.

Used by ``tests/recompute/test_recompute_kill.py`` (a few dozen trials, marked slow) and by
``benchmarks/reliability.py kill`` (the ≥ 100 trials of ``docs/reliability.md``).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "workbooks" / "templates"


@dataclass
class KillResults:
    trials: int = 0
    killed_while_running: int = 0       # the command had not finished when it was killed
    corrupted: int = 0                  # a workbook neither its old nor its new bytes
    broken_backups: int = 0             # a backup that is not the old file, byte for byte
    backups_of_unchanged: int = 0       # a backup beside a workbook that kept its old bytes
    temps_after_kill: int = 0           # temporary files right after the kill (expected)
    temps_after_next_run: int = 0       # … and after the next run (must be 0)
    locks_after_next_run: int = 0
    surviving_workers: int = 0
    next_run_failed: int = 0
    notes: list[str] = field(default_factory=list)

    def failures(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("corrupted", "broken_backups",
                                              "temps_after_next_run", "locks_after_next_run",
                                              "surviving_workers", "next_run_failed")
                if getattr(self, k)}


def _sources(work: Path) -> dict[str, bytes]:
    """The workbooks of one trial: a 3,000-row template without stored values (rewritten),
    a shipped template (PERF_* functions, already computed: left alone) and a small one."""
    sys.path.insert(0, str(REPO / "tests" / "recompute"))
    from recompute_helpers import make_template

    from tests.hostile import small_workbook

    src = work / "sources"
    src.mkdir(parents=True, exist_ok=True)
    make_template(src / "考核表.xlsx", rows=3000, image=True)
    small_workbook(src / "小表.xlsx")
    shipped = sorted(TEMPLATES.glob("*.xlsx"))[0]
    shutil.copy(shipped, src / "方案模板.xlsx")
    return {p.name: p.read_bytes() for p in sorted(src.iterdir())}


def _command(folder: Path, backup: bool, jobs: int) -> list[str]:
    return [sys.executable, "-m", "xlbridge.cli", "recompute", str(folder), "--jobs",
            str(jobs), *(["--backup"] if backup else [])]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(x) for x in path.read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][:1]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _leftovers(folder: Path, suffixes: tuple[str, ...]) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".~")
            and p.name.endswith(suffixes)]


def kill_trials(runs: int, *, backup: bool, work: Path, seed: int = 13) -> KillResults:
    """Trials of kill -9 during `xlbridge recompute DIR [--backup]` until ``runs`` kills
    have landed while the command was still running (a kill after it finished proves
    nothing; those trials are counted too)."""
    rng = random.Random(seed)
    originals = _sources(work)
    reference = work / "reference"
    shutil.copytree(work / "sources", reference)
    start = time.perf_counter()
    done = subprocess.run(_command(reference, False, 1), capture_output=True, text=True)
    duration = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"the reference run failed: {done.stdout}\n{done.stderr}")
    expected = {name: (reference / name).read_bytes() for name in originals}
    again = work / "again"
    shutil.copytree(work / "sources", again)
    subprocess.run(_command(again, False, 1), capture_output=True, check=True)
    if any((again / n).read_bytes() != expected[n] for n in originals):
        raise RuntimeError("recompute is not deterministic: cannot tell new bytes from bad ones")
    results = KillResults()
    trial = -1
    while results.killed_while_running < runs and trial < 3 * runs:
        trial += 1
        folder = work / f"trial-{trial}"
        shutil.copytree(work / "sources", folder)
        jobs = 1 if trial % 2 == 0 else 2  # with one job the worker writes, with two both do
        proc = subprocess.Popen(_command(folder, backup, jobs), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        # any moment of the run; every other trial in its second half, where files are written
        at = rng.uniform(0.0, duration) if trial % 4 < 2 else rng.uniform(duration * 0.5,
                                                                          duration)
        workers: set[int] = set()
        deadline = time.perf_counter() + at
        while time.perf_counter() < deadline and proc.poll() is None:
            workers.update(_children(proc.pid))
            time.sleep(0.005)
        workers.update(_children(proc.pid))
        if proc.poll() is None:
            results.killed_while_running += 1
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        settle = time.perf_counter() + 3
        while any(_alive(w) for w in workers) and time.perf_counter() < settle:
            time.sleep(0.02)
        results.surviving_workers += sum(_alive(w) for w in workers)
        results.trials += 1
        for name, old in originals.items():
            now = (folder / name).read_bytes()
            if now not in (old, expected[name]):
                results.corrupted += 1
                results.notes.append(f"trial {trial}: {name} corrupted ({len(now)} bytes)")
            stem, suffix = name.rsplit(".", 1)
            for b in folder.glob(f"{stem}.backup-*.{suffix}"):
                if b.read_bytes() != old:
                    results.broken_backups += 1
                    results.notes.append(f"trial {trial}: broken backup {b.name}")
                elif now == old:
                    results.backups_of_unchanged += 1
        results.temps_after_kill += len(_leftovers(folder, (".tmp", ".inplace")))
        after = subprocess.run(_command(folder, False, 1), capture_output=True, text=True)
        if after.returncode != 0:
            results.next_run_failed += 1
            results.notes.append(f"trial {trial}: next run: {after.stdout[-500:]}")
        results.temps_after_next_run += len(_leftovers(folder, (".tmp", ".inplace")))
        results.locks_after_next_run += len(_leftovers(folder, (".lock",)))
        for name in originals:
            if (folder / name).read_bytes() != expected[name]:
                results.corrupted += 1
                results.notes.append(f"trial {trial}: {name} wrong after the next run")
        shutil.rmtree(folder)
    return results


if __name__ == "__main__":  # pragma: no cover - a quick manual run
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(kill_trials(int(sys.argv[1]) if len(sys.argv) > 1 else 5, backup=True,
                          work=Path(tmp)))
    os._exit(0)
