"""The `xlbridge` command: a thin face over the library (parsing and printing only).

Every command does its work through the same functions the worksheet functions and the
server use; this module only reads arguments, calls them, and prints.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from xlbridge import __version__
from xlbridge.arith import fmt
from xlbridge.csvio import CsvInputError, read_records, to_csv, write_atomic
from xlbridge.engine import CompiledScheme, score_population
from xlbridge.engine.periods import aggregate_periods, aggregation_inputs
from xlbridge.engine.trace import render
from xlbridge.scheme.describe import describe
from xlbridge.scheme.issues import SchemeInvalid
from xlbridge.scheme.load import load_scheme_file
from xlbridge.scheme.model import Scheme
from xlbridge.scheme.validate import validate
from xlbridge.store import REPO_SCHEMES, SchemeNotFound, SchemeStore, default_dirs

# Piped output (files, CI logs, tests) gets a wide fixed width so tables are never cut.
console = Console(highlight=False, soft_wrap=True,
                  width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, highlight=False, soft_wrap=True,
                      width=None if sys.stderr.isatty() else 200)


class Fail(click.ClickException):
    """An error for the user: printed without a traceback, exit status 2."""

    exit_code = 2


def _store(ctx: click.Context) -> SchemeStore:
    return ctx.obj["store"]


def _compiled(ctx: click.Context, ref: str) -> CompiledScheme:
    try:
        return _store(ctx).get(ref)
    except (SchemeInvalid, SchemeNotFound, ValueError) as exc:
        raise Fail(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xlbridge")
@click.option("--schemes", "scheme_dirs", multiple=True, type=click.Path(file_okay=False),
              help="Folder of scheme files to search first (repeatable).")
@click.pass_context
def main(ctx: click.Context, scheme_dirs: tuple[str, ...]) -> None:
    """xlbridge — performance-appraisal schemes (绩效考核方案) for office workbooks."""
    ctx.ensure_object(dict)
    ctx.obj["store"] = SchemeStore([*scheme_dirs, *default_dirs()])


# --------------------------------------------------------------------------- schemes


@main.group()
def schemes() -> None:
    """List, show, validate schemes; print the scheme format's JSON Schema."""


@schemes.command("list")
@click.pass_context
def schemes_list(ctx: click.Context) -> None:
    """Every scheme found, newest version last."""
    store = _store(ctx)
    table = Table("id@version", "title", "unit", "period", "status", "file")
    for e in store.entries():
        s = e.loaded.scheme
        try:
            warnings = len(store.get(e.ref).report.warnings)
            status = f"[yellow]{warnings} warning(s)[/yellow]" if warnings else "ok"
        except SchemeInvalid as exc:   # loads, but fails validation: never used to compute
            status = f"[red]invalid: {len(exc.report.errors)} error(s)[/red]"
        table.add_row(e.ref, escape(s.title), escape(s.unit), s.period, status,
                      escape(str(e.path)))
    console.print(table)
    for path, exc in store.invalid_files().items():
        err_console.print(f"[red]invalid[/red] {escape(str(path))}: {len(exc.report.errors)} "
                          f"error(s); run `xlbridge schemes validate {escape(str(path))}`")


@schemes.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="The scheme document as JSON.")
@click.pass_context
def schemes_show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """A scheme's rules, tiers, quotas, payouts and input columns."""
    cs = _compiled(ctx, ref)
    if as_json:
        click.echo(json.dumps(cs.scheme.model_dump(mode="json", exclude_none=True),
                              ensure_ascii=False, indent=2))
        return
    click.echo(describe(cs.scheme, cs.inputs))
    for issue in cs.report.warnings:
        err_console.print(f"[yellow]{escape(str(issue))}[/yellow]")


@schemes.command("validate")
@click.argument("refs", nargs=-1)
@click.pass_context
def schemes_validate(ctx: click.Context, refs: tuple[str, ...]) -> None:
    """Check scheme files (or ids); all found schemes when none is given.

    Exit status 1 if any scheme has errors; warnings alone pass.
    """
    store = _store(ctx)
    targets: list[tuple[str, Any]] = []
    if not refs:
        targets = [(str(e.path), e.loaded) for e in store.entries()]
        targets += [(str(p), exc) for p, exc in store.invalid_files().items()]
    for ref in refs:
        try:
            if Path(ref).exists():
                targets.append((ref, load_scheme_file(ref)))
            else:
                entry = store.entry(ref)
                targets.append((str(entry.path), entry.loaded))
        except SchemeInvalid as exc:
            targets.append((ref, exc))
        except (SchemeNotFound, ValueError) as exc:
            raise Fail(str(exc)) from None
    failed = 0
    for name, loaded in sorted(targets, key=lambda t: t[0]):
        if isinstance(loaded, SchemeInvalid):
            report = loaded.report
        else:
            report = validate(loaded.scheme, loaded.source)
        status = "[green]ok[/green]" if report.ok else "[red]invalid[/red]"
        console.print(f"{status} {escape(name)} ({len(report.errors)} errors, "
                      f"{len(report.warnings)} warnings)")
        for issue in report.issues:
            colour = "red" if issue.severity == "error" else "yellow"
            console.print(f"  [{colour}]{escape(str(issue))}[/{colour}]")
        failed += not report.ok
    if failed:
        sys.exit(1)


