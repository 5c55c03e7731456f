"""Reading scheme files (YAML first, JSON too) with the line of every key kept.

YAML is the primary format because a clerk can read it and comments can say which line of
the written scheme each rule comes from. The loader remembers where each key was written so
that every message points at ``file:line path`` (``county.yaml:42 tiers[1].at_least``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from xlbridge.i18n import N_, gettext, t
from xlbridge.scheme.issues import Issue, Report, SchemeInvalid, format_path
from xlbridge.scheme.model import Scheme

try:  # libyaml's composer is ~10× faster; fall back to pure Python where it is absent
    _YamlLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _YamlLoader = yaml.SafeLoader

SCHEME_SUFFIXES = (".yaml", ".yml", ".json")

#: Larger than any real scheme by two orders of magnitude; refuse YAML alias bombs early.
MAX_SCHEME_BYTES = 2_000_000
#: Nesting of mappings and lists a scheme document may have. The deepest shipped scheme
#: nests 9 levels (parts of parts with bonus categories and their items); deeper documents
#: are refused before anything recurses over them (JSON nested 100,000 deep, a YAML bomb).
MAX_DEPTH = 64


@dataclass
class SchemeSource:
    """Where a scheme came from, to point messages at lines."""

    origin: str
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict)

    def line_of(self, path: tuple[str | int, ...]) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


@dataclass
class LoadedScheme:
    scheme: Scheme
    source: SchemeSource
    text: str


class _Builder:
    """Plain data from a composed YAML node tree, keeping the line of every key.

    Each node is visited once: a node met a second time is a YAML alias (``*name`` repeating
    an ``&name`` anchor). Aliases are refused — no shipped scheme uses one, and a handful of
    them nested ("billion laughs") expand a 1 KB file into gigabytes. Depth is bounded by
    :data:`MAX_DEPTH`."""

    def __init__(self, lines: dict[tuple[str | int, ...], int]):
        self.lines = lines
        self.scalars = yaml.SafeLoader("")
        self.seen: set[int] = set()

    def build(self, node: yaml.Node, path: tuple[str | int, ...]) -> Any:
        line = node.start_mark.line + 1
        if id(node) in self.seen:
            raise _Refused(path, line, t("方案文件中不能使用 YAML 锚点和别名（&名称 / *名称）；"
                                         "请把重复的内容直接写出来"), "yaml_alias")
        self.seen.add(id(node))
        if len(path) > MAX_DEPTH:
            raise _Refused(path, line, _too_deep_message(), "too_deep")
        self.lines[path] = line
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise _NotScalarKey(key_node.start_mark.line + 1)
                key = self.scalar(key_node, path)
                child = (*path, key if isinstance(key, int) else str(key))
                if key in out:
                    raise _DuplicateKey(child, key_node.start_mark.line + 1)
                out[key] = self.build(value_node, child)
                self.lines[child] = key_node.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(v, (*path, i)) for i, v in enumerate(node.value)]
        return self.scalar(node, path)

    def scalar(self, node: yaml.Node, path: tuple[str | int, ...]) -> Any:
        # PyYAML's safe constructor resolves the scalar: int, float, bool, null, date or str
        try:
            return self.scalars.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError, TypeError) as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            raise _Refused(path, node.start_mark.line + 1,
                           t("无法读取这个值（{problem}）", problem=problem), "yaml") from None


class _DuplicateKey(Exception):
    def __init__(self, path: tuple[str | int, ...], line: int):
        self.path, self.line = path, line


class _NotScalarKey(Exception):
    def __init__(self, line: int):
        self.line = line


class _Refused(Exception):
    def __init__(self, path: tuple[str | int, ...], line: int | None, message: str, code: str):
        self.path, self.line, self.message, self.code = path, line, message, code


def _too_deep(data: Any) -> tuple[str | int, ...] | None:
    """The path of a value nested deeper than :data:`MAX_DEPTH`, or None (no recursion)."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_DEPTH:
            return path[:MAX_DEPTH + 1]
        if isinstance(value, Mapping):
            stack.extend((v, (*path, str(k))) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(value))
    return None


