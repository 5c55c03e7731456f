"""Formula keying and parsing.

The relative key is what lets 2,000 copied formulas share one compiled closure, so it must
never give two formulas with different meanings the same key. The properties below check
that every way of keying (exact on decoded text, raw on XML text, digit templates) yields a
tree that means, at the formula's own cell, exactly what the formula says.
"""

from __future__ import annotations

import contextlib
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlbridge.recompute.formula import (
    FormulaSyntaxError,
    KeyTemplates,
    UnsupportedSyntax,
    col_index,
    col_letters,
    function_name,
    parse_formula,
    parse_key,
    relative_key,
    relative_key_raw,
    render_key,
)


def absolute(tree: object, row: int, col: int) -> object:
    """The tree with every relative row/column turned into the absolute number it means."""
    if isinstance(tree, tuple):
        if tree and tree[0] in ("cell", "area", "cols", "rows"):
            kind = tree[0]
            parts = list(tree[2:])
            if kind == "cell":
                axes = ["r", "c"]
            elif kind == "area":
                axes = ["r", "c", "r", "c"]
            elif kind == "cols":
                axes = ["c", "c"]
            else:
                axes = ["r", "r"]
            out = []
            for (is_abs, n), ax in zip(parts, axes, strict=True):
                out.append(n if is_abs else n + (row if ax == "r" else col))
            return (kind, tree[1], *out)
        return tuple(absolute(t, row, col) for t in tree)
    if isinstance(tree, list):
        return [absolute(t, row, col) for t in tree]
    return tree


def test_col_letters_roundtrip() -> None:
    for n in (1, 26, 27, 52, 702, 703, 16384):
        assert col_index(col_letters(n)) == n
    assert col_letters(16384) == "XFD"


def test_relative_key_shares_copied_formulas() -> None:
    a = relative_key("ROUND(B5*0.8+C5*0.2,1)", 5, 4)
    b = relative_key("ROUND(B6*0.8+C6*0.2,1)", 6, 4)
    assert a == b
    assert relative_key("SUM($B$5:$B$9)", 5, 4) != relative_key("SUM($B$5:$B$10)", 5, 4)
    assert relative_key("B5", 5, 4) != relative_key("B5", 6, 4)


def test_keys_skip_strings_names_and_functions() -> None:
    k = relative_key('"A1"&LOG10(A1)&Rate2&\'Q1\'!A1&Sheet1!B2&_xlfn.RANK.EQ(A1,A:A)', 3, 3)
    assert '"A1"' in k and "LOG10(" in k and "Rate2" in k and "'Q1'!" in k
    assert k.count("\x01") == 8  # A1, A1, B2 and the RANK argument: 4 cells
    assert "\x02" in k            # A:A


def test_render_key_is_the_inverse() -> None:
    for text, r, c in [("SUM($B$5:B9)*C$3+$D4", 9, 5), ("A:A", 2, 2), ("SUM(3:$5)", 7, 1),
                       ("'二 月'!A1&\"x\"", 4, 4)]:
        assert render_key(relative_key(text, r, c), r, c) == text
    assert render_key(relative_key("A1", 5, 5), 1, 1) == "#REF!"


def test_precedence_and_shapes() -> None:
    t = parse_formula("=-2^2+3*4%&\"x\"=A1")
    assert t[0] == "op" and t[1] == "="
    assert parse_formula("2^3^2") == ("op", "^", ("op", "^", ("n", 2.0), ("n", 3.0)),
                                      ("n", 2.0))
    assert parse_formula("-2^2") == ("op", "^", ("n", -2.0), ("n", 2.0))
    assert parse_formula("IF(A1,,2)", 1, 1)[2][1] == ("miss",)
    area = parse_formula("Sheet1!A1:B2", 1, 1)
    assert area[0] == "area" and area[1] == "Sheet1"
    assert parse_formula("{1,2;3,4}") == ("arr", [[1.0, 2.0], [3.0, 4.0]])
    assert parse_formula("_xlfn.IFS(1,2)")[1] == "IFS"
    assert function_name("_xlfn._xlws.SORT") == "SORT"
    assert parse_formula("'It''s'!A1")[1] == "It's"
    assert parse_formula("#REF!+1")[2] == ("e", "#REF!")
    assert parse_formula("TRUE") == ("b", True)


def test_three_d_references_parse() -> None:
    assert parse_formula("Sheet1:Sheet3!A1", 1, 1) == (
        "3d", "Sheet1", "Sheet3", ("cell", None, (False, 0), (False, 0)))
    node = parse_formula("SUM('1月:3月'!$B$2:$B$9)", 1, 1)[2][0]
    assert node[:3] == ("3d", "1月", "3月") and node[3][0] == "area"


