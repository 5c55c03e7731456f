"""Errors Excel stores as rich values (#SPILL!, #CALC!): read them, and write them as Excel does.

The cell value of ECMA-376 holds only the classic errors (#NULL! … #N/A, and #GETTING_DATA).
Excel 365 stores the newer ones as ``<c t="e" vm="N"><v>#VALUE!</v></c>`` — what a reader that
does not know rich values shows — where ``vm`` is a 1-based index into the ``<valueMetadata>``
blocks of ``xl/metadata.xml``. The block's ``<rc t="T" v="K"/>`` names metadata type T
(1-based, ``XLRICHVALUE``) and block K (0-based) of ``<futureMetadata name="XLRICHVALUE">``,
whose ``<xlrd:rvb i="J"/>`` is rich value J of ``xl/richData/rdrichvalue.xml``. That value's
structure (``rdrichvaluestructure.xml``) is ``_error`` with the keys ``errorType`` — ERROR.TYPE
minus one: 8 #SPILL!, 13 #CALC! — and ``subType`` (for #CALC!, 3: an empty array). The files
Excel saved in tests/corpus (ERROR.TYPE.xlsx, DROP_TAKE.xlsx, FILTER_ERRORS.xlsx,
SEQUENCE.xlsx) have exactly this form; the parts written here copy it.

* :class:`ValueMetadata` — a workbook's value metadata, read once, lazily, when the first
  error cell with ``vm`` is met; a missing or broken part leaves those cells #VALUE! (what
  the cell itself says) and :attr:`ValueMetadata.problem` says why;
* :func:`plan_rich_errors` — for the errors a recalculation writes, the ``vm`` of a matching
  rich value (an existing one reused, or one added to the parts, creating them, their
  ``[Content_Types].xml`` overrides and workbook relationships when the file has none);
* :func:`set_vm` — a ``<c>`` element with its ``vm`` attribute set or removed.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from lxml import etree

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ERROR_TYPE_NUMBERS, ExcelError

from .package import FileRejected, Package, rels_path

__all__ = ["RICH_CODES", "ValueMetadata", "plan_rich_errors", "set_vm"]

#: The errors a cell value cannot hold: Excel writes them as rich values.
RICH_CODES = frozenset({"#SPILL!", "#CALC!"})
#: ``errorType`` of a rich error → code (ERROR.TYPE − 1; the types xlbridge knows)
_CODE_OF_TYPE = {n - 1: code for code, n in ERROR_TYPE_NUMBERS.items()}
#: ``subType`` written for a new rich error: #CALC! — every #CALC! xlbridge computes but
#: LAMBDA-as-a-value is an empty array (Excel's CalcErrorCellValueSubType "EmptyArray", 3, as
#: in the corpus); #SPILL! 0 "Unknown"
_SUBTYPE = {"#CALC!": 3, "#SPILL!": 0}

RICH_TYPE = "XLRICHVALUE"
_RVB_URI = "{3e2802c4-a4d2-4d8b-9148-e3be6c30e623}"
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_RD = "http://schemas.microsoft.com/office/spreadsheetml/2017/richdata"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_REL_RD = "http://schemas.microsoft.com/office/2017/06/relationships/"
#: part → (relationship type, content type, file name under the workbook's folder)
_PARTS = {
    "sheetMetadata": (_REL + "sheetMetadata",
                      "application/vnd.openxmlformats-officedocument.spreadsheetml."
                      "sheetMetadata+xml", "metadata.xml"),
    "rdRichValue": (_REL_RD + "rdRichValue", "application/vnd.ms-excel.rdrichvalue+xml",
                    "richData/rdrichvalue.xml"),
    "rdRichValueStructure": (_REL_RD + "rdRichValueStructure",
                             "application/vnd.ms-excel.rdrichvaluestructure+xml",
                             "richData/rdrichvaluestructure.xml"),
    "rdRichValueTypes": (_REL_RD + "rdRichValueTypes",
                         "application/vnd.ms-excel.rdrichvaluetypes+xml",
                         "richData/rdRichValueTypes.xml"),
}
_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
_METADATA_TYPE = (
    b'<metadataType name="XLRICHVALUE" minSupportedVersion="120000" copy="1" pasteAll="1" '
    b'pasteValues="1" merge="1" splitFirst="1" rowColShift="1" clearFormats="1" '
    b'clearComments="1" assign="1" coerce="1"/>')
_NEW_METADATA = (
    _DECL + b'<metadata xmlns="' + NS_MAIN.encode() + b'" xmlns:xlrd="' + NS_RD.encode()
    + b'"><metadataTypes count="1">' + _METADATA_TYPE + b'</metadataTypes>'
    b'<futureMetadata name="XLRICHVALUE" count="0"/><valueMetadata count="0"/></metadata>')
_NEW_RICH_VALUES = (_DECL + b'<rvData xmlns="' + NS_RD.encode() + b'" count="0"/>')
_NEW_STRUCTURES = (_DECL + b'<rvStructures xmlns="' + NS_RD.encode() + b'" count="0"/>')
_FLAGS = b"".join(
    b'<key name="%s"><flag name="ExcludeFromCalcComparison" value="1"/></key>' % k
    for k in (b"_DisplayString", b"_Flags", b"_Format", b"_SubLabel", b"_Attribution",
              b"_Icon", b"_Display", b"_CanonicalPropertyNames", b"_ClassificationId"))
_NEW_TYPES = (
    _DECL + b'<rvTypesInfo xmlns="http://schemas.microsoft.com/office/spreadsheetml/2017/'
    b'richdata2" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    b'mc:Ignorable="x" xmlns:x="' + NS_MAIN.encode() + b'"><global><keyFlags>'
    b'<key name="_Self"><flag name="ExcludeFromFile" value="1"/>'
    b'<flag name="ExcludeFromCalcComparison" value="1"/></key>' + _FLAGS
    + b'</keyFlags></global></rvTypesInfo>')
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          load_dtd=False, dtd_validation=False, remove_blank_text=False)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(el: etree._Element | None, name: str) -> list[etree._Element]:
    return [] if el is None else [c for c in el if _local(c.tag) == name]


def _int(text: str | None) -> int | None:
    try:
        return int((text or "").strip())
    except ValueError:
        return None


@dataclass
class _Parsed:
    """The parts, parsed (roots kept, so that the writer can extend them)."""

    metadata: etree._Element | None = None
    values: etree._Element | None = None      # rvData
    structures: etree._Element | None = None  # rvStructures
    parts: dict[str, str] = field(default_factory=dict)  # relationship type → zip member


class ValueMetadata:
    """The ``vm`` → error map of one workbook, read on the first :meth:`error` call."""

    def __init__(self, pkg: Package, workbook_part: str, rels: dict[str, tuple[str, str]]):
        self._pkg = pkg
        self.workbook_part = workbook_part
        self._rels = rels
        self._errors: list[ExcelError | None] | None = None
        self._parsed = _Parsed()
        #: why the value metadata could not be read (the cells stay #VALUE!), else None
        self.problem: str | None = None

    def error(self, vm: int) -> ExcelError | None:
        """The error of value-metadata block ``vm`` (1-based), None when it is not one."""
        if self._errors is None:
            self._load()
        errors = self._errors or ()
        return errors[vm - 1] if 0 < vm <= len(errors) else None

    def parsed(self) -> _Parsed:
        if self._errors is None:
            self._load()
        return self._parsed

    def _load(self) -> None:
        self._errors = []
        p = self._parsed
        for typ, target in self._rels.values():
            if typ in _PARTS:
                if not self._pkg.has(target):
                    self.problem = tr("工作簿关系指向的部件 {part} 不存在", part=target)
                    return
                p.parts.setdefault(typ, target)
        part = p.parts.get("sheetMetadata")
        if part is None:
            return
        try:
            p.metadata = self._pkg.xml(part)
            if "rdRichValue" in p.parts:
                p.values = self._pkg.xml(p.parts["rdRichValue"])
            if "rdRichValueStructure" in p.parts:
                p.structures = self._pkg.xml(p.parts["rdRichValueStructure"])
        except FileRejected as exc:
            self.problem = exc.reason
            self._parsed = _Parsed()
            return
        self._errors = [self._resolve(bk) for bk in _value_blocks(p.metadata)]

    def _resolve(self, bk: etree._Element) -> ExcelError | None:
        p = self._parsed
        rc = _children(bk, "rc")
        if not rc:
            return None
        t, v = _int(rc[0].get("t")), _int(rc[0].get("v"))
        types = _metadata_types(p.metadata)
        if t is None or v is None or not 0 < t <= len(types) or types[t - 1] != RICH_TYPE:
            return None
        blocks = _rich_blocks(p.metadata)
        if not 0 <= v < len(blocks):
            return None
        j = blocks[v]
        values = _children(p.values, "rv")
        if j is None or not 0 <= j < len(values):
            return None
        rv = values[j]
        s = _int(rv.get("s"))
        structures = _children(p.structures, "s")
        if s is None or not 0 <= s < len(structures) or structures[s].get("t") != "_error":
            return None
        keys = [k.get("n") for k in _children(structures[s], "k")]
        vals = _children(rv, "v")
        if "errorType" not in keys or keys.index("errorType") >= len(vals):
            return None
        code = _CODE_OF_TYPE.get(_int(vals[keys.index("errorType")].text))  # type: ignore[arg-type]
        return ExcelError(code) if code is not None else None

    def vm_of(self, code: str) -> int | None:
        """An existing ``vm`` whose rich value is ``code`` (the first), None if none."""
        if self._errors is None:
            self._load()
        for n, e in enumerate(self._errors or (), 1):
            if e is not None and e.code == code:
                return n
        return None


def _metadata_types(meta: etree._Element | None) -> list[str]:
    for el in _children(meta, "metadataTypes"):
        return [m.get("name") or "" for m in _children(el, "metadataType")]
    return []


def _rich_future(meta: etree._Element | None) -> etree._Element | None:
    for el in _children(meta, "futureMetadata"):
        if el.get("name") == RICH_TYPE:
            return el
    return None


def _rich_blocks(meta: etree._Element | None) -> list[int | None]:
    """Block k of futureMetadata XLRICHVALUE → the rich value index of its ``rvb``."""
    out: list[int | None] = []
    for bk in _children(_rich_future(meta), "bk"):
        i = None
        for el in bk.iter():
            if _local(el.tag) == "rvb":
                i = _int(el.get("i"))
                break
        out.append(i)
    return out


def _value_blocks(meta: etree._Element | None) -> list[etree._Element]:
    for el in _children(meta, "valueMetadata"):
        return _children(el, "bk")
    return []


# --------------------------------------------------------------------------- writing

_VM_ATTR = re.compile(rb"""\s+vm\s*=\s*("[^"]*"|'[^']*')""")
_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\b[^>]*?(?=/?>)")


