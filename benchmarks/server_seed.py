"""Seed a scheme-server database for the benchmarks: N published schemes and a reader token.

    python benchmarks/server_seed.py --db URL --schemes 1000 --out benchmarks/_work/targets

The schemes are the shipped ones under new ids (``bench-0001`` …), published through the
same library call as ``xlbridge server publish`` uses on the server side
(:func:`server.schemes.import_scheme`), so each is validated and stored exactly as a real one.
Writes ``<out>.token`` (the reader token) and ``<out>.txt`` (one line per scheme: the URL path
of its latest version and that version's ETag) for ``server_wrk.lua``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sqlalchemy import text

from server import create_app, db
from server.auth import LOCAL_ADMIN, create_token
from server.cache import PublishedCache
from server.schemes import etag_of, import_scheme, published_bytes
from xlbridge.scheme.issues import SchemeInvalid
from xlbridge.scheme.load import load_scheme_file
from xlbridge.scheme.validate import validate

SHIPPED = Path(__file__).resolve().parents[1] / "workbooks" / "schemes"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--schemes", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--fresh", action="store_true", help="drop everything first")
    args = ap.parse_args()

    app = create_app({"DATABASE_URL": args.db})
    engine = app.extensions["xlbridge_engine"]
    if args.fresh:
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        else:
            Path(engine.url.database).unlink(missing_ok=True)
            engine.dispose()
    db.upgrade(engine)

    templates = []
    for path in sorted(SHIPPED.glob("*.yaml")):
        try:
            loaded = load_scheme_file(path)
        except SchemeInvalid:
            continue
        if validate(loaded.scheme, loaded.source).ok:
            templates.append(loaded.scheme)
    cache = PublishedCache()
    lines = []
    started = time.perf_counter()
    for i in range(args.schemes):
        base = templates[i % len(templates)]
        scheme = base.model_copy(update={"id": f"bench-{i + 1:04d}",
                                         "title": f"{base.title}（{i + 1}）"})
        with db.session_for(engine) as session:
            pub = import_scheme(session, LOCAL_ADMIN, scheme, "benchmark seed", cache)
        if pub is None:  # already there from an earlier run
            body = published_bytes(scheme.model_copy(update={"version": 1}))
            etag = etag_of(body)
        else:
            etag = pub.etag
        lines.append(f"/api/schemes/{scheme.id}/latest {etag}")
    with db.session_for(engine, write=True) as session:
        token, _ = create_token(session, "reader", "benchmark", LOCAL_ADMIN)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".txt").write_text("\n".join(lines) + "\n")
    out.with_suffix(".token").write_text(token + "\n")
    print(f"seeded {args.schemes} schemes in {time.perf_counter() - started:.1f} s")
    engine.dispose()


if __name__ == "__main__":
    main()
