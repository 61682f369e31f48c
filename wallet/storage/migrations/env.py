"""Alembic environment: runs only on the connection :mod:`wallet.storage._migrate` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from wallet.storage.models import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through wallet.storage (open_database), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
