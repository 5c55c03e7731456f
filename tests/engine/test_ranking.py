"""Worked examples for RULES §7, ranking: rank rules (bottom share, top N), ties at the cut-
off, eligibility.

Each test builds a small scheme that states one rule the way a seed document does, scores a
record and compares with the number worked out in the comment.
"""

from __future__ import annotations

import pytest

from tests.conftest import compiled
from xlbridge.engine import score_population


def test_rank_rules_bottom_share_and_last_place_under_75_004_303_002_133():
    cs = compiled("""
        parts:
          - {id: a, title: 积分, points: 100, method: direct}
        rank_rules:
          - {id: bottom, title: 积分排名后20%, bottom: 20%, flag: 不得推荐评优}
          - {id: last, title: 末位且未满75分, bottom: 1, when: total < 75, flag: 通报批评}
    """)
    pop = score_population(cs, [{"a": s} for s in (95, 90, 85, 80, 78, 76, 74, 72, 70, 60)])
    flags = [r.flags for r in pop.records]
    # 10 × 20% = 2 → the two lowest; the last (60 < 75) is also fined
    assert flags[-2] == ["不得推荐评优"]
    assert flags[-1] == ["不得推荐评优", "通报批评"]
    assert all(f == [] for f in flags[:-2])
    assert [r.rank for r in pop.records] == list(range(1, 11))


@pytest.mark.parametrize(("ties", "flagged"), [("all_in", 6), ("all_out", 4)])
def test_rank_rule_tie_at_the_cut_off_is_declared_and_reported_002_186(ties, flagged):
    # "考核总分前5名的村" — the 5th and 6th are tied at 90
    cs = compiled(f"""
        parts:
          - {{id: a, title: 总分, points: 100, method: direct}}
        rank_rules:
          - {{id: top5, title: 前5名, top: 5, flag: 表彰, ties: {ties}}}
    """)
    pop = score_population(cs, [{"a": s} for s in (99, 98, 95, 93, 90, 90, 80)])
    assert sum("表彰" in r.flags for r in pop.records) == flagged
    (tie,) = pop.ties
    assert tie.rows == [5, 6] and tie.decision == ties and tie.tier == "top5"


def test_rank_rule_eligible_makes_room_for_the_next():
    # a vetoed unit is not ranked for the reward, so the 4th moves into the top 3
    cs = compiled("""
        inputs:
          - {id: veto, label: 一票否决, type: bool}
        parts:
          - {id: a, title: 总分, points: 100, method: direct}
        rank_rules:
          - {id: top3, title: 前3名, top: 3, flag: 表彰, eligible: not veto}
    """)
    rows = [{"a": 99, "veto": "是"}, {"a": 98, "veto": "否"}, {"a": 95, "veto": "否"},
            {"a": 93, "veto": "否"}, {"a": 80, "veto": "否"}]
    pop = score_population(cs, rows, explain=True)
    assert [bool(r.flags) for r in pop.records] == [False, True, True, True, False]
    assert "不参加此项排名" in pop.records[0].explain()
