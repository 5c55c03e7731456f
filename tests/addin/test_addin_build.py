"""The add-in file, built here and read back with readers we did not write: oletools' olevba
(every module, byte for byte), olefile (the compound file and the MS-OVBA streams),
LibreOffice (the document's Basic libraries, the settings sheet), lxml (the OOXML parts).
Plus what must hold for Excel to run it: every ribbon callback a Sub taking an
IRibbonControl, every wrapper's arguments those of the Python function, the Declare lines
naming the installed xlwings' DLL."""

from __future__ import annotations

import csv
import inspect
import io
import json
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import olefile
import pytest
import xlwings
from external_tools import missing, require_tool
from lxml import etree
from oletools.olevba import VBA_Parser, decompress_stream

from xlbridge import ribbon, udfs
from xlbridge.addin import ovba, package
from xlbridge.addin.registry import registrations, xlwings_vba
from xlbridge.xlvalues import ERROR_CODES

CUSTOMUI_NS = "http://schemas.microsoft.com/office/2009/07/customui"
INTERPRETER = r"C:\Users\clerk\xlbridge\.venv\Scripts\pythonw.exe"
HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> package.Build:
    out = tmp_path_factory.mktemp("addin") / "xlbridge.xlam"
    return package.build(out, interpreter=INTERPRETER)


@pytest.fixture(scope="module")
def project() -> ovba.Project:
    return package.vba_project()


@pytest.fixture(scope="module")
def olevba_modules(built) -> dict[str, tuple[str, str]]:
    """module name → (OLE stream, source) as olevba extracts them from the .xlam."""
    parser = VBA_Parser(str(built.addin))
    try:
        return {name.rsplit(".", 1)[0]: (stream, code)
                for _f, stream, name, code in parser.extract_macros()}
    finally:
        parser.close()


@pytest.fixture(scope="module")
def vba_ole(built):
    with zipfile.ZipFile(built.addin) as z:
        data = z.read("xl/vbaProject.bin")
    ole = olefile.OleFileIO(io.BytesIO(data))
    yield ole
    ole.close()


def expected_source(project: ovba.Project, name: str) -> str:
    return ovba.module_source_bytes(project.module(name), project.code_page).decode(
        f"cp{project.code_page}")


# --------------------------------------------------------------------------- OOXML


def test_package_is_a_valid_macro_enabled_addin(built):
    with zipfile.ZipFile(built.addin) as z:
        assert z.testzip() is None
        names = set(z.namelist())
        parts = {n: etree.fromstring(z.read(n)) for n in names if n != "xl/vbaProject.bin"}
    types = parts["[Content_Types].xml"]
    overrides = {o.get("PartName"): o.get("ContentType") for o in types
                 if o.tag.endswith("Override")}
    defaults = {d.get("Extension"): d.get("ContentType") for d in types
                if d.tag.endswith("Default")}
    assert overrides["/xl/workbook.xml"] == "application/vnd.ms-excel.addin.macroEnabled.main+xml"
    assert overrides["/xl/vbaProject.bin"] == "application/vnd.ms-office.vbaProject"
    for name in names - {"[Content_Types].xml"}:
        assert f"/{name}" in overrides or name.rsplit(".", 1)[1] in defaults, name
    assert set(overrides) <= {f"/{n}" for n in names}
    related = set()
    for rels_name in [n for n in names if n.endswith(".rels")]:
        base = rels_name.replace("_rels/", "").removesuffix(".rels")
        folder = base.rsplit("/", 1)[0] + "/" if "/" in base else ""
        ids = [rel.get("Id") for rel in parts[rels_name]]
        assert len(ids) == len(set(ids)), rels_name
        for rel in parts[rels_name]:
            target = rel.get("Target")
            path = folder + target if not target.startswith("/") else target[1:]
            assert path in names, (rels_name, target)
            related.add((rel.get("Type"), path))
    assert (package.REL_UI, "customUI/customUI14.xml") in related
    assert (package.REL_VBA, "xl/vbaProject.bin") in related
    # every part but the package's own is reached by a relationship
    assert {p for _t, p in related} == {n for n in names if not n.endswith(".rels")
                                       and n != "[Content_Types].xml"}


