"""The `xlbridge` command: a thin face over the library (parsing and printing only).

Every command does its work through the same functions the worksheet functions and the
server use; this module only reads arguments, calls them, and prints. Everything it says
comes from the message catalogue (:mod:`xlbridge.i18n`): Chinese by default, English with
``--lang en`` or ``LANG=en_…``; help texts are translated when help is shown.
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
from xlbridge.atomic import write_atomic
from xlbridge.clitext import Group
from xlbridge.csvio import CsvInputError, read_records, to_csv
from xlbridge.engine import CompiledScheme, score_population
from xlbridge.engine.periods import aggregate_periods, aggregation_inputs
from xlbridge.i18n import LANGUAGES, N_, set_language, t, tn
from xlbridge.results import result_headers, result_texts
from xlbridge.scheme.describe import describe
from xlbridge.scheme.issues import SchemeInvalid
from xlbridge.scheme.load import load_scheme_file
from xlbridge.scheme.model import Scheme
from xlbridge.scheme.validate import validate
from xlbridge.store import REPO_SCHEMES, SchemeNotFound, SchemeStore, default_dirs

# Piped output (files, CI logs, tests) gets a wide fixed width; tables fold long ids onto a
# second line instead of cutting them, at any width.
console = Console(highlight=False, soft_wrap=True,
                  width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, highlight=False, soft_wrap=True,
                      width=None if sys.stderr.isatty() else 200)


def table(*headers: str) -> Table:
    """A table whose cells wrap (ids fold) rather than being cut with an ellipsis."""
    out = Table()
    for h in headers:
        out.add_column(h, overflow="fold")
    return out


class Fail(click.ClickException):
    """An error for the user: printed without a traceback, exit status 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(t("错误：{message}", message=self.format_message()), file=file, err=True)


def _write_file(path: str, data: str | bytes, encoding: str = "utf-8") -> None:
    """An output file (CSV, workbook, report…), written atomically; a read-only or
    unwritable target is an error for the user, not a traceback."""
    try:
        write_atomic(path, data, encoding=encoding)
    except OSError as exc:
        raise Fail(t("{path}：无法写入（{reason}）", path=path,
                     reason=exc.strerror or str(exc))) from None


def _store(ctx: click.Context) -> SchemeStore:
    return ctx.obj["store"]


def _compiled(ctx: click.Context, ref: str) -> CompiledScheme:
    try:
        return _store(ctx).get(ref)
    except (SchemeInvalid, SchemeNotFound, ValueError) as exc:
        raise Fail(str(exc)) from None


def _choose_language(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        set_language(value)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]},
             help=N_("xlbridge — 绩效考核方案进入办公室的 Excel 工作簿。"))
@click.version_option(__version__, prog_name="xlbridge", help=N_("显示版本并退出。"))
@click.option("--lang", type=click.Choice(LANGUAGES), is_eager=True, expose_value=False,
              callback=_choose_language,
              help=N_("界面语言：zh（中文，默认）或 en（英文）；也可用环境变量 LANG。"))
@click.option("--schemes", "scheme_dirs", multiple=True, type=click.Path(file_okay=False),
              help=N_("先在此文件夹中查找方案文件（可重复）。"))
@click.pass_context
def main(ctx: click.Context, scheme_dirs: tuple[str, ...]) -> None:
    ctx.ensure_object(dict)
    ctx.obj["store"] = SchemeStore([*scheme_dirs, *default_dirs()])


# --------------------------------------------------------------------------- schemes


@main.group(help=N_("列出、查看、校验方案；输出方案格式的 JSON Schema。"))
def schemes() -> None:
    pass


