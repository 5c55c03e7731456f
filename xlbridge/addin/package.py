"""Building ``xlbridge.xlam``: one complete add-in file, written here on any machine.

The package is a zip of XML parts plus the VBA project:

* ``xl/vbaProject.bin`` — the VBA project, *source only* (:mod:`xlbridge.addin.ovba`):
  it starts from the VBA project of the installed xlwings' own ribbon add-in
  (``quickstart_addin_ribbon.xlam``, BSD-3 like the rest of xlwings outside ``xlwings/pro``:
  its references, project properties, ``ThisWorkbook``, the config sheet's module and the
  ``Dictionary`` class), renamed ``xlbridge``, without its demo ribbon module, and adds:

  * ``xlwings`` — xlwings' custom add-in module (``xlwings_custom_addin.bas``) with
    ``PROJECT_NAME = "xlbridge"``: ``RunPython``, the UDF server ``XLPy`` and the
    ``Declare … Lib "xlwings64-<version>.dll"`` lines of this xlwings;
  * ``xlbridge_addin`` — start-up (is the Python this add-in was built for there? the
    function help through ``Application.MacroOptions``) and the boundary of the worksheet
    functions (``"#N/A reason"`` → a real error value with ``CVErr``);
  * ``xlbridge_text`` — generated: the add-in's Chinese messages and the error codes;
  * ``xlbridge_ribbon`` — one callback per button → ``xlbridge.ribbon.run('<action>')``;
  * ``xlbridge_udfs`` — generated: one VBA function per PERF_* function, from the
    registrations xlwings' decorators make (:mod:`xlbridge.addin.registry`), calling
    ``XLPy.CallUDF`` exactly as xlwings' own generated wrappers do.

  Excel compiles the source when it opens the file (project version 0xFFFF), as it does for
  every add-in xlwings ships; importing modules — the only step that needs “Trust access to
  the VBA project object model” — is done here, at build time.
* ``customUI/customUI14.xml`` — the ribbon tab 绩效考核 (five buttons);
* ``xl/worksheets`` — the ``xlbridge.conf`` sheet that xlwings' VBA reads its settings from
  (``INTERPRETER_WIN`` from ``--interpreter``, ``USE UDF SERVER``, ``UDF MODULES``), and the
  ``functions`` sheet listing every PERF_* function with its category, description and
  argument help, which start-up passes to ``Application.MacroOptions``;
* the content types and relationships of a macro-enabled add-in.
"""

from __future__ import annotations

import datetime as _dt
import inspect
import io
import re
import zipfile
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import xlwings

from xlbridge import __version__
from xlbridge.addin import ovba
from xlbridge.addin.registry import UDF_MODULE, registrations
from xlbridge.atomic import write_atomic
from xlbridge.i18n import t
from xlbridge.udfs import FUNCTIONS
from xlbridge.xlvalues import ERROR_CODES

ADDIN_NAME = "xlbridge.xlam"
PROJECT_NAME = "xlbridge"
CONFIG_SHEET = f"{PROJECT_NAME}.conf"
FUNCTIONS_SHEET = "functions"
#: The document modules (code names) of the two sheets, in sheet order.
SHEET_CODE_NAMES = ("Sheet2", "Sheet3")
#: Excel's limit on a MacroOptions description or argument description.
MAX_DOC = 255
#: The xlwings add-in whose VBA project ours starts from, and its demo module we leave out.
XLWINGS_ADDIN = "quickstart_addin_ribbon.xlam"
XLWINGS_DEMO_MODULE = "RibbonMyAddin"
TITLE = "绩效考核 xlbridge"

#: The VBA error number of each Excel error code (``CVErr``; XlErrNull … XlErrCalc).
CVERR = {"#NULL!": 2000, "#DIV/0!": 2007, "#VALUE!": 2015, "#REF!": 2023, "#NAME?": 2029,
         "#NUM!": 2036, "#N/A": 2042, "#GETTING_DATA": 2043, "#SPILL!": 2045, "#CALC!": 2050}

