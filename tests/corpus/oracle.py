"""Files Excel saved, as an oracle: read Excel's cached values, blank them, compare.

Used by ``test_excel_corpus.py`` and by ``benchmarks/fidelity_bench.py`` (which runs the peers
on the same files). Reading is plain lxml over the sheet XML — not xlbridge's own reader — so
the oracle does not share a bug with what it checks.

* :func:`read_cells` — every cell's value and whether it is a formula cell (a cell with an
  ``<f>``, or a cell inside an array formula's or spill's range);
* :func:`blank_copy` — the same workbook with every formula cell's cached value removed, so
  that no tool can pass by keeping Excel's number;
* :func:`compare` — the cell-by-cell verdict of a recomputed copy against the original.
"""

from __future__ import annotations

import contextlib
import math
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from lxml import etree

CORPUS = Path(__file__).resolve().parent / "excel"
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_REF = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]+)")
#: formulas whose value changes on every calculation: not comparable with a stored value
VOLATILE = re.compile(r"\b(?:_xlfn\.)?(?:RAND|RANDBETWEEN|RANDARRAY|NOW|TODAY|INFO)\s*\(", re.I)


@dataclass(frozen=True)
class Err:
    """An error value, by its code."""

    code: str


def corpus_files() -> list[Path]:
    return sorted(CORPUS.rglob("*.xlsx"))


def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _sheets(z: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, zip member) of every worksheet, in workbook order."""
    wb = etree.fromstring(z.read("xl/workbook.xml"))
    rels = etree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    target = {}
    for rel in rels:
        t = rel.get("Target") or ""
        target[rel.get("Id")] = t.lstrip("/") if t.startswith("/") else str(
            PurePosixPath("xl") / t)
    out = []
    for sh in wb.iter(f"{{{NS}}}sheet"):
        part = target.get(sh.get(_R))
        if part and part in z.namelist() and "worksheets/" in part:
            out.append((sh.get("name"), part))
    return out


def _shared_strings(z: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in z.namelist():
        return []
    root = etree.fromstring(z.read("xl/sharedStrings.xml"))
    out = []
    for si in root.iter(f"{{{NS}}}si"):
        out.append(_unescape("".join(t.text or "" for t in si.iter(f"{{{NS}}}t")
                                     if t.getparent().tag != f"{{{NS}}}rPh")))
    return out


_XESC = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(s: str) -> str:
    """Excel's ``_xHHHH_`` escapes (a carriage return is stored as ``_x000D_``)."""
    return _XESC.sub(lambda m: chr(int(m.group(1), 16)), s) if "_x" in s else s


#: Excel's rich-value ``errorType`` → the error (ERROR.TYPE − 1; Microsoft's ErrorCellValue)
_RICH_ERRORS = {0: "#NULL!", 1: "#DIV/0!", 2: "#VALUE!", 3: "#REF!", 4: "#NAME?", 5: "#NUM!",
                6: "#N/A", 7: "#GETTING_DATA", 8: "#SPILL!", 9: "#CONNECT!", 10: "#BLOCKED!",
                11: "#UNKNOWN!", 12: "#FIELD!", 13: "#CALC!"}
_RD = "http://schemas.microsoft.com/office/spreadsheetml/2017/richdata"


def _rel_targets(z: zipfile.ZipFile) -> dict[str, str]:
    """Relationship type (its last segment) → zip member, for the workbook's relationships."""
    rels = etree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    out = {}
    for rel in rels:
        t = rel.get("Target") or ""
        out[(rel.get("Type") or "").rsplit("/", 1)[-1]] = (
            t.lstrip("/") if t.startswith("/") else str(PurePosixPath("xl") / t))
    return out


def rich_errors(z: zipfile.ZipFile) -> dict[int, str]:
    """``vm`` → error code, for the errors Excel 365 stores as rich values (#CALC!, #SPILL!):
    ``<c t="e" vm="N"><v>#VALUE!</v>`` with N a 1-based block of xl/metadata.xml's
    valueMetadata → futureMetadata XLRICHVALUE → rdrichvalue.xml → structure ``_error``."""
    parts = _rel_targets(z)
    names = set(z.namelist())
    need = ("sheetMetadata", "rdRichValue", "rdRichValueStructure")
    if any(parts.get(k) not in names for k in need):
        return {}
    try:
        return _rich_errors(z, parts)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError, etree.XMLSyntaxError):
        return {}  # parts a tool wrote wrong: the cells are what they say (#VALUE!)


