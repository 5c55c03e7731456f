"""Excel formula text → position-independent syntax tree.

Two steps, split for speed:

1. :func:`relative_key` rewrites every A1 reference in a formula into a marker that holds the
   *offset* from the formula's own cell (or the absolute row/column where a ``$`` says so).
   ``ROUND(B5*0.8+C5*0.2,1)`` in D5 and ``ROUND(B6*0.8+C6*0.2,1)`` in D6 get the same key, so
   a column of 2,000 copied formulas is tokenized, parsed and compiled once. This is a single
   ``re.finditer`` over the text, the only per-cell cost.
2. :func:`parse_key` tokenizes and parses a key (only once per distinct key) into a tree of
   tuples (see ``Node kinds`` below).

Node kinds (tuples, first item is the kind):

* ``("n", float)``, ``("s", str)``, ``("b", bool)``, ``("e", code)``, ``("miss",)`` — literals
* ``("lcall", lambda_fn_node, args)`` — a LAMBDA called where it is written
  and an omitted argument (``IF(A1,,2)``)
* ``("cell", sheet, row, col)`` where ``sheet`` is a sheet name or None and ``row``/``col`` are
  ``(absolute, number)`` pairs — number is an offset when not absolute
* ``("area", sheet, row1, col1, row2, col2)``, ``("cols", sheet, col1, col2)``,
  ``("rows", sheet, row1, row2)``
* ``("name", sheet, name)`` — a defined name (``sheet`` when written ``Sheet1!Name``)
* ``("fn", NAME, args, written_name)`` — NAME upper-case without ``_xlfn.``-style prefixes
* ``("op", symbol, left, right)``, ``("neg", x)``, ``("pos", x)``, ``("pct", x)``
* ``("range", left, right)`` — the ``:`` operator between general expressions
* ``("arr", rows)`` — an array constant, rows of literal values
* ``("3d", first_sheet, last_sheet, ref)`` — ``Sheet1:Sheet3!B5``: ``ref`` (a cell/area/cols/rows
  node without sheet) on every sheet from first to last
"""

from __future__ import annotations

import re
from functools import lru_cache

from xlbridge.i18n import t as tr

__all__ = [
    "FormulaSyntaxError",
    "UnsupportedSyntax",
    "col_index",
    "col_letters",
    "parse_key",
    "relative_key",
    "render_key",
]

MAX_ROW = 1048576
MAX_COL = 16384


class FormulaSyntaxError(ValueError):
    """The formula text is not a formula this parser understands."""


class UnsupportedSyntax(FormulaSyntaxError):
    """Valid Excel syntax the recalculator does not evaluate (3-D refs, tables, unions...)."""


# --------------------------------------------------------------------------- A1 helpers

@lru_cache(maxsize=4096)
def col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


@lru_cache(maxsize=4096)
def col_letters(n: int) -> str:
    s = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


_COLS: dict[str, int] = {}
for _i in range(1, 703):  # A..ZZ, both cases
    _COLS[col_letters(_i)] = _i
    _COLS[col_letters(_i).lower()] = _i
_BCOLS: dict[bytes, int] = {k.encode("ascii"): v for k, v in _COLS.items()}


# --------------------------------------------------------------------------- keying

# Literal spans (strings, quoted sheet names, brackets) are matched so that they are skipped;
# then cell references, whole-column ranges and whole-row ranges. Look-arounds keep function
# names (LOG10), defined names and unquoted sheet names (Sheet1!) from looking like cells.
_KEY_RE = re.compile(
    r"""
    "(?:[^"]|"")*"
  | '(?:[^']|'')*'
  | \[[^\]]*\]
  | (?<![\w.$\\])(\$?)([A-Za-z]{1,3})(\$?)([0-9]{1,7})(?![\w.(!\[\\])
  | (?<![\w.$\\])(\$?)([A-Za-z]{1,3}):(\$?)([A-Za-z]{1,3})(?![\w.(!\[\\])
  | (?<![\w.$\\:])(\$?)([0-9]{1,7}):(\$?)([0-9]{1,7})(?![\w.(!\[\\:])
    """,
    re.VERBOSE,
)


