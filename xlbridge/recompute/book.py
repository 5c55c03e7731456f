"""Workbook structure: which parts are worksheets, their names, defined names, shared strings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from lxml import etree

from xlbridge.i18n import t as tr

from .package import FileRejected, Limits, Package, part_path, rels_path
from .richvalues import ValueMetadata
from .tables import parse_table, table_parts

__all__ = ["Book", "SheetInfo", "load_book"]

_XESC_RE = re.compile(r"_x([0-9A-Fa-f]{4})_")


@dataclass
class SheetInfo:
    name: str
    index: int
    part: str | None     # zip member of a worksheet; None for chart/dialog sheets
    kind: str            # "worksheet", "chartsheet", "dialogsheet", "macrosheet", "missing"


@dataclass
class Book:
    pkg: Package
    workbook_part: str
    sheets: list[SheetInfo]
    names: dict[tuple[int | None, str], str] = field(default_factory=dict)
    shared_strings: list[str] = field(default_factory=list)
    rels: dict[str, tuple[str, str]] = field(default_factory=dict)  # id → (type, part)
    full_calc_on_load: bool = False
    #: Excel tables by case-folded name (structured references)
    tables: dict = field(default_factory=dict)
    date1904: bool = False   # dates count from 1904-01-01 (old Mac Excel files)

    @property
    def path(self) -> str:
        return self.pkg.path

    @cached_property
    def value_metadata(self) -> ValueMetadata:
        """Rich values of error cells (#CALC!, #SPILL!), read when the first one is met."""
        return ValueMetadata(self.pkg, self.workbook_part, self.rels)


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _read_rels(pkg: Package, part: str) -> dict[str, tuple[str, str]]:
    rp = rels_path(part)
    if not pkg.has(rp):
        return {}
    root = pkg.xml(rp)
    out = {}
    for el in root:
        if _local(el.tag) != "Relationship":
            continue
        rid = el.get("Id") or ""
        if (el.get("TargetMode") or "").lower() == "external":
            continue
        out[rid] = ((el.get("Type") or "").rsplit("/", 1)[-1],
                    part_path(part, el.get("Target") or ""))
    return out


def _text(el: etree._Element) -> str:
    t = el.text or ""
    if "_x" in t:
        t = _XESC_RE.sub(lambda m: chr(int(m.group(1), 16)), t)
    return t


def _shared_strings(pkg: Package, part: str) -> list[str]:
    root = pkg.xml(part)
    out: list[str] = []
    append = out.append
    for si in root:
        if _local(si.tag) != "si":
            continue
        if len(si) == 1 and _local(si[0].tag) == "t":
            append(_text(si[0]))
            continue
        parts = []
        for child in si:
            ln = _local(child.tag)
            if ln == "t":
                parts.append(_text(child))
            elif ln == "r":
                for t in child:
                    if _local(t.tag) == "t":
                        parts.append(_text(t))
        append("".join(parts))
    return out


def load_book(path: str, limits: Limits | None = None) -> Book:
    pkg = Package(path, limits)
    try:
        return _load(pkg)
    except BaseException:
        pkg.close()
        raise


def _load(pkg: Package) -> Book:
    root_rels = _read_rels(pkg, "")
    wb_part = None
    for typ, target in root_rels.values():
        if typ == "officeDocument":
            wb_part = target
            break
    if wb_part is None:
        wb_part = "xl/workbook.xml" if pkg.has("xl/workbook.xml") else None
    if wb_part is None or not pkg.has(wb_part):
        raise FileRejected(pkg.path, tr("没有工作簿部件：不是 Excel 工作簿"))
    rels = _read_rels(pkg, wb_part)
    wb = pkg.xml(wb_part)
    if _local(wb.tag) != "workbook":
        raise FileRejected(pkg.path, tr(
            "{part} 不是 SpreadsheetML 工作簿（是 Word 或 PowerPoint 文件吗？）", part=wb_part))
    sheets: list[SheetInfo] = []
    names: dict[tuple[int | None, str], str] = {}
    full_calc = False
    date1904 = False
    for el in wb:
        ln = _local(el.tag)
        if ln == "sheets":
            for sh in el:
                if _local(sh.tag) != "sheet":
                    continue
                rid = None
                for k, v in sh.attrib.items():
                    if _local(k) == "id":
                        rid = v
                typ, target = rels.get(rid or "", ("missing", ""))
                kind = typ if typ in ("worksheet", "chartsheet", "dialogsheet",
                                      "macrosheet") else "missing"
                part = target if kind == "worksheet" and pkg.has(target) else None
                sheets.append(SheetInfo(sh.get("name") or f"Sheet{len(sheets) + 1}",
                                        len(sheets), part, kind))
        elif ln == "definedNames":
            for dn in el:
                if _local(dn.tag) != "definedName":
                    continue
                nm = dn.get("name")
                if not nm:
                    continue
                scope = dn.get("localSheetId")
                try:
                    sc = int(scope) if scope is not None else None
                except ValueError:
                    sc = None
                names[(sc, nm.upper())] = dn.text or ""
        elif ln == "workbookPr":
            date1904 = (el.get("date1904") or "").lower() in ("1", "true")
        elif ln == "calcPr":
            v = (el.get("fullCalcOnLoad") or "").lower()
            full_calc = v in ("1", "true")
    sst: list[str] = []
    for typ, target in rels.values():
        if typ == "sharedStrings" and pkg.has(target):
            sst = _shared_strings(pkg, target)
            break
    tables = {}
    for info in sheets:
        if info.part is None:
            continue
        for part in table_parts(_read_rels(pkg, info.part)):
            if pkg.has(part):
                t = parse_table(pkg.read(part), info.index)
                if t is not None:
                    tables[t.name.casefold()] = t
    return Book(pkg, wb_part, sheets, names, sst, rels, full_calc, tables=tables,
                date1904=date1904)