def set_vm(cell: bytes, vm: int | None) -> bytes:
    """The ``<c>`` element with ``vm="N"`` (None: without ``vm``); nothing else changes."""
    m = _START.match(cell)
    if m is None:
        return cell
    head = _VM_ATTR.sub(b"", m.group(0), count=1)
    if vm is not None:
        head += b' vm="%d"' % vm
    return head + cell[m.end():]


def _count(el: etree._Element, n: int) -> None:
    if el.get("count") is not None or n:
        el.set("count", str(n))


def _sub(parent: etree._Element, name: str, ns: str, before: tuple[str, ...] = ()
         ) -> etree._Element:
    """A new child ``name`` of ``parent``, placed before the first of ``before``."""
    el = etree.Element(f"{{{ns}}}{name}", nsmap=None)
    for i, c in enumerate(parent):
        if _local(c.tag) in before:
            parent.insert(i, el)
            return el
    parent.append(el)
    return el


def _xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def plan_rich_errors(vmeta: ValueMetadata, codes: set[str], replace: dict[str, bytes],
                     add: dict[str, bytes]) -> dict[str, int]:
    """The ``vm`` to write for each error code in ``codes`` (of :data:`RICH_CODES`).

    An existing rich value of the same error is reused; otherwise one is added, the parts
    that change going into ``replace`` (existing members) or ``add`` (new members), with the
    ``[Content_Types].xml`` overrides and workbook relationships the new parts need
    (``replace`` may already hold a changed version of those two: it is extended)."""
    out: dict[str, int] = {}
    todo = sorted(codes)
    for code in list(todo):
        vm = vmeta.vm_of(code)
        if vm is not None:
            out[code] = vm
            todo.remove(code)
    p = vmeta.parsed()
    if not todo or vmeta.problem is not None:  # unreadable parts are not extended
        return out
    pkg = vmeta._pkg
    folder = vmeta.workbook_part.rpartition("/")[0]
    folder = folder + "/" if folder else ""
    new_parts: list[str] = []

    def root(kind: str, existing: etree._Element | None, blank: bytes
             ) -> tuple[etree._Element, str]:
        part = p.parts.get(kind)
        if part is not None and existing is not None:  # a copy: the reading stays as read
            return copy.deepcopy(existing), part
        new_parts.append(kind)
        return etree.fromstring(blank, _PARSER), folder + _PARTS[kind][2]

    meta, meta_part = root("sheetMetadata", p.metadata, _NEW_METADATA)
    values, values_part = root("rdRichValue", p.values, _NEW_RICH_VALUES)
    structs, structs_part = root("rdRichValueStructure", p.structures, _NEW_STRUCTURES)
    if "rdRichValueTypes" not in p.parts:
        new_parts.append("rdRichValueTypes")
    ns = etree.QName(meta).namespace or NS_MAIN
    # the _error structure (errorType, subType), added once
    s_index = None
    for i, s in enumerate(_children(structs, "s")):
        if s.get("t") == "_error" and [k.get("n") for k in _children(s, "k")] == [
                "errorType", "subType"]:
            s_index = i
            break
    changed = {id(meta), id(values)}
    if s_index is None:
        changed.add(id(structs))
        s = etree.SubElement(structs, f"{{{NS_RD}}}s", t="_error")
        etree.SubElement(s, f"{{{NS_RD}}}k", n="errorType", t="i")
        etree.SubElement(s, f"{{{NS_RD}}}k", n="subType", t="i")
        s_index = len(_children(structs, "s")) - 1
        _count(structs, s_index + 1)
    # metadataType XLRICHVALUE
    types_el = next(iter(_children(meta, "metadataTypes")), None)
    if types_el is None:
        types_el = _sub(meta, "metadataTypes", ns, ("metadataStrings", "mdxMetadata",
                                                     "futureMetadata", "cellMetadata",
                                                     "valueMetadata", "extLst"))
    names = [m.get("name") for m in _children(types_el, "metadataType")]
    if RICH_TYPE in names:
        t_index = names.index(RICH_TYPE) + 1
    else:
        types_el.append(etree.fromstring(
            _METADATA_TYPE.replace(b"<metadataType", b'<metadataType xmlns="%s"' %
                                   ns.encode()), _PARSER))
        t_index = len(names) + 1
        _count(types_el, t_index)
    future = _rich_future(meta)
    if future is None:
        future = _sub(meta, "futureMetadata", ns, ("cellMetadata", "valueMetadata", "extLst"))
        future.set("name", RICH_TYPE)
    vmeta_el = next(iter(_children(meta, "valueMetadata")), None)
    if vmeta_el is None:
        vmeta_el = _sub(meta, "valueMetadata", ns, ("extLst",))
    for code in todo:
        rv = etree.SubElement(values, f"{{{NS_RD}}}rv", s=str(s_index))
        etree.SubElement(rv, f"{{{NS_RD}}}v").text = str(ERROR_TYPE_NUMBERS[code] - 1)
        etree.SubElement(rv, f"{{{NS_RD}}}v").text = str(_SUBTYPE.get(code, 0))
        j = len(_children(values, "rv")) - 1
        bk = etree.SubElement(future, f"{{{ns}}}bk")
        ext = etree.SubElement(etree.SubElement(bk, f"{{{ns}}}extLst"), f"{{{ns}}}ext",
                               uri=_RVB_URI)
        etree.SubElement(ext, f"{{{NS_RD}}}rvb", i=str(j), nsmap={"xlrd": NS_RD})
        k = len(_children(future, "bk")) - 1
        vbk = etree.SubElement(vmeta_el, f"{{{ns}}}bk")
        etree.SubElement(vbk, f"{{{ns}}}rc", t=str(t_index), v=str(k))
        out[code] = len(_children(vmeta_el, "bk"))
    _count(values, len(_children(values, "rv")))
    _count(future, len(_children(future, "bk")))
    _count(vmeta_el, len(_children(vmeta_el, "bk")))
    for el, part in ((meta, meta_part), (values, values_part), (structs, structs_part)):
        if id(el) in changed:
            (replace if pkg.has(part) else add)[part] = _xml(el)
    if "rdRichValueTypes" in new_parts:
        part = folder + _PARTS["rdRichValueTypes"][2]
        (replace if pkg.has(part) else add)[part] = _NEW_TYPES
    if new_parts:
        _register_parts(vmeta, new_parts, folder, replace)
    return out


