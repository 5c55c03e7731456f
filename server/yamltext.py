"""A scheme document as the YAML text the editor shows, and that text read back.

Drafts are stored as JSON; the editor shows them as YAML written the way the shipped scheme
files are: block style, short mappings and lists of plain values on one line
(``{id: name, label: 姓名, type: text}``), Chinese as it is, keys in the document's order.
"""

from __future__ import annotations

from typing import Any

import yaml

from xlbridge.scheme.load import SchemeSource, read_document

#: a mapping or list of plain values up to this many characters is written on one line
FLOW_WIDTH = 72


class _Dumper(yaml.SafeDumper):
    pass


def _plain(value: Any) -> bool:
    return value is None or (isinstance(value, (str, int, float, bool)) and not (
        isinstance(value, str) and ("\n" in value or len(value) > 40)))


def _short(items: list, text_len: int) -> bool:
    return all(_plain(v) for v in items) and text_len <= FLOW_WIDTH


def _dict(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    flow = bool(data) and _short(list(data.values()), sum(len(str(k)) + len(str(v)) + 4
                                                          for k, v in data.items()))
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


def _list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flow = _short(data, sum(len(str(v)) + 2 for v in data))
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(dict, _dict)
_Dumper.add_representer(list, _list)
_Dumper.add_representer(str, _str)


FIRST_KEYS = ("id", "version", "label", "title", "method")
LAST_KEYS = ("source", "note")


def tidy(doc: Any) -> Any:
    """The same document with each mapping's name first and its remarks (``source``,
    ``note``) after its rules, as the shipped files write them."""
    if isinstance(doc, dict):
        first = {k: tidy(doc[k]) for k in FIRST_KEYS if k in doc}
        rest = {k: tidy(v) for k, v in doc.items() if k not in first and k not in LAST_KEYS}
        return {**first, **rest, **{k: doc[k] for k in LAST_KEYS if k in doc}}
    if isinstance(doc, list):
        return [tidy(v) for v in doc]
    return doc


def to_yaml(doc: Any) -> str:
    return yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100,
                     default_flow_style=False)


def from_yaml(text: str, origin: str = "YAML") -> tuple[Any, SchemeSource]:
    """The document and the line of every key; raises SchemeInvalid when it is not YAML."""
    return read_document(text, origin, "yaml")
