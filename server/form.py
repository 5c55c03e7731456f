"""The editor's form: a scheme document's rules as fields, generated from the scheme model,
and posted fields written back into the document. No Flask here.

Every field is named by its path in the document (``tiers[1].at_least``), which is also the
path the validator puts on its messages, so a message lands beside the field it names
(:func:`place`). What a field is — a number, a percentage, a tier bound, a condition, a
choice, yes/no — comes from the pydantic model (:func:`model_field`): the validator that
the model puts on the field, its ``Literal`` choices. Labels, choices and help texts come
from the message catalogue, in the page's language (:data:`LABELS`, :data:`CHOICE_NAMES`,
:data:`HELP`; the model's own descriptions are the JSON Schema's, in English).

The form edits the document in place: keys it does not show (sources, notes, rank rules…)
are kept as they are, so the form and the YAML text are two views of one document.
"""

from __future__ import annotations

import copy
import json
import re
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel

from server.yamltext import tidy
from xlbridge.arith import RoundingMode
from xlbridge.i18n import N_, NP_, gettext, t, tp
from xlbridge.scheme.describe import (
    METHOD_NAMES,
    PERIOD_NAMES,
    ROUNDING_NAMES,
    TYPE_NAMES,
    named,
)
from xlbridge.scheme.issues import Issue, format_path
from xlbridge.scheme.model import (
    Adjustments,
    Category,
    Condition,
    DeductionPart,
    DirectPart,
    InputField,
    Item,
    Payout,
    PayoutRule,
    QuotaLimit,
    Quotas,
    Rounding,
    Scheme,
    Tier,
    TieRule,
)

VALUE = "f:"  # a field's value: f:tiers[1].label
OPERATOR = "o:"  # the chosen key of a bound or an outcome: o:tiers[1]~low

Path = tuple[str | int, ...]

#: the column a clerk reads, per field name
LABELS = {
    "title": NP_("web", "名称"), "id": NP_("web", "编号"), "unit": NP_("web", "考核对象"),
    "period": NP_("web", "周期"), "max_score": NP_("web", "满分"),
    "groups": NP_("web", "分组（输入项编号）"), "description": NP_("web", "方案说明（作者撰写）"),
    "label": NP_("web", "名称"), "type": NP_("web", "类型"), "blank": NP_("web", "空白表示"),
    "method": NP_("web", "计分方法"), "points": NP_("web", "分值"), "weight": NP_("web", "权重"),
    "scale": NP_("web", "按几分制打分"), "applies_when": NP_("web", "适用条件"),
    "cap": NP_("web", "封顶"), "amount": NP_("web", "每次分值"),
    "knockout": NP_("web", "达几次不得分"), "floor": NP_("web", "最低得分"),
    "requires": NP_("web", "门槛条件"), "when": NP_("web", "条件"), "veto": NP_("web", "一票否决"),
    "then": NP_("web", "结果"), "tier": NP_("web", "等次"), "share": NP_("web", "比例"),
    "count": NP_("web", "人数"), "group_by": NP_("web", "分组（输入项编号）"),
    "rounding": NP_("web", "人数取整"), "base": NP_("web", "人数基数"),
    "rule": NP_("web", "并列时"), "keys": NP_("web", "依次比较（编号）"),
    "unit_pay": NP_("web", "单位"), "grades": NP_("web", "仅限等次"),
    "pay_as": NP_("web", "按等次发放（none 为不发）"), "digits": NP_("web", "总分保留小数位"),
    "mode": NP_("web", "取舍方式"),
}
CHOICE_NAMES: dict[str, dict[str, str]] = {
    "period": PERIOD_NAMES, "method": METHOD_NAMES, "type": TYPE_NAMES,
    "blank": {"error": N_("报错"), "zero": N_("按 0"), "false": N_("按“否”"),
              "empty": N_("留空")},
    "rounding": ROUNDING_NAMES,
    "mode": {"half_up": N_("四舍五入"), "up": N_("向上舍入"), "down": N_("向下舍去"),
             "half_even": N_("银行家舍入"), "floor": N_("向下取整"), "ceiling": N_("向上取整")},
    "base": {"all": N_("全部记录"), "graded": N_("仅有等次者")},
    "rule": {"all_in": N_("全部入选"), "all_out": N_("全部不入选"), "keys": N_("依次比较")},
    "then": {"all_in": N_("全部入选"), "all_out": N_("全部不入选")},
}
LOW = (("at_least", N_("≥ 不低于")), ("above", N_("> 高于")))
HIGH = (("below", N_("< 低于")), ("at_most", N_("≤ 不高于")))
OUTCOMES = (("grade", N_("确定为等次")), ("at_most", N_("最高为等次")),
            ("no_grade", N_("不确定等次")), ("flag", N_("只作标记")))
