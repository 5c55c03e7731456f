"""The oracle: workbooks Microsoft Excel saved, with its cached values (tests/corpus/excel).

For every file the cached value of every formula cell — and of every cell of an array
formula's or a spill's range — is removed first (``oracle.blank_copy``), so that no cell can
pass by keeping Excel's number; xlbridge recomputes the blank copy through
``recalc_workbook`` and the file it writes is read back with the oracle's own lxml reader.
TODAY()/NOW() run on the clock of the moment Excel saved the file (``dcterms:modified``).

The corpus is every Excel-saved file of IronCalc's xlsx/tests (233 files, 73,217 formula
cells; ≈20 s, in the normal suite). Targets (issue #12): at least 97% of the formula cells
computed (met: 99.97%), at least 99.9% of the computed cells equal to Excel's value (met:
99.93% — most of the rest are iterative solvers whose sequence of iterates Excel does not
document: some ODDFYIELD, and NPV at IRR's result, which is rounding noise). Every
cell that differs is listed in known_differences.tsv with the reason; the test fails on any
other difference, and on a listed one that no longer differs (the list only shrinks).
The figures are in docs/fidelity.md.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import oracle
import pytest

from xlbridge.recompute import recalc_workbook

COMPUTED_TARGET = 0.97
#: issue #12 asks 0.999; 0.99937 reached (every other cell is listed in known_differences.tsv)
AGREE_FLOOR = 0.9993
KNOWN = Path(__file__).with_name("known_differences.tsv")


def known_differences() -> set[tuple[str, str]]:
    out = set()
    for line in KNOWN.read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            file, cell, *_ = line.split("\t")
            out.add((file, cell))
    return out


def recompute(src: Path, work: Path) -> tuple[oracle.Verdict, list[str]]:
    """xlbridge on one corpus file: blank, recompute, read back, compare."""
    blank, out = work / f"{src.stem}.blank.xlsx", work / f"{src.stem}.out.xlsx"
    oracle.blank_copy(src, blank)
    report = recalc_workbook(blank, out_path=out, clock=oracle.saved_at(src))
    verdict = oracle.compare(oracle.read_cells(src), oracle.read_cells(out),
                             str(src.relative_to(oracle.CORPUS)))
    return verdict, [i.message for i in report.unsupported]


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[oracle.Verdict, list[str]]]:
    work = tmp_path_factory.mktemp("corpus")
    return [recompute(f, work) for f in oracle.corpus_files()]


def test_the_corpus_is_there_with_its_licence() -> None:
    files = oracle.corpus_files()
    assert len(files) >= 233  # every Excel-saved file of IronCalc's xlsx/tests
    assert (oracle.CORPUS / "ironcalc" / "LICENSE-MIT").is_file()
    assert (oracle.CORPUS / "SOURCES.md").is_file()


def test_blanking_removes_every_cached_formula_value(tmp_path: Path) -> None:
    for src in oracle.corpus_files()[:20]:
        blank = tmp_path / src.name
        oracle.blank_copy(src, blank)
        left = [k for k, c in oracle.read_cells(blank).items()
                if c.is_formula and c.value is not ...]
        assert not left, (src.name, left[:5])


def test_excel_corpus_figures(verdicts: list[tuple[oracle.Verdict, list[str]]]) -> None:
    cells = sum(v.cells for v, _ in verdicts)
    computed = sum(v.computed for v, _ in verdicts)
    agree = sum(v.agree for v, _ in verdicts)
    missing = Counter(m for _, ms in verdicts for m in ms)
    differ = [f"{v.file} {s}!{c} ={f}: Excel {oracle.show(want)}, xlbridge {oracle.show(got)}"
              for v, _ in verdicts for s, c, f, want, got in v.differ]
    summary = (f"{len(verdicts)} files, {cells} formula cells, {computed} computed "
               f"({computed / cells:.2%}), {agree} equal to Excel ({agree / computed:.3%})")
    print(summary)
    assert cells > 70000
    assert computed / cells >= COMPUTED_TARGET, (
        summary + "\nmost frequent reasons:\n" + "\n".join(f"{n}× {m}" for m, n in
                                                           missing.most_common(30)))
    assert agree / computed >= AGREE_FLOOR, summary + "\n" + "\n".join(differ[:60])
    got = {(v.file, f"{s}!{c}") for v, _ in verdicts for s, c, _f, _w, _g in v.differ}
    known = known_differences()
    new = sorted(got - known)
    assert not new, "cells that differ from Excel and are not in known_differences.tsv:\n" + \
        "\n".join(d for d in differ if any(d.startswith(f"{f} {c}") for f, c in new))
    fixed = sorted(known - got)
    assert not fixed, f"these now equal Excel: remove them from known_differences.tsv: {fixed}"
