"""The scoring engine: pure Python and Decimal, no Excel or HTTP inside.

    cs = compile_scheme(load_scheme_file("county-dept-2016.yaml"))   # validates once
    r = score_record(cs, {"indicator_mid_actual": 80, ...}, explain=True)
    pop = score_population(cs, rows)                                  # quotas, ranks, ties
"""

from xlbridge.engine.compiled import CompiledScheme, ScoringError, compile_scheme
from xlbridge.engine.periods import aggregate_periods
from xlbridge.engine.population import PopulationResult, grade_totals, score_population
from xlbridge.engine.record import NO_GRADE, RecordResult, payout_for, score_record
from xlbridge.engine.values import FieldError, RecordInputError

__all__ = ["NO_GRADE", "CompiledScheme", "FieldError", "PopulationResult", "RecordInputError",
           "RecordResult", "ScoringError", "aggregate_periods", "compile_scheme", "grade_totals",
           "payout_for", "score_population", "score_record"]
