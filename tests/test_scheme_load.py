"""Loading scheme files: messages name the file, the line and the path inside it."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import REPO, SCHEMES, scheme_text
from xlbridge.engine import compile_scheme
from xlbridge.scheme import SchemeInvalid, load_scheme_file, parse_scheme
from xlbridge.scheme.load import scheme_from_data

BASE = """
parts:
  - {id: a, title: A, points: 100, method: direct}
tiers:
  - {label: 优, at_least: 90}
  - {label: 差, below: 90}
"""


def errors_of(text: str, origin: str = "s.yaml"):
    with pytest.raises(SchemeInvalid) as info:
        parse_scheme(text, origin)
    return info.value.report.issues


def test_misspelt_key_names_the_path_and_line():
    text = scheme_text(BASE.replace("{label: 差, below: 90}", "{label: 差, belw: 90}"))
    (issue,) = errors_of(text)
    assert issue.path == "tiers[1].belw"
    assert issue.line == text.splitlines().index("  - {label: 差, belw: 90}") + 1
    assert "未知的键“belw”" in issue.message
    assert str(issue).startswith(f"s.yaml:{issue.line} tiers[1].belw：错误：")


def test_missing_required_key():
    text = scheme_text(BASE).replace("title: 测试方案\n", "")
    (issue,) = errors_of(text)
    assert issue.path == "title" and "缺少必填的键“title”" in issue.message


def test_a_range_where_one_value_is_needed_002_676():
    text = scheme_text("""
parts:
  - {id: a, title: 重点, points: 90, method: direct}
  - {id: s, title: 专项, points: 10, method: grade, values: {优秀: 10, 良好: 8-9}}
""")
    (issue,) = errors_of(text)
    assert issue.path == "parts[1].values.良好"
    assert "实际为范围“8-9”：请选定一个值" in issue.message


def test_share_must_be_written_with_a_percent_sign():
    text = scheme_text("""
parts:
  - {id: a, title: A, weight: 0.8, method: direct}
  - {id: b, title: B, weight: 20%, method: direct}
""")
    issues = errors_of(text)
    assert any(i.path == "parts[0].weight" and "应为百分比（如 25%），实际为“0.8”" in i.message
               for i in issues)


def test_unknown_method_is_explained():
    (issue,) = errors_of(scheme_text("""
parts:
  - {id: a, title: A, points: 100, method: magic}
"""))
    assert issue.path == "parts[0]" and "`method` 应为 direct、ratio" in issue.message


def test_duplicate_key_is_an_error_not_a_silent_overwrite():
    text = scheme_text(BASE) + "max_score: 90\n"
    (issue,) = errors_of(text)
    assert issue.code == "duplicate_key" and issue.path == "max_score"


def test_bad_condition_syntax_names_the_path():
    text = scheme_text(BASE + """
conditions:
  - {id: c, title: C, when: "a >", then: {flag: x}}
""")
    (issue,) = errors_of(text)
    assert issue.path == "conditions[0].when"


def test_not_yaml_and_empty_and_not_utf8(tmp_path):
    (issue,) = errors_of("id: [unclosed")
    assert issue.code == "yaml" and issue.line is not None
    (issue,) = errors_of("")
    assert issue.code == "empty"
    bad = tmp_path / "gbk.yaml"
    bad.write_bytes("title: 测试".encode("gbk"))
    with pytest.raises(SchemeInvalid, match="不是 UTF-8 文本"):
        load_scheme_file(bad)


def test_json_schemes_load_and_round_trip():
    loaded = load_scheme_file(SCHEMES / "meiling-street-quarterly.yaml")
    data = loaded.scheme.model_dump(mode="json", exclude_none=True)
    again = scheme_from_data(json.loads(json.dumps(data, ensure_ascii=False)))
    assert again == loaded.scheme
    parsed = parse_scheme(json.dumps(data, ensure_ascii=False), "x.json")
    assert parsed.scheme == loaded.scheme


def test_every_shipped_scheme_loads_validates_and_compiles():
    files = sorted(SCHEMES.glob("*.yaml"))
    assert len(files) >= 2
    for path in files:
        cs = compile_scheme(load_scheme_file(path))
        assert cs.report.ok, f"{path}: {cs.report}"
        text = path.read_text(encoding="utf-8")
        assert text.count("source:") >= 5, f"{path}: rules must cite the seed"


def test_readme_example_scheme_is_valid():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## The scheme format.*?```yaml\n(.*?)```", text, re.S).group(1)
    cs = compile_scheme(parse_scheme(block, "README.md"))
    assert [s.id for s in cs.inputs][:4] == ["kind", "accident", "indicator_mid_actual",
                                             "indicator_mid_target"]


def test_json_schema_validates_shipped_schemes_and_catches_typos():
    # What an editor does with `xlbridge schemes schema`.
    import jsonschema
    import yaml

    from xlbridge.scheme.model import Scheme

    schema = Scheme.model_json_schema(mode="validation")
    for path in sorted(SCHEMES.glob("*.yaml")):
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)
    data = yaml.safe_load((SCHEMES / "bailian-township.yaml").read_text(encoding="utf-8"))
    data["tiers"][0]["at_lest"] = data["tiers"][0].pop("at_least")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)
