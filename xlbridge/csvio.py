"""Records in CSV files: headers mapped to a scheme's inputs, results written back atomically.

Clerks' CSV files come from Excel: often GB18030 ("ANSI" on a Chinese Windows) rather than
UTF-8, with headers that are either the input ids (``late``) or the Chinese labels a template
shows (``迟到(次)``). Both are accepted. Output is UTF-8 with a BOM, which Excel opens
correctly, and is written with :func:`xlbridge.atomic.write_atomic`, so that a failure never
leaves half a file. Text that a spreadsheet would run as a formula (``=HYPERLINK(…)``) is
written with a leading ``'`` (:func:`neutralize`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlbridge.engine.values import normalize_text
from xlbridge.i18n import t
from xlbridge.scheme.inputs import InputSpec

#: The first record of a CSV file is on line 2 in Excel (line 1 is the header).
FIRST_ROW = 2


class CsvInputError(ValueError):
    """A CSV file that cannot be read as records of the scheme."""


@dataclass
class CsvRecords:
    path: str
    header: list[str]
    rows: list[dict[str, str]]          # by input id
    raw_rows: list[list[str]]            # as read, for writing back
    unknown_columns: list[str]
    row_numbers: list[int]               # each record's row as Excel numbers it (header = 1)


def decode(data: bytes, path: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CsvInputError(t("{path}：既不是 UTF-8 也不是 GB18030 文本；请另存为“CSV UTF-8”",
                          path=path))


def header_map(header: Sequence[str], specs: Sequence[InputSpec], path: str
               ) -> tuple[dict[int, str], list[str]]:
    """Column index → input id, matching ids or labels; also the columns that match none."""
    by_name: dict[str, str] = {}
    labels = {spec.id: spec.label for spec in specs}
    for spec in specs:
        by_name[normalize_text(spec.id)] = spec.id
        by_name[normalize_text(spec.label)] = spec.id
    mapping: dict[int, str] = {}
    unknown = []
    for i, name in enumerate(header):
        key = by_name.get(normalize_text(name))
        if key is None:
            unknown.append(name)
            continue
        if key in mapping.values():
            raise CsvInputError(t("{path}：第 {column} 列“{name}”与前面的列重复，都是输入"
                                  "“{input}”", path=path, column=i + 1, name=name,
                                  input=labels[key]))
        mapping[i] = key
    # Every input needs its column, even one whose cells may be blank: a column whose header
    # is misspelt would otherwise read as all blank — 0 deductions, a better grade — in
    # silence. (A blank *cell* is fine where the scheme says what it means.) Only the inputs
    # of rules that may not apply (a part for another kind of unit, evidence of a bonus) may
    # lack a column: a sheet for 职能科室 has no columns for the 临床 parts.
    missing = [s for s in specs
               if s.id not in mapping.values() and not (s.optional or s.conditional)]
    if missing:
        names = t("、").join(f"{s.label} [{s.id}]" for s in missing)
        unused = [u for u in unknown if u.strip()]
        hint = t("；没有对应任何输入的列：{columns}", columns=t("、").join(unused)) \
            if unused else ""
        raise CsvInputError(t("{path}：缺少列 {names}{hint}；表头须以输入的编号或中文名命名每个输入"
                              "（见 xlbridge schemes show）", path=path, names=names, hint=hint))
    return mapping, unknown


def read_records(path: str | Path, specs: Sequence[InputSpec]) -> CsvRecords:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise CsvInputError(t("{path}：无法读取（{reason}）", path=p,
                              reason=exc.strerror or exc)) from None
    return records_from_rows(csv_rows(data, str(p)), str(p), specs)


def csv_rows(data: bytes, path: str) -> list[list[str]]:
    """The rows of a CSV file's bytes (UTF-8 or GB18030)."""
    reader = csv.reader(io.StringIO(decode(data, path)))
    try:
        return list(reader)
    except csv.Error as exc:
        raise CsvInputError(t("{path}：第 {line} 行不是有效的 CSV（{reason}）；请把工作表重新另存为"
                              "“CSV UTF-8”", path=path, line=reader.line_num,
                              reason=exc)) from None


def records_from_rows(rows: Sequence[Sequence[Any]], path: str, specs: Sequence[InputSpec]
                      ) -> CsvRecords:
    """Records from a table's rows (a header row, then one record per row), by input id.
    Cells are text (CSV) or a sheet's values (numbers, None for an empty cell)."""
    if not rows:
        raise CsvInputError(t("{path}：文件是空的；第一行应为表头", path=path))
    header = ["" if c is None else str(c) for c in rows[0]]
    # Excel's row numbers: a blank line is skipped but keeps its number
    numbered = [(n, list(r)) for n, r in enumerate(rows[1:], start=FIRST_ROW)
                if any(c is not None and str(c).strip() for c in r)]
    mapping, unknown = header_map(header, specs, path)
    records = []
    for line_no, row in numbered:
        if len(row) > len(header):
            raise CsvInputError(t("{path}：第 {line} 行有 {fields} 列，多于表头的 {header} 列",
                                  path=path, line=line_no, fields=len(row),
                                  header=len(header)))
        records.append({key: row[i] if i < len(row) and row[i] is not None else ""
                        for i, key in mapping.items()})
    return CsvRecords(path, header, records, [r for _n, r in numbered], unknown,
                      [n for n, _r in numbered])


#: A text cell starting with one of these is read as a formula by Excel, WPS and LibreOffice
#: when they open a CSV file (OWASP "CSV Injection"): ``=HYPERLINK(…)``, ``+cmd|' /C calc'!A0``,
#: ``@SUM(…)``, ``-2+3+cmd|…``; a tab or carriage return first hides the character after it.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralize(value: object) -> object:
    """A cell as a CSV file may hold it: text that a spreadsheet would run as a formula gets
    a leading ``'`` (OWASP's rule), so it shows as the text it is. Numbers, negative ones
    included (``-2.5``), are left as they are: they are not formulas."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and \
            not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def to_csv(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """CSV text (CRLF lines) of a header and rows, every text cell :func:`neutralize`-d."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralize(v) for v in header])
    for row in rows:
        writer.writerow(["" if v is None else neutralize(v) for v in row])
    return buf.getvalue()