@schemes.command("list", help=N_("找到的每个方案，同一方案的新版本在后。"))
@click.pass_context
def schemes_list(ctx: click.Context) -> None:
    store = _store(ctx)
    out = table(t("方案@版本"), t("名称"), t("考核对象"), t("周期"), t("状态"), t("文件"))
    for e in store.entries():
        s = e.loaded.scheme
        try:
            warnings = len(store.get(e.ref).report.warnings)
            status = "[yellow]" + tn("{n} 条警告", "{n} 条警告", warnings) + "[/yellow]" \
                if warnings else t("可用")
        except SchemeInvalid as exc:   # loads, but fails validation: never used to compute
            status = "[red]" + tn("有误：{n} 处错误", "有误：{n} 处错误",
                                  len(exc.report.errors)) + "[/red]"
        out.add_row(e.ref, escape(s.title), escape(s.unit), s.period, status,
                    escape(str(e.path)))
    console.print(out)
    for path, exc in store.invalid_files().items():
        err_console.print("[red]" + escape(tn(
            "无效方案 {path}：{n} 处错误；请运行 `xlbridge schemes validate {path}`",
            "无效方案 {path}：{n} 处错误；请运行 `xlbridge schemes validate {path}`",
            len(exc.report.errors), path=str(path))) + "[/red]")


@schemes.command("show", help=N_("方案的计分规则、等次、名额、奖金和输入列。"))
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help=N_("以 JSON 输出方案文档。"))
@click.pass_context
def schemes_show(ctx: click.Context, ref: str, as_json: bool) -> None:
    cs = _compiled(ctx, ref)
    if as_json:
        click.echo(json.dumps(cs.scheme.model_dump(mode="json", exclude_none=True),
                              ensure_ascii=False, indent=2))
        return
    click.echo(describe(cs.scheme, cs.inputs))
    for issue in cs.report.warnings:
        err_console.print(f"[yellow]{escape(str(issue))}[/yellow]")


@schemes.command("validate", help=N_(
    "校验方案文件（或方案编号、名称）；不指定时校验找到的全部方案。\n\n"
    "有错误时退出状态为 1；只有警告时通过。"))
@click.argument("refs", nargs=-1)
@click.pass_context
def schemes_validate(ctx: click.Context, refs: tuple[str, ...]) -> None:
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
    for name, loaded in sorted(targets, key=lambda item: item[0]):
        if isinstance(loaded, SchemeInvalid):
            report = loaded.report
        else:
            report = validate(loaded.scheme, loaded.source,
                              previous=_previous_version(store, loaded.scheme))
        status = "[green]" + t("通过") + "[/green]" if report.ok else "[red]" + t("有误") + "[/red]"
        console.print(status + " " + escape(t("{name}（{errors} 处错误，{warnings} 条警告）",
                                              name=name, errors=len(report.errors),
                                              warnings=len(report.warnings))))
        for issue in report.issues:
            colour = "red" if issue.severity == "error" else "yellow"
            console.print(f"  [{colour}]{escape(str(issue))}[/{colour}]")
        failed += not report.ok
    if failed:
        sys.exit(1)


def _previous_version(store: SchemeStore, scheme: Scheme) -> Scheme | None:
    """The newest version of the same scheme below this one, if the store has it (the
    validator warns when a new version keeps an older version's description but changes the
    rules it describes)."""
    older = [e for e in store.entries() if e.id == scheme.id and e.version < scheme.version]
    if not older:
        return None
    try:
        return max(older, key=lambda e: e.version).loaded.scheme
    except SchemeInvalid:
        return None


@schemes.command("schema", help=N_("方案文件的 JSON Schema（供编辑器校验和补全）。"))
def schemes_schema() -> None:
    schema = Scheme.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://xlbridge.example/schema/scheme.json"
    click.echo(json.dumps(schema, ensure_ascii=False, indent=2))


# --------------------------------------------------------------------------- score

SCHEME_HELP = N_("方案：编号（如 meiling-street-quarterly）、编号@版本、中文名称（或其中只属于"
                 "一个方案的部分，如 梅岭）或方案文件。")
OUTPUT_SUFFIXES = (".csv", ".xlsx", ".html", ".htm", ".pdf")


