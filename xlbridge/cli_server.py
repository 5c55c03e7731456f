"""CLI commands of the scheme server and the sync client, registered on the main `xlbridge`
group by :func:`register`:

* ``xlbridge serve [--host --port --db --threads]`` — run the server under waitress;
* ``xlbridge server init-db [--db]`` — create or upgrade the tables (Alembic migrations);
* ``xlbridge server token create --role R [--name N] [--db]`` / ``token list`` /
  ``token revoke ID`` — manage tokens on the server machine;
* ``xlbridge server publish FILE… --server URL --token T`` — publish scheme files;
* ``xlbridge sync [--server URL] [--token T] [--store DIR]`` — download published schemes.

Parsing and printing only: the work is done by :mod:`server` and :mod:`xlbridge.sync`.
"""

from __future__ import annotations

import os

import click

from xlbridge.clitext import Command, Group
from xlbridge.i18n import N_, t, tn

DB_HELP = N_("数据库网址（postgresql+psycopg://用户:密码@主机/库名）或 SQLite 文件路径；默认为 "
             "XLBRIDGE_DB，否则为本用户数据文件夹中的 server.sqlite3。")


class Fail(click.ClickException):
    """The command could not run (exit status 2)."""

    exit_code = 2


class PartlyFailed(click.ClickException):
    """The command ran but some of its work failed (exit status 1). An exception rather than
    ``sys.exit`` so that callers inside Excel (the ribbon runs ``xlbridge sync``
    in-process) get the message instead of a SystemExit."""

    exit_code = 1


def _app(db_url: str | None):
    """The server app on ``db_url`` (without it: XLBRIDGE_DB or the default SQLite file)."""
    if db_url:
        os.environ["XLBRIDGE_DB"] = db_url
    from server import create_app

    return create_app()


def _require_current(app) -> None:
    from server import db

    engine = app.extensions["xlbridge_engine"]
    try:
        current = db.current_revision(engine)
    except Exception as exc:
        raise Fail(t("无法打开数据库 {db}：{reason}", db=_shown(app), reason=exc)) from None
    if current != db.head_revision():
        command = "xlbridge server init-db" + (" --db ..." if "XLBRIDGE_DB" in os.environ
                                                else "")
        if current is None:
            raise Fail(t("数据库 {db} 尚未初始化；请先运行 `{command}`", db=_shown(app),
                         command=command))
        raise Fail(t("数据库 {db} 的版本为 {revision}；请先运行 `{command}`", db=_shown(app),
                     revision=current, command=command))


def _shown(app) -> str:
    from sqlalchemy.engine import make_url

    return make_url(app.config["DATABASE_URL"]).render_as_string(hide_password=True)


# --------------------------------------------------------------------------- serve


@click.command(cls=Command, help=N_("运行方案服务器（waitress；Windows 和 Linux 均可）。"))
@click.option("--host", default="127.0.0.1", show_default=True,
              help=N_("监听的地址（0.0.0.0：所有网卡）。"))
@click.option("--port", default=8080, show_default=True, type=int, help=N_("监听的端口。"))
@click.option("--db", "db_url", help=DB_HELP)
@click.option("--threads", default=8, show_default=True, type=int,
              help=N_("waitress 的工作线程数。"))
@click.option("--trusted-proxy", "trusted_proxy", metavar="ADDRESS",
              help=N_("服务器前面的反向代理（如 127.0.0.1）：由它的 X-Forwarded-For 得知客户端，"
                      "登录限速按客户端的地址计数。不给时忽略该请求头。"))
