"""What the pages draw, without a browser: part rows, tier bands, rule sections, diffs."""

from __future__ import annotations

import pytest
from srvtest import shipped_doc

from server import render
from xlbridge.scheme.load import scheme_from_data


def scheme(name: str = "bailian-township", **changes):
    doc = shipped_doc(name)
    doc.update(changes)
    return scheme_from_data(doc)


def test_tier_bands_are_proportional_to_the_intervals():
    bands = render.tier_bands(scheme())
    got = [(b.label, b.left, b.width) for b in bands]
    assert got == [("优", 90.0, 10.0), ("良好", 85.0, 5.0), ("一般", 75.0, 10.0),
                   ("差", 0.0, 75.0)]
    assert len({b.colour for b in bands}) == 4
    assert [b.bounds for b in bands] == ["≥90", "≥85 且 <90", "≥75 且 <85", "<75"]


def test_tier_bands_with_share_bounds_and_other_maximum():
    s = scheme(max_score=200, tiers=[{"label": "好", "at_least": "90%"},
                                     {"label": "差", "below": "90%"}],
               parts=[{"id": "a", "title": "甲", "points": 200, "method": "direct"}],
               deductions=None)
    assert [(b.left, b.width) for b in render.tier_bands(s)] == [(90.0, 10.0), (0.0, 90.0)]
    ticks = render.bar_ticks(s, render.tier_bands(s))
    assert ticks == [(0.0, "0"), (90.0, "180"), (100.0, "200")]


def test_part_rows_show_points_and_shares_of_the_maximum():
    rows = render.part_rows(scheme("meiling-street-quarterly"))
    top = [r for r in rows if r.depth == 0]
    assert sum(float(r.share.rstrip("%")) for r in top) == pytest.approx(100)
    assert all(r.points for r in rows) and any(r.depth > 0 for r in rows)
    # a child's points are on its parent's scale: 常规工作 is 50 of 工作考评's 100, which is
    # worth 60 of the scheme's 100, so it is 30% of the maximum
    shares = {r.id: r.share for r in rows}
    assert (shares["work"], shares["routine"], shares["office"]) == ("60%", "30%", "15%")
    bailian = render.part_rows(scheme())
    assert [(r.title, r.points, r.share, r.weight) for r in bailian] == [
        ("指标考核", "80", "80%", "权重 80%"), ("公众评议", "20", "20%", "权重 20%")]


def test_rule_sections_name_caps_conditions_quotas_and_payouts():
    titles = [s.title for s in render.rule_sections(scheme())]
    assert "察访核验扣分（累计不超过 3 分）" in titles
    assert "否决、门槛与等次条件" in titles
    meiling = {s.title: s.lines for s in render.rule_sections(scheme("meiling-street-quarterly"))}
    assert any(t.startswith("名额") for t in meiling)
    assert "奖金" in meiling


def test_side_by_side_diff():
    rows = render.side_by_side(["a", "b", "c", "d"], ["a", "B", "c", "d", "e"])
    assert [(r.kind, r.left, r.right) for r in rows] == [
        ("equal", "a", "a"), ("replace", "b", "B"), ("equal", "c", "c"),
        ("equal", "d", "d"), ("insert", "", "e")]
    assert rows[-1].left_no is None and rows[-1].right_no == 5
    many = [str(i) for i in range(40)]
    changed = [*many[:20], "x", *many[21:]]
    short = render.side_by_side(many, changed, context=2)
    assert [r.kind for r in short] == ["equal", "equal", "replace", "equal", "equal"]
    assert render.side_by_side(many, changed, context=2)[2].left_no == 21


def test_rules_lines_ignore_the_version_number():
    a, b = scheme(version=1), scheme(version=7)
    assert render.rules_lines(a) == render.rules_lines(b)