#: each field's help (its tooltip), by model and field; a field not here has none
HELP = {
    "Scheme.title": N_("方案的中文名称"),
    "Scheme.unit": N_("考核对象：部门、乡镇、村、科室、个人……"),
    "Scheme.max_score": N_("满分：各考核项目分值之和"),
    "Scheme.groups":
        N_("把记录分组的输入项编号（如科级/中层/一般、一档/二档）：名额和名次按组计算"),
    "Rounding.digits": N_("小数点后保留几位（可为负数）"),
    "Rounding.mode": N_("取舍方式；四舍五入与 Excel 的 ROUND 相同"),
    "InputField.label": N_("填表人看到的列名，如“病事假天数”"),
    "InputField.type":
        N_("数字；次数（不小于 0 的整数）；是/否；选项（labels 中的一项）；文本（如类别）"),
    "InputField.blank": N_("空白单元格表示什么：报错（默认）、0、“否”或留空"),
    "DirectPart.points": N_("本项满分时的分值"),
    "DirectPart.weight": N_("或：占上一级分值的比例（权重），0% 到 100%，如 80%"),
    "DirectPart.scale":
        N_("本项的输入按几分制打分（如百分制的分项按 80% 计入时填 100）；默认等于分值"),
    "DirectPart.applies_when": N_("只有条件成立时本项才适用（否则按 not_applicable 处理）"),
    "Item.amount": N_("每次的分值"),
    "Item.cap": N_("本事项最多计这么多分"),
    "Item.knockout":
        N_("减分制项目中：达到这么多次，本项按最低得分计（如迟到 10 次得 0 分，004:497）"),
    "Adjustments.cap": N_("累计不超过这么多分；不填为不封顶"),
    "Category.cap": N_("本类累计不超过这么多分；不填为不封顶"),
    "DeductionPart.floor": N_("本项最低得这么多分"),
    "DeductionPart.cap": N_("累计最多扣这么多分"),
    "Tier.requires":
        N_("门槛：每个条件都成立才能评为这一等次（如“优秀须同时符合……”，002:249），否则评为下一"
           "等次"),
    "Tier.at_least": N_("总分 ≥ 此值（含）"),
    "Tier.above": N_("总分 > 此值（不含）"),
    "Tier.below": N_("总分 < 此值（不含）"),
    "Tier.at_most": N_("总分 ≤ 此值（含）"),
    "Quotas.group_by": N_("构成分组的输入项编号（默认：方案的分组）"),
    "Quotas.rounding": N_("比例 × 组内人数如何取整为人数（如 7 × 25% 四舍五入为 2，002:568）"),
    "Quotas.base": N_("组内人数按全部记录计，还是只计有等次的记录"),
    "TieRule.keys": N_("按“依次比较”时：依次比较的项目或输入项编号，高者优先"),
    "TieRule.then": N_("按“依次比较”时：这些也相同时怎么办"),
    "Condition.veto": N_("在说明中标为“一票否决”"),
    "Payout.base": N_("存放月基本工资的输入项"),
    "Payout.amounts": N_("各等次的金额，如 优秀：2100"),
    "Payout.base_months": N_("各等次发几个月的基本工资，如 优秀：1、良好：0.5"),
    "PayoutRule.grades": N_("只适用于这些等次"),
    "PayoutRule.pay_as": N_("改按这个等次的金额发放；none 为不发"),
}
LEAF_METHODS = ("direct", "ratio", "rate", "rating", "grade", "rank", "deduction")


# --------------------------------------------------------------------------- paths


def parse_path(path: str) -> Path:
    """'tiers[1].at_least' → ('tiers', 1, 'at_least'); the inverse of format_path."""
    out: list[str | int] = []
    for chunk in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        out.append(int(chunk[1:-1]) if chunk.startswith("[") else chunk)
    return tuple(out)


def get(doc: Any, path: Path, default: Any = None) -> Any:
    node = doc
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return default
        elif not isinstance(node, dict) or step not in node:
            return default
        node = node[step]
    return node


