"""Places in a group, the two counts every population rule needs (RULES §7):

* :func:`rank_eq` — a rank as Excel's RANK.EQ gives it: equal values share the best place;
* :func:`count_places` — a share of a group as a whole number of people, by the declared
  rounding (7 × 25% = 1.75 → 2 with ``half_up``, 002:568; ``floor`` for "以内").

Quotas, rank parts, rank rules, prizes and the annual quota all count with these two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from xlbridge.arith import RoundingMode, round_declared

_ROUNDING = {"half_up": RoundingMode.half_up, "floor": RoundingMode.floor,
             "ceiling": RoundingMode.ceiling}


def count_places(share: Decimal, size: int, rounding: str) -> int:
    """share × group size → a whole number of people, by the declared rounding."""
    return int(round_declared(share * size, 0, _ROUNDING[rounding]))


def rank_eq(items: Iterable[tuple[Any, Any]], descending: bool = True) -> dict[int, int]:
    """Excel's RANK.EQ over (value, obj) pairs: equal values share the best rank.
    Returns id(obj) → rank. Values may be tuples (a total, then tie keys)."""
    ordered = sorted(items, key=_first, reverse=descending)
    ranks: dict[int, int] = {}
    previous: Any = None
    rank = 0
    for position, (value, obj) in enumerate(ordered, start=1):
        if position == 1 or value != previous:
            rank, previous = position, value
        ranks[id(obj)] = rank
    return ranks


_first: Callable[[tuple[Any, Any]], Any] = lambda x: x[0]  # noqa: E731