def serve(host: str, port: int, db_url: str | None, threads: int,
          trusted_proxy: str | None) -> None:
    from server.serving import make_server

    app = _app(db_url)
    _require_current(app)
    proxy = {"trusted_proxy": trusted_proxy, "trusted_proxy_count": 1,
             "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"}} \
        if trusted_proxy else {}
    server = make_server(app, host=host, port=port, threads=threads, connection_limit=1000,
                         backlog=2048, channel_timeout=60, clear_untrusted_proxy_headers=True,
                         **proxy)
    click.echo(t("xlbridge 方案服务器：http://{host}:{port}/（数据库 {db}）；按 Ctrl+C 停止",
                 host=host, port=port, db=_shown(app)), err=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


# --------------------------------------------------------------------------- server …


@click.group("server", cls=Group, help=N_("设置和管理方案服务器。"))
def server_group() -> None:
    pass


@server_group.command("init-db", help=N_("建立数据表，或把数据表升级到最新结构（可重复运行）。"))
@click.option("--db", "db_url", help=DB_HELP)
def init_db(db_url: str | None) -> None:
    from server import db

    app = _app(db_url)
    engine = app.extensions["xlbridge_engine"]
    before = db.current_revision(engine)
    db.upgrade(engine)
    after = db.head_revision()
    if before == after:
        click.echo(t("数据库 {db} 已是版本 {revision}", db=_shown(app), revision=after))
    elif before:
        click.echo(t("数据库 {db} 已升级到版本 {revision}", db=_shown(app), revision=after))
    else:
        click.echo(t("数据库 {db} 已建立，版本 {revision}", db=_shown(app), revision=after))


@server_group.group("token", help=N_("建立、列出和吊销访问令牌（在服务器上运行）。"))
def token_group() -> None:
    pass


@token_group.command("create",
                     help=N_("生成一个令牌并输出——只输出这一次：服务器只保存它的散列值。"))
@click.option("--role", type=click.Choice(["reader", "editor", "admin"]), required=True,
              help=N_("reader：同步方案的单位；editor：编写草稿；admin：发布方案、管理令牌。"))
@click.option("--name", default="",
              help=N_("令牌给谁或做什么用（记入审计日志），如“白云乡办公室”。"))
@click.option("--db", "db_url", help=DB_HELP)
def token_create(role: str, name: str, db_url: str | None) -> None:
    from server import db
    from server.auth import LOCAL_ADMIN, create_token

    app = _app(db_url)
    _require_current(app)
    with db.session_for(app.extensions["xlbridge_engine"], write=True) as session:
        token, row = create_token(session, role, name, LOCAL_ADMIN)
    click.echo(t("令牌 {id}“{name}”（{role}）——请现在保存，它不会再次显示：", id=row.id,
                 name=row.name, role=row.role), err=True)
    click.echo(token)


@token_group.command("list", help=N_("列出令牌（只列编号、角色和名称，不列令牌本身）。"))
@click.option("--db", "db_url", help=DB_HELP)
def token_list(db_url: str | None) -> None:
    from sqlalchemy import select

    from server import db
    from server.models import TokenRow

    app = _app(db_url)
    _require_current(app)
    with db.session_for(app.extensions["xlbridge_engine"]) as session:
        for row in session.scalars(select(TokenRow).order_by(TokenRow.id)):
            state = t("已吊销 {date}", date=row.revoked_at.strftime("%Y-%m-%d")) \
                if row.revoked_at else t("有效")
            click.echo(f"{row.id:>4}  {row.role:<7} {state:<18} {row.name}")


@token_group.command("revoke", help=N_("按编号吊销一个令牌（运行中的服务器几秒内生效）。"))
@click.argument("token_id", type=int)
@click.option("--db", "db_url", help=DB_HELP)
def token_revoke(token_id: int, db_url: str | None) -> None:
    from server import db
    from server.auth import LOCAL_ADMIN, revoke_token
    from server.problems import Problem

    app = _app(db_url)
    _require_current(app)
    try:
        with db.session_for(app.extensions["xlbridge_engine"], write=True) as session:
            row = revoke_token(session, token_id, LOCAL_ADMIN)
    except Problem as exc:
        raise Fail(exc.detail) from None
    click.echo(t("令牌 {id}“{name}”（{role}）已吊销", id=row.id, name=row.name, role=row.role))


@server_group.command("publish", help=N_(
    "把方案文件（YAML/JSON）发布为新版本；没有变化的文件跳过。"))
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--server", "server_url", envvar="XLBRIDGE_SERVER", required=True,
              help=N_("方案服务器，如 http://schemes.example:8080（或环境变量 XLBRIDGE_SERVER）。"))
@click.option("--token", envvar="XLBRIDGE_TOKEN",
              help=N_("管理员（admin）令牌（或环境变量 XLBRIDGE_TOKEN）。"))
@click.option("--note", help=N_("改了什么（随每个新版本保存）。"))
@click.option("--replace-draft", is_flag=True,
              help=N_("同一方案有未发布的草稿时替换它，而不是停止。"))
def publish_cmd(files: tuple[str, ...], server_url: str, token: str | None, note: str | None,
                replace_draft: bool) -> None:
    from xlbridge.sync import publish

    failed = 0
    for res in publish(server_url, token, files, note, replace_draft):
        if res.status == "error":
            failed += 1
            click.echo(f"{res.path}: {res.message}", err=True)
        else:
            click.echo(f"{res.path}: {res.message}")
        for w in res.warnings:
            click.echo("  " + t("警告：{message}", message=w))
    if failed:
        raise PartlyFailed(tn("{n} 个文件中有 {failed} 个未发布",
                              "{n} 个文件中有 {failed} 个未发布", len(files), failed=failed))


# --------------------------------------------------------------------------- sync


@click.command("sync", cls=Command, help=N_(
    "把每个已发布的方案下载到本机的方案库（没有变化的方案只需一次 304 应答）。"))
@click.option("--server", "server_url", envvar="XLBRIDGE_SERVER",
              help=N_("方案服务器（或环境变量 XLBRIDGE_SERVER；默认：上次同步的服务器）。"))
@click.option("--token", envvar="XLBRIDGE_TOKEN",
              help=N_("读者（reader）令牌（或环境变量 XLBRIDGE_TOKEN）。"))
@click.option("--store", "store_dir", type=click.Path(file_okay=False),
              help=N_("方案保存在哪里（默认：XLBRIDGE_STORE 或本用户的数据文件夹）。"))
@click.option("--remember", is_flag=True,
              help=N_("把令牌保存在方案库文件夹中（只有本用户可读），以后同步——包括功能区的"
                      "“同步方案”按钮——不必再给 --token。"))
def sync_cmd(server_url: str | None, token: str | None, store_dir: str | None,
             remember: bool) -> None:
    from xlbridge.sync import save_token, sync

    try:
        report = sync(server_url, token, store_dir)
    except ValueError as exc:
        raise Fail(str(exc)) from None
    for ref in report.downloaded:
        click.echo(f"  + {ref}")
    for warning in report.warnings:
        click.echo("  " + t("警告：{message}", message=warning), err=True)
    for err in report.errors if not report.offline else report.errors[1:]:
        click.echo("  " + t("错误：{message}", message=err), err=True)
    if not report.ok:
        raise PartlyFailed(report.summary())
    click.echo(report.summary())
    if remember and token:
        click.echo(t("令牌已保存在 {path}", path=save_token(token, store_dir)), err=True)


def register(main: click.Group) -> None:
    """Add the server and sync commands to the `xlbridge` group."""
    main.add_command(serve)
    main.add_command(server_group)
    main.add_command(sync_cmd)
