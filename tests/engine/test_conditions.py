"""Worked examples for RULES §5, vetoes, gates and forced grades.:

Each test builds a small scheme that states one rule the way a seed document does, scores a
record and compares with the number worked out in the comment.
"""

from __future__ import annotations

from tests.conftest import compiled
from xlbridge.engine import score_record

GATE_SCHEME = """
    inputs:
      - {id: safety, label: 安全管理考核, type: label, labels: [合格, 不合格]}
      - {id: case, label: 违纪违法案件, type: bool}
      - {id: veto, label: 一票否决, type: bool}
      - {id: absent_days, label: 旷工天数, type: number, min: 0}
      - {id: sick_days, label: 病事假天数, type: number, min: 0}
    parts:
      - {id: base, title: 年度考核实得分, points: 100, method: direct}
    conditions:
      - {id: absent, title: 当季旷工超过2个工作日, when: absent_days > 2,
         then: {grade: 不合格}}
      - {id: sick, title: 病事假超过40个工作日, when: sick_days > 40, then: {no_grade: true}}
      - {id: veto, title: 一票否决, when: veto, veto: true, then: {at_most: 合格}}
    tiers:
      - label: 优秀
        at_least: 80
        requires: ["safety == '合格'", "not case"]
      - {label: 良好, at_least: 70, below: 80}
      - {label: 合格, at_least: 60, below: 70}
      - {label: 不合格, below: 60}
"""


def gate_record(**kw):
    base = {"safety": "合格", "case": "否", "veto": "否", "absent_days": 0, "sick_days": 0,
            "base": 85}
    base.update(kw)
    return base


def test_gates_on_the_top_tier_002_249():
    cs = compiled(GATE_SCHEME)
    assert score_record(cs, gate_record()).grade == "优秀"
    r = score_record(cs, gate_record(safety="不合格"), explain=True)
    # 85 ≥ 80 reaches 优秀 but the safety gate fails: "优秀等次须同时符合以下条件" takes away
    # 优秀 only, so the unit gets the next tier, 良好, although 85 is above 良好's range.
    assert r.grade == "良好"
    assert any(s.kind == "gate" for s in r.steps)


def test_veto_caps_and_forced_and_no_grade_004_505_507():
    cs = compiled(GATE_SCHEME)
    assert score_record(cs, gate_record(veto="是")).grade == "合格"
    assert score_record(cs, gate_record(absent_days=3)).grade == "不合格"
    r = score_record(cs, gate_record(sick_days=41))
    assert r.grade is None and r.no_grade == "病事假超过40个工作日"
    assert r.grade_text == "不定等次"
    # the first deciding condition wins: absent (grade) is listed before sick (no grade)
    r = score_record(cs, gate_record(absent_days=3, sick_days=41), explain=True)
    assert r.grade == "不合格" and r.decided_by == "absent"
    assert "等次已由前一条件确定" in r.explain()