def relative_key(text: str, row: int, col: int) -> str:
    """The formula ``text`` of the cell at (row, col) with its references made relative.

    References become ``\\x01R,C\\x01`` (cell), ``\\x02C1,C2\\x02`` (columns) and
    ``\\x03R1,R2\\x03`` (rows), each part either ``$n`` (absolute) or a signed offset.
    """
    out: list[str] | None = None
    pos = 0
    for m in _KEY_RE.finditer(text):
        li = m.lastindex
        if li is None:
            continue
        if li == 4:
            cd, cl, rd, rn = m.group(1, 2, 3, 4)
            c = _COLS.get(cl) or col_index(cl)
            r = int(rn)
            if c > MAX_COL or r > MAX_ROW or r == 0:
                continue  # e.g. a name such as XFZ1 — not a reference
            rep = f"\x01{'$' + rn if rd else r - row},{f'${c}' if cd else c - col}\x01"
        elif li == 8:
            d1, l1, d2, l2 = m.group(5, 6, 7, 8)
            c1 = _COLS.get(l1) or col_index(l1)
            c2 = _COLS.get(l2) or col_index(l2)
            if c1 > MAX_COL or c2 > MAX_COL:
                continue
            rep = f"\x02{f'${c1}' if d1 else c1 - col},{f'${c2}' if d2 else c2 - col}\x02"
        else:
            d1, n1, d2, n2 = m.group(9, 10, 11, 12)
            r1, r2 = int(n1), int(n2)
            if not (0 < r1 <= MAX_ROW and 0 < r2 <= MAX_ROW):
                continue
            rep = f"\x03{f'${r1}' if d1 else r1 - row},{f'${r2}' if d2 else r2 - row}\x03"
        if out is None:
            out = []
        out.append(text[pos:m.start()])
        out.append(rep)
        pos = m.end()
    if out is None:
        return text
    out.append(text[pos:])
    return "".join(out)


# The same on the raw XML bytes of a formula (entities not decoded): non-ASCII bytes and
# numeric character references (``&#22870;``) count as name characters, so a reference is only
# recognised where it certainly is one. Missing one is harmless (it stays literal text in the
# key and is parsed as what it is); see relative_key_raw.
_KEY_RE_RAW = re.compile(
    rb"""
    "(?:[^"]|"")*"
  | '(?:[^']|'')*'
  | \[[^\]]*\]
  | (?<![\w.$\\\x80-\xff])(?<![0-9A-Fa-f];)(\$?)([A-Za-z]{1,3})(\$?)([0-9]{1,7})
    (?![\w.(!\[\\\x80-\xff])(?!&\#)
  | (?<![\w.$\\\x80-\xff])(?<![0-9A-Fa-f];)(\$?)([A-Za-z]{1,3}):(\$?)([A-Za-z]{1,3})
    (?![\w.(!\[\\\x80-\xff])(?!&\#)
  | (?<![\w.$\\:\x80-\xff])(?<![0-9A-Fa-f];)(\$?)([0-9]{1,7}):(\$?)([0-9]{1,7})
    (?![\w.(!\[\\:\x80-\xff])(?!&\#)
    """,
    re.VERBOSE,
)
_UNSAFE_RAW = re.compile(rb"&quot;|&apos;|&#3[49];|&#x2[27];")


