"""A scratch PostgreSQL database for one bench run: created first, dropped (WITH FORCE) after.

``scratch_database()`` yields a SQLAlchemy URL of a new, empty database on the
server named by ``REGIE_TEST_POSTGRES_URL`` (default: the local test server,
``postgres@127.0.0.1:5432``), or ``None`` when that server is not reachable:
the benches then report "PostgreSQL not reachable" instead of failing.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

PG_URL = os.environ.get(
    "REGIE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def scratch_database(prefix: str = "regie_bench") -> Iterator[str | None]:
    """A fresh database's URL (dropped on exit), or ``None`` when the server is unreachable."""
    try:
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(PG_URL)
        params = {
            "host": url.host,
            "port": url.port or 5432,
            "user": url.username,
            "password": url.password,
            "dbname": url.database,
        }
        admin = psycopg.connect(**params, autocommit=True, connect_timeout=3)  # type: ignore[arg-type]
    except Exception:
        yield None
        return
    name = f"{prefix}_{secrets.token_hex(6)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**params, autocommit=True) as again:  # type: ignore[arg-type]
            again.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


__all__ = ["PG_URL", "scratch_database"]
