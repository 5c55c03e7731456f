"""Information: IS*, NA…"""

from __future__ import annotations

from typing import Any

from xlbridge.xlvalues import ExcelError

from ..values import (
    NA,
)
from .registry import registrar

register = registrar("Information")




@register("NA", 0, 0)
def fn_na() -> Any:
    return NA




# --------------------------------------------------------------------------- info

@register("ISBLANK", 1, 1, lift=True)
def fn_isblank(x: Any) -> Any:
    return x is None


@register("ISNUMBER", 1, 1, lift=True)
def fn_isnumber(x: Any) -> Any:
    return type(x) is float


@register("ISTEXT", 1, 1, lift=True)
def fn_istext(x: Any) -> Any:
    return type(x) is str


@register("ISERROR", 1, 1, lift=True)
def fn_iserror(x: Any) -> Any:
    return type(x) is ExcelError


@register("ISNA", 1, 1, lift=True)
def fn_isna(x: Any) -> Any:
    return type(x) is ExcelError and x.code == "#N/A"