def relative_key_raw(raw: bytes, row: int, col: int,
                     rel_rows: list[tuple[int, int, int]] | None = None) -> bytes | str:
    """:func:`relative_key` on a formula's XML text, without decoding it first.

    Used for cells that are not shared formulas: the key only has to be the same for cells
    whose formulas are the same up to relative references, and references it does not
    recognise are still parsed correctly (as the literal text they are). Quotes written as
    entities would hide string literals, so such text is decoded first.

    ``rel_rows``, when given, receives ``(start, end, offset)`` for every relative row number
    in ``raw`` (see :class:`KeyTemplates`).
    """
    if _UNSAFE_RAW.search(raw):
        from .xmltext import decode_text

        if rel_rows is not None:
            rel_rows.append((-1, -1, 0))  # positions unknown: no template
        return relative_key(decode_text(raw), row, col)
    out: list[bytes] | None = None
    pos = 0
    for m in _KEY_RE_RAW.finditer(raw):
        li = m.lastindex
        if li is None:
            continue
        if li == 4:
            cd, cl, rd, rn = m.group(1, 2, 3, 4)
            c = _BCOLS.get(cl) or col_index(cl.decode("ascii"))
            r = int(rn)
            if c > MAX_COL or r > MAX_ROW or r == 0:
                continue
            rep = b"\x01%b,%b\x01" % (b"$" + rn if rd else b"%d" % (r - row),
                                       b"$%d" % c if cd else b"%d" % (c - col))
            if rel_rows is not None and not rd:
                rel_rows.append((m.start(4), m.end(4), r - row))
        elif li == 8:
            d1, l1, d2, l2 = m.group(5, 6, 7, 8)
            c1 = _BCOLS.get(l1) or col_index(l1.decode("ascii"))
            c2 = _BCOLS.get(l2) or col_index(l2.decode("ascii"))
            if c1 > MAX_COL or c2 > MAX_COL:
                continue
            rep = b"\x02%b,%b\x02" % (b"$%d" % c1 if d1 else b"%d" % (c1 - col),
                                       b"$%d" % c2 if d2 else b"%d" % (c2 - col))
        else:
            d1, n1, d2, n2 = m.group(9, 10, 11, 12)
            r1, r2 = int(n1), int(n2)
            if not (0 < r1 <= MAX_ROW and 0 < r2 <= MAX_ROW):
                continue
            rep = b"\x03%b,%b\x03" % (b"$%d" % r1 if d1 else b"%d" % (r1 - row),
                                       b"$%d" % r2 if d2 else b"%d" % (r2 - row))
            if rel_rows is not None:
                if not d1:
                    rel_rows.append((m.start(10), m.end(10), r1 - row))
                if not d2:
                    rel_rows.append((m.start(12), m.end(12), r2 - row))
        if out is None:
            out = []
        out.append(raw[pos:m.start()])
        out.append(rep)
        pos = m.end()
    if out is None:
        return raw
    out.append(raw[pos:])
    return b"".join(out)


_DIGIT_MASK = bytes.maketrans(b"0123456789", b"##########")


class KeyTemplates:
    """Keys of copied formulas without running the key regex on every cell.

    Formulas filled down a column differ only in the digits of their relative row numbers.
    The first formula of each *shape* (its text with every digit masked, in one column)
    is keyed by :func:`relative_key_raw`, which also reports where its relative row
    numbers are. A later formula of the same shape has the same key exactly when its text
    equals that template with those row numbers shifted by the row difference — one
    ``%``-format and one comparison per cell. The template that fitted last in a column is
    tried first, before the shape is even computed: down a column it almost always fits.
    """

    def __init__(self) -> None:
        self._by_shape: dict[tuple[int, bytes], list[_Template]] = {}
        self._last: dict[int, _Template] = {}  # column → the template that fitted last
        #: the template the last key came from (None: keyed without one)
        self.used: _Template | None = None

    def key(self, raw: bytes, row: int, col: int) -> bytes | str:
        tpl = self._last.get(col)
        if tpl is not None and tpl.fits(raw, row):
            self.used = tpl
            return tpl.key
        shape = (col, raw.translate(_DIGIT_MASK))
        templates = self._by_shape.get(shape)
        if templates is not None:
            for tpl in templates:
                if tpl.fits(raw, row):
                    self._last[col] = self.used = tpl
                    return tpl.key
        self.used = None
        spans: list[tuple[int, int, int]] = []
        key = relative_key_raw(raw, row, col, spans)
        if templates is None:
            templates = self._by_shape[shape] = []
        if len(templates) < 4 and not any(s < 0 for s, _e, _o in spans):
            spans.sort()
            pieces = []
            pos = 0
            for s, e, _o in spans:
                pieces.append(raw[pos:s])
                pos = e
            pieces.append(raw[pos:])
            tpl = _Template(pieces, [o for _s, _e, o in spans], key)
            templates.append(tpl)
            self._last[col] = self.used = tpl
        return key