def _read(cs: CompiledScheme, input_path: str) -> Any:
    try:
        return read_records(input_path, cs.inputs)
    except CsvInputError as exc:
        raise Fail(str(exc)) from None


def _output_kind(path: str, option: str = "--output") -> str:
    suffix = Path(path).suffix.lower() or ".csv"     # /dev/stdout, a pipe: CSV as ever
    if suffix not in OUTPUT_SUFFIXES:
        raise Fail(t("{option} {path}：应为 .csv、.xlsx、.html 或 .pdf 文件", option=option,
                     path=path))
    return {".htm": ".html"}.get(suffix, suffix)


def _print_data_errors(input_path: str, pop: Any) -> None:
    """One clean sentence per bad field: ``申诉.csv 第 8 行 [考勤扣分]：应为数字，实际为“二十”``."""
    for r in pop.invalid:
        for e in r.errors:
            err_console.print("[red]" + escape(t("{path} 第 {row} 行 {error}", path=input_path,
                                                 row=r.row, error=str(e))) + "[/red]")


@main.command(help=N_("按方案为 CSV 中的记录计分：总分、含名额的等次、奖金。\n\n"
                      "有记录数据有误时退出状态为 1（错误列在输出中）。"))
@click.option("--scheme", "ref", required=True, help=SCHEME_HELP)
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False),
              help=N_("记录的 CSV 文件；列名为输入的编号或中文名。"))
@click.option("--output", "output_path", type=click.Path(dir_okay=False),
              help=N_("写出结果，格式按扩展名：.csv（输入列 + 总分、等次、奖金、计分明细）、"
                      ".xlsx（工作簿，每组一张表）、.html/.pdf（公示表）。"))
@click.option("--json", "as_json", is_flag=True, help=N_("输出供程序读取的 JSON 结果。"))
@click.option("--explain", "explain_row", type=int, metavar="ROW",
              help=N_("输出一条记录的计分明细（ROW 为 Excel 行号：第一条记录为 2）。"))
@click.pass_context
def score(ctx: click.Context, ref: str, input_path: str, output_path: str | None,
          as_json: bool, explain_row: int | None) -> None:
    cs = _compiled(ctx, ref)
    kind = _output_kind(output_path) if output_path else None
    data = _read(cs, input_path)
    explain = bool(output_path) or as_json or explain_row is not None
    pop = score_population(cs, data.rows, explain=explain, first_row=data.row_numbers)
    if data.unknown_columns:
        err_console.print("[yellow]" + escape(t("{scheme} 未使用的列：{columns}", scheme=cs.ref,
                                                columns=t("、").join(data.unknown_columns)))
                          + "[/yellow]")
    if output_path:
        _write_output(output_path, kind, cs, data, pop)
    if as_json:
        out = {"scheme": cs.ref, "summary": pop.summary(),
               "records": [r.to_dict() for r in pop.records],
               "ties": [tie.to_dict() for tie in pop.ties],
               "quotas": [q.to_dict() for q in pop.quotas]}
        for rec, inputs in zip(out["records"], data.rows, strict=True):
            rec["inputs"] = inputs
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    elif explain_row is not None:
        match = [r for r in pop.records if r.row == explain_row]
        if not match:
            rows = data.row_numbers
            where = t("第 {first}–{last} 行", first=rows[0], last=rows[-1]) if rows \
                else t("没有记录（文件为空）")
            raise Fail(t("第 {row} 行没有记录；记录在{where}", row=explain_row, where=where))
        r = match[0]
        click.echo(f"{cs.ref} {cs.scheme.title} — " + t("第 {row} 行", row=explain_row))
        click.echo(r.explain())
        if r.withheld:
            click.echo(t("暂缓：{reason}", reason=r.withheld))
    else:
        _print_summary(cs, pop)
    _print_data_errors(input_path, pop)
    if pop.invalid:
        sys.exit(1)


