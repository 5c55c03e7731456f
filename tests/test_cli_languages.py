"""The same mistakes, told in both languages, by the real command in a real process: Chinese
by default (no locale, C, zh_CN), English with LANG=en_US.UTF-8, XLBRIDGE_LANG=en or --lang en.
Each message is one clean sentence in one language — no Chinese left in the English one
beyond the clerk's own data (file names, labels, values), no English in the Chinese one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SCHEMES

MEILING = SCHEMES / "meiling-street-quarterly.records.csv"
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"\b(expected|got|not|the|scheme|error|row|file|cannot)\b", re.I)


def xlbridge(*args: str, lang: dict[str, str] | None = None, cwd: Path | None = None
             ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "XLBRIDGE_LANG")}
    env.update(lang or {}, PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "xlbridge.cli", *args], capture_output=True,
                          text=True, encoding="utf-8", env=env, cwd=cwd, check=False)


EN = {"LANG": "en_US.UTF-8"}
ZH_WAYS = [None, {"LANG": "C.UTF-8"}, {"LANG": "zh_CN.UTF-8"}]
EN_WAYS = [EN, {"XLBRIDGE_LANG": "en"}, {"LANG": "zh_CN.UTF-8", "XLBRIDGE_LANG": "en"}]


@pytest.fixture(scope="module")
def bad_csv(tmp_path_factory) -> Path:
    lines = MEILING.read_text(encoding="utf-8-sig").splitlines()
    header, row = lines[0].split(","), lines[1].split(",")
    row[header.index("科室工作")] = "二十"
    path = tmp_path_factory.mktemp("lang") / "申诉.csv"
    path.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]), encoding="utf-8")
    return path


@pytest.mark.parametrize("lang", ZH_WAYS, ids=["default", "C", "zh_CN"])
def test_a_data_error_in_chinese_by_default(bad_csv, lang):
    done = xlbridge("score", "--scheme", "meiling-street-quarterly", "--input", str(bad_csv),
                    lang=lang)
    assert done.returncode == 1
    assert f"{bad_csv} 第 2 行 [科室工作]：应为数字，实际为“二十”" in done.stderr, done.stderr
    assert "3 条暂缓" in done.stdout and not ENGLISH.search(done.stderr.replace(str(bad_csv), ""))


@pytest.mark.parametrize("lang", EN_WAYS, ids=["LANG", "XLBRIDGE_LANG", "XLBRIDGE_LANG-over-LANG"])
def test_the_same_data_error_in_english(bad_csv, lang):
    done = xlbridge("score", "--scheme", "meiling-street-quarterly", "--input", str(bad_csv),
                    lang=lang)
    assert done.returncode == 1
    assert f"{bad_csv} row 2 [科室工作]: expected a number, got “二十”" in done.stderr, \
        done.stderr
    assert "3 withheld" in done.stdout, done.stdout


def test_lang_option_wins_over_the_environment(bad_csv):
    done = xlbridge("--lang", "en", "score", "--scheme", "meiling-street-quarterly", "--input",
                    str(bad_csv), lang={"LANG": "zh_CN.UTF-8"})
    assert "row 2 [科室工作]: expected a number, got “二十”" in done.stderr
    done = xlbridge("--lang", "zh", "score", "--scheme", "meiling-street-quarterly", "--input",
                    str(bad_csv), lang=EN)
    assert "第 2 行 [科室工作]：应为数字，实际为“二十”" in done.stderr


def test_an_unknown_scheme_in_both_languages(bad_csv):
    zh = xlbridge("score", "--scheme", "meiling-street-quartely", "--input", str(bad_csv))
    en = xlbridge("score", "--scheme", "meiling-street-quartely", "--input", str(bad_csv),
                  lang=EN)
    assert zh.returncode == en.returncode == 2
    title = "梅岭街道机关事业单位工作人员季度绩效考核"
    assert zh.stderr.startswith("错误：找不到方案“meiling-street-quartely”；是不是："
                                f"meiling-street-quarterly（{title}）？（已查找："), zh.stderr
    assert en.stderr.startswith("Error: no scheme “meiling-street-quartely”; did you mean: "
                                f"meiling-street-quarterly ({title})? (looked in "), en.stderr
    assert not CJK.search(en.stderr.replace(title, "")), en.stderr


def test_an_explanation_in_both_languages():
    args = ("score", "--scheme", "meiling-street-quarterly", "--input", str(MEILING),
            "--explain", "3")
    zh, en = xlbridge(*args), xlbridge(*args, lang=EN)
    assert zh.returncode == en.returncode == 0
    assert "总分 = 80.8" in zh.stdout and "等次：80.8 分 → “良好”（≥75 且 <90）" in zh.stdout
    assert "结果：总分 80.8，等次“称职”，奖金 1500 元，组内第 4 名/共 4 人" in zh.stdout
    assert "Total = 80.8" in en.stdout and "Grade: 80.8 points → “良好” (≥75 and <90)" \
        in en.stdout, en.stdout
    assert "Result: total 80.8, grade “称职”, payout 1500 元, rank 4 of 4 in the group" \
        in en.stdout
    # English lines carry Chinese only where the scheme's own names and values are
    english = "\n".join(en.stdout.splitlines()[1:])
    for word in ("总分", "等次", "满分", "扣分", "名额", "结果", "不适用", "封顶"):
        assert word not in english, (word, english)


def test_recompute_says_why_a_file_is_refused_in_both_languages(tmp_path):
    (tmp_path / "坏.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "旧.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    zh = xlbridge("recompute", str(tmp_path))
    en = xlbridge("recompute", str(tmp_path), lang=EN)
    assert zh.returncode == en.returncode == 1
    assert "zip 压缩包已损坏（" in zh.stderr and "无法打开" in zh.stdout
    assert "旧版 Excel 97-2003 格式（.xls），无法重算" in zh.stderr
    assert "corrupt zip archive (" in en.stderr and "rejected" in en.stdout, en.stderr
    assert "legacy Excel 97-2003 format (.xls)" in en.stderr, en.stderr
    assert "corrupt" not in zh.stderr and "压缩包" not in en.stderr
