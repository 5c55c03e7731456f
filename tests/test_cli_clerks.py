"""What a clerk sees through the real `xlbridge` command: any console encoding, schemes by
their Chinese title, real workbooks out, blank input templates, skipped files listed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import SCHEMES
from xlbridge.cli import main
from xlbridge.csvio import read_records
from xlbridge.engine import score_population
from xlbridge.store import SchemeStore

MEILING = SCHEMES / "meiling-street-quarterly.records.csv"
ROOT = SCHEMES.parents[1]


def xlbridge(*args: str, stdout=subprocess.PIPE, encoding: str = "gbk",
             cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The command in a real process whose console encoding is ``encoding``."""
    env = {**os.environ, "PYTHONIOENCODING": encoding, "XLBRIDGE_LANG": "zh"}
    return subprocess.run([sys.executable, "-m", "xlbridge.cli", *args], stdout=stdout,
                          stderr=subprocess.PIPE, env=env, cwd=cwd or ROOT, check=False)


# ----------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8"])
def test_explain_and_json_redirected_to_a_file_never_crash(tmp_path, encoding):
    target = tmp_path / "申诉.txt"
    with target.open("wb") as fh:
        done = xlbridge("score", "--scheme", "meiling-street-quarterly", "--input",
                        str(MEILING), "--explain", "23", stdout=fh, encoding=encoding)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    data = target.read_bytes()
    if encoding == "utf-8":
        text = data.decode("utf-8")
    else:   # a file under a non-UTF-8 console: UTF-8 with a byte-order mark, nothing lost
        assert data.startswith(b"\xef\xbb\xbf")
        text = data.decode("utf-8-sig")
    assert "第 23 行" in text and "满分10 − 扣分1 = 9" in text and "1500 × 2/3 = 1000 元" in text
    out = tmp_path / "结果.json"
    with out.open("wb") as fh:
        done = xlbridge("score", "--scheme", "梅岭", "--input", str(MEILING), "--json",
                        stdout=fh, encoding=encoding)
    assert done.returncode == 0
    result = json.loads(out.read_bytes().decode("utf-8-sig"))
    assert result["summary"]["records"] == 24
    assert any("−" in s["text"] for r in result["records"] for s in r["breakdown"])


def test_a_gbk_pipe_gets_gbk_with_what_gbk_cannot_hold_replaced():
    done = xlbridge("score", "--scheme", "meiling-street-quarterly", "--input", str(MEILING),
                    "--explain", "23")
    assert done.returncode == 0, done.stderr.decode("gbk", "replace")
    text = done.stdout.decode("gbk")            # strictly GBK: the reader's encoding
    assert "第 23 行" in text and "1500 × 2/3 = 1000 元" in text
    done = xlbridge("score", "--scheme", "meiling-street-quarterly", "--input", str(MEILING),
                    "--json")
    assert json.loads(done.stdout.decode("gbk"))["summary"]["records"] == 24


# ----------------------------------------------------------------------------- schemes by name


def test_scheme_by_chinese_title_part_of_it_or_id(tmp_path):
    out = tmp_path / "o.csv"
    for name in ("梅岭街道机关事业单位工作人员季度绩效考核", "梅岭", "meiling-street-quarterly@1",
                 "meiling"):
        done = CliRunner().invoke(main, ["score", "--scheme", name, "--input", str(MEILING)])
        assert done.exit_code == 0, (name, done.output)
        assert done.output.startswith("meiling-street-quarterly@1 梅岭街道")
    done = CliRunner().invoke(main, ["score", "--scheme", "梅岭街到季度考核", "--input",
                                     str(MEILING), "--output", str(out)])
    assert done.exit_code == 2
    assert "找不到方案“梅岭街到季度考核”；是不是：meiling-street-quarterly（梅岭街道" in done.output
    done = CliRunner().invoke(main, ["score", "--scheme", "考核", "--input", str(MEILING)])
    assert done.exit_code == 2 and "“考核”同时符合多个方案" in done.output
    assert "hospital-2016（***医院" in done.output


def test_worksheet_functions_take_the_title_too():
    from xlbridge.store import reset_default_store
    from xlbridge.udfs import PERF_GRADE

    reset_default_store()
    assert PERF_GRADE(95, "白莲镇政府绩效管理评估") == PERF_GRADE(95, "bailian-township") == "优"
    assert PERF_GRADE(95, "白莲") == "优"
    wrong = PERF_GRADE(95, "白连镇")
    assert str(wrong) == "#N/A"
    assert "是不是：bailian-township（白莲镇政府绩效管理评估）" in wrong.reason