#: What the add-in's VBA says when it cannot start Python ({…} filled in by the VBA).
MESSAGES = {
    "title": TITLE,
    "no_interpreter": (
        "xlbridge 加载项没有设置 Python 解释器（加载项 xlbridge.xlam 的 xlbridge.conf 工作表中"
        "的 INTERPRETER_WIN 为空）。\n\n请 IT 人员用 xlbridge addin build --interpreter "
        "<pythonw.exe 的完整路径> 重新生成加载项，或用离线安装包的 install.cmd 安装，然后重新"
        "启动 Excel。在此之前，PERF_* 函数显示 #VALUE!，工作簿中已保存的结果不受影响。"),
    "interpreter_missing": (
        "xlbridge 加载项找不到 Python 解释器：\n{path}\n\n（来自加载项 xlbridge.xlam 的 "
        "xlbridge.conf 工作表，INTERPRETER_WIN。）请确认本机已按安装说明装好 Python 和 "
        "xlbridge，或请 IT 人员用正确的 --interpreter 重新生成加载项。在此之前，PERF_* 函数"
        "显示 #VALUE!，工作簿中已保存的结果不受影响。"),
    "dll_missing": (
        "xlbridge 加载项需要 xlwings {version}，但在 {folder} 及其上一级文件夹中找不到 "
        "{dll}：本机 Python 中装的 xlwings 与加载项不是同一版本。\n\n请用同一版本的离线"
        "安装包重新安装，或在该 Python 中执行 pip install xlwings=={version}，然后重新启动 "
        "Excel。"),
}

_HERE = resources.files("xlbridge.addin")


class AddinError(Exception):
    """The add-in cannot be built or installed (the message says what to do)."""


# --------------------------------------------------------------------------- VBA


def _text(name: str) -> str:
    return (_HERE / name).read_text(encoding="utf-8")


def xlwings_addin_path() -> Path:
    return Path(xlwings.__file__).with_name(XLWINGS_ADDIN)


@cache
def xlwings_project() -> ovba.Project:
    """The VBA project of the installed xlwings' own ribbon add-in."""
    path = xlwings_addin_path()
    try:
        with zipfile.ZipFile(path) as z:
            data = z.read("xl/vbaProject.bin")
        return ovba.read(data)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise AddinError(t("无法读取 xlwings {version} 自带的加载项 {path}：{reason}",
                           version=xlwings.__version__, path=path, reason=exc)) from None


def xlwings_module() -> str:
    """xlwings' custom add-in VBA module, named for this add-in."""
    path = Path(xlwings.__file__).with_name("xlwings_custom_addin.bas")
    source = path.read_text(encoding="utf-8")
    source, n = re.subn(r'Public Const PROJECT_NAME As String = "[^"]*"',
                        f'Public Const PROJECT_NAME As String = "{PROJECT_NAME}"', source)
    if n != 1:
        raise AddinError(t("{path}：无法设置加载项名称（xlwings {version} 的模块格式与预期不同）",
                           path=path, version=xlwings.__version__))
    return source


def _hex_lines(text: str, per_line: int = 96) -> list[str]:
    """``text`` as UTF-16 code units in hex, cut into pieces of ``per_line`` characters."""
    units = text.encode("utf-16-be").hex().upper()
    step = per_line * 4
    return [units[i:i + step] for i in range(0, len(units), step)] or [""]


