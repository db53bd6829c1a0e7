"""The one helper for direct PostgreSQL connections: TLS rule, timeouts, secrets, errors."""

from __future__ import annotations

import socket
import sys

import pytest

from herokupg.pgconnect import (
    DatabaseConnectionError,
    MissingPsycopgError,
    import_psycopg,
    open_connection,
    sslmode,
)
from herokupg.redact import redact


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("url", "env", "expected"),
    [
        ("postgres://u:p@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d", {}, "require"),  # as the CLI
        ("postgres://u:p@localhost:5432/d", {}, None),
        ("postgres://u:p@127.0.0.1:5432/d", {}, None),  # the sandbox's clusters
        ("postgres://u:p@[::1]:5432/d", {}, None),
        ("postgres:///d?host=/var/run/postgresql", {}, None),  # a socket
        ("postgres://u:p@db.example.com/d?sslmode=verify-full", {}, None),  # the URL decides
        ("postgres://u:p@db.example.com/d", {"PGSSLMODE": "disable"}, None),  # so does the environment
    ],
)
def test_sslmode_follows_the_heroku_cli(url: str, env: dict[str, str], expected: str | None) -> None:
    assert sslmode(url, env) == expected


def test_a_refused_connection_names_the_database_and_hides_the_password() -> None:
    url = f"postgres://app:pw-0f9e8d7c6b5a@127.0.0.1:{free_port()}/d1"
    with pytest.raises(DatabaseConnectionError) as info:
        open_connection(url, "DATABASE_URL (postgresql-x-1) of app a", timeout=2)
    message = info.value.message
    assert message.startswith("Could not connect to DATABASE_URL (postgresql-x-1) of app a: ")
    assert "pw-0f9e8d7c6b5a" not in message and "pw-0f9e8d7c6b5a" not in info.value.reason
    assert "\n" not in info.value.reason and info.value.reason in message
    assert redact(url) != url  # registered: anything that prints it later masks it


def test_without_psycopg_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingPsycopgError) as info:
        import_psycopg(reason="for write fencing (fence: true)")
    assert (info.value.library, info.value.reason) == ("psycopg", "for write fencing (fence: true)")
    assert info.value.install == "pip install 'herokupg[postgres]'"
    with pytest.raises(MissingPsycopgError, match="needs psycopg 3"):
        open_connection("postgres://u:p@127.0.0.1/d", "x")