class _Template:
    """A formula text with its relative row numbers as ``%d`` holes (see KeyTemplates)."""

    __slots__ = ("fmt", "hi", "key", "lo", "n", "offsets", "same")

    def __init__(self, pieces: list[bytes], offsets: list[int], key: bytes | str):
        self.key = key
        self.offsets = tuple(offsets)
        self.n = len(offsets)
        if not offsets:
            self.fmt = pieces[0]
            self.lo = self.hi = 0
        else:
            self.fmt = b"%d".join(p.replace(b"%", b"%%") for p in pieces)
            self.lo, self.hi = min(offsets), max(offsets)
        #: the one offset when all are equal (the usual copy: every reference in its own row)
        self.same = offsets[0] if offsets and self.lo == self.hi else None

    def fits(self, raw: bytes, row: int) -> bool:
        """Is ``raw`` this template's formula copied to ``row``? Row numbers outside
        Excel's grid never fit (they would not be references there)."""
        if not self.n:
            return raw == self.fmt
        if row + self.lo < 1 or row + self.hi > MAX_ROW:
            return False
        if self.same is not None:
            return self.fmt % ((row + self.same,) * self.n) == raw
        return self.fmt % tuple([row + o for o in self.offsets]) == raw


_MARK_RE = re.compile(
    r"\x01([^,]+),([^\x01]+)\x01|\x02([^,]+),([^\x02]+)\x02|\x03([^,]+),([^\x03]+)\x03"
)


def _abs_part(part: str, anchor: int) -> tuple[bool, int]:
    if part[0] == "$":
        return True, int(part[1:])
    return False, anchor + int(part)


