"""The scoring engine: pure Python and Decimal, no Excel or HTTP inside.

    cs = compile_scheme(load_scheme_file("county-dept-2016.yaml"))   # validates once
    r = score_record(cs, {"indicator_mid_actual": 80, ...}, explain=True)
    pop = score_population(cs, rows)                                  # quotas, ranks, ties

One module per kind of rule, as ``RULES.md`` lists them: ``parts`` (§1 weighted composition),
``methods`` (§2 one part), ``adjustments`` (§3 bonuses, §4 deductions and every cap),
``conditions`` (§5 vetoes, gates, forced grades), ``tiers`` (§6), ``quotas``, ``ranking``
and ``groups`` (§7), ``payout`` (§9), ``periods`` (§10); rounding (§8) is ``xlbridge.arith``.
``compiled`` assembles a scheme from them, ``record`` scores one record and ``population``
runs the pipeline over many. ``values`` reads cells, ``errors`` codes every error.
"""

from xlbridge.engine.compiled import CompiledScheme, compile_scheme
from xlbridge.engine.errors import ErrorKind, ScoringError
from xlbridge.engine.payout import payout_for
from xlbridge.engine.periods import aggregate_periods
from xlbridge.engine.population import PopulationResult, grade_totals, score_population
from xlbridge.engine.record import NO_GRADE, RecordResult, score_record
from xlbridge.engine.values import FieldError, RecordInputError

__all__ = ["NO_GRADE", "CompiledScheme", "ErrorKind", "FieldError", "PopulationResult",
           "RecordInputError", "RecordResult", "ScoringError", "aggregate_periods",
           "compile_scheme", "grade_totals", "payout_for", "score_population", "score_record"]