def text_module() -> str:
    """``xlbridge_text``: the messages (as hex, since VBA source is read in the PC's ANSI code
    page) and the error value of each Excel error code."""
    lines = ['Attribute VB_Name = "xlbridge_text"',
             "' Generated by `xlbridge addin build` from xlbridge/addin/package.py - do not edit.",
             "' Non-ASCII text is kept as UTF-16 code units in hex: VBA reads its source in the",
             "' PC's ANSI code page, so a Chinese literal would not survive.",
             "Option Explicit", "",
             "Public Function XlbridgeMessage(ByVal key As String) As String",
             "    Dim t As String",
             "    Select Case key"]
    for key, text in MESSAGES.items():
        pieces = _hex_lines(text)
        lines.append(f'        Case "{key}"')
        lines.append(f'            t = "{pieces[0]}"')
        lines += [f'            t = t & "{p}"' for p in pieces[1:]]
    lines += ["    End Select",
              "    XlbridgeMessage = XlbridgeUnhex(t)",
              "End Function", "",
              "Private Function XlbridgeUnhex(ByVal units As String) As String",
              "    Dim i As Long, out As String",
              "    For i = 1 To Len(units) Step 4",
              '        out = out & ChrW(CLng("&H0000" & Mid$(units, i, 4)))',
              "    Next i",
              "    XlbridgeUnhex = out",
              "End Function", "",
              "' The error value of an Excel error code (\"#N/A\"); Empty for any other text.",
              "Public Function XlbridgeErrorValue(ByVal code As String) As Variant",
              "    Select Case code"]
    missing = set(ERROR_CODES) - set(CVERR)
    if missing:
        raise AddinError(t("没有对应 CVErr 编号的错误代码：{codes}", codes=sorted(missing)))
    lines += [f'        Case "{code}": XlbridgeErrorValue = CVErr({CVERR[code]})'
              for code in ERROR_CODES]
    lines += ["        Case Else: XlbridgeErrorValue = Empty",
              "    End Select",
              "End Function", ""]
    return "\n".join(lines)


def udf_wrappers() -> str:
    """The VBA functions Excel calls: one per PERF_* function, from xlwings' registrations."""
    lines = ['Attribute VB_Name = "xlbridge_udfs"',
             "' Generated by `xlbridge addin build` from xlbridge/udfs.py - do not edit.",
             "' Each function calls Python like xlwings' own generated wrappers, then turns",
             "' \"#N/A reason\" results into real error values (XlbridgeCell).",
             "Option Explicit", ""]
    for name, info in registrations().items():
        params = []
        for arg in info["args"]:
            if arg["vba"]:
                continue
            params.append(("Optional " if "optional" in arg else "") + arg["name"])
        call_args = ", ".join(arg["vba"] or arg["name"] for arg in info["args"])
        lines += [
            f"Public Function {name}({', '.join(params)})",
            *(["    Application.Volatile"] if info["volatile"] else []),
            "    If TypeOf Application.Caller Is Range Then On Error GoTo failed",
            f'    {name} = XlbridgeCell(XLPy.CallUDF("{UDF_MODULE}", "{name}", '
            f"Array({call_args}), ActiveWorkbook, Application.Caller))",
            "    Exit Function",
            "failed:",
            f"    {name} = XlbridgeFailed(Err.Description)",
            "End Function",
            "",
        ]
    return "\n".join(lines)


def _document(header_of: ovba.Module, name: str, body: str = "") -> ovba.Module:
    """A document module named ``name`` with the attribute header of ``header_of``."""
    header = "".join(line + "\n" for line in header_of.source.replace("\r\n", "\n").split("\n")
                     if line.startswith("Attribute "))
    header, n = re.subn(r'^Attribute VB_Name = "[^"]*"', f'Attribute VB_Name = "{name}"',
                        header)
    if n != 1:
        raise AddinError(t("xlwings 加载项的模块 {name} 没有 VB_Name", name=header_of.name))
    return ovba.Module(name, ovba.DOCUMENT, header + body)


def vba_modules() -> dict[str, str]:
    """The modules xlbridge adds or replaces: name → VBA source, in declaration order."""
    return {"xlwings": xlwings_module(),
            "xlbridge_addin": _text("vba/xlbridge_addin.bas"),
            "xlbridge_text": text_module(),
            "xlbridge_ribbon": _text("vba/xlbridge_ribbon.bas"),
            "xlbridge_udfs": udf_wrappers()}


def vba_project() -> ovba.Project:
    """xlwings' add-in project, renamed, with xlbridge's modules."""
    base = xlwings_project()
    project = ovba.renamed(base, PROJECT_NAME)
    try:
        project.drop(XLWINGS_DEMO_MODULE)
        this, conf_sheet = project.module("ThisWorkbook"), project.module(SHEET_CODE_NAMES[0])
    except KeyError as exc:
        raise AddinError(t("xlwings {version} 的加载项中没有模块 {name}",
                           version=xlwings.__version__, name=exc)) from None
    project.put(_document(this, "ThisWorkbook", _text("vba/ThisWorkbook.cls")))
    project.put(_document(conf_sheet, SHEET_CODE_NAMES[1]))
    for name, source in vba_modules().items():
        project.put(ovba.Module(name, ovba.STANDARD, source))
    return project


