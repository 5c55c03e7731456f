"""The add-in package, built here: a valid OOXML file, every ribbon callback present in the
VBA, every PERF_* function registered as xlwings registers it on Windows."""

from __future__ import annotations

import csv
import inspect
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from external_tools import require_tool
from lxml import etree

from xlbridge import ribbon, udfs
from xlbridge.addin import package
from xlbridge.addin.registry import registrations, xlwings_vba

CUSTOMUI_NS = "http://schemas.microsoft.com/office/2009/07/customui"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> package.Build:
    out = tmp_path_factory.mktemp("addin") / "xlbridge.xlam"
    return package.build(out, interpreter=r"C:\Users\clerk\xlbridge\.venv\Scripts\pythonw.exe")


def test_package_is_a_valid_macro_enabled_addin(built):
    with zipfile.ZipFile(built.addin) as z:
        assert z.testzip() is None
        names = set(z.namelist())
        parts = {n: etree.fromstring(z.read(n)) for n in names}   # every part is XML
    types = parts["[Content_Types].xml"]
    overrides = {o.get("PartName"): o.get("ContentType") for o in types}
    assert overrides["/xl/workbook.xml"] == "application/vnd.ms-excel.addin.macroEnabled.main+xml"
    for name in names - {"[Content_Types].xml"}:
        if not name.endswith(".rels"):
            ext = name.rsplit(".", 1)[1]
            assert f"/{name}" in overrides or any(
                d.get("Extension") == ext for d in types if d.tag.endswith("Default")), name
    for rels_name in [n for n in names if n.endswith(".rels")]:
        base = rels_name.replace("_rels/", "").removesuffix(".rels")
        folder = base.rsplit("/", 1)[0] + "/" if "/" in base else ""
        for rel in parts[rels_name]:
            target = rel.get("Target")
            assert (folder + target if not target.startswith("/") else target[1:]) in names
    ui = [r for r in parts["_rels/.rels"] if r.get("Type") == package.REL_UI]
    assert [r.get("Target") for r in ui] == ["customUI/customUI14.xml"]


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
    assert config["INTERPRETER_WIN"].endswith("pythonw.exe")
    assert config["USE UDF SERVER"] is True and config["UDF MODULES"] == "xlbridge.udfs"
    # an independent OOXML reader opens it
    soffice = require_tool("soffice")
    subprocess.run([soffice, "--headless", "--infilter=Calc MS Excel 2007 XML",
                    "--convert-to", "csv", "--outdir", str(tmp_path), str(built.addin)],
                   check=True, capture_output=True, timeout=180)
    rows = list(csv.reader((tmp_path / "xlbridge.csv").open(encoding="utf-8")))
    assert rows[0] == ["INTERPRETER_WIN", config["INTERPRETER_WIN"]]


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


def test_every_ribbon_callback_exists_and_routes_to_a_handler():
    modules = package.vba_modules()
    source = "\n".join(modules.values())
    routed = set()
    for button in _ribbon_buttons():
        callback = button.get("onAction")
        match = re.search(rf"Public Sub {callback}\(control As Object\)\s*\n\s*XlbridgeRun "
                          r'"(\w+)"', modules["xlbridge_ribbon"])
        assert match, f"no VBA callback {callback}"
        assert match.group(1) in ribbon.ACTIONS
        routed.add(match.group(1))
    assert routed == set(ribbon.ACTIONS)
    assert "Public Function RunPython(" in source      # from xlwings' custom add-in module
    assert 'Public Const PROJECT_NAME As String = "xlbridge"' in modules["xlwings"]
    assert "r.run('\" & action & \"')" in modules["xlbridge_ribbon"]


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


def test_vba_wrappers_call_python_like_xlwings_own(built):
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


def test_function_help_sheet(built):
    rows = package.function_rows()
    assert [r[0] for r in rows[1:]] == list(udfs.FUNCTIONS)
    for row in rows[1:]:
        assert len(row) == 4 + row[3] and all(len(str(x)) <= package.MAX_DOC for x in row)
    assert package.signature("PERF_GRADE") == "PERF_GRADE(score, scheme, [population], [flags])"


def test_vba_sources_are_ascii_with_crlf(built):
    assert [p.name for p in built.vba] == ["xlwings.bas", "xlbridge_addin.bas",
                                           "xlbridge_ribbon.bas", "xlbridge_udfs.bas"]
    for path in built.vba:
        data = path.read_bytes()
        data.decode("ascii")
        assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
        first = data.split(b"\r\n", 1)[0].decode()
        assert first == f'Attribute VB_Name = "{path.stem}"'


def test_cli_build_and_install_off_windows(tmp_path):
    import click

    from xlbridge import cli_addin

    group = click.Group()
    cli_addin.register(group)
    runner = CliRunner()
    out = tmp_path / "dist" / "xlbridge.xlam"
    result = runner.invoke(group, ["addin", "build", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and (tmp_path / "dist" / "xlbridge-vba" / "xlbridge_udfs.bas").exists()
    result = runner.invoke(group, ["addin", "install"])
    if not Path("C:/").exists():
        assert result.exit_code == 1 and "Windows" in result.output
