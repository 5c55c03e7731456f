"""Hostile scheme documents (issue 13, items 1 and 6): each built here, run through the real
command, and refused with a message naming the file — in bounded time and memory, with no
traceback — while the other schemes go on working."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile import (
    MEILING_RECORDS,
    json_nested,
    scheme_max_score,
    scheme_tier_bound,
    scheme_weights,
    scheme_yaml,
    xlbridge,
    yaml_alias_bomb,
    yaml_nested,
)
from xlbridge.scheme import SchemeInvalid, parse_scheme
from xlbridge.scheme.load import scheme_from_data

#: A CLI process on its own takes ≈70 MB; the alias bomb used to pass 2.4 GB.
PEAK_MB = 250
SECONDS = 20


def no_traceback(output: str) -> None:
    assert "Traceback" not in output and "RecursionError" not in output, output


def test_yaml_alias_bomb_is_refused_by_validate(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(yaml_alias_bomb(), encoding="utf-8")
    r = xlbridge("schemes", "validate", str(bomb), timeout=60)
    assert r.returncode == 1 and not r.timed_out
    assert str(bomb) in r.output and "别名" in r.output
    assert r.seconds < SECONDS and r.peak_mb < PEAK_MB, (r.seconds, r.peak_mb)
    no_traceback(r.output)


def test_a_bomb_in_a_schemes_folder_does_not_stop_the_other_schemes(tmp_path):
    (tmp_path / "bomb.yaml").write_text(yaml_alias_bomb(), encoding="utf-8")
    (tmp_path / "deep.json").write_text(json_nested(), encoding="utf-8")
    r = xlbridge("--schemes", str(tmp_path), "score", "--scheme", "meiling-street-quarterly",
                 "--input", str(MEILING_RECORDS), timeout=60)
    assert r.returncode == 0, r.output
    assert "24 条记录" in r.output
    assert r.seconds < SECONDS and r.peak_mb < PEAK_MB, (r.seconds, r.peak_mb)
    listing = xlbridge("--schemes", str(tmp_path), "schemes", "list", timeout=60)
    assert listing.returncode == 0 and "meiling-street-quarterly@1" in listing.output
    assert "bomb.yaml" in listing.stderr and "deep.json" in listing.stderr
    no_traceback(listing.output)


@pytest.mark.parametrize("name, text", [("deep.json", json_nested()),
                                        ("deep.yaml", yaml_nested())])
def test_deep_nesting_is_an_error_not_a_traceback(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    r = xlbridge("schemes", "validate", str(path), timeout=60)
    assert r.returncode == 1 and str(path) in r.output and "嵌套超过 64 层" in r.output
    no_traceback(r.output)
    r = xlbridge("score", "--scheme", str(path), "--input", str(MEILING_RECORDS), timeout=60)
    assert r.returncode == 2 and str(path) in r.output and "嵌套" in r.output
    assert r.seconds < SECONDS and r.peak_mb < PEAK_MB
    no_traceback(r.output)


def test_deeply_nested_data_from_elsewhere_is_refused_too():
    data: dict = {"id": "x"}
    node = data
    for _ in range(200):
        node["note"] = {}
        node = node["note"]
    with pytest.raises(SchemeInvalid) as info:
        scheme_from_data(data)
    assert info.value.report.errors[0].code == "too_deep"


@pytest.mark.parametrize("text, words", [
    ("max_score: 1" + "0" * 5000 + "\n", ["max_score", "无法读取"]),
    ("note: !!binary xyz\n", ["note", "无法读取"]),
    ("note: !!python/object:os.system x\n", ["note", "无法读取"]),
    ("note: 2001-13-45\n", ["note", "无法读取"]),
])
def test_scalars_yaml_cannot_construct_are_errors_with_their_line(text, words):
    with pytest.raises(SchemeInvalid) as info:
        parse_scheme(scheme_yaml().replace("max_score: 100\n", "") + text, "s.yaml")
    (issue,) = info.value.report.errors
    assert issue.line is not None and issue.file == "s.yaml"
    for w in words:
        assert w in str(issue)


@pytest.mark.parametrize("text", ['{"id": "x", "max_score": NaN}',
                                  '{"id": "x", "max_score": Infinity}',
                                  '{"id": "x", "max_score": 1' + "0" * 5000 + "}"])
def test_json_constants_and_giant_integers(text):
    with pytest.raises(SchemeInvalid) as info:
        parse_scheme(text, "s.json")
    assert "s.json" in str(info.value)


# --------------------------------------------------------------------------- item 6: numbers


def issues_of(text: str) -> list:
    from xlbridge.scheme.validate import validate

    try:
        loaded = parse_scheme(text, "s.yaml")
    except SchemeInvalid as exc:
        return exc.report.errors
    return validate(loaded.scheme, loaded.source).errors


@pytest.mark.parametrize("value", ["1e400", "1.0e+400", ".inf", "-.inf", ".nan", "1e300",
                                   "10000000000", "-5", "0"])
def test_max_score_must_be_finite_and_sane(value):
    text = scheme_max_score(value)
    errors = issues_of(text)
    assert errors and all("max_score" in e.path for e in errors), errors


@pytest.mark.parametrize("bound", [".inf", "-.inf", ".nan", "1e400", "1e308"])
def test_tier_bounds_must_be_finite(bound):
    errors = issues_of(scheme_tier_bound(bound))
    assert errors and any(e.path.startswith("tiers[0]") for e in errors), errors


@pytest.mark.parametrize("a, b", [("120%", "-20%"), ("-20%", "120%"), ("150%", "40%")])
def test_weights_must_be_within_0_and_100_percent(a, b):
    errors = issues_of(scheme_weights(a, b))
    assert any("0%" in e.message and "100%" in e.message for e in errors), errors


def test_validate_and_score_of_a_1e400_scheme_are_clean(tmp_path):
    path = tmp_path / "big.json"  # JSON's 1e400 reads as the float inf
    path.write_text('{"id": "big", "version": 1, "title": "t", "unit": "u", "max_score": 1e400,'
                    ' "parts": [{"id": "a", "title": "A", "points": 100, "method": "direct"}]}',
                    encoding="utf-8")
    r = xlbridge("schemes", "validate", str(path))
    assert r.returncode == 1 and "max_score" in r.output and str(path) in r.output
    no_traceback(r.output)
    r = xlbridge("score", "--scheme", str(path), "--input", str(MEILING_RECORDS))
    assert r.returncode == 2 and "max_score" in r.output
    no_traceback(r.output)


def test_parts_that_reach_above_the_maximum_need_declared_headroom(tmp_path):
    body = """\
