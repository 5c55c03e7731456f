"""Groups (RULES §7: "quotas computed per group" — by category, by band of units): which
group a record is in, and which groups' population results cannot be decided yet.

If any record of a group has bad data, that group's quota- and rank-dependent results are
withheld rather than computed from a partial population; a bad record whose group itself
cannot be read withholds every group's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from xlbridge.engine.values import normalize_text
from xlbridge.i18n import t

Group = tuple[str, ...]


def rows_text(rows: Sequence[int | None]) -> str:
    """Row numbers for a message: ``2、5、9``, the first five and ``…`` for more."""
    return t("、").join(str(r) for r in rows[:5]) + ("…" if len(rows) > 5 else "")


def group_values(label: Any, keys: Sequence[str]) -> dict[str, Any]:
    """A group cell as the record values it stands for: one key's value, or several keys'
    values joined by '/' (``科级干部/社区``)."""
    text = "" if label is None else str(label)
    if len(keys) == 1:
        return {keys[0]: normalize_text(text)}
    return dict(zip(keys, [normalize_text(x) for x in text.split("/")], strict=False))


def group_of(values: Mapping[str, Any], keys: Sequence[str]) -> Group | None:
    """The record's group under ``keys`` (None: a key is blank, the group is unknown)."""
    out = []
    for k in keys:
        val = values.get(k)
        if val is None or val == "":
            return None
        out.append(str(val))
    return tuple(out)


def taint_check(parsed: list, keys: Sequence[str]) -> Callable[[Group | None], bool]:
    """Groups (under ``keys``) holding a bad record cannot have ranks or quotas decided.

    ``parsed`` holds (row, values, errors) triples. A bad record whose group itself cannot
    be read taints every group.
    """
    tainted = {group_of(values, keys) for _row, values, errors in parsed if errors}
    taint_all = None in tainted
    return lambda g: taint_all or g in tainted


def withheld_reason(parsed: list, group: Group | None, keys: Sequence[str]) -> str:
    return withheld_text([(row, group_of(values, keys)) for row, values, errors in parsed
                          if errors], group)


def withheld_text(bad: Sequence[tuple[int | None, Group | None]], group: Group | None) -> str:
    """Why ``group``'s results wait: the rows of the bad records in it (or in no group)."""
    return t("同组第 {rows} 行数据有误，组内排名/名额无法确定",
             rows=rows_text([row for row, g in bad if g in (group, None)]))
