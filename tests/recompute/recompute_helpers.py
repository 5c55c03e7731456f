"""Workbook builders and zip inspection helpers for the recompute tests."""

from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path

DEPTS = ["办公室", "财务科", "人事科", "业务一科"]

# ------------------------------------------------------------------------- builders


def make_template(path: Path, rows: int = 20, *, image: bool = True) -> Path:
    """A realistic appraisal template: styles, merged title, data validation, conditional
    formatting, a comment, defined names (workbook and sheet scope), a chart, an image, a
    second sheet with a Chinese name, formulas of every common kind (no cached values, as
    openpyxl writes them)."""
    import openpyxl
    from openpyxl.chart import BarChart, Reference
    from openpyxl.comments import Comment
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "考核表"
    ws["A1"] = "2024年度 绩效考核表"
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells("A1:K1")
    ws.append([])
    ws.append(["工号", "姓名", "部门", "业绩", "能力", "态度", "总分", "等级", "名次",
               "科室名次", "奖金"])
    first, last = 4, 3 + rows
    for i in range(rows):
        r = first + i
        ws.append([
            1000 + i, f"员工{i}", DEPTS[i % len(DEPTS)],
            60 + (i * 7) % 41, 55 + (i * 13) % 46, 70 + (i * 3) % 31,
            f"=ROUND(D{r}*0.5+E{r}*0.3+F{r}*0.2,1)",
            f'=IF(G{r}>=90,"优秀",IF(G{r}>=80,"良好",IF(G{r}>=60,"合格","不合格")))',
            f"=RANK(G{r},$G${first}:$G${last})",
            f'=COUNTIFS($C${first}:$C${last},C{r},$G${first}:$G${last},">"&G{r})+1',
            f"=ROUND(VLOOKUP(H{r},系数表!$A$2:$B$5,2,FALSE)*奖金基数,2)",
        ])
        ws.cell(r, 7).number_format = "0.0"
    ws.cell(last + 1, 1, "合计")
    ws.cell(last + 1, 7, f"=SUM(G{first}:G{last})")
    ws.cell(last + 1, 8, f'=COUNTIF(H{first}:H{last},"优秀")')
    ws.cell(last + 1, 12, "=SUM(K:K)")
    ws.cell(last + 2, 7, f"=AVERAGE(G{first}:G{last})")
    ws.cell(last + 2, 8, "=本表权重*100")
    ws["M1"] = 0.5
    fill = PatternFill("solid", fgColor="FFFF00")
    ws.conditional_formatting.add(f"G{first}:G{last}",
                                  CellIsRule(operator="greaterThan", formula=["90"], fill=fill))
    dv = DataValidation(type="list", formula1='"办公室,财务科,人事科,业务一科"')
    ws.add_data_validation(dv)
    dv.add(f"C{first}:C{last}")
    ws["B3"].comment = Comment("姓名按身份证填写", "人事科")
    ws.column_dimensions["B"].width = 14
    t = wb.create_sheet("系数表")
    t.append(["等级", "系数"])
    for g, k in [("优秀", 1.2), ("良好", 1.0), ("合格", 0.8), ("不合格", 0)]:
        t.append([g, k])
    t["D1"] = "基数"
    t["E1"] = 5000
    wb.defined_names["奖金基数"] = DefinedName("奖金基数", attr_text="系数表!$E$1")
    ws.defined_names["本表权重"] = DefinedName("本表权重", attr_text="考核表!$M$1")
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=7, min_row=3, max_row=last), titles_from_data=True)
    ws.add_chart(chart, "N3")
    if image:
        try:
            from openpyxl.drawing.image import Image
            from PIL import Image as PILImage
        except ImportError:  # pragma: no cover
            pass
        else:
            img_path = path.with_suffix(".png")
            PILImage.new("RGB", (8, 8), (200, 30, 30)).save(img_path)
            ws.add_image(Image(str(img_path)), "N20")
    wb.save(path)
    return path


