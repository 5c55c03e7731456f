"""Semantic validation: the mistakes real schemes contain (RULES.md §6 and more)."""

from __future__ import annotations

from tests.conftest import scheme_text
from xlbridge.scheme import parse_scheme, validate

ONE_PART = """
parts:
  - {id: a, title: A, points: 100, method: direct}
"""


def issues(body: str, max_score: int = 100):
    loaded = parse_scheme(scheme_text(body, max_score=max_score), "v.yaml")
    return validate(loaded.scheme, loaded.source).issues


def codes(body: str, severity: str | None = None):
    return [i.code for i in issues(body) if severity is None or i.severity == severity]


def test_the_literal_reading_of_001_28_overlaps():
    # "得分在85分(含80分)以上90分以下的为良好": read literally (含80) 良好 starts at 80 and
    # overlaps 一般 (75 ≤ s < 85).
    found = issues(ONE_PART + """
rounding: {total: {digits: 1}}
tiers:
  - {label: 优, at_least: 90}
  - {label: 良好, at_least: 80, below: 90}
  - {label: 一般, at_least: 75, below: 85}
  - {label: 差, below: 75}
""")
    overlap = [i for i in found if i.code == "tier_overlap"]
    assert overlap and overlap[0].severity == "error"
    assert "80 分同时属于 tiers[1]“良好” 和 tiers[2]“一般”" in overlap[0].message
    assert overlap[0].line is not None


def test_gap_between_94_and_95_depends_on_rounding_002_186():
    tiers = """
tiers:
  - {label: 优秀, at_least: 95}
  - {label: 合格, at_least: 80, at_most: 94}
  - {label: 不合格, below: 80}
"""
    # totals with one decimal: 94.1 … 94.9 fall in no tier
    gaps = [i for i in issues(ONE_PART + "rounding: {total: {digits: 1}}\n" + tiers)
            if i.code == "tier_gap"]
    assert len(gaps) == 1 and "介于 94 分与 95 分之间的总分（如 94.1）" in gaps[0].message
    # whole-number totals: no score lies between 94 and 95
    assert "tier_gap" not in codes(ONE_PART + "rounding: {total: {digits: 0}}\n" + tiers)


def test_exactly_90_unassigned_004_501():
    # "高于90分以上 → 优秀; 75分—89分 → 良好" written literally with integer bounds
    found = issues(ONE_PART + """
rounding: {total: {digits: 0}}
tiers:
  - {label: 优秀, above: 90}
  - {label: 良好, at_least: 75, at_most: 89}
  - {label: 差, below: 75}
""")
    assert any(i.code == "tier_gap" and "恰为 90 分的总分" in i.message for i in found)


def test_scores_above_the_top_bound_reachable_with_bonuses():
    found = issues(ONE_PART + """
bonuses:
  cap: 5
  items: [{id: b, title: 加分, amount: 1}]
tiers:
  - {label: 优, at_least: 90, at_most: 100}
  - {label: 差, below: 90}
""")
    gap = [i for i in found if i.code == "tier_gap"]
    assert gap and "可能的范围为 0 到 105" in gap[0].message


def test_weights_that_do_not_add_up():
    found = issues("""
parts:
  - {id: a, title: A, points: 60, method: direct}
  - id: b
    title: B
    points: 35
    parts:
      - {id: b1, title: B1, weight: 50%, method: direct}
      - {id: b2, title: B2, weight: 40%, method: direct}
""")
    messages = {i.path: i.message for i in found if i.code == "weights_sum"}
    assert messages["parts"] == "这些部分的分值合计为 95，应为 100（max_score）"
    assert "权重合计为 90%，应为 100%" in messages["parts[1].parts"]


def test_period_weights_must_make_100_percent():
    found = issues("""
parts:
  - id: a
    title: A
    points: 100
    method: direct
    periods: [{id: h1, label: 半年, weight: 30%}, {id: end, label: 年终, weight: 60%}]
""")
    assert any(i.code == "weights_sum" and i.path == "parts[0].periods" for i in found)


def test_unknown_references():
    found = issues(ONE_PART + """
tiers:
  - {label: 优秀, at_least: 90}
  - {label: 合格, below: 90}
conditions:
  - {id: c, title: C, when: absent > 2, then: {grade: 不称职}}
quotas:
  limits: [{tier: 良好, share: 25%}]
  rounding: floor
  ties: {rule: keys, keys: [nope], then: all_in}
payout:
  amounts: {优: 100}
""")
    by_path = {i.path: i.message for i in found if i.severity == "error"}
    assert "未知的名称 absent；" in by_path["conditions[0].when"]
    assert "没有等次“不称职”" in by_path["conditions[0].then.grade"]
    assert "没有等次“良好”" in by_path["quotas.limits[0].tier"]
    assert "没有编号为“nope”的部分或输入" in by_path["quotas.ties.keys[0]"]
    assert "没有等次“优”" in by_path["payout.amounts.优"]