def _rich_errors(z: zipfile.ZipFile, parts: dict[str, str]) -> dict[int, str]:
    meta = etree.fromstring(z.read(parts["sheetMetadata"]))
    types = [m.get("name") for m in meta.iter(f"{{{NS}}}metadataType")]
    future = [[int(r.get("i")) for r in bk.iter(f"{{{_RD}}}rvb")]
              for fm in meta.iter(f"{{{NS}}}futureMetadata") if fm.get("name") == "XLRICHVALUE"
              for bk in fm.iter(f"{{{NS}}}bk")]
    values = list(etree.fromstring(z.read(parts["rdRichValue"])).iter(f"{{{_RD}}}rv"))
    structures = list(etree.fromstring(z.read(parts["rdRichValueStructure"])).iter(
        f"{{{_RD}}}s"))
    out = {}
    for vm_el in meta.iter(f"{{{NS}}}valueMetadata"):
        for n, bk in enumerate(vm_el.iter(f"{{{NS}}}bk"), 1):
            rc = bk.find(f"{{{NS}}}rc")
            t, v = int(rc.get("t")), int(rc.get("v"))
            if types[t - 1] != "XLRICHVALUE" or not future[v]:
                continue
            rv = values[future[v][0]]
            st = structures[int(rv.get("s"))]
            keys = [k.get("n") for k in st.iter(f"{{{_RD}}}k")]
            if st.get("t") == "_error" and "errorType" in keys:
                vals = [x.text for x in rv.iter(f"{{{_RD}}}v")]
                out[n] = _RICH_ERRORS[int(vals[keys.index("errorType")])]
    return out


def _value(c: etree._Element, sst: list[str], rich: dict[int, str] | None = None) -> Any:
    """The cell's stored value; ``...`` (Ellipsis) when it has none."""
    t = c.get("t") or "n"
    v = c.find(f"{{{NS}}}v")
    if t == "inlineStr":
        is_ = c.find(f"{{{NS}}}is")
        return "".join(x.text or "" for x in is_.iter(f"{{{NS}}}t")) if is_ is not None else ...
    if v is None:
        return ...
    text = v.text or ""
    if t == "s":
        return sst[int(text)]
    if t == "str":
        return _unescape(text)
    if t == "b":
        return text.strip() in ("1", "true")
    if t == "e":
        vm = c.get("vm")
        if vm is not None and rich and int(vm) in rich:
            return Err(rich[int(vm)])
        return Err(text.strip())
    if text == "":
        return ...
    return float(text)


@dataclass
class Cell:
    value: Any           # float, str, bool, Err, or ... (no value stored)
    formula: str | None  # the formula text of a formula cell ("" for a shared/array member)
    is_formula: bool


def read_cells(path: Path) -> dict[tuple[str, str], Cell]:
    """(sheet, "A1") → :class:`Cell` for every cell of every worksheet of ``path``."""
    out: dict[tuple[str, str], Cell] = {}
    with zipfile.ZipFile(path) as z:
        sst = _shared_strings(z)
        rich = rich_errors(z)
        for name, part in _sheets(z):
            root = etree.fromstring(z.read(part))
            arrays: list[tuple[int, int, int, int]] = []
            cells = []
            for c in root.iter(f"{{{NS}}}c"):
                ref = c.get("r")
                f = c.find(f"{{{NS}}}f")
                if f is not None and f.get("t") == "array" and f.get("ref"):
                    a, _, b = f.get("ref").partition(":")
                    ma, mb = _REF.fullmatch(a), _REF.fullmatch(b or a)
                    if ma and mb:
                        arrays.append((int(ma.group(2)), _col(ma.group(1)),
                                       int(mb.group(2)), _col(mb.group(1))))
                cells.append((ref, c, f))
            for ref, c, f in cells:
                m = _REF.fullmatch(ref or "")
                if m is None:
                    continue
                r, col = int(m.group(2)), _col(m.group(1))
                member = any(r1 <= r <= r2 and c1 <= col <= c2 for r1, c1, r2, c2 in arrays)
                text = (f.text or "") if f is not None else None
                out[(name, ref)] = Cell(_value(c, sst, rich), text, f is not None or member)
    return out