@schemes.command("schema")
def schemes_schema() -> None:
    """The JSON Schema of scheme files (for editors: validation and completion)."""
    schema = Scheme.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://xlbridge.example/schema/scheme.json"
    click.echo(json.dumps(schema, ensure_ascii=False, indent=2))


# --------------------------------------------------------------------------- score


def _result_row(cs: CompiledScheme, r: Any) -> list[Any]:
    rounding = cs.scheme.rounding
    return [fmt(r.total, rounding.total.digits) if r.total is not None else "", r.grade_text,
            fmt(r.payout, rounding.payout.digits) if r.payout is not None else "", r.rank or "",
            "；".join(r.flags), r.withheld or "",
            "\n".join(str(e) for e in r.errors) if r.errors else render(r.steps or [])]


@main.command()
@click.option("--scheme", "ref", required=True, help="Scheme id, id@version, or file.")
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False),
              help="CSV of records; columns named by input id or label.")
@click.option("--output", "output_path", type=click.Path(dir_okay=False),
              help="Write results as CSV (input columns + total, grade, payout, breakdown).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable results.")
@click.option("--explain", "explain_row", type=int, metavar="ROW",
              help="Print one record's breakdown (ROW as Excel numbers it: first record = 2).")
@click.pass_context
def score(ctx: click.Context, ref: str, input_path: str, output_path: str | None,
          as_json: bool, explain_row: int | None) -> None:
    """Score a CSV of records with a scheme: totals, quota-aware grades, payouts.

    Exit status 1 if any record has bad data (its errors are in the output).
    """
    cs = _compiled(ctx, ref)
    try:
        data = read_records(input_path, cs.inputs)
    except CsvInputError as exc:
        raise Fail(str(exc)) from None
    explain = bool(output_path) or as_json or explain_row is not None
    pop = score_population(cs, data.rows, explain=explain, first_row=data.row_numbers)
    if data.unknown_columns:
        err_console.print(f"[yellow]columns not used by {cs.ref}: "
                          f"{escape(', '.join(data.unknown_columns))}[/yellow]")
    if output_path:
        header = [*data.header, "总分", "等次", "奖金", "排名", "标记", "暂缓原因", "计分明细"]
        rows = [[*raw, *[""] * (len(data.header) - len(raw)), *_result_row(cs, r)]
                for raw, r in zip(data.raw_rows, pop.records, strict=True)]
        write_atomic(output_path, to_csv(header, rows))
    if as_json:
        out = {"scheme": cs.ref, "summary": pop.summary(),
               "records": [r.to_dict() for r in pop.records],
               "ties": [t.to_dict() for t in pop.ties],
               "quotas": [q.to_dict() for q in pop.quotas]}
        for rec, inputs in zip(out["records"], data.rows, strict=True):
            rec["inputs"] = inputs
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    elif explain_row is not None:
        match = [r for r in pop.records if r.row == explain_row]
        if not match:
            rows = data.row_numbers
            where = f"rows {rows[0]}–{rows[-1]}" if rows else "no rows (the file is empty)"
            raise Fail(f"no record on row {explain_row}; records are on {where}")
        r = match[0]
        click.echo(f"{cs.ref} {cs.scheme.title} — 第 {explain_row} 行")
        click.echo(r.explain())
        if r.withheld:
            click.echo(f"暂缓：{r.withheld}")
    else:
        _print_summary(cs, pop)
    for r in pop.invalid:
        err_console.print(f"[red]{escape(input_path)}: row {r.row}:[/red] "
                          + escape("; ".join(str(e) for e in r.errors)))
    if pop.invalid:
        sys.exit(1)


def _print_summary(cs: CompiledScheme, pop: Any) -> None:
    s = pop.summary()
    console.print(f"{cs.ref} {cs.scheme.title}: {s['records']} records, "
                  f"{s['invalid']} invalid, {s['withheld']} withheld")
    grades = [t.label for t in cs.tiers] + ["不定等次"]
    counts = s["grades"]
    console.print("  " + "  ".join(f"{g} {counts.get(g, 0)}" for g in grades if g in counts
                                   or g != "不定等次"))
    if cs.scheme.payout:
        console.print(f"  奖金合计 {s['payout_total']} {cs.scheme.payout.unit}")
    for tie in pop.ties:
        console.print(f"  [yellow]{escape(tie.text)}[/yellow]")


