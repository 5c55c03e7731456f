"""Alembic environment: runs the migrations on the connection ``server.db`` hands over.

New migrations: ``alembic -c <cfg> revision --autogenerate`` against a database at head, or
write one by hand next to ``0001_initial.py``; ``tests/server/test_db.py`` fails when the
models in ``server/models.py`` and the migrations disagree.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from server.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(**kwargs) -> None:
    context.configure(target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True, **kwargs)


def run_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _configure(connection=conn)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
