"""The 公示 report: scored results as a list to post on the notice board or print.

Title, period, scheme and version; one table per group (考核类别…) with 名次, 单位/姓名, 总分,
等次 and — where the grade is not simply the score's tier — the reason (a veto, a forced
grade, a quota that moved the record down, a tie at a quota line, withheld results); the
grade distribution as a bar chart. Every value is the engine's
(:func:`~xlbridge.engine.score_population` with ``explain=True``): nothing is recomputed here.

HTML for the browser (prints well too) and PDF for printing, rendered by WeasyPrint — chosen
because it embeds the CJK fonts it uses (subset) and implements CSS paged media: A4 portrait,
table headers repeated on every page, page numbers in the footer.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlbridge.arith import fmt
from xlbridge.engine import CompiledScheme
from xlbridge.i18n import current_language, t, tp
from xlbridge.results import name_input, reason

TEMPLATE = Path(__file__).with_name("publish.html")
#: CJK fonts as official notices use them: a Song face (宋体) for the text, a Hei face (黑体)
#: for headings — Noto/Source Han on Linux, SimSun/SimHei/YaHei on Windows, Songti/PingFang
#: on a Mac.
FONTS = ('"Noto Serif CJK SC"', '"Source Han Serif SC"', '"SimSun"', '"Songti SC"', "serif")
HEADING_FONTS = ('"Noto Sans CJK SC"', '"Source Han Sans SC"', '"SimHei"',
                 '"Microsoft YaHei"', '"PingFang SC"', "sans-serif")


class PublishError(RuntimeError):
    """The report could not be made (e.g. WeasyPrint's system libraries are missing)."""


@dataclass
class Row:
    rank: int | None
    name: str
    total: str
    grade: str
    reason: str
    row: int | None        # the record's row in the input (Excel numbering)
    moved: bool = False    # the grade is not the score's tier (quota, veto …)


@dataclass
class GroupTable:
    title: str             # "" for a scheme without groups
    rows: list[Row]


@dataclass
class Report:
    title: str
    period: str | None
    scheme: str            # id@version
    scheme_title: str
    unit: str
    name_header: str       # 单位 / 姓名 / 科室名称
    groups: list[GroupTable]
    distribution: list[tuple[str, int]]      # grade → count, best first
    made: str
    notes: list[str] = field(default_factory=list)


def build_report(cs: CompiledScheme, pop: Any, inputs: Sequence[dict[str, Any]], *,
                 title: str | None = None, period: str | None = None) -> Report:
    """The report's content from a scored population (``inputs``: the raw records, for the
    name column and the group of a record whose data is wrong)."""
    name_spec = name_input(cs)
    digits = cs.scheme.rounding.total.digits if cs.scheme.rounding.total else None
    keys = list(cs.scheme.groups)
    tables: dict[str, list[Row]] = {}
    for r, raw in zip(pop.records, inputs, strict=True):
        if r.group:
            group = "/".join(r.group)
        else:
            group = "/".join(str(raw.get(k) or "") for k in keys)
        name = str(raw.get(name_spec.id) or "") if name_spec else ""
        total = fmt(r.total, digits) if r.total is not None and not r.errors else ""
        grade = r.grade_text if r.ok and not r.withheld else ""
        moved = bool(r.tier and r.grade and r.tier != r.grade) or bool(r.decided_by)
        tables.setdefault(group, []).append(Row(r.rank, name or t("第 {row} 行", row=r.row),
                                                total, grade, reason(r), r.row, moved))
    for rows in tables.values():
        rows.sort(key=lambda x: (x.rank is None, x.rank or 0, x.row or 0))
    counts = Counter(r.grade_text for r in pop.records if r.ok and not r.withheld
                     and r.grade_text)
    order = [tier.label for tier in cs.tiers]
    distribution = [(g, counts[g]) for g in order]
    distribution += [(g, n) for g, n in counts.items() if g not in order]
    notes = [q.text for q in pop.quotas]
    if pop.invalid:
        notes.append(t("{n} 条记录数据有误，未计分；同组记录的名额和名次暂缓，待数据改正后重新生成",
                       n=len(pop.invalid)))
    group_names = "/".join(cs.input_by_id[k].label if k in cs.input_by_id else k for k in keys)
    return Report(
        title=title or t("{title}结果公示", title=cs.scheme.title), period=period,
        scheme=cs.ref, scheme_title=cs.scheme.title, unit=cs.scheme.unit,
        name_header=name_spec.label if name_spec else cs.scheme.unit,
        groups=[GroupTable(t("{groups}：{group}", groups=group_names, group=g)
                           if g and keys else g, rows)
                for g, rows in tables.items()],
        distribution=distribution, made=_dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        notes=notes)


def _chart(distribution: list[tuple[str, int]]) -> dict[str, Any]:
    """Geometry of the grade-distribution bar chart (an SVG drawn by the template)."""
    top = max((n for _g, n in distribution), default=0) or 1
    width, height, left, bottom = 520, 200, 40, 30
    slot = (width - left) / max(1, len(distribution))
    bars = []
    for i, (grade, n) in enumerate(distribution):
        h = (height - bottom - 20) * n / top
        x = left + i * slot + slot * 0.2
        bars.append({"x": round(x, 1), "y": round(height - bottom - h, 1),
                     "w": round(slot * 0.6, 1), "h": round(h, 1), "label": grade, "n": n,
                     "cx": round(x + slot * 0.3, 1)})
    return {"width": width, "height": height, "base": height - bottom, "left": left,
            "bars": bars}


def report_html(report: Report) -> str:
    """The report as one self-contained HTML page (styles and chart inline)."""
    from jinja2 import Environment, select_autoescape

    env = Environment(autoescape=select_autoescape(default=True), trim_blocks=True,
                      lstrip_blocks=True)
    template = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    # "第 {page} 页，共 {pages} 页" as CSS generated content: the counters between strings
    footer = '"' + t("第 {page} 页，共 {pages} 页").replace('"', "") \
        .replace("{pages}", '" counter(pages) "').replace("{page}", '" counter(page) "') + '"'
    return template.render(r=report, chart=_chart(report.distribution), t=t, tp=tp,
                           page_footer=footer,
                           fonts=", ".join(FONTS), heading_fonts=", ".join(HEADING_FONTS),
                           lang="zh-CN" if current_language() == "zh" else "en")


def report_pdf(report: Report) -> bytes:
    """The report as a PDF: A4 portrait, headers repeated on each page, fonts embedded."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:    # OSError: Pango/GLib not installed
        raise PublishError(t("无法生成 PDF：WeasyPrint 或它需要的系统库（Pango）未安装（{error}）；"
                             "请改用 .html，在浏览器中打印", error=exc)) from None
    return HTML(string=report_html(report)).write_pdf()