def test_sheets_and_workbook_name_their_document_modules(built, project):
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(built.addin) as z:
        book = etree.fromstring(z.read("xl/workbook.xml"))
        code_names = [etree.fromstring(z.read(f"xl/worksheets/sheet{i}.xml"))
                      .find("m:sheetPr", ns).get("codeName") for i in (1, 2)]
    assert book.find("m:workbookPr", ns).get("codeName") == "ThisWorkbook"
    documents = [m.name for m in project.modules if m.kind == ovba.DOCUMENT]
    assert documents == ["ThisWorkbook", *code_names]


def test_settings_sheet_and_libreoffice_reads_it(built, tmp_path):
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(built.addin) as z:
        book = etree.fromstring(z.read("xl/workbook.xml"))
        sheet = etree.fromstring(z.read("xl/worksheets/sheet1.xml"))
    names = [s.get("name") for s in book.findall(".//m:sheet", ns)]
    assert names == [package.CONFIG_SHEET, package.FUNCTIONS_SHEET]
    config = {}
    for row in sheet.findall(".//m:row", ns):
        key, value = row.findall("m:c", ns)
        config[key.findtext(".//m:t", namespaces=ns)] = (
            value.findtext(".//m:t", namespaces=ns) if value.get("t") == "inlineStr"
            else value.findtext("m:v", namespaces=ns) == "1")
    assert config["INTERPRETER_WIN"] == INTERPRETER
    assert config["USE UDF SERVER"] is True and config["UDF MODULES"] == "xlbridge.udfs"
    # xlwings reads the keys from A1 down to the first blank cell: no gap
    assert list(config) == [k for k, _v in package.config_rows(INTERPRETER)]
    soffice = require_tool("soffice")
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                    "--infilter=Calc MS Excel 2007 XML", "--convert-to", "csv", "--outdir",
                    str(tmp_path), str(built.addin)],
                   check=True, capture_output=True, timeout=180)
    rows = list(csv.reader((tmp_path / "xlbridge.csv").open(encoding="utf-8")))
    assert rows[0] == ["INTERPRETER_WIN", INTERPRETER]


# --------------------------------------------------------------------------- the VBA project


def test_olevba_lists_every_module_with_its_source_byte_for_byte(olevba_modules, project):
    assert list(olevba_modules) == [m.name for m in project.modules]
    for m in project.modules:
        stream, code = olevba_modules[m.name]
        assert stream == f"VBA/{m.name}"
        assert code == expected_source(project, m.name), m.name
    names = [m.name for m in project.modules]
    assert names == ["ThisWorkbook", "Dictionary", "Sheet2", "xlwings", "Sheet3",
                     "xlbridge_addin", "xlbridge_text", "xlbridge_ribbon", "xlbridge_udfs"]
    assert package.XLWINGS_DEMO_MODULE not in names


