"""The message catalogue: every message id (the Chinese text) has its English text, and the
language is chosen as the README says."""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal

from babel.messages.pofile import read_po
from click.testing import CliRunner

from xlbridge import i18n
from xlbridge.cli import main
from xlbridge.engine.values import FieldError, make_parser
from xlbridge.scheme.inputs import InputSpec

CJK = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"\{(\w+)[^}]*\}")


def _english() -> dict:
    with i18n.catalogue_path("en").open("rb") as fh:
        return {(m.id, m.context): m for m in read_po(fh, locale="en") if m.id}


def test_every_message_id_has_a_chinese_and_an_english_text():
    source = {(m.id, m.context): m for m in i18n.extract() if m.id}
    assert len(source) > 100
    english = _english()
    assert set(source) == set(english), (
        "catalogue out of date; run `python -m xlbridge.i18n update` and translate: "
        f"new {sorted(map(str, set(source) - set(english)))}, "
        f"stale {sorted(map(str, set(english) - set(source)))}")
    for (msgid, _context), message in english.items():
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(CJK.search(x) for x in ids), f"message id without Chinese text: {msgid}"
        assert all(x.strip() for x in texts), f"no English text for {msgid}"
        assert not message.fuzzy, msgid
        for text in texts:
            assert set(PLACEHOLDER.findall(text)) <= set(PLACEHOLDER.findall(ids[0])) | {"n"}, \
                (msgid, text)


def test_language_from_the_environment():
    env = i18n.language_from_env
    assert env({}) == "zh"
    assert env({"LANG": "C.UTF-8"}) == "zh" and env({"LANG": "zh_CN.GBK"}) == "zh"
    assert env({"LANG": "en_US.UTF-8"}) == "en"
    assert env({"LANG": "en_US.UTF-8", "LC_ALL": "zh_CN.UTF-8"}) == "zh"   # POSIX order
    assert env({"LANG": "zh_CN.UTF-8", "XLBRIDGE_LANG": "en"}) == "en"
    assert env({"LANGUAGE": "fr:en"}) == "en" and env({"LANG": "fr_FR.UTF-8"}) == "zh"
    with i18n.use_language("en"):
        assert i18n.t("第 {row} 行", row=8) == "row 8"
    assert i18n.t("第 {row} 行", row=8) == "第 8 行"


def _field_error(spec: InputSpec, value: object) -> FieldError:
    try:
        make_parser(spec)(value)
    except FieldError as exc:
        return exc
    raise AssertionError(f"{value!r} was read")


def test_a_data_error_is_one_clean_sentence_in_either_language():
    # the expectation is a catalogue message, in the language current when the value is read
    number = InputSpec("attendance", "考勤扣分", "number", "parts")
    e = _field_error(number, "二十")
    assert str(e) == "[考勤扣分]：应为数字，实际为“二十”"
    with i18n.use_language("en"):
        assert str(_field_error(number, "二十")) == "[考勤扣分]: expected a number, got “二十”"
    blank = _field_error(InputSpec("late", "迟到(次)", "count", "parts"), "")
    assert str(blank) == "[迟到(次)]：不能为空"
    big = _field_error(InputSpec("x", "指标", "number", "parts", min=Decimal(0),
                                 max=Decimal(100)), 120.0)
    assert str(big) == "[指标]：应在 0 到 100 之间，实际为“120”"
    assert big.to_dict()["message"] == str(big) and big.to_dict()["got"] == "120"
    with i18n.use_language("en"):
        big = _field_error(InputSpec("x", "指标", "number", "parts", min=Decimal(0),
                                     max=Decimal(100)), 120.0)
        assert str(big) == "[指标]: expected 0 to 100, got “120”"


def test_cli_speaks_english_with_lang_en_or_LANG(tmp_path):
    out = CliRunner().invoke(main, ["--lang", "en", "score", "--help"])
    assert "Usage: " in out.output and "Show this message" in out.output
    assert "Score a CSV of records" in out.output
    out = CliRunner().invoke(main, ["score", "--help"])
    assert "用法：" in out.output and "显示本帮助" in out.output
    assert "按方案为 CSV 中的记录计分" in out.output
    done = subprocess.run([sys.executable, "-m", "xlbridge.cli", "score", "--scheme", "nope",
                           "--input", str(tmp_path / "x.csv")], capture_output=True,
                          text=True, env={"LANG": "en_US.UTF-8", "PATH": "/usr/bin:/bin"},
                          check=False)
    assert done.returncode == 2 and "Error: no scheme “nope”" in done.stderr, done.stderr