def render_key(key: str, row: int, col: int) -> str:
    """The A1 formula text a relative ``key`` stands for in the cell at (row, col)."""

    def sub(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            ra, r = _abs_part(m.group(1), row)
            ca, c = _abs_part(m.group(2), col)
            if r < 1 or c < 1 or r > MAX_ROW or c > MAX_COL:
                return "#REF!"
            return f"{'$' if ca else ''}{col_letters(c)}{'$' if ra else ''}{r}"
        if m.group(3) is not None:
            a1, c1 = _abs_part(m.group(3), col)
            a2, c2 = _abs_part(m.group(4), col)
            if min(c1, c2) < 1 or max(c1, c2) > MAX_COL:
                return "#REF!"
            return f"{'$' if a1 else ''}{col_letters(c1)}:{'$' if a2 else ''}{col_letters(c2)}"
        a1, r1 = _abs_part(m.group(5), row)
        a2, r2 = _abs_part(m.group(6), row)
        if min(r1, r2) < 1 or max(r1, r2) > MAX_ROW:
            return "#REF!"
        return f"{'$' if a1 else ''}{r1}:{'$' if a2 else ''}{r2}"

    # string literals never contain the marker characters, so a plain sub is safe
    return _MARK_RE.sub(sub, key)


# --------------------------------------------------------------------------- tokenizer

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\r\n\xa0]+)
  | (?P<str>"(?:[^"]|"")*")
  | \x01(?P<cr>\$?-?[0-9]+),(?P<cc>\$?-?[0-9]+)\x01
  | \x02(?P<c1>\$?-?[0-9]+),(?P<c2>\$?-?[0-9]+)\x02
  | \x03(?P<r1>\$?-?[0-9]+),(?P<r2>\$?-?[0-9]+)\x03
  | (?P<qsheet>'(?:[^']|'')*')(?=!)
  | (?P<pcols>\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3})(?![\w.(!\[\\])
  | (?P<prows>\$?[0-9]{1,7}:\$?[0-9]{1,7})(?![\w.(!\[\\:])
  | (?P<pcell>\$?[A-Za-z]{1,3}\$?[0-9]{1,7})(?![\w.(!\[\\])
  | (?P<err>\#(?:NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!|N/A|GETTING_DATA|SPILL!|CALC!))
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<bracket>\[[^\]]*\])
  | (?P<ident>(?:[^\W\d]|\\)[\w.\\?]*)
  | (?P<op><>|<=|>=|[-+*/^&=<>%:,;(){}@!])
    """,
    re.VERBOSE,
)

_PREFIXES = ("_XLFN._XLWS.", "_XLFN.", "_XLWS.", "_XLL.", "_XLUDF.")


def function_name(written: str) -> str:
    """``_xlfn.RANK.EQ`` → ``RANK.EQ`` (the prefixes Excel writes for newer functions)."""
    name = written.upper()
    for p in _PREFIXES:
        if name.startswith(p):
            return name[len(p):]
    return name


def _part(text: str) -> tuple[bool, int]:
    if text[0] == "$":
        return True, int(text[1:])
    return False, int(text)


Token = tuple[str, object, bool]  # kind, value, preceded-by-whitespace


_PLAIN_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


def _plain_ref(kind: str, text: str) -> tuple[str, object] | None:
    """A reference left literal in a key: it means exactly the cells it names."""
    t = text.replace("$", "")
    if kind == "pcell":
        m = _PLAIN_CELL.fullmatch(text)
        if m is None:
            return None
        c, r = col_index(m.group(1)), int(m.group(2))
        if c > MAX_COL or not 0 < r <= MAX_ROW:
            return None
        return "cell", ((True, r), (True, c))
    a, b = t.split(":")
    if kind == "pcols":
        c1, c2 = col_index(a), col_index(b)
        if c1 > MAX_COL or c2 > MAX_COL:
            return None
        return "cols", ((True, c1), (True, c2))
    r1, r2 = int(a), int(b)
    if not (0 < r1 <= MAX_ROW and 0 < r2 <= MAX_ROW):
        return None
    return "rows", ((True, r1), (True, r2))


def tokenize(key: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    n = len(key)
    space = False
    match = _TOKEN_RE.match
    while pos < n:
        m = match(key, pos)
        if m is None:
            raise FormulaSyntaxError(tr("意外的字符 {char}", char=repr(key[pos])))
        kind = m.lastgroup
        pos = m.end()
        if kind == "ws":
            space = True
            continue
        if kind == "str":
            tokens.append(("str", m.group("str")[1:-1].replace('""', '"'), space))
        elif kind == "cc":
            tokens.append(("cell", (_part(m.group("cr")), _part(m.group("cc"))), space))
        elif kind == "c2":
            tokens.append(("cols", (_part(m.group("c1")), _part(m.group("c2"))), space))
        elif kind == "r2":
            tokens.append(("rows", (_part(m.group("r1")), _part(m.group("r2"))), space))
        elif kind in ("pcell", "pcols", "prows"):
            tok = _plain_ref(kind, m.group(kind))
            if tok is None:
                tokens.append(("ident", m.group(kind), space))
            else:
                tokens.append((*tok, space))
        elif kind == "qsheet":
            tokens.append(("qsheet", m.group("qsheet")[1:-1].replace("''", "'"), space))
        elif kind == "err":
            tokens.append(("err", m.group("err"), space))
        elif kind == "num":
            tokens.append(("num", float(m.group("num")), space))
        elif kind == "bracket":
            raise UnsupportedSyntax(tr("外部引用或表格引用 {ref}", ref=m.group('bracket')))
        elif kind == "ident":
            tokens.append(("ident", m.group("ident"), space))
        else:
            tokens.append(("op", m.group("op"), space))
        space = False
    tokens.append(("end", None, space))
    return tokens


# --------------------------------------------------------------------------- parser

_COMPARE = frozenset(("=", "<>", "<", ">", "<=", ">="))


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.toks = tokens
        self.i = 0

    def peek(self) -> Token:
        return self.toks[self.i]

    def next(self) -> Token:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def at_op(self, *ops: str) -> bool:
        k, v, _ = self.toks[self.i]
        return k == "op" and v in ops

    def expect(self, op: str) -> None:
        k, v, _ = self.next()
        if k != "op" or v != op:
            raise FormulaSyntaxError(f"expected {op!r}, found {v!r}")

    def parse(self) -> tuple:
        if self.at_op("="):  # tolerate a leading "="
            self.i += 1
        node = self.expr()
        k, v, _ = self.peek()
        if k != "end":
            if k in ("cell", "ident", "qsheet", "cols", "rows") or (k == "op" and v == "("):
                raise UnsupportedSyntax(tr("交集运算符（引用之间的空格）"))
            raise FormulaSyntaxError(tr("意外的 {token}", token=repr(v)))
        return node

    def expr(self) -> tuple:
        node = self.concat()
        while self.at_op(*_COMPARE):
            op = self.next()[1]
            node = ("op", op, node, self.concat())
        return node

    def concat(self) -> tuple:
        node = self.additive()
        while self.at_op("&"):
            self.i += 1
            node = ("op", "&", node, self.additive())
        return node

    def additive(self) -> tuple:
        node = self.term()
        while self.at_op("+", "-"):
            op = self.next()[1]
            node = ("op", op, node, self.term())
        return node

    def term(self) -> tuple:
        node = self.power()
        while self.at_op("*", "/"):
            op = self.next()[1]
            node = ("op", op, node, self.power())
        return node

    def power(self) -> tuple:
        node = self.unary()
        while self.at_op("^"):
            self.i += 1
            node = ("op", "^", node, self.unary())
        return node

    def unary(self) -> tuple:
        if self.at_op("-"):
            self.i += 1
            inner = self.unary()
            if inner[0] == "n":
                return ("n", -inner[1])
            return ("neg", inner)
        if self.at_op("+"):
            self.i += 1
            return ("pos", self.unary())
        if self.at_op("@"):
            self.i += 1
            return ("fn", "SINGLE", [self.unary()], "@")
        node = self.rangeop()
        while self.at_op("%"):
            self.i += 1
            node = ("pct", node)
        return node

    def rangeop(self) -> tuple:
        node = self.primary()
        while self.at_op(":"):
            self.i += 1
            right = self.primary()
            node = _join_range(node, right)
        return node

    def primary(self) -> tuple:
        k, v, _ = self.next()
        if k == "num":
            return ("n", v)
        if k == "str":
            return ("s", v)
        if k == "err":
            return ("e", v)
        if k == "cell":
            return ("cell", None, v[0], v[1])
        if k == "cols":
            return ("cols", None, v[0], v[1])
        if k == "rows":
            return ("rows", None, v[0], v[1])
        if k == "qsheet":
            return self.sheet_ref(v)  # type: ignore[arg-type]
        if k == "ident":
            name = v  # type: ignore[assignment]
            nk, nv, _ = self.peek()
            if nk == "op" and nv == "!":
                return self.sheet_ref(name)  # type: ignore[arg-type]
            if nk == "op" and nv == "(":
                self.i += 1
                return self.call(name)  # type: ignore[arg-type]
            if nk == "op" and nv == ":" and self.toks[self.i + 1][0] == "ident" \
                    and self.toks[self.i + 2][:2] == ("op", "!"):
                self.i += 1
                last = self.next()[1]
                return self.three_d(name, last)  # type: ignore[arg-type]
            up = name.upper()  # type: ignore[union-attr]
            if up == "TRUE":
                return ("b", True)
            if up == "FALSE":
                return ("b", False)
            return ("name", None, name)
        if k == "op":
            if v == "(":
                node = self.expr()
                if self.at_op(","):
                    raise UnsupportedSyntax(tr("并集运算符（括号中的引用列表）"))
                self.expect(")")
                return node
            if v == "{":
                return self.array()
            if v in (",", ")"):
                # an omitted argument; the caller decides what it means
                self.i -= 1
                return ("miss",)
        if k == "end":
            raise FormulaSyntaxError(tr("公式意外结束"))
        raise FormulaSyntaxError(tr("意外的 {token}", token=repr(v)))

    def three_d(self, first: str, last: str) -> tuple:
        """``Sheet1:Sheet3!B5``: the same cells on every sheet from first to last."""
        self.expect("!")
        inner = self.sheet_target(None)
        if inner[0] not in ("cell", "area", "cols", "rows"):
            raise UnsupportedSyntax(tr("对名称的三维引用"))
        if self.at_op(":"):
            self.i += 1
            right = self.primary()
            inner = _join_range(inner, right)
        return ("3d", first, last, inner)

    def sheet_ref(self, sheet: str) -> tuple:
        if ":" in sheet and not self.at_op(":"):  # '1月:3月'!B5
            first, _, last = sheet.partition(":")
            return self.three_d(first, last)
        if self.at_op(":"):
            self.i += 1
            k, v, _ = self.next()
            if k not in ("ident", "qsheet"):
                raise FormulaSyntaxError(tr("“:”后应为工作表名"))
            return self.three_d(sheet, v)  # type: ignore[arg-type]
        self.expect("!")
        return self.sheet_target(sheet)

    def sheet_target(self, sheet: str | None) -> tuple:
        k, v, _ = self.next()
        if k == "cell":
            return ("cell", sheet, v[0], v[1])
        if k == "cols":
            return ("cols", sheet, v[0], v[1])
        if k == "rows":
            return ("rows", sheet, v[0], v[1])
        if k == "err":
            return ("e", v)
        if k == "ident" and sheet is not None:
            return ("name", sheet, v)
        raise FormulaSyntaxError(tr("{sheet}! 后应为单元格引用", sheet=sheet))

    def call(self, written: str) -> tuple:
        name = function_name(written)
        node: tuple = ("fn", name, self.arguments(written), written)
        # LAMBDA(x, x+1)(5): a LAMBDA called where it is written
        while name == "LAMBDA" and self.at_op("("):
            self.i += 1
            node = ("lcall", node, self.arguments(written))
        return node

    def arguments(self, written: str) -> list[tuple]:
        """The arguments after an opening parenthesis, up to and with the closing one."""
        args: list[tuple] = []
        if self.at_op(")"):
            self.i += 1
            return args
        while True:
            if self.at_op(",", ")"):
                args.append(("miss",))
            else:
                args.append(self.expr())
            k, v, _ = self.next()
            if k == "op" and v == ",":
                continue
            if k == "op" and v == ")":
                return args
            raise FormulaSyntaxError(tr("{name}() 中应为“,”或“)”，实际为 {found}", name=written,
                                        found=repr(v)))

    def array(self) -> tuple:
        rows: list[list[object]] = [[]]
        while True:
            neg = False
            if self.at_op("-"):
                self.i += 1
                neg = True
            elif self.at_op("+"):
                self.i += 1
            k, v, _ = self.next()
            if k == "num":
                rows[-1].append(-v if neg else v)  # type: ignore[operator]
            elif k == "str" and not neg:
                rows[-1].append(v)
            elif k == "err" and not neg:
                rows[-1].append(("e", v))
            elif k == "ident" and not neg and str(v).upper() in ("TRUE", "FALSE"):
                rows[-1].append(str(v).upper() == "TRUE")
            else:
                raise FormulaSyntaxError(tr("数组常量只能包含常量值"))
            k, v, _ = self.next()
            if k == "op" and v == ",":
                continue
            if k == "op" and v == ";":
                rows.append([])
                continue
            if k == "op" and v == "}":
                break
            raise FormulaSyntaxError(tr("数组常量有误"))
        if len({len(r) for r in rows}) != 1:
            raise FormulaSyntaxError(tr("数组常量各行长度不同"))
        return ("arr", rows)


def _join_range(a: tuple, b: tuple) -> tuple:
    if a[0] == "cell" and b[0] == "cell" and (b[1] is None or b[1] == a[1]):
        return ("area", a[1], a[2], a[3], b[2], b[3])
    if a[0] in ("cols", "rows") or b[0] in ("cols", "rows"):
        raise FormulaSyntaxError(tr("区域有误"))
    return ("range", a, b)


def parse_key(key: str | bytes) -> tuple:
    """Parse a key from :func:`relative_key` / :func:`relative_key_raw` (or plain text)."""
    if isinstance(key, bytes):
        from .xmltext import decode_text

        key = decode_text(key)
    return _Parser(tokenize(key)).parse()


def parse_formula(text: str, row: int = 1, col: int = 1) -> tuple:
    """Parse the formula text of the cell at (row, col); mostly for tests and tools."""
    return parse_key(relative_key(text.removeprefix("="), row, col))