def add_vba(src: Path, dst: Path, payload: bytes = b"\xd0\xcf\x11\xe0fake vba project" * 40
            ) -> Path:
    """Turn an .xlsx into an .xlsm carrying a (fake) xl/vbaProject.bin."""
    with zipfile.ZipFile(src) as z:
        members = [(i, z.read(i)) for i in z.infolist()]
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
                data = data.replace(
                    b"</Types>",
                    b'<Default Extension="bin" ContentType="application/vnd.ms-office.'
                    b'vbaProject"/></Types>')
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdVBA" Type="http://schemas.microsoft.com/office/2006/'
                    b'relationships/vbaProject" Target="vbaProject.bin"/></Relationships>')
            z.writestr(info, data)
        z.writestr("xl/vbaProject.bin", payload)
    return dst


def make_shared(src: Path, dst: Path, sheet: str = "xl/worksheets/sheet1.xml") -> Path:
    """Rewrite runs of copied formulas in a column as Excel's shared formulas."""
    with zipfile.ZipFile(src) as z:
        members = [(i, z.read(i)) for i in z.infolist()]
    out = []
    for info, data in members:
        if info.filename == sheet:
            data = _share(data.decode("utf-8")).encode("utf-8")
        out.append((info, data))
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in out:
            z.writestr(info, data)
    return dst


def _share(xml: str) -> str:
    from xlbridge.recompute.formula import relative_key

    cells = list(re.finditer(r'<c r="([A-Z]+)(\d+)"([^>]*)><f>([^<]*)</f>(<v[^>]*>[^<]*</v>|<v/>)?'
                             r"</c>", xml))
    groups: dict[tuple[str, str], list[re.Match[str]]] = {}
    for m in cells:
        key = relative_key(m.group(4), int(m.group(2)), _col(m.group(1)))
        groups.setdefault((m.group(1), key), []).append(m)
    repl: dict[int, tuple[str, int]] = {}
    si = 0
    for (_col_letters, _key), ms in groups.items():
        if len(ms) < 2:
            continue
        first, last = ms[0], ms[-1]
        ref = f"{first.group(1)}{first.group(2)}:{last.group(1)}{last.group(2)}"
        for k, m in enumerate(ms):
            v = m.group(5) or ""
            if k == 0:
                f = f'<f t="shared" ref="{ref}" si="{si}">{m.group(4)}</f>'
            else:
                f = f'<f t="shared" si="{si}"/>'
            repl[m.start()] = (f'<c r="{m.group(1)}{m.group(2)}"{m.group(3)}>{f}{v}</c>', m.end())
        si += 1
    out, pos = [], 0
    for start in sorted(repl):
        text, end = repl[start]
        out.append(xml[pos:start])
        out.append(text)
        pos = end
    out.append(xml[pos:])
    return "".join(out)


def _col(letters: str) -> int:
    from xlbridge.recompute.formula import col_index

    return col_index(letters)


def write_zip(path: Path, parts: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
    return path


_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
CT = (_DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
      'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
      f'<Override PartName="/xl/workbook.xml" ContentType="{_MAIN}.sheet.main+xml"/>'
      f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_MAIN}.worksheet+xml"/>'
      "{extra}</Types>")
ROOT_RELS = (_DECL + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
             f'relationships"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
             'Target="xl/workbook.xml"/></Relationships>')
WB = (_DECL + '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
      f'xmlns:r="{_REL}"><sheets><sheet name="{{name}}" sheetId="1" r:id="rId1"/></sheets>'
      '{names}<calcPr calcId="191029"/></workbook>')
WB_RELS = (_DECL + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
           f'relationships"><Relationship Id="rId1" Type="{_REL}/worksheet" '
           'Target="worksheets/sheet1.xml"/>{extra}</Relationships>')
SHEET = (_DECL + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
         "<sheetData>{rows}</sheetData></worksheet>")