def put(doc: Any, path: Path, value: Any, present: bool = True) -> None:
    """Set (or, with ``present=False``, remove) the value at ``path``; missing mappings on
    the way are made only to set a value."""
    node = doc
    for step in path[:-1]:
        nxt = get(node, (step,))
        if not isinstance(nxt, (dict, list)):
            if not present or isinstance(step, int) or not isinstance(node, dict):
                return  # nothing to remove, or a row that is not there
            nxt = node[step] = {}
        node = nxt
    last = path[-1]
    if isinstance(last, int):
        if isinstance(node, list) and last < len(node) and present:
            node[last] = value
        return
    if not isinstance(node, dict):
        return
    if present:
        node[last] = value
    else:
        node.pop(last, None)


# --------------------------------------------------------------------------- fields


@dataclass
class Field:
    path: str
    kind: str  # text, longtext, amount, share, bound, expr, id, int, bool, choice, ids, lines,
    #            outcome
    label: str
    value: str = ""
    help: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    operator: str = ""  # bound/outcome: the key chosen
    operators: tuple[tuple[str, str], ...] = ()
    keys: tuple[str, ...] = ()  # bound/outcome: the keys the operator chooses among
    covers: tuple[str, ...] = ()  # other paths whose messages belong here
    checked: bool = False
    optional: bool = True  # may be left empty (the model has a default, or none is needed)
    default: str = ""  # what an empty choice means, as the model's default says

    @property
    def name(self) -> str:
        return VALUE + self.path

    @property
    def operator_name(self) -> str:
        return OPERATOR + self.path


_VALIDATOR_KINDS = {"_number": "amount", "_share": "share", "_bound": "bound",
                    "_expression": "expr", "_identifier": "id"}


def _validators(annotation: Any, metadata: list) -> set[str]:
    found = {getattr(getattr(m, "func", None), "__name__", "") for m in metadata}
    for arg in typing.get_args(annotation):
        found |= _validators(arg, list(getattr(arg, "__metadata__", ())))
    extra = getattr(annotation, "__metadata__", ())
    found |= {getattr(getattr(m, "func", None), "__name__", "") for m in extra}
    return found


def model_field(model: type[BaseModel], name: str) -> tuple[str, str, list[str]]:
    """What the model says a field is: (kind, help text, choices)."""
    info = model.model_fields[name]
    annotation = info.annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        annotation = args[0]
    funcs = _validators(annotation, list(info.metadata))
    kind = next((k for f, k in _VALIDATOR_KINDS.items() if f in funcs), None)
    origin = typing.get_origin(annotation)
    choices: list[str] = []
    if origin is list:
        kind = "lines" if kind == "expr" else "ids"
    elif origin is Literal:
        kind, choices = "choice", [str(a) for a in typing.get_args(annotation)]
    elif isinstance(annotation, type) and issubclass(annotation, RoundingMode):
        kind, choices = "choice", [m.value for m in RoundingMode]
    elif annotation is bool:
        kind = "bool"
    elif annotation is int:
        kind = "int"
    elif kind is None:
        kind = "text"
    return kind, info.description or "", choices


def help_of(model: type[BaseModel], name: str) -> str:
    """A field's help in the page's language (the model's own description is the JSON
    Schema's, in English)."""
    text = HELP.get(f"{model.__name__}.{name}")
    return gettext(text) if text else ""


def shown(value: Any) -> str:
    """A document value as a field shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return t("是") if value else ""
    if isinstance(value, list):
        return "、".join(shown(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def make(model: type[BaseModel], name: str, base: Path, doc: Any, label: str | None = None,
         choices: list[tuple[str, str]] | None = None) -> Field:
    kind, _, literal = model_field(model, name)
    help_text = help_of(model, name)
    path = (*base, name)
    value = get(doc, path)
    label = label or (tp("web", LABELS[name]) if name in LABELS else name)
    f = Field(format_path(path), kind, label, help=help_text)
    if kind == "lines":
        f.value = "\n".join(str(v) for v in value or [])
    elif kind == "bool":
        f.checked = bool(value)
    else:
        f.value = shown(value)
    info = model.model_fields[name]
    f.optional = not info.is_required()
    if kind == "choice":
        names = CHOICE_NAMES.get(name, {})
        f.choices = choices or [(c, named(names, c)) for c in literal]
        if f.optional and isinstance(info.default, str) and info.default:
            f.default = dict(f.choices).get(info.default, info.default)
    if model is Scheme and name == "description":
        f.kind = "longtext"
    return f


def bound(doc: Any, base: Path, side: str) -> Field:
    """A tier's lower or upper bound: which key (≥ or >, ≤ or <) and its value."""
    options = LOW if side == "low" else HIGH
    tier = get(doc, base, {})
    chosen = next((k for k, _ in options if isinstance(tier, dict) and k in tier), options[0][0])
    help_text = help_of(Tier, chosen)
    keys = tuple(k for k, _ in options)
    return Field(format_path((*base,)) + f"~{side}", "bound",
                 t("下限") if side == "low" else t("上限"), shown(get(tier, (chosen,))),
                 help=t("分数（90）或满分的比例（90%）；") + help_text, operator=chosen,
                 operators=_translated(options), keys=keys,
                 covers=tuple(format_path((*base, k)) for k in keys))