@main.command()
@click.option("--scheme", "ref", required=True, help="Scheme id, id@version, or file.")
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False),
              help="CSV with one column per period grade (Q1…Q4), optional Q1_total….")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def aggregate(ctx: click.Context, ref: str, input_path: str, as_json: bool) -> None:
    """Annual grades from period grades (e.g. four quarterly grades)."""
    cs = _compiled(ctx, ref)
    if cs.scheme.aggregation is None:
        raise Fail(f"scheme {cs.ref} declares no aggregation over periods")
    try:
        data = read_records(input_path, aggregation_inputs(cs))
    except CsvInputError as exc:
        raise Fail(str(exc)) from None
    result = aggregate_periods(cs, data.rows, first_row=data.row_numbers)
    if as_json:
        click.echo(json.dumps({"scheme": cs.ref, "records": [r.to_dict() for r in
                                                              result.records],
                               "notes": result.notes}, ensure_ascii=False, indent=2))
    else:
        for r, raw in zip(result.records, data.raw_rows, strict=True):
            label = raw[0] if raw else ""
            if r.errors:
                click.echo(f"row {r.row} {label}: " + "; ".join(map(str, r.errors)))
            else:
                grade = r.grade or ("暂缓 withheld" if r.withheld else "—")
                click.echo(f"row {r.row} {label}: {grade}  ({'；'.join(r.steps[1:])})")
        for note in result.notes:
            click.echo(note)
    if any(r.errors for r in result.records):
        sys.exit(1)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Recompute files in this many parallel processes.")
@click.option("--dry-run", is_flag=True, help="Compute and report, write nothing.")
@click.option("--backup", is_flag=True,
              help="Keep a copy of each file as <name>.backup-<time>.xlsx before replacing it.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False),
              help="Also write the summary to FILE (.csv or .html).")
@click.option("--values-only", "values_dir", type=click.Path(file_okay=False),
              help="Also write frozen copies into DIR: PERF_* formulas replaced by their values "
                   "(for publishing, 公示, to PCs without the add-in).")
@click.option("--schemes", "schemes_from", metavar="DIR|URL",
              help="Read schemes from DIR first, or sync them from the server at URL first.")
@click.option("--functions", "list_functions", is_flag=True,
              help="List the worksheet functions recompute computes, by Excel's category, and "
                   "exit.")
@click.pass_context
def recompute(ctx: click.Context, paths: tuple[str, ...], jobs: int, dry_run: bool,
              backup: bool, report_path: str | None, values_dir: str | None,
              schemes_from: str | None, list_functions: bool) -> None:
    """Recompute every formula of the workbooks in PATHS and store the values in the files.

    Folders are searched for .xlsx/.xlsm files. The offices' own formulas (SUM, IF, VLOOKUP,
    RANK…) and the PERF_* functions are evaluated in dependency order; each file is written
    atomically and keeps everything else. Exit status 1 if any file could not be processed.
    """
    if list_functions:
        from xlbridge.recompute.functions import function_listing

        click.echo(function_listing())
        return
    if not paths:
        raise click.UsageError("缺少要重算的工作簿或文件夹（missing PATHS: workbooks or folders "
                               "to recompute）")
    from xlbridge.batch import Options, find_workbooks, frozen_targets, recompute_files

    if report_path and Path(report_path).suffix.lower() not in (".csv", ".html", ".htm"):
        raise Fail(f"--report {report_path}: expected a .csv or .html file name")
    scheme_dirs: tuple[str, ...] = ()
    if schemes_from:
        if schemes_from.startswith(("http://", "https://")):
            from xlbridge.sync import sync

            synced = sync(schemes_from)
            console.print(f"sync {escape(schemes_from)}: {len(synced.downloaded)} downloaded, "
                          f"{len(synced.unchanged)} unchanged"
                          + (" [yellow](offline: using the last synced schemes)[/yellow]"
                             if synced.offline else ""))
            for error in synced.errors:
                err_console.print(f"[yellow]{escape(error)}[/yellow]")
        elif Path(schemes_from).is_dir():
            scheme_dirs = (schemes_from,)
        else:
            raise Fail(f"--schemes {schemes_from}: not a folder or an http(s) URL")
    files, missing = find_workbooks(paths, exclude=[values_dir] if values_dir else [])
    try:
        frozen = {str(k): str(v) for k, v in frozen_targets(files, values_dir).items()} \
            if values_dir else None
    except ValueError as exc:
        raise Fail(str(exc)) from None
    options = Options(dry_run=dry_run, backup=backup, frozen=frozen, scheme_dirs=scheme_dirs)
    progress_bar = None
    task = None
    if console.is_terminal and files:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        progress_bar = Progress("[progress.description]{task.description}", BarColumn(),
                                MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                                transient=True)
        progress_bar.start()
        task = progress_bar.add_task("重算 recompute", total=len(files))

    def advance(outcome: Any) -> None:
        if progress_bar is not None and task is not None:
            progress_bar.update(task, advance=1, description=escape(Path(outcome.path).name))

    try:
        report = recompute_files(files, options, jobs=jobs, progress=advance)
    finally:
        if progress_bar is not None:
            progress_bar.stop()
    from xlbridge.batch import FileOutcome

    report.files[:0] = [FileOutcome(m, "missing", "no such file or folder") for m in missing]
    _print_batch(report)
    if report_path:
        text = report.to_csv() if report_path.lower().endswith(".csv") else report.to_html()
        write_atomic(report_path, text, encoding="utf-8-sig" if report_path.lower().endswith(
            ".csv") else "utf-8")
        console.print(f"report written to {escape(report_path)}")
    if not report.ok:
        sys.exit(1)


