"""What a recompute did to one workbook."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from xlbridge.i18n import t as tr

__all__ = ["CellIssue", "WorkbookReport", "unsupported_function"]


def unsupported_function(name: str) -> str:
    """The reason of a cell that calls a function recompute does not compute."""
    return tr("不支持的函数 {name}", name=name)


def _unsupported_function_name(message: str) -> str | None:
    """The function an :func:`unsupported_function` reason names (same language)."""
    head, _, tail = unsupported_function("\0").partition("\0")
    if message.startswith(head) and message.endswith(tail) and len(message) > len(head + tail):
        return message[len(head):len(message) - len(tail)]
    return None


@dataclass(frozen=True)
class CellIssue:
    """One finding about one cell, printed as ``Sheet1!C5: unsupported function FOO``."""

    sheet: str
    cell: str
    kind: str      # "unsupported", "circular", "function-error", "internal-error",
                   # "error-value", "array"
    message: str

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}: {self.message}"


@dataclass
class WorkbookReport:
    """Result of recomputing one workbook.

    ``status`` is ``"ok"`` (file written, or nothing needed writing), ``"dry-run"``,
    ``"rejected"`` (unsafe/unsupported file: see ``error``), ``"locked"`` (another recompute
    holds the lock), ``"read-only"`` (the file may not be changed), ``"timeout"`` (it took
    longer than the time allowed per file) or ``"failed"`` (unexpected error, or the backup
    could not be made); in every case but ``"ok"`` the original file is untouched.
    """

    path: str
    out_path: str | None = None
    status: str = "ok"
    error: str | None = None
    formulas: int = 0          # formula cells found
    recomputed: int = 0        # formula cells evaluated by the recalculator
    kept_cached: int = 0       # formula cells that kept the value stored in the file
    changed: int = 0           # cells whose stored value was rewritten
    unsupported: list[CellIssue] = field(default_factory=list)
    circular: list[CellIssue] = field(default_factory=list)
    function_errors: list[CellIssue] = field(default_factory=list)
    error_values: list[CellIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    backup_path: str | None = None
    written: bool = False

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "dry-run")

    @property
    def unsupported_functions(self) -> dict[str, int]:
        """Unsupported function name → number of cells using it."""
        c: Counter[str] = Counter()
        for issue in self.unsupported:
            name = _unsupported_function_name(issue.message)
            if name is not None:
                c[name] += 1
        return dict(c)

    def issues(self) -> list[CellIssue]:
        return [*self.unsupported, *self.circular, *self.function_errors]

    def summary(self) -> str:
        parts = [tr("{path}：{status}", path=self.path, status=self.status)]
        if self.error:
            parts.append(self.error)
        else:
            parts.append(tr("重算公式 {recomputed}/{formulas} 个，值有变化 {changed} 个",
                            recomputed=self.recomputed, formulas=self.formulas,
                            changed=self.changed))
            if self.unsupported:
                fn = tr("、").join(f"{k}×{v}" for k, v in self.unsupported_functions.items())
                parts.append(tr("不支持 {n} 处", n=len(self.unsupported))
                             + (tr("（{functions}）", functions=fn) if fn else ""))
            if self.circular:
                parts.append(tr("循环引用 {n} 处", n=len(self.circular)))
            if self.function_errors:
                parts.append(tr("函数出错 {n} 处", n=len(self.function_errors)))
        return tr("；").join(parts)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("unsupported", "circular", "function_errors", "error_values"):
            d[k] = [dict(asdict(i), text=str(i)) for i in getattr(self, k)]
        d["unsupported_functions"] = self.unsupported_functions
        return d
