"""The names a condition may read, by where it sits in a scheme — defined once.

A condition (``absent_days > 2``, ``total < 60 and not safety_ok``) reads the record's inputs
and, depending on where it stands, results the engine has computed by then. The validator
checks every condition against these sets and the engine compiles every condition with them,
so a name the validator accepts is always one the engine provides.

=============  =========================================================  ===================
where          conditions there                                           names besides inputs
=============  =========================================================  ===================
``inputs``     a part's ``applies_when``, an item's ``when``               none
``result``     tier gates (``requires``), ``conditions[].when``            total, subtotal, …
``payout``     ``payout.rules[].when``                                     … and grade
``rank``       ``rank_rules[].when`` / ``eligible``                         … rank, group_size
=============  =========================================================  ===================
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

#: The results of scoring one record, available once its total is known.
RESULT_NAMES = frozenset({"total", "subtotal", "bonus", "deduction"})
#: … and once its final grade is known (payout rules).
PAYOUT_NAMES = RESULT_NAMES | {"grade"}
#: … and once the group is ranked (rank rules).
RANK_NAMES = PAYOUT_NAMES | {"rank", "group_size"}

Where = Literal["inputs", "result", "payout", "rank"]

_BY_WHERE: dict[str, frozenset[str]] = {
    "inputs": frozenset(), "result": RESULT_NAMES, "payout": PAYOUT_NAMES, "rank": RANK_NAMES,
}


def known_names(where: Where, inputs: Iterable[str]) -> frozenset[str]:
    """Every name a condition at ``where`` may read, given the scheme's input ids."""
    return frozenset(inputs) | _BY_WHERE[where]


def input_names(names: Iterable[str]) -> frozenset[str]:
    """The names among ``names`` that are inputs rather than engine results."""
    return frozenset(names) - RANK_NAMES