@pytest.mark.parametrize("text", ["[1]Sheet1!A1", "Table1[Col]", "SUM((A1,B1))",
                                  "A1:A3 B2:C2"])
def test_unsupported_syntax(text: str) -> None:
    with pytest.raises(UnsupportedSyntax):
        parse_formula(text, 1, 1)


@pytest.mark.parametrize("text", ["(1", "1+", "SUM(1,", "{1,2;3}", "\"abc", "1 2", "A1::B2"])
def test_syntax_errors(text: str) -> None:
    with pytest.raises(FormulaSyntaxError):
        parse_formula(text, 1, 1)


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_parser_never_crashes(text: str) -> None:
    with contextlib.suppress(FormulaSyntaxError):
        parse_formula(text, 5, 5)


# ------------------------------------------------------------------ generated formulas

_cols = st.sampled_from(["A", "B", "C", "AA", "XF"])
_rows = st.integers(min_value=1, max_value=120)


@st.composite
def _ref(draw: st.DrawFn) -> str:
    c, r = draw(_cols), draw(_rows)
    ca, ra = draw(st.booleans()), draw(st.booleans())
    cell = f"{'$' if ca else ''}{c}{'$' if ra else ''}{r}"
    kind = draw(st.integers(0, 5))
    if kind == 1:
        return f"{cell}:{draw(_cols)}{draw(_rows)}"
    if kind == 2:
        return f"{draw(_cols)}:{draw(_cols)}"
    if kind == 3:
        a, b = sorted([draw(_rows), draw(_rows)])
        return f"{a}:{b}"
    if kind == 4:
        return f"'二 月'!{cell}"
    if kind == 5:
        return f"Sheet1!{cell}"
    return cell


_atom = st.one_of(
    _ref(),
    st.sampled_from(['"A1"', '"税率&lt;"', '"x""y"', "Rate2", "奖金A1", "LOG10(4)", "1E+5",
                     "0.5", "TRUE", "#N/A", "_xlfn.RANK.EQ(A1,A:A)", "ATAN2(1,2)"]),
)


@st.composite
def _formula(draw: st.DrawFn) -> str:
    parts = [draw(_atom)]
    for _ in range(draw(st.integers(0, 4))):
        parts.append(draw(st.sampled_from(["+", "-", "*", "&", "=", "<"])))
        parts.append(draw(_atom))
    body = "".join(parts)
    if draw(st.booleans()):
        body = f"SUM({body},{draw(_atom)})"
    return body


@given(_formula(), st.integers(1, 100), st.integers(1, 30), st.integers(0, 50))
@settings(max_examples=400, deadline=None)
def test_every_key_means_the_formula(text: str, row: int, col: int, down: int) -> None:
    """Exact keys, raw-XML keys and template keys parse to the same meaning."""
    try:
        exact = absolute(parse_key(relative_key(text, row, col)), row, col)
    except FormulaSyntaxError:
        return
    raw = escape(text).encode("utf-8")
    assert absolute(parse_key(relative_key_raw(raw, row, col)), row, col) == exact
    # the same formula filled down: the template must give the copy's meaning
    templates = KeyTemplates()
    templates.key(raw, row, col)
    row2 = row + down
    copied = render_key(relative_key(text, row, col), row2, col)
    if "#REF!" in copied:
        return
    raw2 = escape(copied).encode("utf-8")
    want = absolute(parse_key(relative_key(copied, row2, col)), row2, col)
    assert absolute(parse_key(templates.key(raw2, row2, col)), row2, col) == want


def test_templates_reuse_keys_for_copies() -> None:
    t = KeyTemplates()
    k1 = t.key(b"ROUND(D5*0.2+E5*0.4,1)", 5, 8)
    k2 = t.key(b"ROUND(D6*0.2+E6*0.4,1)", 6, 8)
    k3 = t.key(b"ROUND(D6*0.2+E6*0.5,1)", 6, 8)  # a different constant: another key
    assert k1 == k2 and k3 != k1
    # same shape, rows that do not follow the cell: not the same formula
    k4 = t.key(b"ROUND(D5*0.2+E6*0.4,1)", 7, 8)
    assert absolute(parse_key(k4), 7, 8) == absolute(
        parse_key(relative_key("ROUND(D5*0.2+E6*0.4,1)", 7, 8)), 7, 8)