def _write_output(path: str, kind: str | None, cs: CompiledScheme, data: Any,
                  pop: Any) -> None:
    if kind == ".csv":
        header = [*data.header, *result_headers()]
        rows = [[*raw, *[""] * (len(data.header) - len(raw)), *result_texts(cs, r)]
                for raw, r in zip(data.raw_rows, pop.records, strict=True)]
        _write_file(path, to_csv(header, rows), "utf-8-sig")
    elif kind == ".xlsx":
        from xlbridge.xlsxout import results_workbook

        _write_file(path, results_workbook(cs, data, pop))
    else:
        _write_report(path, kind, cs, data, pop)


def _print_summary(cs: CompiledScheme, pop: Any) -> None:
    s = pop.summary()
    console.print(escape(t("{scheme} {title}：{records} 条记录，{invalid} 条数据有误，"
                           "{withheld} 条暂缓", scheme=cs.ref, title=cs.scheme.title,
                           records=s["records"], invalid=s["invalid"],
                           withheld=s["withheld"])))
    grades = [tier.label for tier in cs.tiers] + ["不定等次"]
    counts = s["grades"]
    console.print("  " + "  ".join(f"{g} {counts.get(g, 0)}" for g in grades if g in counts
                                   or g != "不定等次"))
    if cs.scheme.payout:
        console.print("  " + t("奖金合计 {amount} {unit}", amount=s["payout_total"],
                               unit=cs.scheme.payout.unit))
    for tie in pop.ties:
        console.print(f"  [yellow]{escape(tie.text)}[/yellow]")


@main.command(help=N_("由各期等次（如四个季度的等次）评定年度等次。"))
@click.option("--scheme", "ref", required=True, help=SCHEME_HELP)
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False),
              help=N_("CSV：每期等次一列（Q1…Q4），可另有各期总分列 Q1_total…。"))
@click.option("--json", "as_json", is_flag=True, help=N_("输出供程序读取的 JSON 结果。"))
@click.pass_context
def aggregate(ctx: click.Context, ref: str, input_path: str, as_json: bool) -> None:
    cs = _compiled(ctx, ref)
    if cs.scheme.aggregation is None:
        raise Fail(t("方案 {scheme} 没有规定跨期汇总（aggregation）", scheme=cs.ref))
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
            row = t("第 {row} 行", row=r.row)
            if r.errors:
                click.echo(t("{row} {label}：{text}", row=row, label=label,
                             text=t("；").join(map(str, r.errors))))
            else:
                grade = r.grade or (t("暂缓") if r.withheld else "—")
                click.echo(t("{row} {label}：{text}", row=row, label=label, text=grade)
                           + "  " + t("（{steps}）", steps=t("；").join(r.steps[1:])))
        for note in result.notes:
            click.echo(note)
    if any(r.errors for r in result.records):
        sys.exit(1)


# --------------------------------------------------------------------------- report


def _write_report(path: str, kind: str | None, cs: CompiledScheme, data: Any, pop: Any,
                  title: str | None = None, period: str | None = None) -> None:
    from xlbridge.publish import PublishError, build_report, report_html, report_pdf

    report = build_report(cs, pop, data.rows, title=title, period=period)
    if kind == ".pdf":
        try:
            _write_file(path, report_pdf(report))
        except PublishError as exc:
            raise Fail(str(exc)) from None
    else:
        _write_file(path, report_html(report))


@main.command(help=N_("生成可打印的公示表（PDF 或 HTML）。\n\n"
                      "把计分结果做成公示表：标题、考核期、方案及版本，每组一张表"
                      "（名次、单位/姓名、总分、等次、名额调整或否决的原因），等次分布图。"
                      "-o 的扩展名决定格式：.pdf（A4 纵向，可直接打印）或 .html。"))
@click.option("--scheme", "ref", required=True, help=SCHEME_HELP)
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False),
              help=N_("记录的 CSV 文件；列名为输入的编号或中文名。"))
