"""Reading scheme files (YAML first, JSON too) with the line of every key kept.

YAML is the primary format because a clerk can read it and comments can say which line of
the written scheme each rule comes from. The loader remembers where each key was written so
that every message points at ``file:line path`` (``county.yaml:42 tiers[1].at_least``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

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
            raise _Refused(path, line, "方案文件中不能使用 YAML 锚点和别名（&名称 / *名称）；"
                                       "请把重复的内容直接写出来", "yaml_alias")
        self.seen.add(id(node))
        if len(path) > MAX_DEPTH:
            raise _Refused(path, line, f"嵌套超过 {MAX_DEPTH} 层，不是一个方案文件",
                           "too_deep")
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
                           f"无法读取这个值（{problem}）", "yaml") from None


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
        raise SchemeInvalid(Report([Issue("error", "", f"not valid YAML: {problem}",
                                          "yaml", origin, line)]), origin) from None
    if node is None:
        raise SchemeInvalid(Report([Issue("error", "", "the file is empty", "empty",
                                          origin, 1)]), origin)
    try:
        data = _Builder(source.lines).build(node, ())
    except _Refused as exc:
        raise SchemeInvalid(Report([Issue("error", format_path(exc.path), exc.message, exc.code,
                                          origin, exc.line)]), origin) from None
    except _DuplicateKey as exc:
        raise SchemeInvalid(Report([Issue(
            "error", format_path(exc.path), "this key is written twice; the second would "
            "silently replace the first", "duplicate_key", origin, exc.line)]), origin) from None
    except _NotScalarKey as exc:
        raise SchemeInvalid(Report([Issue("error", "", "a key must be plain text", "yaml",
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
        raise SchemeInvalid(Report([Issue("error", "", f"larger than {MAX_SCHEME_BYTES} bytes; "
                                          "not a scheme", "too_large", origin)]), origin)
    fmt = fmt or ("json" if origin.endswith(".json") else "yaml")
    if fmt == "json":
        return _parse_json(text, origin), SchemeSource(origin)
    return _parse_yaml(text, origin)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} 不是有限的数（JSON 不允许 NaN 和 Infinity）")


def _parse_json(text: str, origin: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise SchemeInvalid(Report([Issue("error", "", f"not valid JSON: {exc.msg}", "json",
                                          origin, exc.lineno)]), origin) from None
    except RecursionError:
        raise SchemeInvalid(Report([Issue("error", "", f"嵌套超过 {MAX_DEPTH} 层，不是一个"
                                          "方案文件", "too_deep", origin)]), origin) from None
    except ValueError as exc:  # NaN/Infinity, an integer of thousands of digits
        raise SchemeInvalid(Report([Issue("error", "", f"无法读取这个 JSON 文档：{exc}", "json",
                                          origin)]), origin) from None


def scheme_from_data(data: Any, source: SchemeSource | None = None) -> Scheme:
    """Validate already-parsed data (a dict) into a Scheme, with path-bearing errors.

    Data nested deeper than :data:`MAX_DEPTH` (from JSON, from a server) is refused first."""
    source = source or SchemeSource("<scheme>")
    deep = _too_deep(data)
    if deep is not None:
        raise SchemeInvalid(Report([Issue("error", format_path(deep), f"嵌套超过 {MAX_DEPTH} "
                                          "层，不是一个方案文件", "too_deep", source.origin,
                                          source.line_of(deep))]), source.origin)
    if not isinstance(data, Mapping):
        raise SchemeInvalid(Report([Issue("error", "", "a scheme must be a mapping of keys "
                                          "(id, version, title, …)", "not_mapping",
                                          source.origin, 1)]), source.origin)
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


def _message(err: Mapping[str, Any], path: tuple[str | int, ...]) -> str:
    kind = err["type"]
    msg = str(err["msg"])
    if kind == "extra_forbidden":
        return f"unknown key '{path[-1] if path else '?'}' (misspelt, or not allowed here)"
    if kind == "missing":
        return f"required key '{path[-1] if path else '?'}' is missing"
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    return msg


def load_scheme_file(path: str | Path) -> LoadedScheme:
    """Read a scheme file; raises SchemeInvalid (with file and line) if it is malformed."""
    p = Path(path)
    if p.suffix.lower() not in SCHEME_SUFFIXES:
        raise SchemeInvalid(Report([Issue("error", "", f"expected a .yaml or .json scheme file, "
                                          f"got '{p.name}'", "suffix", str(p))]), str(p))
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise SchemeInvalid(Report([Issue("error", "", f"cannot read the file: {exc.strerror}",
                                          "io", str(p))]), str(p)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SchemeInvalid(Report([Issue("error", "", f"not UTF-8 text (byte {exc.start}); save "
                                          "the file as UTF-8", "encoding", str(p))]),
                            str(p)) from None
    return parse_scheme(text, str(p), "json" if p.suffix.lower() == ".json" else "yaml")
