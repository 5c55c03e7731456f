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

DB_HELP = ("Database URL (postgresql+psycopg://user:pw@host/db) or SQLite file path; default "
           "XLBRIDGE_DB, else server.sqlite3 in the per-user data folder.")


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
        raise Fail(f"cannot open the database {_shown(app)}: {exc}") from None
    if current != db.head_revision():
        state = "is not initialised" if current is None else f"is at revision {current}"
        raise Fail(f"the database {_shown(app)} {state}; run `xlbridge server init-db"
                   f"{' --db ...' if 'XLBRIDGE_DB' in os.environ else ''}` first")


def _shown(app) -> str:
    from sqlalchemy.engine import make_url

    return make_url(app.config["DATABASE_URL"]).render_as_string(hide_password=True)


# --------------------------------------------------------------------------- serve


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--db", "db_url", help=DB_HELP)
@click.option("--threads", default=8, show_default=True, type=int,
              help="Worker threads of waitress.")
@click.option("--trusted-proxy", "trusted_proxy", metavar="ADDRESS",
              help="The reverse proxy in front of the server (e.g. 127.0.0.1): its "
                   "X-Forwarded-For names the client, whose address the sign-in throttle "
                   "counts. Without it the header is ignored.")
def serve(host: str, port: int, db_url: str | None, threads: int,
          trusted_proxy: str | None) -> None:
    """Run the scheme server (waitress; Windows and Linux)."""
    from server.serving import make_server

    app = _app(db_url)
    _require_current(app)
    proxy = {"trusted_proxy": trusted_proxy, "trusted_proxy_count": 1,
             "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"}} \
        if trusted_proxy else {}
    server = make_server(app, host=host, port=port, threads=threads, connection_limit=1000,
                         backlog=2048, channel_timeout=60, clear_untrusted_proxy_headers=True,
                         **proxy)
    click.echo(f"xlbridge scheme server on http://{host}:{port}/ (database {_shown(app)}); "
               "Ctrl+C stops it", err=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


# --------------------------------------------------------------------------- server …


@click.group("server")
def server_group() -> None:
    """Set up and administer the scheme server."""


@server_group.command("init-db")
@click.option("--db", "db_url", help=DB_HELP)
def init_db(db_url: str | None) -> None:
    """Create the tables, or upgrade them to the newest schema (idempotent)."""
    from server import db

    app = _app(db_url)
    engine = app.extensions["xlbridge_engine"]
    before = db.current_revision(engine)
    db.upgrade(engine)
    after = db.head_revision()
    what = "already at" if before == after else "upgraded to" if before else "created at"
    click.echo(f"database {_shown(app)} {what} revision {after}")


@server_group.group("token")
def token_group() -> None:
    """Create, list and revoke access tokens (on the server machine)."""


@token_group.command("create")
@click.option("--role", type=click.Choice(["reader", "editor", "admin"]), required=True,
              help="reader: offices that sync; editor: writes drafts; admin: publishes, "
                   "manages tokens.")
@click.option("--name", default="", help="Who or what the token is for (shown in the audit "
                                         "log), e.g. 'Baiyun township office'.")
@click.option("--db", "db_url", help=DB_HELP)
def token_create(role: str, name: str, db_url: str | None) -> None:
    """Make a token and print it — once: only its hash is kept."""
    from server import db
    from server.auth import LOCAL_ADMIN, create_token

    app = _app(db_url)
    _require_current(app)
    with db.session_for(app.extensions["xlbridge_engine"], write=True) as session:
        token, row = create_token(session, role, name, LOCAL_ADMIN)
    click.echo(f"token {row.id} '{row.name}' ({row.role}) — store it now, it is not shown "
               "again:", err=True)
    click.echo(token)


@token_group.command("list")
@click.option("--db", "db_url", help=DB_HELP)
def token_list(db_url: str | None) -> None:
    """The tokens (never the tokens themselves)."""
    from sqlalchemy import select

    from server import db
    from server.models import TokenRow

    app = _app(db_url)
    _require_current(app)
    with db.session_for(app.extensions["xlbridge_engine"]) as session:
        for row in session.scalars(select(TokenRow).order_by(TokenRow.id)):
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
            click.echo(f"{row.id:>4}  {row.role:<7} {state:<18} {row.name}")


@token_group.command("revoke")
@click.argument("token_id", type=int)
@click.option("--db", "db_url", help=DB_HELP)
def token_revoke(token_id: int, db_url: str | None) -> None:
    """Revoke a token by its id (a running server notices within seconds)."""
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
    click.echo(f"token {row.id} '{row.name}' ({row.role}) revoked")


@server_group.command("publish")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--server", "server_url", envvar="XLBRIDGE_SERVER", required=True,
              help="The server, e.g. http://schemes.example:8080 (or XLBRIDGE_SERVER).")
@click.option("--token", envvar="XLBRIDGE_TOKEN", help="An admin token (or XLBRIDGE_TOKEN).")
@click.option("--note", help="What changed (kept with each new version).")
@click.option("--replace-draft", is_flag=True,
              help="Replace an open draft of the same scheme instead of stopping.")
def publish_cmd(files: tuple[str, ...], server_url: str, token: str | None, note: str | None,
                replace_draft: bool) -> None:
    """Publish scheme files (YAML/JSON) as new versions; unchanged ones are skipped."""
    from xlbridge.sync import publish

    failed = 0
    for res in publish(server_url, token, files, note, replace_draft):
        if res.status == "error":
            failed += 1
            click.echo(f"{res.path}: {res.message}", err=True)
        else:
            click.echo(f"{res.path}: {res.message}")
        for w in res.warnings:
            click.echo(f"  warning: {w}")
    if failed:
        raise PartlyFailed(f"{failed} of {len(files)} file(s) not published")


# --------------------------------------------------------------------------- sync


@click.command("sync")
@click.option("--server", "server_url", envvar="XLBRIDGE_SERVER",
              help="The scheme server (or XLBRIDGE_SERVER; default: the last one synced).")
@click.option("--token", envvar="XLBRIDGE_TOKEN", help="A reader token (or XLBRIDGE_TOKEN).")
@click.option("--store", "store_dir", type=click.Path(file_okay=False),
              help="Where to keep the schemes (default: XLBRIDGE_STORE or the per-user "
                   "data folder).")
@click.option("--remember", is_flag=True,
              help="Keep the token in the store folder (this user only), so that later "
                   "syncs — and the ribbon's Sync button — need no --token.")
def sync_cmd(server_url: str | None, token: str | None, store_dir: str | None,
             remember: bool) -> None:
    """Download every published scheme into the local store (unchanged ones cost a 304)."""
    from xlbridge.sync import save_token, sync

    try:
        report = sync(server_url, token, store_dir)
    except ValueError as exc:
        raise Fail(str(exc)) from None
    for ref in report.downloaded:
        click.echo(f"  + {ref}")
    for warning in report.warnings:
        click.echo(f"  warning: {warning}", err=True)
    for err in report.errors if not report.offline else report.errors[1:]:
        click.echo(f"  error: {err}", err=True)
    if not report.ok:
        raise PartlyFailed(report.summary())
    click.echo(report.summary())
    if remember and token:
        click.echo(f"token kept in {save_token(token, store_dir)}", err=True)


def register(main: click.Group) -> None:
    """Add the server and sync commands to the `xlbridge` group."""
    main.add_command(serve)
    main.add_command(server_group)
    main.add_command(sync_cmd)