@click.option("--output", "-o", "output_path", required=True, type=click.Path(dir_okay=False),
              help=N_("公示表文件：.pdf 或 .html。"))
@click.option("--title", help=N_("公示表标题（默认：方案名称 + “结果公示”）。"))
@click.option("--period", help=N_("考核期，如“2016年第二季度”（默认不写）。"))
@click.pass_context
def report(ctx: click.Context, ref: str, input_path: str, output_path: str,
           title: str | None, period: str | None) -> None:
    kind = _output_kind(output_path, "--output")
    if kind not in (".pdf", ".html"):
        raise Fail(t("--output {path}：公示表应为 .pdf 或 .html 文件", path=output_path))
    cs = _compiled(ctx, ref)
    data = _read(cs, input_path)
    pop = score_population(cs, data.rows, explain=True, first_row=data.row_numbers)
    _write_report(output_path, kind, cs, data, pop, title=title, period=period)
    console.print(escape(t("公示表已写入 {path}（{records} 条记录）", path=output_path,
                           records=len(pop.records))))
    _print_data_errors(input_path, pop)
    if pop.invalid:
        sys.exit(1)


# --------------------------------------------------------------------------- template


@main.command(help=N_("为任一方案生成空白录入表（.xlsx）。\n\n"
                      "每个输入一列（中文表头），每列有数据有效性检查（数值范围、下拉列表、是/否）和"
                      "填写说明（所属规则及其在方案原文中的位置），结果列由 PERF_RESULTS 公式计算；"
                      "方案版本固定在工作簿中；已设置打印。"))
@click.option("--scheme", "ref", required=True, help=SCHEME_HELP)
@click.option("--output", "-o", "output_path", required=True, type=click.Path(dir_okay=False),
              help=N_("要写出的工作簿（.xlsx）。"))
@click.option("--rows", type=click.IntRange(1, 10000), default=50, show_default=True,
              help=N_("空白记录行数。"))
@click.pass_context
def template(ctx: click.Context, ref: str, output_path: str, rows: int) -> None:
    from xlbridge.template import blank_template

    if Path(output_path).suffix.lower() != ".xlsx":
        raise Fail(t("--output {path}：录入表应为 .xlsx 文件", path=output_path))
    cs = _compiled(ctx, ref)
    _write_file(output_path, blank_template(cs, rows))
    console.print(escape(t("录入表已写入 {path}：{scheme} {title}，{inputs} 个输入列，{rows} 行",
                           path=output_path, scheme=cs.ref, title=cs.scheme.title,
                           inputs=len(cs.inputs), rows=rows)))


# --------------------------------------------------------------------------- recompute


@main.command(help=N_(
    "重算 PATHS 中工作簿的每个公式，并把结果保存在文件中。\n\n"
    "在文件夹中查找 .xlsx/.xlsm 文件；跳过的文件（.xls、.et、~$ 锁定文件）连同原因列出。"
    "各单位自己的公式（SUM、IF、VLOOKUP、RANK…）和 PERF_* 函数按依赖顺序计算；每个文件整体"
    "写入，其余内容保持不变。有文件未能处理时退出状态为 1。"))
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help=N_("用这么多个并行进程重算。"))
@click.option("--dry-run", is_flag=True, help=N_("只计算和报告，不写任何文件。"))
@click.option("--backup", is_flag=True,
              help=N_("替换前把每个文件另存一份 <名称>.backup-<时间>.xlsx。"))
@click.option("--report", "report_path", type=click.Path(dir_okay=False),
              help=N_("另把汇总写入 FILE（.csv 或 .html）。"))
@click.option("--values-only", "values_dir", type=click.Path(file_okay=False),
              help=N_("另在 DIR 中写出定值副本：PERF_* 公式替换为其值（用于公示、发给没有加载项的"
                      "电脑）。"))
@click.option("--schemes", "schemes_from", metavar="DIR|URL",
              help=N_("先从 DIR 读取方案，或先从 URL 的方案服务器同步方案。"))
