"""Direct PostgreSQL connections (psycopg 3, the ``postgres`` extra), credentials read through the API.

The database URL comes from the app's config vars (the attachment's ``*_URL``, as the Heroku CLI
reads it); it and its password are registered as secrets before anything can print them, and
psycopg's errors pass through :func:`herokupg.redact.redact`. psycopg is imported here only, when a
connection is made: nothing else of herokupg needs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from herokupg.errors import HerokuPgError, MissingLibraryError
from herokupg.redact import redact, register_secret

if TYPE_CHECKING:
    import psycopg

    from herokupg.ops.base import Reads
    from herokupg.resolve import ResolvedDatabase

EXTRA = "postgres"


class MissingPsycopgError(MissingLibraryError):
    """psycopg is not installed (``reason``: what needed it)."""

    def __init__(self, message: str | None = None, *, reason: str = "for a direct connection") -> None:
        install = f"pip install 'herokupg[{EXTRA}]'"
        super().__init__(
            message or f"A direct database connection needs psycopg 3: {install}",
            library="psycopg",
            reason=reason,
            install=install,
        )


class DatabaseConnectionError(HerokuPgError):
    """The database could not be reached, or refused the login."""


class DatabaseQueryError(HerokuPgError):
    """A query failed (the message says which database and what to do)."""


def database_url(reads: Reads, db: ResolvedDatabase) -> str:
    """The connection URL of ``db`` from its app's config vars, registered as a secret."""
    url = reads.config_vars(db.app).get(db.config_var)
    if not url:
        raise DatabaseConnectionError(
            f"{db.config_var} is not set on app {db.app}: the database {db.addon_name} has no credentials "
            "yet (still provisioning?). Try again once `heroku pg:info` shows it available."
        )
    register_secret(url)
    password = urlsplit(url).password
    if password:
        register_secret(password)
        register_secret(unquote(password))
    return url


def where(db: ResolvedDatabase) -> str:
    return f"{db.config_var} ({db.addon_name}) of app {db.app}"


def import_psycopg() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise MissingPsycopgError() from None


@contextmanager
def connect(
    url: str, label: str, *, timeout: float = 30.0, application_name: str = "herokupg", read_only: bool = True
) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A connection to ``url`` (``label`` names it in errors), in read-only transactions by default."""
    import_psycopg()
    import psycopg

    try:
        connection = psycopg.connect(
            url, connect_timeout=max(1, round(timeout)), application_name=application_name
        )
    except psycopg.Error as exc:
        raise DatabaseConnectionError(f"Could not connect to {label}: {redact(str(exc)).strip()}") from None
    try:
        connection.read_only = read_only
        yield connection
    finally:
        connection.close()