def _print_batch(report: Any) -> None:
    from xlbridge.batch import grade_text

    table = Table("workbook", "status", "formulas", "changed", "grades", "schemes")
    for f in report.files:
        status = f.status_text if f.ok else f"[red]{escape(f.status_text)}[/red]"
        table.add_row(escape(f.path), status, f"{f.recomputed}/{f.formulas}", str(f.changed),
                      escape(grade_text(f.grades)), escape(" ".join(f.schemes)))
    console.print(table)
    t = report.totals()
    console.print(f"{t['files']} files: {t['ok']} recomputed, "
                  + (f"{t['with_errors']} with errors or differences, "
                     if t["with_errors"] else "")
                  + f"{t['failed']} not; "
                  f"{t['recomputed']} formula cells computed, {t['changed']} values changed "
                  f"in {t['seconds']:.2f} s")
    for f in report.files:
        if not f.processed:
            err_console.print(f"[red]skipped[/red] {escape(f.path)}: {escape(f.error or f.status)}")
        for title, lines in (("结果为错误值的单元格", f.errors),
                             ("本表自算结果与方案不一致", f.differences)):
            if not lines:
                continue
            err_console.print(f"[red]{escape(f.path)}: {title} {len(lines)} 处[/red]")
            for line in lines[:20]:
                err_console.print(f"  [red]{escape(line)}[/red]")
            if len(lines) > 20:
                err_console.print(f"  … 另有 {len(lines) - 20} 处（见 --report）")
        for tie in f.ties:
            console.print(f"  [yellow]{escape(f.path)}: {escape(tie)}[/yellow]")
        for issue in f.issues[:20]:
            console.print(f"  [yellow]{escape(f.path)}: {escape(issue)}[/yellow]")
        if len(f.issues) > 20:
            console.print(f"  … and {len(f.issues) - 20} more cells (see --report)")
        for note in f.notes:
            console.print(f"  {escape(f.path)}: {escape(note)}")
        if f.frozen:
            console.print(f"  frozen copy: {escape(f.frozen)}")
        if f.backup:
            console.print(f"  backup: {escape(f.backup)}")


@main.command()
@click.pass_context
def examples(ctx: click.Context) -> None:
    """Score every shipped scheme's example records and print a summary."""
    store = _store(ctx)
    table = Table("scheme", "records", "invalid", "grades", "payout total", "ties")
    failed = False
    for entry in store.entries():
        csv_path = entry.path.with_name(f"{entry.id}.records.csv")
        if entry.path.parent != REPO_SCHEMES or not csv_path.exists():
            continue
        cs = store.get(entry.ref)
        try:
            data = read_records(csv_path, cs.inputs)
        except CsvInputError as exc:
            raise Fail(str(exc)) from None
        pop = score_population(cs, data.rows, first_row=data.row_numbers)
        s = pop.summary()
        order = [t.label for t in cs.tiers] + ["不定等次"]
        grades = " ".join(f"{g}:{s['grades'][g]}" for g in order if g in s["grades"])
        table.add_row(entry.ref, str(s["records"]), str(s["invalid"]), grades,
                      s["payout_total"] if cs.scheme.payout else "—", str(s["ties"]))
        failed |= bool(s["invalid"])
    console.print(table)
    if failed:
        sys.exit(1)


def _register_more_commands() -> None:
    # Commands that live beside their subsystem, kept out of this module's imports.
    from xlbridge import cli_addin, cli_server

    cli_server.register(main)
    cli_addin.register(main)


_register_more_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
