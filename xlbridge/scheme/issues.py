"""Validation messages a scheme author can act on: file, line, path, what was expected."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


def format_path(parts: Sequence[str | int]) -> str:
    """('tiers', 1, 'at_least') → 'tiers[1].at_least'."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out


@dataclass(frozen=True)
class Issue:
    severity: Severity
    path: str
    message: str
    code: str = "invalid"
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file or "<scheme>"
        if self.line is not None:
            where += f":{self.line}"
        path = f" {self.path}:" if self.path else ""
        return f"{where}:{path} {self.severity}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {"severity": self.severity, "path": self.path, "message": self.message,
                "code": self.code, "file": self.file, "line": self.line}


@dataclass
class Report:
    """All issues found in one scheme; ``ok`` when there is no error (warnings allowed)."""

    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def extend(self, issues: Iterable[Issue]) -> None:
        self.issues.extend(issues)

    def __str__(self) -> str:
        return "\n".join(str(i) for i in self.issues) or "no issues"


class SchemeInvalid(Exception):
    """A scheme that fails validation; it is never used to compute."""

    def __init__(self, report: Report, origin: str | None = None):
        self.report = report
        self.origin = origin
        head = f"scheme {origin} is invalid" if origin else "scheme is invalid"
        n = len(report.errors)
        super().__init__(f"{head} ({n} error{'s' if n != 1 else ''}):\n{report}")
