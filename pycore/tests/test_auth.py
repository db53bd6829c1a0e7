"""API-key discovery: explicit > HEROKU_API_KEY > netrc (machine api.heroku.com)."""

from __future__ import annotations

from pathlib import Path

import pytest

from herokupg.auth import default_netrc_path, find_api_key, netrc_password
from herokupg.errors import AuthConfigError
from herokupg.redact import redact

NETRC_KEY = "netrc-key-0f3c9a6e-7d1b-4f2e-9c3a-1b2c3d4e5f60"
ENV_KEY = "env-key-5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
EXPLICIT_KEY = "explicit-key-a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"


def write_netrc(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".netrc"
    path.write_text(text)
    return path


@pytest.fixture
def netrc(tmp_path: Path) -> Path:
    # What `heroku login` writes, plus other machines before and after.
    return write_netrc(
        tmp_path,
        "machine github.com\n  login octocat\n  password gh-secret-password\n"
        f"machine api.heroku.com\n  login me@example.com\n  password {NETRC_KEY}\n"
        "machine git.heroku.com\n  login me@example.com\n  password git-heroku-other\n",
    )


def test_explicit_wins_over_env_and_netrc(netrc: Path) -> None:
    env = {"HEROKU_API_KEY": ENV_KEY}
    assert find_api_key(EXPLICIT_KEY, env=env, netrc_path=netrc) == EXPLICIT_KEY


def test_env_wins_over_netrc(netrc: Path) -> None:
    assert find_api_key(None, env={"HEROKU_API_KEY": ENV_KEY}, netrc_path=netrc) == ENV_KEY


def test_netrc_used_last(netrc: Path) -> None:
    assert find_api_key(None, env={}, netrc_path=netrc) == NETRC_KEY


def test_blank_values_fall_through(netrc: Path) -> None:
    assert find_api_key("  ", env={"HEROKU_API_KEY": ""}, netrc_path=netrc) == NETRC_KEY


def test_netrc_env_var_names_the_file(netrc: Path, tmp_path: Path) -> None:
    env = {"NETRC": str(netrc), "HOME": str(tmp_path / "elsewhere")}
    assert default_netrc_path(env) == netrc
    assert find_api_key(env=env) == NETRC_KEY


def test_home_netrc_is_the_default(netrc: Path, tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    assert default_netrc_path(env) == tmp_path / ".netrc"
    assert find_api_key(env=env) == NETRC_KEY


def test_netrc_without_heroku_machine_is_missing(tmp_path: Path) -> None:
    path = write_netrc(
        tmp_path,
        "machine github.com login octocat password gh-secret-password\n"
        "default login anonymous password default-password-not-for-heroku\n",
    )
    assert netrc_password(path, "api.heroku.com") is None
    with pytest.raises(AuthConfigError):
        find_api_key(env={}, netrc_path=path)


def test_netrc_variants(tmp_path: Path) -> None:
    # One-line entries, comments, quoting, keys the stdlib parser rejects, a macdef, duplicates.
    path = write_netrc(
        tmp_path,
        "# heroku credentials\n"
        "macdef init\ncd /pub\nmachine api.heroku.com password from-macro-body\n\n"
        'machine api.heroku.com login me@example.com password "first#key-1234" method interactive\n'
        "machine api.heroku.com login other password second-key-5678\n",
    )
    assert netrc_password(path, "api.heroku.com") == "first#key-1234"


def test_missing_key_names_the_three_ways(tmp_path: Path) -> None:
    with pytest.raises(AuthConfigError) as info:
        find_api_key(None, env={"HOME": str(tmp_path)})
    message = str(info.value)
    assert "api_key" in message
    assert "HEROKU_API_KEY" in message
    assert "heroku login" in message and ".netrc" in message
    assert str(tmp_path / ".netrc") in message


def test_unparseable_netrc_reports_line_not_content(tmp_path: Path) -> None:
    path = write_netrc(tmp_path, 'machine api.heroku.com\n  password "unterminated-secret-9876\n')
    with pytest.raises(AuthConfigError) as info:
        find_api_key(env={}, netrc_path=path)
    assert "line 2" in str(info.value)
    assert "unterminated-secret-9876" not in str(info.value)


def test_found_key_is_registered_for_redaction(netrc: Path) -> None:
    key = find_api_key(None, env={}, netrc_path=netrc)
    assert redact(f"token is {key}") == "token is ********"