def handmade(path: Path, sheet_data: str, *, sheet_xml: str | None = None, names: str = "",
             shared_strings: list[str] | str | None = None, name: str = "Sheet1",
             extra_parts: dict[str, bytes | str] | None = None) -> Path:
    """A minimal workbook written by hand (for layouts openpyxl never produces)."""
    parts: dict[str, bytes | str] = {}
    ct_extra = ""
    rels_extra = ""
    if shared_strings is not None:
        if isinstance(shared_strings, list):
            body = "".join(f"<si><t>{s}</t></si>" for s in shared_strings)
            shared_strings = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                              '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                              f'2006/main">{body}</sst>')
        parts["xl/sharedStrings.xml"] = shared_strings
        ct_extra += ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                     'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
        rels_extra += ('<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/'
                       'officeDocument/2006/relationships/sharedStrings" '
                       'Target="sharedStrings.xml"/>')
    parts["[Content_Types].xml"] = CT.format(extra=ct_extra)
    parts["_rels/.rels"] = ROOT_RELS
    parts["xl/workbook.xml"] = WB.format(name=name, names=names)
    parts["xl/_rels/workbook.xml.rels"] = WB_RELS.format(extra=rels_extra)
    parts["xl/worksheets/sheet1.xml"] = sheet_xml or SHEET.format(rows=sheet_data)
    parts.update(extra_parts or {})
    # keep [Content_Types].xml first, like Excel
    return write_zip(path, parts)


# ------------------------------------------------------------------------- inspection


def raw_members(path: Path) -> list[tuple[str, int, bytes]]:
    """(name, CRC, compressed bytes exactly as stored) for every member, in order."""
    out = []
    with zipfile.ZipFile(path) as z, open(path, "rb") as fh:
        for info in z.infolist():
            fh.seek(info.header_offset)
            head = fh.read(30)
            n, e = struct.unpack("<HH", head[26:30])
            fh.seek(info.header_offset + 30 + n + e)
            out.append((info.filename, info.CRC, fh.read(info.compress_size)))
    return out


_CELL_RE = re.compile(rb"<(?:\w+:)?c[\s>][^>]*>.*?</(?:\w+:)?c>|<(?:\w+:)?c[\s][^>]*/>", re.S)


def mask_formula_values(xml: bytes) -> bytes:
    """Sheet XML with the value and t attribute of every formula cell removed, so that two
    versions of a sheet compare equal when only formula results differ."""

    def mask(m: re.Match[bytes]) -> bytes:
        cell = m.group(0)
        if b"<f" not in cell and b"<x:f" not in cell:
            return cell
        start_end = cell.index(b">")
        head = re.sub(rb"""\s+t\s*=\s*("[^"]*"|'[^']*')""", b"", cell[:start_end])
        body = re.sub(rb"<((?:\w+:)?)v(?:\s[^>]*)?(?:/>|>[^<]*</\1v>)", b"", cell[start_end:])
        return head + body

    return _CELL_RE.sub(mask, xml)


def cells_of(path: Path, sheet: str | None = None, formulas: bool = False) -> dict[str, object]:
    import openpyxl

    wb = openpyxl.load_workbook(path, data_only=not formulas)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    out = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None:
                out[c.coordinate] = c.value
    return out


def same_as_excel(got: object, want: object) -> bool:
    """A computed value against Excel's: numbers to 1e-12 relative (as the corpus compares),
    errors by code, anything else exactly."""
    import math

    from xlbridge.xlvalues import ExcelError

    if isinstance(want, float):
        return isinstance(got, float) and math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-300)
    if isinstance(want, ExcelError):
        return isinstance(got, ExcelError) and got.code == want.code
    return got == want


def saved_mismatches(cases: list[tuple[str, str, object]]) -> list[str]:
    """(where, formula, Excel's value) cases computed in memory: one line per case whose
    value is not Excel's."""
    got = compute_formulas([f for _, f, _ in cases])
    return [f"{where} {f}: got {g!r}, Excel {w!r}"
            for (where, f, w), g in zip(cases, got, strict=True) if not same_as_excel(g, w)]


def compute_formulas(formulas: list[str]) -> list[object]:
    """Each formula in a cell of its own (Z1, Z2…), computed in memory: the values in order;
    fails if any function is reported unsupported."""
    from xlbridge.recompute.memory import compute
    from xlbridge.recompute.report import WorkbookReport

    cells = {f"Z{i + 1}": f for i, f in enumerate(formulas)}
    rep = WorkbookReport("mem")
    got = compute(cells, report=rep)
    assert not rep.unsupported, rep.unsupported
    return [got[f"Z{i + 1}"] for i in range(len(formulas))]
