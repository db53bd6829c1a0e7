"""Direct PostgreSQL connections (psycopg 3, the ``postgres`` extra): the one place herokupg connects.

Every direct connection (outliers' ``pg_stat_statements``, the promotion's write fence) is made by
:func:`open_connection`: a URL and its password registered as secrets before anything can print
them, a connect timeout, an ``application_name``, optional statement and lock timeouts, and the
Heroku CLI's TLS rule (``sslmode=require`` for a remote host, libpq's default for a local one;
an ``sslmode`` in the URL or ``PGSSLMODE`` wins). Its errors are :class:`DatabaseConnectionError`,
psycopg's text redacted. The database URL comes from the app's config vars (the attachment's
``*_URL``, as the Heroku CLI reads it). psycopg is imported only when a connection is made: nothing
else of herokupg needs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

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
    """The database could not be reached, or refused the login. ``reason``: why, in one line."""

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = redact(reason or message)


class DatabaseQueryError(HerokuPgError):
    """A query failed (the message says which database and what to do)."""


# Hosts the Heroku CLI's rule treats as local (it names localhost; the sandbox listens on 127.0.0.1).
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def register_url(url: str) -> None:
    """Register a connection URL and its password (as written and decoded) as secrets."""
    register_secret(url)
    try:
        password = urlsplit(url).password
    except ValueError:
        return
    if password:
        register_secret(password)
        register_secret(unquote(password))


def database_url(reads: Reads, db: ResolvedDatabase) -> str:
    """The connection URL of ``db`` from its app's config vars, registered as a secret."""
    url = reads.config_vars(db.app).get(db.config_var)
    if not url:
        raise DatabaseConnectionError(
            f"{db.config_var} is not set on app {db.app}: the database {db.addon_name} has no credentials "
            "yet (still provisioning?). Try again once `heroku pg:info` shows it available."
        )
    register_url(url)
    return url


def where(db: ResolvedDatabase) -> str:
    return f"{db.config_var} ({db.addon_name}) of app {db.app}"


def import_psycopg(message: str | None = None, *, reason: str = "for a direct connection") -> ModuleType:
    """psycopg, or MissingPsycopgError (``message``/``reason``: what needed it)."""
    try:
        import psycopg
    except ImportError:
        raise MissingPsycopgError(message, reason=reason) from None
    return psycopg


def sslmode(url: str, env: Mapping[str, str] | None = None) -> str | None:
    """``require`` for a remote host, as the Heroku CLI sets PGSSLMODE; None (libpq decides) for a
    local one, or when the URL's ``sslmode`` or the environment's ``PGSSLMODE`` says."""
    environ = os.environ if env is None else env
    parts = urlsplit(url)
    if "sslmode" in parse_qs(parts.query) or environ.get("PGSSLMODE"):
        return None
    host = parts.hostname or ""
    return None if not host or host in LOCAL_HOSTS or host.startswith("/") else "require"


def open_connection(
    url: str,
    label: str,
    *,
    timeout: float = 30.0,
    application_name: str = "herokupg",
    autocommit: bool = False,
    statement_timeout: float | None = None,
    lock_timeout: float | None = None,
) -> psycopg.Connection[Any]:
    """A connection to ``url`` (``label`` names it in errors); the caller closes it.

    ``timeout`` bounds the connect (whole seconds, at least 1); ``statement_timeout`` and
    ``lock_timeout`` (seconds) are set for the session.
    """
    driver = import_psycopg()
    register_url(url)
    settings = {"statement_timeout": statement_timeout, "lock_timeout": lock_timeout}
    options = " ".join(f"-c {name}={round(value * 1000)}" for name, value in settings.items() if value)
    extra: dict[str, Any] = {"options": options} if options else {}
    mode = sslmode(url)
    if mode:
        extra["sslmode"] = mode
    try:
        connection: psycopg.Connection[Any] = driver.connect(
            url,
            autocommit=autocommit,
            connect_timeout=max(1, round(timeout)),
            application_name=application_name[:63],  # PostgreSQL keeps 63 bytes (NAMEDATALEN - 1)
            **extra,
        )
    except driver.Error as exc:
        detail = redact(str(exc)).strip() or type(exc).__name__
        first = detail.splitlines()[0]
        raise DatabaseConnectionError(f"Could not connect to {label}: {detail}", reason=first) from None
    return connection


@contextmanager
def connect(
    url: str, label: str, *, timeout: float = 30.0, application_name: str = "herokupg", read_only: bool = True
) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A connection to ``url`` (``label`` names it in errors), in read-only transactions by default."""
    connection = open_connection(url, label, timeout=timeout, application_name=application_name)
    try:
        connection.read_only = read_only
        yield connection
    finally:
        connection.close()
