"""The scheme format: model, loading, validation. No Excel, no HTTP."""

from xlbridge.scheme.inputs import InputSpec, scheme_inputs
from xlbridge.scheme.issues import Issue, Report, SchemeInvalid
from xlbridge.scheme.load import LoadedScheme, load_scheme_file, parse_scheme
from xlbridge.scheme.model import Scheme
from xlbridge.scheme.validate import validate

__all__ = ["InputSpec", "Issue", "LoadedScheme", "Report", "Scheme", "SchemeInvalid",
           "load_scheme_file", "parse_scheme", "scheme_inputs", "validate"]