@click.option("--timeout", type=click.FloatRange(min=0), default=120, show_default=True,
              metavar="SECONDS",
              help=N_("每个工作簿最多计算这么多秒；超时的工作簿停止计算、报告并保持原样，"
                      "其余照常进行。0 表示不限。"))
@click.option("--functions", "list_functions", is_flag=True,
              help=N_("按 Excel 的类别列出重算能计算的工作表函数，然后退出。"))
@click.pass_context
def recompute(ctx: click.Context, paths: tuple[str, ...], jobs: int, dry_run: bool,
              backup: bool, report_path: str | None, values_dir: str | None,
              schemes_from: str | None, timeout: float, list_functions: bool) -> None:
    if list_functions:
        from xlbridge.recompute.functions import function_listing

        click.echo(function_listing())
        return
    if not paths:
        raise click.UsageError(t("缺少要重算的工作簿或文件夹（PATHS）"))
    from xlbridge.batch import Options, find_workbooks, frozen_targets, recompute_files

    if report_path and Path(report_path).suffix.lower() not in (".csv", ".html", ".htm"):
        raise Fail(t("--report {path}：应为 .csv 或 .html 文件", path=report_path))
    scheme_dirs: tuple[str, ...] = ()
    if schemes_from:
        if schemes_from.startswith(("http://", "https://")):
            from xlbridge.sync import sync

            synced = sync(schemes_from)
            console.print(escape(t("同步 {url}：下载 {downloaded} 个，未变 {unchanged} 个",
                                   url=schemes_from, downloaded=len(synced.downloaded),
                                   unchanged=len(synced.unchanged)))
                          + (" [yellow]" + escape(t("（离线：使用上次同步的方案）"))
                             + "[/yellow]" if synced.offline else ""))
            for error in [*synced.warnings, *synced.errors]:
                err_console.print(f"[yellow]{escape(error)}[/yellow]")
        elif Path(schemes_from).is_dir():
            scheme_dirs = (schemes_from,)
        else:
            raise Fail(t("--schemes {value}：不是文件夹，也不是 http(s) 网址",
                         value=schemes_from))
    files, missing = find_workbooks(paths, exclude=[values_dir] if values_dir else [])
    from xlbridge.batch import skipped_files

    skipped = skipped_files(paths, exclude=[values_dir] if values_dir else [])
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
        task = progress_bar.add_task(t("重算"), total=len(files))

    def advance(outcome: Any) -> None:
        if progress_bar is not None and task is not None:
            progress_bar.update(task, advance=1, description=escape(Path(outcome.path).name))

    try:
        report = recompute_files(files, options, jobs=jobs, timeout=timeout or None,
                                 progress=advance)
    finally:
        if progress_bar is not None:
            progress_bar.stop()
    from xlbridge.batch import FileOutcome

    # a workbook skipped by type was not recomputed: it is in the report, and exits 1
    report.files[:0] = [*[FileOutcome(m, "missing", t("没有这个文件或文件夹")) for m in missing],
                        *[FileOutcome(s.path, "rejected", s.reason) for s in skipped
                          if s.is_workbook]]
    _print_batch(report, skipped)
    if report_path:
        text = report.to_csv() if report_path.lower().endswith(".csv") else report.to_html()
        _write_file(report_path, text, "utf-8-sig" if report_path.lower().endswith(".csv")
                    else "utf-8")
        console.print(escape(t("报告已写入 {path}", path=report_path)))
    if not report.ok:
        sys.exit(1)


