"""Validation messages a scheme author can act on: file, line, path, what was expected."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from xlbridge.i18n import t, tn

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


#: the origin of a scheme that came from no file (a server's answer, a web form)
UNNAMED = "<scheme>"


def unnamed(origin: str | None) -> str:
    """A scheme's origin as messages name it: the file, or ``<方案>``."""
    return t("<方案>") if origin in (None, UNNAMED) else origin  # type: ignore[return-value]


@dataclass(frozen=True)
class Issue:
    severity: Severity
    path: str
    message: str
    code: str = "invalid"
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        """``county.yaml:42 tiers[1].at_least：错误：…`` (``file:line`` as editors read it)."""
        where = unnamed(self.file)
        if self.line is not None:
            where += f":{self.line}"
        severity = t("错误") if self.severity == "error" else t("警告")
        if self.path:
            return t("{where} {path}：{severity}：{message}", where=where, path=self.path,
                     severity=severity, message=self.message)
        return t("{where}：{severity}：{message}", where=where, severity=severity,
                 message=self.message)

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
        return "\n".join(str(i) for i in self.issues) or t("没有问题")


class SchemeInvalid(Exception):
    """A scheme that fails validation; it is never used to compute."""

    def __init__(self, report: Report, origin: str | None = None):
        self.report = report
        self.origin = origin
        n = len(report.errors)
        head = tn("方案 {origin} 有误（{n} 处错误）：", "方案 {origin} 有误（{n} 处错误）：", n,
                  origin=unnamed(origin)) if origin else tn("方案有误（{n} 处错误）：",
                                                   "方案有误（{n} 处错误）：", n)
        super().__init__(f"{head}\n{report}")