_TYPES_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?Types\s*>")
_RELS_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?Relationships\s*>")
_RID = re.compile(rb"""\bId\s*=\s*["']rId([0-9]+)["']""")
_OVERRIDE = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?Override\b[^>]*\bPartName\s*=\s*["']([^"']*)""")


def _register_parts(vmeta: ValueMetadata, kinds: list[str], folder: str,
                    replace: dict[str, bytes]) -> None:
    """Content-type overrides and workbook relationships for the parts just created."""
    pkg = vmeta._pkg
    ct = "[Content_Types].xml"
    data = replace.get(ct) or pkg.read(ct)
    have = {m.group(1).decode("utf-8", "replace") for m in _OVERRIDE.finditer(data)}
    add = b"".join(
        b'<Override PartName="/%s" ContentType="%s"/>' % ((folder + _PARTS[k][2]).encode(),
                                                          _PARTS[k][1].encode())
        for k in kinds if "/" + folder + _PARTS[k][2] not in have)
    m = _TYPES_END.search(data)
    if m is not None and add:
        replace[ct] = data[:m.start()] + add + data[m.start():]
    rp = rels_path(vmeta.workbook_part)
    data = replace.get(rp) or (pkg.read(rp) if pkg.has(rp) else b"")
    m = _RELS_END.search(data)
    if m is None:
        raise FileRejected(pkg.path, tr("{part} 没有 </Relationships>：无法登记新部件", part=rp))
    n = max((int(x.group(1)) for x in _RID.finditer(data)), default=0)
    rels = []
    for k in kinds:
        n += 1
        rels.append(b'<Relationship Id="rId%d" Type="%s" Target="%s"/>' % (
            n, _PARTS[k][0].encode(), _PARTS[k][2].encode()))
    replace[rp] = data[:m.start()] + b"".join(rels) + data[m.start():]