def test_tables_fold_ids_instead_of_cutting_them():
    done = CliRunner().invoke(main, ["schemes", "list"], env={"COLUMNS": "60"},
                              terminal_width=60)
    text = done.output.replace("│", " ").replace("\n", " ")
    assert "…" not in done.output
    joined = "".join(done.output.split())
    assert "meiling-street-quarterly@1" in joined.replace("│", "") or \
        "meiling-street-quarterly@1" in text.replace(" ", "")


# ----------------------------------------------------------------------------- --output .xlsx


def test_output_xlsx_is_a_real_workbook_with_a_sheet_per_group(tmp_path):
    target = tmp_path / "结果.xlsx"
    done = CliRunner().invoke(main, ["score", "--scheme", "meiling-street-quarterly",
                                     "--input", str(MEILING), "--output", str(target)])
    assert done.exit_code == 0, done.output
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == ["科级干部", "中层干部", "一般工作人员"]
    cs = SchemeStore([SCHEMES]).get("meiling-street-quarterly")
    data = read_records(MEILING, cs.inputs)
    pop = score_population(cs, data.rows, first_row=data.row_numbers)
    name_col = data.header.index("姓名")
    expected = {raw[name_col]: r for raw, r in zip(data.raw_rows, pop.records, strict=True)}
    seen = 0
    for ws in wb.worksheets:
        header = [c.value for c in ws[1]]
        assert header[:len(data.header)] == [cs.input_by_id.get(h).label
                                             if h in cs.input_by_id else h
                                             for h in data.header]
        assert header[len(data.header):] == ["总分", "等次", "奖金", "排名", "标记", "暂缓原因",
                                             "计分明细"]
        assert ws.freeze_panes == "B2" and ws.auto_filter.ref.startswith("A1:")
        col = {h: i for i, h in enumerate(header)}
        for row in ws.iter_rows(min_row=2):
            r = expected[row[col["姓名"]].value]
            assert row[col["总分"]].value == float(r.total)
            assert row[col["总分"]].number_format == "0.0"        # the scheme keeps one place
            assert row[col["等次"]].value == (r.grade_text or None)
            assert row[col["奖金"]].value == float(r.payout)
            assert row[col["奖金"]].number_format == "0.00"
            assert row[col["排名"]].value == r.rank
            assert row[col["考核类别"]].value == ws.title
            seen += 1
    assert seen == 24


def test_output_suffix_decides_the_format(tmp_path):
    done = CliRunner().invoke(main, ["score", "--scheme", "梅岭", "--input", str(MEILING),
                                     "--output", str(tmp_path / "x.txt")])
    assert done.exit_code == 2 and "应为 .csv、.xlsx、.html 或 .pdf 文件" in done.output
    html = tmp_path / "公示.html"
    done = CliRunner().invoke(main, ["score", "--scheme", "梅岭", "--input", str(MEILING),
                                     "--output", str(html)])
    assert done.exit_code == 0 and "<h1>梅岭街道机关事业单位工作人员季度绩效考核结果公示</h1>" in \
        html.read_text(encoding="utf-8")


def test_a_bad_cell_is_one_clean_sentence(tmp_path):
    text = MEILING.read_text(encoding="utf-8-sig").splitlines()
    header = text[0].split(",")
    row = text[7].split(",")
    row[header.index("迟到(次)")] = "二十"
    bad = tmp_path / "申诉.csv"
    bad.write_text("\n".join([*text[:7], ",".join(row), *text[8:]]), encoding="utf-8")
    done = CliRunner().invoke(main, ["score", "--scheme", "梅岭", "--input", str(bad)])
    assert done.exit_code == 1
    assert f"{bad} 第 8 行 [迟到(次)]：应为数字，实际为“二十”" in done.stderr, done.stderr


# ----------------------------------------------------------------------------- folder runs


def test_folder_runs_list_skipped_files_by_type_with_the_reason(tmp_path):
    folder = tmp_path / "各单位"
    folder.mkdir()
    (folder / "旧表.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    (folder / "金山乡.et").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    (folder / "~$考核.xlsx").write_bytes(b"\0" * 165)
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    done = CliRunner().invoke(main, ["recompute", str(folder)])
    assert done.exit_code == 1                     # two workbooks were not recomputed
    err = done.stderr
    assert "跳过 3 个文件：" in err
    assert "旧版 Excel 97-2003 格式（.xls），无法重算" in err and str(folder / "旧表.xls") in err
    assert "WPS 表格格式（.et），无法重算" in err and str(folder / "金山乡.et") in err
    assert "锁定文件，不是工作簿" in err and str(folder / "~$考核.xlsx") in err
    assert "notes.txt" not in done.output
    (folder / "旧表.xls").unlink()
    (folder / "金山乡.et").unlink()
    done = CliRunner().invoke(main, ["recompute", str(folder)])
    assert done.exit_code == 0 and "跳过 1 个文件：" in done.stderr   # a lock file is no failure