def vba_project_bin() -> bytes:
    project = vba_project()
    try:
        return ovba.write(project)
    except ValueError as exc:   # a module that is not ASCII, a clash of names
        raise AddinError(t("无法写出 VBA 工程：{reason}", reason=exc)) from None


def write_vba(folder: Path) -> list[Path]:
    """The modules as .bas/.cls files (for reading; the add-in already holds them)."""
    folder.mkdir(parents=True, exist_ok=True)
    project = vba_project()
    paths = []
    for m in project.modules:
        path = folder / f"{m.name}{'.bas' if m.kind == ovba.STANDARD else '.cls'}"
        write_atomic(path, ovba.module_source_bytes(m, project.code_page))
        paths.append(path)
    return paths


def ribbon_xml() -> str:
    return _text("customUI14.xml")


# --------------------------------------------------------------------------- sheets


def config_rows(interpreter: str | None = None) -> list[tuple[str, Any]]:
    """The xlbridge.conf sheet: xlwings settings of the add-in (key, value)."""
    return [
        ("INTERPRETER_WIN", interpreter or ""),
        ("USE UDF SERVER", True),
        ("UDF MODULES", UDF_MODULE),
        ("ADD_WORKBOOK_TO_PYTHONPATH", "false"),
        ("SHOW CONSOLE", False),
    ]


def function_rows() -> list[list[Any]]:
    """The functions sheet: name, category, description, argument count, argument docs."""
    rows: list[list[Any]] = [["function", "category", "description", "arguments",
                              "argument help …"]]
    for name, info in registrations().items():
        docs = [a["doc"][:MAX_DOC] for a in info["args"] if not a["vba"]]
        description = " ".join((info["ret"]["doc"] or "").split())[:MAX_DOC]
        rows.append([name, info["category"], description, len(docs), *docs])
    return rows


def signature(name: str) -> str:
    """How a function reads in a formula: PERF_GRADE(score, scheme, [population], [flags])."""
    params = inspect.signature(FUNCTIONS[name]).parameters.values()
    shown = [p.name if p.default is inspect.Parameter.empty else f"[{p.name}]" for p in params]
    return f"{name}({', '.join(shown)})"


# --------------------------------------------------------------------------- package

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PR = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = {
    "workbook": "application/vnd.ms-excel.addin.macroEnabled.main+xml",
    "sheet": "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
    "styles": "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml",
    "core": "application/vnd.openxmlformats-package.core-properties+xml",
    "app": "application/vnd.openxmlformats-officedocument.extended-properties+xml",
    "vba": "application/vnd.ms-office.vbaProject",
}
REL_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
REL_UI = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
REL_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _col(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _sheet_xml(rows: list[list[Any]] | list[tuple[str, Any]], widths: list[int],
               code_name: str) -> str:
    body = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row, start=1):
            ref = f"{_col(c)}{r}"
            if isinstance(value, bool):
                cells.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, (int, float)):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            elif value not in (None, ""):
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">'
                             f"{escape(str(value))}</t></is></c>")
        body.append(f'<row r="{r}">{"".join(cells)}</row>')
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                   for i, w in enumerate(widths, start=1))
    return (f'{XML_HEAD}<worksheet xmlns="{_NS}" xmlns:r="{_R}">'
            f'<sheetPr codeName="{code_name}"/>'
            f"<cols>{cols}</cols><sheetData>{''.join(body)}</sheetData></worksheet>")