def blank_copy(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` with the cached value of every formula cell removed."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        parts = {part for _n, part in _sheets(zin)}
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename in parts:
                data = _blank_sheet(data)
            elif info.filename == "xl/calcChain.xml":
                continue
            zout.writestr(info, data)


def _blank_sheet(data: bytes) -> bytes:
    root = etree.fromstring(data)
    arrays = []
    for f in root.iter(f"{{{NS}}}f"):
        if f.get("t") == "array" and f.get("ref"):
            a, _, b = f.get("ref").partition(":")
            ma, mb = _REF.fullmatch(a), _REF.fullmatch(b or a)
            if ma and mb:
                arrays.append((int(ma.group(2)), _col(ma.group(1)), int(mb.group(2)),
                               _col(mb.group(1))))
    for c in root.iter(f"{{{NS}}}c"):
        f = c.find(f"{{{NS}}}f")
        if f is None:
            m = _REF.fullmatch(c.get("r") or "")
            if m is None:
                continue
            r, col = int(m.group(2)), _col(m.group(1))
            if not any(r1 <= r <= r2 and c1 <= col <= c2 for r1, c1, r2, c2 in arrays):
                continue
        for v in c.findall(f"{{{NS}}}v"):
            c.remove(v)
        if c.get("t") in ("str", "b", "e", "n", "s"):
            del c.attrib["t"]
        if c.get("vm") is not None:  # the value's rich value (#CALC!…) goes with the value
            del c.attrib["vm"]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def equal(got: Any, want: Any) -> bool:
    """Excel's value and a tool's, equal as a user would see them: numbers to 1e-12 relative
    (Excel itself shows 15 digits), text exactly, booleans and errors by kind."""
    if type(want) is float:
        return (type(got) is float and math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-300)) \
            or (type(got) is float and abs(want) < 1e-15 and abs(got) < 1e-15)
    if want == "" and got is ...:
        return False
    return type(got) is type(want) and got == want


@dataclass
class Verdict:
    """One tool on one file: which formula cells it computed and which agree with Excel."""

    file: str
    cells: int = 0            # formula cells with a value stored by Excel (not volatile)
    computed: int = 0         # of those, cells the tool gave a value
    agree: int = 0            # of those, cells equal to Excel's value
    volatile: int = 0         # left out: TODAY(), RAND()… cannot equal a stored value
    differ: list[tuple[str, str, str, Any, Any]] = field(default_factory=list)
    missing: list[tuple[str, str, str]] = field(default_factory=list)


def compare(original: dict[tuple[str, str], Cell], result: dict[tuple[str, str], Cell] | None,
            name: str) -> Verdict:
    """Cell by cell: ``result`` (a recomputed blank copy, None if the tool failed) against
    ``original``."""
    v = Verdict(name)
    if result is not None:  # some tools write sheet names in another case (formulas: upper)
        folded = {(s.casefold(), c): x for (s, c), x in result.items()}
    for key, cell in original.items():
        if not cell.is_formula or cell.value is ...:
            continue
        if cell.formula and VOLATILE.search(cell.formula):
            v.volatile += 1
            continue
        v.cells += 1
        got = None if result is None else (result.get(key) or folded.get(
            (key[0].casefold(), key[1])))
        gv = got.value if got is not None else ...
        if gv is ...:
            v.missing.append((key[0], key[1], cell.formula or ""))
            continue
        v.computed += 1
        if equal(gv, cell.value):
            v.agree += 1
        else:
            v.differ.append((key[0], key[1], cell.formula or "", cell.value, gv))
    return v


def show(x: Any) -> str:
    if x is ...:
        return "(none)"
    if isinstance(x, Err):
        return x.code
    return repr(x)


__all__ = ["CORPUS", "Cell", "Err", "Verdict", "blank_copy", "compare", "corpus_files",
           "equal", "read_cells", "rich_errors", "saved_at", "show"]


def saved_at(path: Path) -> datetime | None:
    """When Excel saved the file (``dcterms:modified`` in docProps/core.xml), for TODAY()."""
    try:
        with zipfile.ZipFile(path) as z:
            root = etree.fromstring(z.read("docProps/core.xml"))
    except (KeyError, etree.XMLSyntaxError):
        return None
    for el in root:
        if el.tag.endswith("}modified") and el.text:
            with contextlib.suppress(ValueError):
                return datetime.fromisoformat(el.text.strip().replace("Z", "+00:00")).replace(
                    tzinfo=None)
    return None