def _parse_yaml(text: str, origin: str) -> tuple[Any, SchemeSource]:
    source = SchemeSource(origin)
    try:
        node = yaml.compose(text, Loader=_YamlLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise SchemeInvalid(Report([Issue("error", "", t("不是有效的 YAML：{problem}",
                                                         problem=_yaml_problem(problem)),
                                          "yaml", origin, line)]), origin) from None
    if node is None:
        raise SchemeInvalid(Report([Issue("error", "", t("文件是空的"), "empty",
                                          origin, 1)]), origin)
    try:
        data = _Builder(source.lines).build(node, ())
    except _Refused as exc:
        raise SchemeInvalid(Report([Issue("error", format_path(exc.path), exc.message, exc.code,
                                          origin, exc.line)]), origin) from None
    except _DuplicateKey as exc:
        raise SchemeInvalid(Report([Issue(
            "error", format_path(exc.path), t("这个键写了两次；第二次会悄悄替换第一次"),
            "duplicate_key", origin, exc.line)]), origin) from None
    except _NotScalarKey as exc:
        raise SchemeInvalid(Report([Issue("error", "", t("键必须是普通文字"), "yaml",
                                          origin, exc.line)]), origin) from None
    return data, source


def parse_scheme(text: str, origin: str = "<scheme>", fmt: str | None = None) -> LoadedScheme:
    """Parse and structurally validate a scheme document (YAML or JSON text)."""
    data, source = read_document(text, origin, fmt)
    return LoadedScheme(scheme_from_data(data, source), source, text)


def read_document(text: str, origin: str = "<scheme>", fmt: str | None = None
                  ) -> tuple[Any, SchemeSource]:
    """YAML or JSON text as data, with the line of every key; not yet a scheme (an editor
    validates the data itself). Raises SchemeInvalid when the text is not YAML/JSON."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SCHEME_BYTES:
        raise SchemeInvalid(Report([Issue("error", "", t("超过 {most} 字节，不是一个方案文件",
                                                         most=MAX_SCHEME_BYTES),
                                          "too_large", origin)]), origin)
    fmt = fmt or ("json" if origin.endswith(".json") else "yaml")
    if fmt == "json":
        return _parse_json(text, origin), SchemeSource(origin)
    return _parse_yaml(text, origin)


def _reject_constant(name: str) -> Any:
    raise ValueError(t("{name} 不是有限的数（JSON 不允许 NaN 和 Infinity）", name=name))


def _parse_json(text: str, origin: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise SchemeInvalid(Report([Issue("error", "", t("不是有效的 JSON：第 {line} 行第 {col} "
                                                         "列有语法错误", line=exc.lineno,
                                                         col=exc.colno), "json",
                                          origin, exc.lineno)]), origin) from None
    except RecursionError:
        raise SchemeInvalid(Report([Issue("error", "", _too_deep_message(), "too_deep", origin)]),
                            origin) from None
    except ValueError as exc:  # NaN/Infinity, an integer of thousands of digits
        raise SchemeInvalid(Report([Issue("error", "", t("无法读取这个 JSON 文档：{reason}",
                                                         reason=exc), "json",
                                          origin)]), origin) from None


def scheme_from_data(data: Any, source: SchemeSource | None = None) -> Scheme:
    """Validate already-parsed data (a dict) into a Scheme, with path-bearing errors.

    Data nested deeper than :data:`MAX_DEPTH` (from JSON, from a server) is refused first."""
    source = source or SchemeSource("<scheme>")
    deep = _too_deep(data)
    if deep is not None:
        raise SchemeInvalid(Report([Issue("error", format_path(deep), _too_deep_message(),
                                          "too_deep", source.origin,
                                          source.line_of(deep))]), source.origin)
    if not isinstance(data, Mapping):
        raise SchemeInvalid(Report([Issue("error", "", t("方案应为键值对（id、version、title……）"),
                                          "not_mapping", source.origin, 1)]), source.origin)
    try:
        return Scheme.model_validate(data)
    except ValidationError as exc:
        raise SchemeInvalid(Report(pydantic_issues(exc, data, source)), source.origin) from None


def pydantic_issues(exc: ValidationError, data: Any, source: SchemeSource) -> list[Issue]:
    issues = []
    seen: set[tuple[str, str]] = set()
    for err in exc.errors(include_url=False):
        path = _data_path(err["loc"], data)
        message = _message(err, path)
        key = (format_path(path), message)
        if key in seen:  # union branches repeat the same complaint
            continue
        seen.add(key)
        issues.append(Issue("error", format_path(path), message, err["type"], source.origin,
                            source.line_of(path)))
    return issues


def _data_path(loc: tuple[Any, ...], data: Any) -> tuple[str | int, ...]:
    """Drop the parts of a pydantic location that are not keys of the document (union tags)."""
    path: list[str | int] = []
    node = data
    for element in loc:
        if isinstance(node, list) and isinstance(element, int):
            path.append(element)
            node = node[element] if element < len(node) else None
        elif isinstance(node, Mapping) and element in node:
            path.append(element)
            node = node[element]
        elif isinstance(node, Mapping) and isinstance(element, str) and not element.startswith(
                ("function-", "tagged-union")) and element not in _UNION_TAGS:
            path.append(element)  # a missing or unknown key: still name it
            node = None
    return tuple(path)


_UNION_TAGS = {"direct", "ratio", "rate", "rating", "grade", "rank", "deduction", "composite",
               "GiveTo", "str", "int", "is-instance[Decimal]", "literal['rescale','zero']"}


#: pydantic's complaints in the catalogue's words, by error type (ctx values filled in)
_PYDANTIC_MESSAGES = {
    "string_type": N_("应为文字"),
    "int_type": N_("应为整数"), "int_parsing": N_("应为整数"),
    "int_from_float": N_("应为整数，不能有小数"),
    "bool_type": N_("应为 true 或 false"), "bool_parsing": N_("应为 true 或 false"),
    "float_type": N_("应为数字"), "float_parsing": N_("应为数字"),
    "decimal_type": N_("应为数字"), "decimal_parsing": N_("应为数字"),
    "list_type": N_("应为列表（- 开头的各行，或 [...]）"),
    "dict_type": N_("应为键值对"), "model_type": N_("应为键值对"),
    "model_attributes_type": N_("应为键值对"),
    "literal_error": N_("应为其中之一：{expected}"), "enum": N_("应为其中之一：{expected}"),
    "greater_than": N_("应大于 {gt}"), "greater_than_equal": N_("应不小于 {ge}"),
    "less_than": N_("应小于 {lt}"), "less_than_equal": N_("应不大于 {le}"),
    "too_short": N_("至少要有 {min_length} 项"), "too_long": N_("最多 {max_length} 项"),
    "string_too_short": N_("至少要有 {min_length} 个字符"),
    "string_too_long": N_("最多 {max_length} 个字符"),
    "unknown_method": N_("`method` 应为 direct、ratio、rate、rating、grade、rank、deduction 之一，"
                         "或者写 `parts` 作为组合部分"),
}


def _message(err: Mapping[str, Any], path: tuple[str | int, ...]) -> str:
    kind = err["type"]
    msg = str(err["msg"])
    if kind == "extra_forbidden":
        return t("未知的键“{key}”（拼写有误，或这里不能写它）", key=path[-1] if path else "?")
    if kind == "missing":
        return t("缺少必填的键“{key}”", key=path[-1] if path else "?")
    if kind in _PYDANTIC_MESSAGES:
        ctx = dict(err.get("ctx") or {})
        if "expected" in ctx:   # "'month', 'quarter' or 'year'" → month、quarter、year
            ctx["expected"] = t("、").join(re.findall(r"'([^']*)'", str(ctx["expected"]))) \
                or ctx["expected"]
        return gettext(_PYDANTIC_MESSAGES[kind]).format(**ctx)
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix):]    # our own validators' messages, already translated
    return t("不符合方案格式（{reason}）", reason=msg)


#: PyYAML's commonest complaints, said as a clerk can act on them; others are quoted
_YAML_PROBLEMS = (
    ("mapping values are not allowed", N_("这里不能写“键: 值”（常见原因：值里有冒号却没加引号，"
                                          "或缩进不对）")),
    ("that cannot start any token", N_("有不能出现在这里的字符（常见原因：用了 Tab 缩进；"
                                       "YAML 只能用空格缩进）")),
    ("could not find expected ':'", N_("找不到应有的冒号“:”")),
    ("expected <block end>", N_("缩进不一致")),
    ("found unexpected end of stream", N_("引号或括号没有配对")),
)


def _yaml_problem(problem: str) -> str:
    for english, message in _YAML_PROBLEMS:
        if english in problem:
            return gettext(message)
    return t("格式错误（{problem}）", problem=problem)


def _too_deep_message() -> str:
    return t("嵌套超过 {most} 层，不是一个方案文件", most=MAX_DEPTH)


def load_scheme_file(path: str | Path) -> LoadedScheme:
    """Read a scheme file; raises SchemeInvalid (with file and line) if it is malformed."""
    p = Path(path)
    if p.suffix.lower() not in SCHEME_SUFFIXES:
        raise SchemeInvalid(Report([Issue("error", "", t("应为 .yaml 或 .json 方案文件，实际为"
                                                         "“{name}”", name=p.name),
                                          "suffix", str(p))]), str(p))
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise SchemeInvalid(Report([Issue("error", "", t("无法读取文件：{reason}",
                                                         reason=exc.strerror or exc),
                                          "io", str(p))]), str(p)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SchemeInvalid(Report([Issue("error", "", t("不是 UTF-8 文本（第 {byte} 字节）；请把"
                                                         "文件另存为 UTF-8", byte=exc.start),
                                          "encoding", str(p))]), str(p)) from None
    return parse_scheme(text, str(p), "json" if p.suffix.lower() == ".json" else "yaml")
