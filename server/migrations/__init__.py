"""Alembic migrations of the scheme server's database (run by ``server.db.upgrade``)."""