def test_quotas_over_100_percent_and_required_declarations():
    found = issues(ONE_PART + """
tiers:
  - {label: 优秀, at_least: 90}
  - {label: 良好, at_least: 80, below: 90}
  - {label: 合格, below: 80}
quotas:
  limits: [{tier: 优秀, share: 60%}, {tier: 良好, share: 50%}]
  rounding: floor
  ties: {rule: all_out}
""")
    assert any(i.code == "quota_over_100" and "110%" in i.message for i in found)
    # rounding and tie rule must be declared
    loaded_errors = []
    try:
        parse_scheme(scheme_text(ONE_PART + """
tiers:
  - {label: 优秀, at_least: 90}
  - {label: 合格, below: 90}
quotas:
  limits: [{tier: 优秀, share: 25%}]
"""), "q.yaml")
    except Exception as exc:  # inspect the report below
        loaded_errors = exc.report.issues
    assert {i.path for i in loaded_errors} == {"quotas.rounding", "quotas.ties"}


def test_caps_that_can_never_bite_are_warnings_004_245():
    # five categories capped at 5 each and all bonuses capped at 25: the overall cap can
    # never bite (true of the seed, 004:245-255)
    cats = "\n".join(f"""    - id: c{i}
      title: 类{i}
      cap: 5
      items: [{{id: i{i}, title: 项{i}, amount: 1}}]""" for i in range(5))
    found = issues(ONE_PART + "bonuses:\n  cap: 25\n  categories:\n" + cats + "\n")
    never = [i for i in found if i.code == "cap_never_bites"]
    assert [i.path for i in never] == ["bonuses.cap"]
    assert never[0].severity == "warning"


def test_boundary_finer_than_rounding_is_ambiguous():
    found = issues(ONE_PART + """
rounding: {total: {digits: 1}}
tiers:
  - {label: 优, at_least: 89.95}
  - {label: 差, below: 89.95}
""")
    assert [i.code for i in found] == ["ambiguous_boundary", "ambiguous_boundary"]


def test_duplicate_ids_and_input_clashes():
    found = issues("""
inputs:
  - {id: a, label: 重复, type: number}
parts:
  - {id: a, title: A, points: 50, method: direct}
  - {id: a, title: B, points: 50, method: direct}
""")
    assert "duplicate" in codes_of(found)
    assert "duplicate_input" in codes_of(found)


def codes_of(found):
    return [i.code for i in found]


def test_warnings_do_not_block_but_errors_do():
    from xlbridge.engine import compile_scheme
    from xlbridge.scheme.issues import SchemeInvalid

    ok = parse_scheme(scheme_text(ONE_PART + """
tiers:
  - {label: 优, at_least: 90}
  - {label: 差, below: 90}
payout:
  amounts: {优: 100}
"""), "w.yaml")
    cs = compile_scheme(ok)
    assert cs.report.warnings and cs.report.ok
    bad = parse_scheme(scheme_text(ONE_PART + """
tiers:
  - {label: 优, at_least: 90}
  - {label: 差, below: 80}
"""), "e.yaml")
    try:
        compile_scheme(bad)
    except SchemeInvalid as exc:
        assert "e.yaml" in str(exc) and exc.report.errors
    else:  # pragma: no cover
        raise AssertionError("an invalid scheme compiled")


def test_a_description_kept_while_weights_or_tiers_change_is_stale():
    from tests.conftest import SCHEMES
    from xlbridge.scheme.load import load_scheme_file, scheme_from_data
    from xlbridge.scheme.validate import rule_changes

    v1 = load_scheme_file(SCHEMES / "meiling-street-quarterly.yaml").scheme
    doc = v1.model_dump(mode="json", exclude_none=True)
    doc["version"] = 2
    doc["parts"][0]["weight"], doc["parts"][1]["weight"] = "70%", "30%"
    v2 = scheme_from_data(doc)
    stale = [i for i in validate(v2, previous=v1).issues if i.code == "stale_description"]
    assert len(stale) == 1 and stale[0].severity == "warning"
    assert stale[0].path == "description" and "第 1 版" in stale[0].message
    assert "权重" in stale[0].message
    # a tier line moved too: both are named
    doc["tiers"][0]["at_least"] = 92
    doc["tiers"][1]["below"] = 92
    assert rule_changes(v1, scheme_from_data(doc)) == ["权重", "等次"]
    # a rewritten description, an unchanged scheme, or no previous version: no warning
    doc["description"] = "考评得分 = 工作考评 × 70% + 党政领导测评 × 30%。"
    for scheme, previous in ((scheme_from_data(doc), v1), (v1, v1), (v2, None)):
        assert not [i for i in validate(scheme, previous=previous).issues
                    if i.code == "stale_description"]
    # a change of wording only (titles, notes) is not a change of the rules
    doc = v1.model_dump(mode="json", exclude_none=True)
    doc["parts"][0]["title"] = "工作实绩考评"
    assert rule_changes(v1, scheme_from_data(doc)) == []
