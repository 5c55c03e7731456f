"""The `xlbridge` command, driven as a user would."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tests.conftest import SCHEMES
from xlbridge.cli import main

MEILING = SCHEMES / "meiling-street-quarterly.records.csv"


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_schemes_list_show_validate_schema(run):
    out = run("schemes", "list")
    assert out.exit_code == 0 and "meiling-street-quarterly@1" in out.output
    out = run("schemes", "show", "meiling-street-quarterly")
    assert "优秀：≥90" in out.output and "输入列" in out.output
    out = run("schemes", "validate")
    assert out.exit_code == 0 and "invalid" not in out.output
    schema = json.loads(run("schemes", "schema").output)
    assert schema["title"] == "Scheme" and "parts" in schema["properties"]


def test_schemes_list_marks_a_scheme_that_fails_validation(tmp_path):
    text = (SCHEMES / "bailian-township.yaml").read_text(encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        text.replace("{label: 优, at_least: 90", "{label: 优, at_least: 80")
        .replace("id: bailian-township", "id: broken-one", 1), encoding="utf-8")
    out = CliRunner().invoke(main, ["--schemes", str(tmp_path), "schemes", "list"],
                             env={"COLUMNS": "300"})
    row = next(line for line in out.output.splitlines() if "broken-one@1" in line)
    assert "有误：2 处错误" in row
    assert "可用" in next(line for line in out.output.splitlines() if "hami-transport@1" in line)


def test_validate_reports_file_line_and_path(run, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("""id: bad-one
version: 1
title: 坏方案
unit: 单位
max_score: 100
parts:
  - {id: a, title: A, points: 90, method: direct}
tiers:
  - {label: 优, at_least: 90}
  - {label: 差, below: 80}
""", encoding="utf-8")
    out = run("schemes", "validate", str(bad))
    assert out.exit_code == 1
    assert f"{bad}:6 parts：错误：这些部分的分值合计为 90" in out.output
    assert "介于 80 分与 90 分之间的总分" in out.output


def test_score_writes_results_and_summary(run, tmp_path):
    output = tmp_path / "out.csv"
    out = run("score", "--scheme", "meiling-street-quarterly", "--input", str(MEILING),
              "--output", str(output))
    assert out.exit_code == 0
    assert "24 条记录，0 条数据有误" in out.output
    rows = list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 24
    assert {"总分", "等次", "奖金", "计分明细"} <= set(rows[0])
    assert rows[21]["等次"] == "不定等次" and rows[21]["奖金"] == "1000.00"


def test_score_json_and_explain(run):
    out = run("score", "--scheme", "meiling-street-quarterly", "--input", str(MEILING),
              "--json")
    data = json.loads(out.output)
    assert data["summary"]["records"] == 24
    assert data["records"][0]["breakdown"][0]["kind"] == "part"
    out = run("score", "--scheme", "meiling-street-quarterly", "--input", str(MEILING),
              "--explain", "23")
    assert "第 23 行" in out.output and "1500 × 2/3 = 1000 元" in out.output
    out = run("score", "--scheme", "meiling-street-quarterly", "--input", str(MEILING),
              "--explain", "99")
    assert out.exit_code == 2 and "第 99 行没有记录；记录在第 2–25 行" in out.output


def test_bad_records_exit_1_and_name_row_and_field(run, tmp_path):
    text = MEILING.read_text(encoding="utf-8-sig").splitlines()
    header = text[0].split(",")
    row = text[1].split(",")
    row[header.index("科室工作")] = "二十"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([text[0], ",".join(row), *text[2:]]), encoding="gb18030")
    out = CliRunner().invoke(
        main, ["score", "--scheme", "meiling-street-quarterly", "--input", str(bad)])
    assert out.exit_code == 1
    assert f"{bad} 第 2 行 [科室工作]：应为数字，实际为“二十”" in out.stderr
    assert "3 条暂缓" in out.output  # the rest of that category waits for the fix


def test_missing_column_and_unknown_scheme(run, tmp_path):
    bad = tmp_path / "cols.csv"
    bad.write_text("姓名,考核类别\n张三,科级干部\n", encoding="utf-8")
    out = run("score", "--scheme", "meiling-street-quarterly", "--input", str(bad))
    assert out.exit_code == 2 and f"{bad}：缺少列 " in out.output
    out = run("score", "--scheme", "nope", "--input", str(bad))
    assert out.exit_code == 2 and "找不到方案“nope”" in out.output


BAILIAN = SCHEMES / "bailian-township.records.csv"


def test_a_misspelt_column_is_an_error_not_a_column_of_blanks(run, tmp_path):
    # 察访核验扣分 may be blank (= 0 deducted), so a misspelt header used to read as no
    # deductions at all — a better grade — with a warning only
    text = BAILIAN.read_text(encoding="utf-8-sig")
    bad = tmp_path / "bl.csv"
    bad.write_text(text.replace("察访核验扣分(分)", "察访核验扣分", 1), encoding="utf-8")
    out = run("score", "--scheme", "bailian-township", "--input", str(bad))
    assert out.exit_code == 2
    assert "缺少列 察访核验扣分(分) [inspection]" in out.output
    assert "；没有对应任何输入的列：察访核验扣分；" in out.output


def test_rows_keep_excel_numbers_after_a_blank_line(run, tmp_path):
    lines = MEILING.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    row = lines[2].split(",")
    row[header.index("科室工作")] = "abc"
    bad = tmp_path / "gap.csv"
    # header (Excel row 1), a record (2), a blank line (3), the bad record (4), the rest
    bad.write_text("\n".join([lines[0], lines[1], "", ",".join(row), *lines[3:]]),
                   encoding="utf-8")
    out = CliRunner().invoke(
        main, ["score", "--scheme", "meiling-street-quarterly", "--input", str(bad)])
    assert out.exit_code == 1
    assert "第 4 行 [" in out.stderr and "第 3 行" not in out.stderr
    out = run("score", "--scheme", "meiling-street-quarterly", "--input", str(bad),
              "--explain", "5")
    assert out.exit_code == 1 and "第 5 行" in out.output     # 1: the file has a bad row
    out = run("score", "--scheme", "meiling-street-quarterly", "--input", str(bad),
              "--explain", "3")
    assert out.exit_code == 2 and "记录在第 2–" in out.output


def test_malformed_csv_is_a_message_not_a_traceback(run, tmp_path):
    bad = tmp_path / "cr.csv"
    bad.write_bytes(b'\xef\xbb\xbf' + "姓名,考核类别\n张\r三,科级干部\n".encode())
    out = run("score", "--scheme", "meiling-street-quarterly", "--input", str(bad))
    assert out.exit_code == 2 and "第 2 行不是有效的 CSV（" in out.output


def test_examples_is_the_main_job():
    # run as the README does, in a real process
    done = subprocess.run([sys.executable, "-m", "xlbridge.cli", "examples"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "meiling-street-quarterly@1" in done.stdout


def test_the_readme_worked_example_is_what_xlbridge_prints(run, tmp_path):
    """The README's console blocks for the 梅岭 example, command by command."""
    readme = (SCHEMES.parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("## A worked example", 1)[1].split("```console", 1)[1]
    block = block.split("```", 1)[0]
    sessions = [s for s in block.split("$ xlbridge ")[1:]]
    assert len(sessions) == 2
    for session in sessions:
        command, _, shown = session.partition("\n    ")
        rest, _, shown = shown.partition("\n")
        args = (command.rstrip("\\ ") + " " + rest).split()
        args = [str(tmp_path / a) if a == "results.csv" else a for a in args]
        out = run(*args)
        assert out.exit_code == 0, out.output
        assert out.output.strip() == shown.strip(), args


def written_to_a_pipe(fifo, write) -> str:
    """What ``write()`` writes into the named pipe ``fifo`` (read by a second thread); the
    pipe must still be a pipe afterwards."""
    import os
    import stat
    import threading

    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes().decode("utf-8-sig")))
    reader.start()
    write()
    reader.join(timeout=20)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    return got[0]