def _uno_python() -> str:
    for python in ("/usr/bin/python3", "python3"):
        try:
            done = subprocess.run([python, "-c", "import uno"], capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return python
    missing("python3-uno (LibreOffice's Python bridge)")
    raise AssertionError("unreachable")


def test_libreoffice_finds_the_same_modules_in_the_basic_library(built, project):
    require_tool("soffice")
    done = subprocess.run([_uno_python(), str(HERE / "lo_basic.py"), str(built.addin)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (opened,) = json.loads(done.stdout).values()
    assert opened is not None, "LibreOffice could not open the add-in"
    assert opened["sheets"] == [package.CONFIG_SHEET, package.FUNCTIONS_SHEET]
    library = opened["libraries"][package.PROJECT_NAME]       # the VBA project's name
    assert sorted(library) == sorted(m.name for m in project.modules)
    kinds = {ovba.STANDARD: "VBAModule", ovba.CLASS: "VBAClassModule",
             ovba.DOCUMENT: "VBADocumentModule"}
    for m in project.modules:
        lines = library[m.name].split("\n")
        assert lines[0] == f"Rem Attribute VBA_ModuleType={kinds[m.kind]}", m.name
        body = [x for x in lines[1:] if x not in ("Option VBASupport 1", "Option ClassModule")]
        ours = [x for x in expected_source(project, m.name).split("\r\n")
                if not x.startswith("Attribute ")]
        assert "\n".join(body).rstrip("\n") == "\n".join(ours).rstrip("\n"), m.name


def _dir_records(ole) -> list[tuple[int, bytes]]:
    return ovba.records(bytes(decompress_stream(bytearray(ole.openstream("VBA/dir").read()))))


def test_ms_ovba_invariants(vba_ole, project):
    streams = {"/".join(e) for e in vba_ole.listdir()}
    assert streams == {"PROJECT", "PROJECTwm", "VBA/_VBA_PROJECT", "VBA/dir",
                       *(f"VBA/{m.name}" for m in project.modules)}   # no __SRP_ cache
    # _VBA_PROJECT: 0x61CC, version 0xFFFF (Excel compiles the source), no cache
    vp = vba_ole.openstream("VBA/_VBA_PROJECT").read()
    assert struct.unpack_from("<HHB", vp) == (0x61CC, 0xFFFF, 0x00) and len(vp) == 7
    raw = bytes(decompress_stream(bytearray(vba_ole.openstream("VBA/dir").read())))
    recs = ovba.records(raw)
    ids = [rid for rid, _p in recs]
    assert ids[:4] == [0x0001, 0x0002, 0x0014, 0x0003]   # SYSKIND, LCID, LCIDINVOKE, CODEPAGE
    info = dict(recs)
    assert info[0x0001] == struct.pack("<I", 1)            # 64-bit Windows project (as xlwings')
    assert info[ovba.PROJECTNAME] == b"xlbridge"
    assert struct.unpack("<H", info[ovba.PROJECTCODEPAGE])[0] == project.code_page == 1252
    assert ids[-1] == ovba.DIR_TERMINATOR
    assert raw.endswith(struct.pack("<HI", ovba.DIR_TERMINATOR, 0))   # nothing after it
    at = ids.index(ovba.PROJECTMODULES)
    assert struct.unpack("<H", recs[at][1])[0] == len(project.modules)
    assert recs[at + 1] == (ovba.PROJECTCOOKIE, b"\xff\xff")
    modules = recs[at + 2:-1]
    assert [rid for rid, _p in modules].count(ovba.MODULE_TERMINATOR) == len(project.modules)
    cp = f"cp{project.code_page}"
    for m, block in zip(project.modules, _split(modules), strict=True):
        fields = dict(block)
        assert fields[ovba.MODULENAME].decode(cp) == m.name
        assert fields[ovba.MODULENAMEUNICODE].decode("utf-16-le") == m.name
        assert fields[ovba.MODULESTREAMNAME].decode(cp) == m.name
        assert fields[ovba.MODULEOFFSET] == struct.pack("<I", 0)     # source only, no p-code
        assert fields[ovba.MODULECOOKIE] == b"\xff\xff"
        procedural = ovba.MODULETYPE_PROCEDURAL in fields
        assert procedural == (m.kind == ovba.STANDARD) != (ovba.MODULETYPE_OTHER in fields)
    text = vba_ole.openstream("PROJECT").read().decode(cp)
    declared = re.findall(r"^(Module|Class|Document)=([^/\r\n]+)", text, re.M)
    kinds = {"Module": ovba.STANDARD, "Class": ovba.CLASS, "Document": ovba.DOCUMENT}
    assert [(kinds[k], n) for k, n in declared] == [(m.kind, m.name) for m in project.modules]
    assert re.search(r'^Name="xlbridge"\r$', text, re.M)
    wm = vba_ole.openstream("PROJECTwm").read()
    assert wm == b"".join(m.name.encode() + b"\0" + m.name.encode("utf-16-le") + b"\0\0"
                          for m in project.modules) + b"\0\0"


def _split(records):
    block = []
    for rec in records:
        block.append(rec)
        if rec[0] == ovba.MODULE_TERMINATOR:
            yield block
            block = []


def test_the_project_starts_from_xlwings_own_addin(vba_ole):
    """References, properties and protection state are xlwings' own add-in's, unchanged."""
    with zipfile.ZipFile(package.xlwings_addin_path()) as z:
        theirs = olefile.OleFileIO(io.BytesIO(z.read("xl/vbaProject.bin")))
    ours_recs, their_recs = _dir_records(vba_ole), _dir_records(theirs)
    cut = [r for r, _p in their_recs].index(ovba.PROJECTMODULES)
    assert [r for r in ours_recs[:cut] if r[0] != ovba.PROJECTNAME] == \
        [r for r in their_recs[:cut] if r[0] != ovba.PROJECTNAME]
    refs = [p for rid, p in ours_recs if rid == 0x0016]            # REFERENCENAME
    assert b"Office" in refs                                        # IRibbonControl
    ours_text = vba_ole.openstream("PROJECT").read().decode("cp1252")
    their_text = theirs.openstream("PROJECT").read().decode("cp1252")
    for key in ("ID", "HelpContextID", "VersionCompatible32", "CMG", "DPB", "GC"):
        line = re.search(rf"^{key}=.*$", their_text, re.M).group(0)
        assert line in ours_text, key
    assert vba_ole.openstream("VBA/_VBA_PROJECT").read() == \
        theirs.openstream("VBA/_VBA_PROJECT").read()
    theirs.close()


def test_a_build_is_reproducible():
    assert package.vba_project_bin() == package.vba_project_bin()


# --------------------------------------------------------------------------- what Excel needs


def test_xlwings_module_is_xlwings_own_with_the_installed_dll(olevba_modules):
    code = olevba_modules["xlwings"][1]
    version = xlwings.__version__
    dlls = re.findall(r'^\s*(?:Private )?Declare PtrSafe Function \w+ Lib "(xlwings(?:32|64)-'
                      r'[^"]+\.dll)"', code, re.M)
    dlls += re.findall(r'^\s*(?:Private )?Declare Function \w+ Lib "(xlwings(?:32|64)-[^"]+\.dll)"',
                       code, re.M)
    assert f"xlwings64-{version}.dll" in dlls and f"xlwings32-{version}.dll" in dlls
    assert set(dlls) == {f"xlwings64-{version}.dll", f"xlwings32-{version}.dll"}
    assert all(f"-{version}.dll" in line for line in re.findall(r'Lib "xlwings[^"]*"', code))
    assert f'Public Const XLWINGS_VERSION As String = "{version}"' in code
    assert 'Public Const PROJECT_NAME As String = "xlbridge"' in code
    # exactly xlwings' custom add-in module, and the one in xlwings' own add-in, but the name
    shipped = Path(xlwings.__file__).with_name("xlwings_custom_addin.bas").read_text("utf-8")
    rename = re.compile(r'Public Const PROJECT_NAME As String = "[^"]*"')
    assert rename.sub("", code.replace("\r\n", "\n")) == rename.sub("", shipped.replace("\r\n",
                                                                                        "\n"))
    assert rename.sub("", package.xlwings_project().module("xlwings").source.replace(
        "\r\n", "\n")) == rename.sub("", shipped.replace("\r\n", "\n"))


def _ribbon_buttons() -> list[etree._Element]:
    root = etree.fromstring(package.ribbon_xml().encode("utf-8"))
    assert root.tag == f"{{{CUSTOMUI_NS}}}customUI"
    return root.findall(f".//{{{CUSTOMUI_NS}}}button")


def test_ribbon_has_the_six_buttons_on_the_tab():
    root = etree.fromstring(package.ribbon_xml().encode("utf-8"))
    (tab,) = root.findall(f".//{{{CUSTOMUI_NS}}}tab")
    assert tab.get("label") == "绩效考核"
    labels = [b.get("screentip").split(" ", 1)[1] for b in _ribbon_buttons()]
    assert labels == ["Recompute sheet", "Recompute workbook", "Sync schemes", "Check sheet",
                      "Export notice", "About"]
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    for b in _ribbon_buttons():
        assert b.get("label") and b.get("imageMso") and len(b.get("supertip")) <= 1024


def test_every_onaction_is_a_sub_taking_an_iribboncontrol(olevba_modules):
    code = "\n".join(src for _s, src in olevba_modules.values())
    ribbon_code = olevba_modules["xlbridge_ribbon"][1]
    actions = [e.get("onAction") for e in etree.fromstring(
        package.ribbon_xml().encode("utf-8")).iter() if e.get("onAction")]
    assert len(actions) == len(_ribbon_buttons())
    routed = set()
    for callback in actions:
        subs = re.findall(rf"^(Public )?Sub {callback}\(([^)]*)\)", code, re.M | re.I)
        assert subs == [("Public ", "control As IRibbonControl")], callback
        match = re.search(rf"Sub {callback}\(control As IRibbonControl\)\r\n\s*XlbridgeRun "
                          r'"(\w+)"', ribbon_code)
        assert match and match.group(1) in ribbon.ACTIONS, callback
        routed.add(match.group(1))
    assert routed == set(ribbon.ACTIONS)
    assert "r.run('\" & action & \"')" in ribbon_code


def test_every_wrapper_takes_the_python_functions_arguments(olevba_modules):
    code = olevba_modules["xlbridge_udfs"][1]
    headers = dict(re.findall(r"^Public Function (PERF_\w+)\(([^)]*)\)\r$", code, re.M))
    assert list(headers) == list(udfs.FUNCTIONS)          # every function, in order, no other
    for name, func in udfs.FUNCTIONS.items():
        params = inspect.signature(func).parameters.values()
        expected = [("Optional " if p.default is not inspect.Parameter.empty else "") + p.name
                    for p in params]
        assert [a.strip() for a in headers[name].split(",")] == expected, name
        call = re.search(rf'{name} = XlbridgeCell\(XLPy\.CallUDF\("xlbridge\.udfs", "{name}", '
                         r"Array\(([^)]*)\), ActiveWorkbook, Application\.Caller\)\)", code)
        assert call and [a.strip() for a in call.group(1).split(",")] == \
            [p.name for p in params], name


def test_every_function_is_registered_as_xlwings_registers_it():
    regs = registrations()
    assert list(regs) == list(udfs.FUNCTIONS)
    for name, info in regs.items():
        params = list(inspect.signature(udfs.FUNCTIONS[name]).parameters)
        assert [a["name"] for a in info["args"]] == params
        assert info["category"] == udfs.CATEGORY and info["ret"]["options"]["convert"]
        for a in info["args"]:
            assert a["doc"] and not a["doc"].startswith("Positional argument"), (name, a)
            assert any("\u4e00" <= ch <= "\u9fff" for ch in a["doc"]), (name, a)
            assert re.search(r"[A-Za-z]{3}", a["doc"]), (name, a)     # and English
        assert any("\u4e00" <= ch <= "\u9fff" for ch in info["ret"]["doc"])
    assert regs["PERF_GRADES"]["args"][1]["options"] == {"ndim": 2, "err_to_str": True}
    # an error value in any argument (a #REF! scheme cell) arrives as its text, not as None
    for name, info in regs.items():
        for a in info["args"]:
            assert a["options"].get("err_to_str") is True, (name, a["name"])
        ranges = {a["name"] for a in info["args"] if a["options"].get("ndim") == 2}
        assert ranges == udfs.RANGE_ARGS.get(name, frozenset()), name


def test_vba_wrappers_call_python_like_xlwings_own():
    ours = package.udf_wrappers()
    theirs = xlwings_vba()
    calls = re.findall(r'XLPy\.CallUDF\("xlbridge\.udfs", "(\w+)", Array\([^)]*\), '
                       r"ActiveWorkbook, Application\.Caller\)", theirs)
    assert sorted(calls) == sorted(udfs.FUNCTIONS)
    for line in re.findall(r"XLPy\.CallUDF\([^\n]*Application\.Caller\)", theirs):
        assert line in ours
    for name in udfs.FUNCTIONS:
        header = re.search(rf"Function {name}\(([^)]*)\)", theirs).group(1)
        assert f"Public Function {name}({header})" in ours
        assert f"{name} = XlbridgeFailed(Err.Description)" in ours
    assert "= Err.Description" not in ours.replace("XlbridgeFailed(Err.Description)", "")


def test_startup_registers_help_and_checks_python(olevba_modules):
    this = olevba_modules["ThisWorkbook"][1]
    assert re.search(r"Private Sub Workbook_Open\(\)\r\n\s+XlbridgeStartup\r\nEnd Sub", this)
    addin = olevba_modules["xlbridge_addin"][1]
    startup = re.search(r"Public Sub XlbridgeStartup\(\)\r\n(.*?)End Sub", addin, re.S).group(1)
    assert startup.split() == ["XlbridgeCheckPython", "XlbridgeRegisterFunctions"]
    assert "Application.MacroOptions Macro:=macroName" in addin
    assert 'ThisWorkbook.Worksheets("functions")' in addin
    # what xlbridge_addin uses from xlwings' module is public there
    xlw = olevba_modules["xlwings"][1]
    for name in ("GetConfigFromSheet", "ExpandEnvironmentStrings", "FileExists",
                 "ParentFolder"):
        assert name in addin
        assert re.search(rf"^(Public )?Function {name}\(", xlw, re.M), name
    assert re.search(r"^Public Const XLWINGS_VERSION ", xlw, re.M)
    # the DLL looked for is the one the Declare lines load
    assert '"xlwings64-" & XLWINGS_VERSION & ".dll"' in addin
    # every message the VBA asks for exists
    for key in re.findall(r'XlbridgeMessage\("(\w+)"\)', addin):
        assert key in package.MESSAGES, key


def test_messages_and_error_values_in_the_text_module(olevba_modules):
    code = olevba_modules["xlbridge_text"][1]
    code.encode("ascii")
    found = {}
    for key, body in re.findall(r'Case "(\w+)"\r\n((?:\s+t = [^\r\n]*\r\n)+)', code):
        units = "".join(re.findall(r'"([0-9A-F]*)"', body))
        found[key] = bytes.fromhex(units).decode("utf-16-be")
    assert found == package.MESSAGES
    assert "{path}" in found["interpreter_missing"] and "{dll}" in found["dll_missing"]
    values = dict(re.findall(r'Case "(#[^"]+)": XlbridgeErrorValue = CVErr\((\d+)\)', code))
    assert {k: int(v) for k, v in values.items()} == {c: package.CVERR[c] for c in ERROR_CODES}
    assert values["#N/A"] == "2042" and values["#VALUE!"] == "2015"     # xlErrNA, xlErrValue


def test_every_module_of_ours_is_ascii(project):
    for name in package.vba_modules():
        ovba.module_source_bytes(project.module(name), 1252).decode("ascii")


def test_function_help_sheet():
    rows = package.function_rows()
    assert [r[0] for r in rows[1:]] == list(udfs.FUNCTIONS)
    for row in rows[1:]:
        assert len(row) == 4 + row[3] and all(len(str(x)) <= package.MAX_DOC for x in row)
    assert package.signature("PERF_GRADE") == "PERF_GRADE(score, scheme, [population], [flags])"


# --------------------------------------------------------------------------- the command


def test_cli_build(tmp_path):
    out = tmp_path / "dist" / "xlbridge.xlam"
    done = subprocess.run([sys.executable, "-m", "xlbridge.cli", "addin", "build", "-o", str(out),
                           "--interpreter", INTERPRETER, "--vba-dir", str(tmp_path / "vba")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"加载项：{out}" in done.stdout and "XLSTART" in done.stdout
    with zipfile.ZipFile(out) as z:
        assert "xl/vbaProject.bin" in z.namelist()
    exported = sorted(p.name for p in (tmp_path / "vba").iterdir())
    assert "xlbridge_udfs.bas" in exported and "ThisWorkbook.cls" in exported
    done = subprocess.run([sys.executable, "-m", "xlbridge.cli", "addin", "build", "-o",
                           str(tmp_path / "bare.xlam")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "--interpreter" in done.stderr


def test_cli_build_into_an_unwritable_place_is_a_message(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    done = subprocess.run([sys.executable, "-m", "xlbridge.cli", "addin", "build", "-o",
                           str(blocker / "xlbridge.xlam")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1 and "无法写入" in done.stderr and "Traceback" not in done.stderr