def _translated(options: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple((key, gettext(text)) for key, text in options)


def outcome(doc: Any, base: Path) -> Field:
    then = get(doc, (*base, "then"), {}) or {}
    chosen = next((k for k, _ in OUTCOMES if k in then), "flag")
    value = "" if chosen == "no_grade" else shown(then.get(chosen))
    path = format_path((*base, "then"))
    return Field(path, "outcome", tp("web", "结果"), value,
                 help=t("条件成立时的结果：确定为某等次、最高为某等次、不确定等次，或只作标记"),
                 operator=chosen, operators=_translated(OUTCOMES),
                 keys=tuple(k for k, _ in OUTCOMES),
                 covers=tuple(f"{path}.{k}" for k, _ in OUTCOMES))


# --------------------------------------------------------------------------- the layout


@dataclass
class Row:
    slot: str
    cells: list[Field | None]
    depth: int = 0
    actions: list[tuple[str, str]] = field(default_factory=list)
    head: str = ""  # a row that only names what follows (a category, an adjustment)


@dataclass
class Table:
    slot: str
    columns: list[str]
    rows: list[Row]
    actions: list[tuple[str, str]] = field(default_factory=list)
    title: str = ""


@dataclass
class Section:
    key: str
    title: str
    slot: str
    fields: list[Field] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    actions: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""


@dataclass
class Form:
    sections: list[Section]

    def fields(self) -> Iterator[Field]:
        for s in self.sections:
            yield from s.fields
            for table in s.tables:
                for r in table.rows:
                    yield from (c for c in r.cells if c is not None)

    def slots(self) -> set[str]:
        out = {""}
        for s in self.sections:
            out.add(s.slot)
            for table in s.tables:
                out.add(table.slot)
                out.update(r.slot for r in table.rows)
        out.update(f.path for f in self.fields())
        return out


_ADJUSTMENTS = (("bonuses", N_("加分")), ("deductions", N_("扣分")))


def _delete(path: Path) -> tuple[str, str]:
    return f"del:{format_path(path)}", t("删除")


def _list(doc: Any, path: Path) -> list:
    value = get(doc, path)
    return value if isinstance(value, list) else []


def build(doc: Mapping[str, Any]) -> Form:
    """The form for a document (which may be invalid: the fields show what it says)."""
    doc = doc if isinstance(doc, dict) else {}
    sections = [_basics(doc), _inputs(doc), _parts(doc), _caps(doc), _tiers(doc),
                _quotas(doc), _conditions(doc), _payout(doc)]
    return Form(sections)


def _basics(doc: dict) -> Section:
    fields = [make(Scheme, n, (), doc) for n in ("title", "unit", "period", "max_score",
                                                 "groups")]
    fields.append(make(Rounding, "digits", ("rounding", "total"), doc))
    fields.append(make(Rounding, "mode", ("rounding", "total"), doc, label=t("总分取舍")))
    fields.append(make(Scheme, "description", (), doc))
    return Section("basics", t("基本信息"), "", fields)


def _inputs(doc: dict) -> Section:
    rows = []
    for i, _ in enumerate(_list(doc, ("inputs",))):
        base = ("inputs", i)
        rows.append(Row(format_path(base), [make(InputField, n, base, doc) for n in
                                            ("id", "label", "type", "blank")],
                        actions=[_delete(base)]))
    table = Table("inputs", [t("编号"), t("名称（表头）"), t("类型"), t("空白表示"), ""], rows,
                  [("add:inputs", t("添加输入项"))])
    return Section("inputs", t("输入项"), "inputs", tables=[table],
                   note=t("各考核项目自带的输入列（分值、次数）不必在此声明；"
                          "这里是条件和分组要读的事实。"))


def _parts(doc: dict) -> Section:
    rows: list[Row] = []

    def walk(parts: list, base: Path, depth: int) -> None:
        for i, part in enumerate(parts):
            path = (*base, i)
            composite = isinstance(part, dict) and ("parts" in part
                                                    or part.get("method") == "composite")
            method = make(DirectPart, "method", path, doc,
                          choices=[(m, named(METHOD_NAMES, m)) for m in LEAF_METHODS])
            if composite:
                method = Field(format_path(path) + "~method", "static", t("计分方法"), t("组合"))
            cells: list[Field | None] = [
                make(DirectPart, "title", path, doc), make(DirectPart, "id", path, doc), method,
                make(DirectPart, "points", path, doc), make(DirectPart, "weight", path, doc),
                make(DirectPart, "scale", path, doc), make(DirectPart, "applies_when", path,
                                                           doc)]
            actions = [_delete(path)]
            if composite:
                actions.insert(0, (f"add:{format_path((*path, 'parts'))}", t("添加子项")))
            rows.append(Row(format_path(path), cells, depth, actions))
            if composite:
                walk(_list(doc, (*path, "parts")), (*path, "parts"), depth + 1)

    walk(_list(doc, ("parts",)), ("parts",), 0)
    table = Table("parts", [t("项目"), t("编号"), t("计分方法"), t("分值"), tp("web", "权重"),
                            t("按几分制"), t("适用条件"), ""], rows,
                  [("add:parts", t("添加项目"))])
    return Section("parts", t("考核内容与权重"), "parts", tables=[table],
                   note=t("每项填“分值”或“权重”之一：权重是上一级分值的百分比（如 60%）。"
                          "评分细则（定性评价的档次、排名分档、扣分事项的条件）在 YAML 中编辑。"))


def _caps(doc: dict) -> Section:
    rows: list[Row] = []

    def items(base: Path, depth: int, model: type[BaseModel] = Item) -> None:
        for j, _ in enumerate(_list(doc, (*base, "items"))):
            path = (*base, "items", j)
            cells = [make(Item, "title", path, doc), make(Item, "amount", path, doc),
                     make(Item, "cap", path, doc), make(Item, "knockout", path, doc)]
            rows.append(Row(format_path(path), cells, depth, [_delete(path)]))

    def adjustments(base: Path, word: str, depth: int) -> None:
        if not isinstance(get(doc, base), dict):
            return
        rows.append(Row(format_path(base), [make(Adjustments, "title", base, doc, word), None,
                                            make(Adjustments, "cap", base, doc), None],
                        depth, [(f"add:{format_path((*base, 'items'))}", t("添加事项"))],
                        head=word))
        items(base, depth + 1)
        for c, _ in enumerate(_list(doc, (*base, "categories"))):
            cbase = (*base, "categories", c)
            rows.append(Row(format_path(cbase), [make(Category, "title", cbase, doc), None,
                                                 make(Category, "cap", cbase, doc), None],
                            depth + 1, head=t("类别")))
            items(cbase, depth + 2)

    def parts(items_: list, base: Path) -> None:
        for i, part in enumerate(items_):
            path = (*base, i)
            if not isinstance(part, dict):
                continue
            if part.get("method") == "deduction":
                rows.append(Row(format_path(path), [make(DeductionPart, "title", path, doc),
                                                    make(DeductionPart, "floor", path, doc),
                                                    make(DeductionPart, "cap", path, doc),
                                                    None], 0,
                                [(f"add:{format_path((*path, 'items'))}", t("添加事项"))],
                                head=t("减分制项目")))
                items(path, 1)
            if "parts" in part:
                for name, word in _ADJUSTMENTS:
                    adjustments((*path, name), f"{part.get('title', '')} · {gettext(word)}", 0)
                parts(_list(doc, (*path, "parts")), (*path, "parts"))

    parts(_list(doc, ("parts",)), ("parts",))
    for name, word in _ADJUSTMENTS:
        adjustments((name,), gettext(word), 0)
    actions = [(f"add:{n}", t("添加{what}", what=gettext(w))) for n, w in _ADJUSTMENTS
               if not isinstance(doc.get(n), dict)]
    table = Table("caps", [tp("web", "名称"), t("每次分值 / 最低得分"), tp("web", "封顶"),
                           t("达几次不得分"), ""], rows, actions)
    return Section("caps", t("加分、扣分与封顶"), "caps", tables=[table],
                   note=t("按等级计分、增长率、填报分值的事项和事项条件在 YAML 中编辑。"))


def _tiers(doc: dict) -> Section:
    rows = []
    for i, _ in enumerate(_list(doc, ("tiers",))):
        base = ("tiers", i)
        cells: list[Field | None] = [make(Tier, "label", base, doc), bound(doc, base, "low"),
                                     bound(doc, base, "high"), make(Tier, "requires", base, doc)]
        actions = [(f"up:{format_path(base)}", t("上移"))] if i else []
        actions.append(_delete(base))
        rows.append(Row(format_path(base), cells, actions=actions))
    table = Table("tiers", [tp("web", "等次"), t("下限"), t("上限"), t("门槛条件（每行一条）"), ""],
                  rows, [("add:tiers", t("添加等次"))])
    return Section("tiers", t("等次（从高到低）"), "tiers", tables=[table],
                   note=t("总分先按“总分保留小数位”取舍，再比较界限。"))


def _quotas(doc: dict) -> Section:
    q = get(doc, ("quotas",))
    if not isinstance(q, dict):
        return Section("quotas", tp("web", "名额"), "quotas",
                       actions=[("add:quotas", t("添加名额规则"))],
                       note=t("没有名额限制。"))
    base: Path = ("quotas",)
    tiers = [(t.get("label", ""), t.get("label", "")) for t in _list(doc, ("tiers",))
             if isinstance(t, dict)]
    fields = [make(Quotas, "group_by", base, doc), make(Quotas, "rounding", base, doc),
              make(Quotas, "base", base, doc), make(TieRule, "rule", (*base, "ties"), doc),
              make(TieRule, "keys", (*base, "ties"), doc),
              make(TieRule, "then", (*base, "ties"), doc, label=t("仍并列时"),
                   choices=[("", "—"), *[(k, gettext(v))
                                         for k, v in CHOICE_NAMES["then"].items()]])]
    rows = []
    for j, _ in enumerate(_list(doc, (*base, "limits"))):
        path = (*base, "limits", j)
        rows.append(Row(format_path(path),
                        [make(QuotaLimit, "tier", path, doc, choices=tiers or None),
                         make(QuotaLimit, "share", path, doc),
                         make(QuotaLimit, "count", path, doc)],
                        actions=[_delete(path)]))
    table = Table("quotas.limits", [tp("web", "等次"), t("比例（如 25%）"), t("或人数"), ""], rows,
                  [("add:quotas.limits", t("添加限额"))])
    return Section("quotas", tp("web", "名额"), "quotas", fields, [table],
                   [("del:quotas", t("删除名额规则"))],
                   note=t("超出名额者降入下一等次；并列按所选规则处理，不看行序。"))


def _conditions(doc: dict) -> Section:
    rows = []
    for i, _ in enumerate(_list(doc, ("conditions",))):
        base = ("conditions", i)
        rows.append(Row(format_path(base), [make(Condition, "title", base, doc),
                                            make(Condition, "id", base, doc),
                                            make(Condition, "when", base, doc),
                                            outcome(doc, base),
                                            make(Condition, "veto", base, doc)],
                        actions=[_delete(base)]))
    table = Table("conditions", [tp("web", "名称"), t("编号"), t("条件（如 absent_days > 2）"),
                                 tp("web", "结果"), t("一票否决"), ""],
                  rows, [("add:conditions", t("添加条件"))])
    return Section("conditions", t("否决、门槛与等次条件"), "conditions", tables=[table],
                   note=t("条件按顺序检查，第一个确定等次的条件生效。条件里写输入项的编号。"))


def _payout(doc: dict) -> Section:
    p = get(doc, ("payout",))
    if not isinstance(p, dict):
        return Section("payout", tp("web", "奖金"), "payout",
                       actions=[("add:payout", t("添加奖金规则"))],
                       note=t("没有奖金规则。"))
    key = "base_months" if "base_months" in p else "amounts"
    table_map = p.get(key) if isinstance(p.get(key), dict) else {}
    labels = [t.get("label") for t in _list(doc, ("tiers",)) if isinstance(t, dict)]
    labels += [k for k in table_map if k not in labels]
    rows = []
    for label in labels:
        if not isinstance(label, str) or not label or re.search(r"[.\[\]~]", label):
            continue  # a label that cannot be part of a path is edited in the YAML
        path = ("payout", key, label)
        f = Field(format_path(path), "amount", label, shown(table_map.get(label)),
                  help=help_of(Payout, key))
        rows.append(Row(format_path(path) + "~row", [Field(format_path(path) + "~label",
                                                         "static", tp("web", "等次"), label), f]))
    unit = t("个月") if key == "base_months" else shown(p.get("unit")) or t("元")
    amounts = Table(f"payout.{key}", [tp("web", "等次"), t("金额（{unit}）", unit=unit)], rows,
                    title=t("按月基本工资的倍数") if key == "base_months" else "")
    fields = [make(Payout, "unit", ("payout",), doc, label=t("单位"))]
    if key == "base_months":
        fields.append(make(Payout, "base", ("payout",), doc,
                           label=t("月基本工资（输入项编号）")))
    rules = []
    for j, _ in enumerate(_list(doc, ("payout", "rules"))):
        path = ("payout", "rules", j)
        rules.append(Row(format_path(path), [make(PayoutRule, n, path, doc) for n in
                                             ("title", "id", "when", "grades", "pay_as")],
                         actions=[_delete(path)]))
    rule_table = Table("payout.rules", [tp("web", "名称"), t("编号"), t("条件"), t("仅限等次"),
                                        t("改按等次发放"), ""],
                       rules, [("add:payout.rules", t("添加奖金规则"))], title=t("例外规则"))
    return Section("payout", tp("web", "奖金"), "payout", fields, [amounts, rule_table],
                   [("del:payout", t("删除奖金规则"))],
                   note=t("按比例发放（在职月份）和名次奖在 YAML 中编辑。"))


# --------------------------------------------------------------------------- posted values


def _number(text: str) -> Any:
    try:
        d = Decimal(text)
    except InvalidOperation:
        return text  # the validator says what was expected, beside the field
    if not d.is_finite():
        return text
    if d == d.to_integral_value() and "." not in text and "e" not in text.lower():
        return int(d)
    as_float = float(d)
    return as_float if Decimal(repr(as_float)) == d else text


def value_of(kind: str, raw: str) -> tuple[bool, Any]:
    """A posted text as the document's value: (present, value); empty means absent."""
    text = raw.strip()
    if kind == "bool":
        return (True, True) if text in ("1", "on", "true", "是", t("是")) else (False, None)
    if kind == "lines":
        lines = [x.strip() for x in raw.splitlines() if x.strip()]
        return bool(lines), lines
    if kind == "ids":
        ids = [x for x in re.split(r"[\s,，、;；]+", text) if x]
        return bool(ids), ids
    if not text:
        return False, None
    if kind in ("amount", "int"):
        return True, _number(text.replace("，", "").replace(",", ""))
    if kind == "bound":
        return True, text if text.endswith(("%", "％")) else _number(text)
    if kind == "longtext":
        return True, raw.strip().replace("\r\n", "\n")
    return True, text


def apply(doc: dict, posted: Mapping[str, list[str]]) -> dict:
    """``doc`` with the posted fields written into it (a new dict; ``doc`` is untouched).

    ``posted`` maps names to every value sent under them (a checkbox sends a hidden 0 and
    its 1). Only fields of the form built from ``doc`` are read: a stale or forged name
    changes nothing.
    """
    out = copy.deepcopy(doc)
    for f in build(doc).fields():
        if f.name not in posted or f.kind == "static":
            continue
        raw = posted[f.name][-1] if posted[f.name] else ""
        if f.kind in ("bound", "outcome"):
            chosen = (posted.get(f.operator_name) or [f.operator])[-1]
            if chosen != f.operator or raw.strip() != f.value.strip():
                _apply_choice(out, f, raw, chosen)
            continue
        if f.kind != "bool" and _same(f, raw):
            continue  # unchanged: the document keeps its own spelling of the value
        present, value = value_of(f.kind, raw)
        path = parse_path(f.path)
        if f.kind == "bool" and not present:
            # leave a default false unwritten, as the shipped files do
            present, value = get(out, path) is not None, False
        put(out, path, value, present)
    return tidy(out)


def _same(f: Field, raw: str) -> bool:
    if f.kind == "lines":
        return [x.strip() for x in raw.splitlines() if x.strip()] == \
            [x.strip() for x in f.value.splitlines() if x.strip()]
    return raw.strip() == f.value.strip()


def _apply_choice(doc: dict, f: Field, raw: str, chosen: str) -> None:
    if chosen not in f.keys:
        chosen = f.operator
    if f.kind == "bound":
        base = parse_path(f.path.split("~")[0])
        for key in f.keys:
            if key != chosen:
                put(doc, (*base, key), None, present=False)
        present, value = value_of("bound", raw)
        put(doc, (*base, chosen), value, present)
        return
    path = parse_path(f.path)
    if chosen == "no_grade":
        put(doc, path, {"no_grade": True})
    else:
        present, value = value_of("text", raw)
        put(doc, path, {chosen: value} if present else {chosen: ""})


# --------------------------------------------------------------------------- row actions


def _fresh(doc: Any, prefix: str) -> str:
    used = set(re.findall(rf'"id": "({prefix}\d+)"', json.dumps(doc)))
    n = 1
    while f"{prefix}{n}" in used:
        n += 1
    return f"{prefix}{n}"


def _template(doc: dict, path: Path) -> Any:
    last = path[-1]
    tiers = [t.get("label") for t in _list(doc, ("tiers",)) if isinstance(t, dict)]
    if last == "parts":
        return {"id": _fresh(doc, "part"), "title": t("新项目"), "method": "direct", "points": 0}
    if last == "tiers":
        return {"label": t("新等次")}
    if last == "conditions":
        return {"id": _fresh(doc, "condition"), "title": t("新条件"), "when": "total < 0",
                "then": {"flag": t("新标记")}}
    if last == "inputs":
        return {"id": _fresh(doc, "input"), "label": t("新输入项"), "type": "number"}
    if last == "items":
        return {"id": _fresh(doc, "item"), "title": t("新事项"), "amount": 1}
    if path == ("quotas", "limits"):
        return {"tier": tiers[0] if tiers else "", "share": "25%"}
    if path == ("payout", "rules"):
        return {"id": _fresh(doc, "rule"), "title": t("新规则"), "when": "total < 0",
                "pay_as": "none"}
    if path == ("quotas",):
        return {"limits": [{"tier": tiers[0] if tiers else "", "share": "25%"}],
                "rounding": "floor", "ties": {"rule": "all_out"}}
    if path == ("payout",):
        return {"amounts": {t: 0 for t in tiers if t}}
    if path in (("bonuses",), ("deductions",)):
        return {"cap": 0, "items": []}
    return None


LISTS = ("items", "tiers", "conditions", "inputs", "limits", "rules", "parts")


def act(doc: dict, action: str) -> dict:
    """A row action on the document: ``add:<path>`` (a new row at the end of a list, or a
    new rule), ``del:<path>``, ``up:<path>`` (swap with the row above). Unknown: no change."""
    verb, _, where = action.partition(":")
    path = parse_path(where)
    if not path:
        return doc
    out = copy.deepcopy(doc)
    if verb == "add":
        row = _template(out, path)
        if row is None:
            return doc
        current = get(out, path)
        if isinstance(current, list):
            current.append(row)
        elif current is None:
            put(out, path, [row] if path[-1] in LISTS else row)
    elif verb in ("del", "up") and isinstance(path[-1], int):
        parent = get(out, path[:-1])
        i = path[-1]
        if isinstance(parent, list) and i < len(parent):
            if verb == "del":
                parent.pop(i)
            elif i > 0:
                parent[i - 1], parent[i] = parent[i], parent[i - 1]
    elif verb == "del" and isinstance(get(out, path[:-1]), dict):
        put(out, path, None, present=False)
    return out


# --------------------------------------------------------------------------- messages


def place(form: Form, issues: list[Issue]) -> dict[str, list[Issue]]:
    """Each issue under the slot it belongs to: the field its path names (or covers), else
    the nearest enclosing row, table or section; "" for the summary only."""
    slots = form.slots()
    covered = {c: f.path for f in form.fields() for c in f.covers}
    out: dict[str, list[Issue]] = {}
    for issue in issues:
        slot = covered.get(issue.path)
        if slot is None:
            path = parse_path(issue.path)
            while path and format_path(path) not in slots:
                path = path[:-1]
            slot = format_path(path)
        out.setdefault(slot, []).append(issue)
    return out