def _print_batch(report: Any, skipped: list[Any]) -> None:
    from xlbridge.batch import grade_text, runs_of_cells

    out = table(t("工作簿"), t("状态"), t("公式"), t("值有变化"), t("等次"), t("方案"))
    for f in report.files:
        status = f.status_text if f.ok else f"[red]{escape(f.status_text)}[/red]"
        out.add_row(escape(f.path), status, f"{f.recomputed}/{f.formulas}", str(f.changed),
                    escape(grade_text(f.grades)), escape(" ".join(f.schemes)))
    console.print(out)
    totals = report.totals()
    console.print(t("{files} 个文件：{ok} 个已重算", **totals)
                  + (t("（其中 {with_errors} 个有错误值或与方案不一致）", **totals)
                     if totals["with_errors"] else "")
                  + t("，{failed} 个未重算；计算公式单元格 {recomputed} 个，值有变化 {changed} 个，"
                      "用时 {seconds:.2f} 秒", **totals))
    listed = {s.path for s in skipped}
    for f in report.files:
        if not f.processed and f.path not in listed:
            err_console.print("[red]" + escape(t("未处理 {path}：{reason}", path=f.path,
                                                 reason=f.error or f.status)) + "[/red]")
        for title, cells, lines in ((t("结果为错误值的单元格"), f.errors, runs_of_cells(f.errors)),
                                    (t("本表自算结果与方案不一致"), f.differences,
                                     f.differences)):
            if not lines:
                continue
            err_console.print("[red]" + escape(t("{path}：{title} {n} 处", path=f.path,
                                                 title=title, n=len(cells))) + "[/red]")
            for line in lines[:20]:
                err_console.print(f"  [red]{escape(line)}[/red]")
            if len(lines) > 20:
                err_console.print("  " + escape(t("…… 另有 {n} 处（见 --report）",
                                                  n=len(lines) - 20)))
        for tie in f.ties:
            console.print("  [yellow]" + escape(t("{path}：{message}", path=f.path, message=tie))
                          + "[/yellow]")
        for issue in f.issues[:20]:
            console.print("  [yellow]" + escape(t("{path}：{message}", path=f.path,
                                                  message=issue)) + "[/yellow]")
        if len(f.issues) > 20:
            console.print("  " + escape(t("…… 另有 {n} 个单元格（见 --report）",
                                          n=len(f.issues) - 20)))
        for note in f.notes:
            console.print("  " + escape(t("{path}：{message}", path=f.path, message=note)))
        if f.frozen:
            console.print("  " + escape(t("定值副本：{path}", path=f.frozen)))
        if f.backup:
            console.print("  " + escape(t("备份：{path}", path=f.backup)))
    if skipped:
        # by type, each type's reason once: the clerk sees what to do with which files
        err_console.print(escape(tn("跳过 {n} 个文件：", "跳过 {n} 个文件：", len(skipped))))
        by_kind: dict[str, list[Any]] = {}
        for s in skipped:
            by_kind.setdefault(s.kind, []).append(s)
        for group in by_kind.values():
            colour = "red" if group[0].is_workbook else "yellow"
            err_console.print(f"  [{colour}]{escape(group[0].reason)}[/{colour}]")
            for s in group:
                err_console.print(f"    {escape(s.path)}")


@main.command(help=N_("为每个随软件提供的方案的示例记录计分，并输出汇总。"))
@click.pass_context
def examples(ctx: click.Context) -> None:
    store = _store(ctx)
    out = table(t("方案"), t("记录"), t("有误"), t("等次"), t("奖金合计"), t("并列"))
    failed = False
    for entry in store.entries():
        csv_path = entry.path.with_name(f"{entry.id}.records.csv")
        if entry.path.parent != REPO_SCHEMES or not csv_path.exists():
            continue
        cs = store.get(entry.ref)
        data = _read(cs, str(csv_path))
        pop = score_population(cs, data.rows, first_row=data.row_numbers)
        s = pop.summary()
        order = [tier.label for tier in cs.tiers] + ["不定等次"]
        grades = " ".join(f"{g}:{s['grades'][g]}" for g in order if g in s["grades"])
        out.add_row(entry.ref, str(s["records"]), str(s["invalid"]), grades,
                    s["payout_total"] if cs.scheme.payout else "—", str(s["ties"]))
        failed |= bool(s["invalid"])
    console.print(out)
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