def test_output_to_a_pipe_writes_into_it_and_leaves_it_a_pipe(tmp_path):
    # `--output /dev/stdout` and the like: the atomic rename must not replace the device
    from xlbridge.atomic import write_atomic

    fifo = tmp_path / "pipe"
    got = written_to_a_pipe(fifo, lambda: write_atomic(fifo, "总分\r\n87.8\r\n"))
    assert got == "总分\r\n87.8\r\n"


def test_score_output_to_a_pipe_through_the_cli(tmp_path):
    fifo = tmp_path / "results"
    outs = []
    got = written_to_a_pipe(fifo, lambda: outs.append(CliRunner().invoke(
        main, ["score", "--scheme", "meiling-street-quarterly", "--input", str(MEILING),
               "--output", str(fifo)])))
    assert outs[0].exit_code == 0, outs[0].output
    header, *rows = got.splitlines()
    assert header.endswith("总分,等次,奖金,排名,标记,暂缓原因,计分明细") and len(rows) >= 24


@pytest.mark.skipif(sys.platform.startswith("win"), reason="Excel's UDF server needs xlwings")
def test_a_headless_run_does_not_load_xlwings():
    """xlwings (and numpy) is loaded only where its decorators record anything; scoring and
    recomputing headless call the same PERF_* functions without it."""
    code = ("import sys; from xlbridge.cli import main; import xlbridge.batch; "
            "from xlbridge.udfs import PERF_GRADE; "
            "print(PERF_GRADE(95, 'bailian-township'), 'xlwings' in sys.modules, "
            "'numpy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["优", "False", "False"]


def test_validate_warns_when_a_new_version_keeps_an_old_description(tmp_path):
    """schemes validate compares a version with the one before it in the store: new weights
    under version 1's free-text description (×80% … ×20%) are a warning, not a silent page."""
    text = (SCHEMES / "bailian-township.yaml").read_text(encoding="utf-8")
    v2 = text.replace("version: 1", "version: 2", 1).replace(
        "weight: 80%", "weight: 75%", 1).replace("weight: 20%", "weight: 25%", 1)
    path = tmp_path / "bailian-township@2.yaml"
    path.write_text(v2, encoding="utf-8")
    result = CliRunner().invoke(main, ["schemes", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "说明文字沿用第 1 版的原文" in result.output
    # the shipped version 1 itself has no older version to compare with
    result = CliRunner().invoke(main, ["schemes", "validate", "bailian-township@1"])
    assert result.exit_code == 0 and "沿用" not in result.output