parts:
  - {id: a, title: 工作, points: 60, method: direct}
  - {id: b, title: 测评, points: 40, method: rating, values: {好: 120%, 差: 60%}}
tiers:
  - {label: 优, at_least: 90}
  - {label: 差, below: 90}
"""
    errors = issues_of(scheme_yaml(body=body))
    (err,) = [e for e in errors if e.code == "above_max"]
    assert "108" in err.message and "bonus_headroom" in err.message
    declared = scheme_yaml(body=body).replace("max_score: 100\n",
                                              "max_score: 100\nbonus_headroom: 8\n")
    assert not [e for e in issues_of(declared) if e.code == "above_max"]
    too_little = declared.replace("bonus_headroom: 8", "bonus_headroom: 5")
    assert [e for e in issues_of(too_little) if e.code == "above_max"]


def test_every_shipped_scheme_still_validates():
    from tests.hostile import SCHEMES
    from xlbridge.scheme.load import load_scheme_file
    from xlbridge.scheme.validate import validate

    files = sorted(Path(SCHEMES).glob("*.yaml"))
    assert len(files) == 9
    for f in files:
        loaded = load_scheme_file(f)
        assert validate(loaded.scheme, loaded.source).ok, f


def test_a_1e400_scheme_in_a_worksheet_function_is_an_error_that_says_why(tmp_path):
    from xlbridge import udfs
    from xlbridge.xlvalues import ExcelError

    path = tmp_path / "big.json"
    path.write_text('{"id": "big", "version": 1, "title": "t", "unit": "u", "max_score": 1e400,'
                    ' "parts": [{"id": "a", "title": "A", "points": 100, "method": "direct"}]}',
                    encoding="utf-8")
    got = udfs.PERF_SCORE(str(path), [[90]])
    assert isinstance(got, ExcelError) and got.code == "#N/A"
    assert "max_score" in got.reason and "有限的数" in got.reason  # was an internal error
