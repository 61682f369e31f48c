"""Which database to open: the URL forms Regie accepts, normalised, with the password masked."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from regie_protocol.errors import Misuse

#: environment variable naming a PostgreSQL (or SQLite) database instead of the default file
ENV_VAR = "REGIE_DATABASE_URL"
#: the default SQLite file inside Regie's home directory
DEFAULT_FILENAME = "wallet.sqlite3"

ACCEPTED = (
    "postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME (also postgres:// and "
    "postgresql+psycopg://; driver psycopg 3), or sqlite:///ABSOLUTE/PATH/FILE"
)

_PG_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg"}


def url_from_environment(environ: Mapping[str, str]) -> str | None:
    """``REGIE_DATABASE_URL`` when set and not blank, else ``None`` (the default SQLite file)."""
    value = environ.get(ENV_VAR, "").strip()
    return value or None


def resolve_url(url: str | None, *, home: Path) -> URL:
    """The SQLAlchemy URL to open: ``None`` means ``<home>/wallet.sqlite3``.

    Raises :class:`Misuse` naming the accepted forms; the message never repeats a password.
    """
    if url is None:
        return URL.create("sqlite", database=str(home / DEFAULT_FILENAME))
    try:
        parsed = make_url(url)
    except ArgumentError:
        # the text may hold a password: do not repeat it
        raise Misuse(f"the database URL is not a URL; accepted: {ACCEPTED}") from None
    name = parsed.drivername.lower()
    if name in _PG_SCHEMES:
        if not parsed.database:
            raise Misuse(f"{mask(parsed)} names no database; accepted: {ACCEPTED}")
        return parsed.set(drivername="postgresql+psycopg")
    if name == "sqlite":
        db = parsed.database or ""
        if db in ("", ":memory:") or db.startswith("file:") or not Path(db).is_absolute():
            raise Misuse(
                f"{mask(parsed)} must name a file by its absolute path (an in-memory database "
                f"would lose every write); accepted: {ACCEPTED}"
            )
        return parsed
    raise Misuse(f"database scheme {parsed.drivername!r} is not supported; accepted: {ACCEPTED}")


def mask(url: URL) -> str:
    """The URL as text with the password replaced by ``***``."""
    return url.render_as_string(hide_password=True)


__all__ = ["ACCEPTED", "DEFAULT_FILENAME", "ENV_VAR", "mask", "resolve_url", "url_from_environment"]