def _parts(interpreter: str | None) -> dict[str, str]:
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    conf, functions = SHEET_CODE_NAMES
    sheets = [(CONFIG_SHEET, _sheet_xml(config_rows(interpreter), [30, 60], conf)),
              (FUNCTIONS_SHEET, _sheet_xml(function_rows(), [16, 20, 60, 10, 60, 60, 60, 60],
                                           functions))]
    overrides = [("/xl/workbook.xml", _CT["workbook"]), ("/xl/styles.xml", _CT["styles"]),
                 ("/xl/vbaProject.bin", _CT["vba"]),
                 ("/docProps/core.xml", _CT["core"]), ("/docProps/app.xml", _CT["app"])]
    overrides += [(f"/xl/worksheets/sheet{i}.xml", _CT["sheet"])
                  for i in range(1, len(sheets) + 1)]
    content_types = (
        f'{XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
        + "</Types>")
    root_rels = (
        f'{XML_HEAD}<Relationships xmlns="{_PR}">'
        f'<Relationship Id="rId1" Type="{REL_DOC}" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
        'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/extended-properties" Target="docProps/app.xml"/>'
        f'<Relationship Id="rId4" Type="{REL_UI}" Target="customUI/customUI14.xml"/>'
        "</Relationships>")
    workbook = (
        f'{XML_HEAD}<workbook xmlns="{_NS}" xmlns:r="{_R}"><workbookPr codeName="ThisWorkbook"/>'
        "<bookViews><workbookView/></bookViews><sheets>"
        + "".join(f'<sheet name="{escape(n)}" sheetId="{i}" r:id="rId{i}"/>'
                  for i, (n, _x) in enumerate(sheets, start=1))
        + "</sheets></workbook>")
    workbook_rels = (
        f'{XML_HEAD}<Relationships xmlns="{_PR}">'
        + "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/'
                  f'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
                  for i in range(1, len(sheets) + 1))
        + f'<Relationship Id="rId{len(sheets) + 1}" Type="http://schemas.openxmlformats.org/'
          'officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        + f'<Relationship Id="rId{len(sheets) + 2}" Type="{REL_VBA}" Target="vbaProject.bin"/>'
        "</Relationships>")
    styles = (
        f'{XML_HEAD}<styleSheet xmlns="{_NS}">'
        '<fonts count="1"><font><sz val="11"/><name val="等线"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        '</cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"'
        ' xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" '
        'builtinId="0"/></cellStyles></styleSheet>')
    core = (
        f'{XML_HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/'
        'XMLSchema-instance"><dc:title>xlbridge 绩效考核</dc:title>'
        f"<dc:description>xlbridge {__version__}: PERF_* worksheet functions and the 绩效考核 "
        "ribbon tab</dc:description><dc:creator>xlbridge</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
        "</cp:coreProperties>")
    app = (f'{XML_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
           'extended-properties"><Application>Microsoft Excel</Application></Properties>')
    parts = {"[Content_Types].xml": content_types, "_rels/.rels": root_rels,
             "customUI/customUI14.xml": ribbon_xml(), "docProps/core.xml": core,
             "docProps/app.xml": app, "xl/workbook.xml": workbook,
             "xl/_rels/workbook.xml.rels": workbook_rels, "xl/styles.xml": styles}
    for i, (_name, xml) in enumerate(sheets, start=1):
        parts[f"xl/worksheets/sheet{i}.xml"] = xml
    return parts


@dataclass
class Build:
    """What `xlbridge addin build` made."""

    addin: Path
    vba: list[Path]          # the modules exported for reading (``--vba-dir``), if asked


def package_bytes(interpreter: str | None = None) -> bytes:
    """The complete add-in file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, xml in _parts(interpreter).items():
            z.writestr(name, xml.encode("utf-8"))
        z.writestr("xl/vbaProject.bin", vba_project_bin())
    return buffer.getvalue()


def build(output: Path | str, interpreter: str | None = None,
          vba_dir: Path | str | None = None) -> Build:
    """Write the add-in (atomically), and its VBA modules as files if ``vba_dir`` is given."""
    output = Path(output)
    data = package_bytes(interpreter)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(output, data)
    except OSError as exc:
        raise AddinError(t("无法写入 {path}：{reason}", path=output,
                           reason=exc.strerror or exc)) from None
    return Build(output, write_vba(Path(vba_dir)) if vba_dir else [])
