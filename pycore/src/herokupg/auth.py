"""API-key discovery, in the Heroku CLI's order: explicit key, ``HEROKU_API_KEY``, ``~/.netrc``.

``heroku login`` stores the key as the password of ``machine api.heroku.com`` in ``~/.netrc``
(``NETRC`` names another file). Every key found is registered with
:func:`herokupg.redact.register_secret`, so no later log line or error can show it.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path

from herokupg.errors import AuthConfigError
from herokupg.redact import register_secret

NETRC_MACHINE = "api.heroku.com"

_HOW_TO = (
    "Set the HEROKU_API_KEY environment variable (or a module's api_key option), or run "
    f"`heroku login`, which stores the key in ~/.netrc as machine {NETRC_MACHINE} (set NETRC to use "
    "another file)."
)


def find_api_key(
    explicit: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    netrc_path: Path | None = None,
) -> str:
    """Return the Heroku API key to use; raise :class:`AuthConfigError` when there is none.

    Blank values count as absent, so an empty ``HEROKU_API_KEY`` falls through to netrc.
    """
    environ = os.environ if env is None else env
    key = _clean(explicit) or _clean(environ.get("HEROKU_API_KEY"))
    if key is None:
        path = netrc_path if netrc_path is not None else default_netrc_path(environ)
        key = _clean(netrc_password(path, NETRC_MACHINE))
        if key is None:
            raise AuthConfigError(f"No Heroku API key found (looked in {path}). {_HOW_TO}")
    register_secret(key)
    return key


def default_netrc_path(env: Mapping[str, str]) -> Path:
    """``$NETRC`` if set, else ``$HOME/.netrc`` (``env`` first, so tests need not touch os.environ)."""
    if env.get("NETRC"):
        return Path(env["NETRC"]).expanduser()
    home = env.get("HOME")
    return (Path(home) if home else Path.home()) / ".netrc"


def netrc_password(path: Path, machine: str) -> str | None:
    """The password of ``machine`` in the netrc file at ``path``; None if the file or entry is absent.

    A small tolerant parser rather than :mod:`netrc`: the stdlib rejects keys it does not know
    (the Heroku CLI has written ``method``/``org`` lines) and keeps the *last* duplicate entry,
    while the Heroku CLI keeps the first. ``default`` entries are ignored, as the CLI does: a
    generic password must not be sent to Heroku as a token.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuthConfigError(f"Could not read {path}: {type(exc).__name__}. {_HOW_TO}") from None

    entries: list[tuple[str | None, dict[str, str]]] = []
    pending_key: str | None = None  # a keyword waiting for its value (values may be on the next line)
    in_macdef = False
    for lineno, line in enumerate(text.splitlines(), start=1):
        if in_macdef:
            in_macdef = bool(line.strip())  # a macro body ends at the first blank line
            continue
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError:
            # Only the line number: the line itself may hold a password.
            raise AuthConfigError(f"Could not parse {path} (line {lineno}). {_HOW_TO}") from None
        for token in tokens:
            if pending_key == "machine":
                entries.append((token, {}))
            elif pending_key is not None and entries:
                entries[-1][1].setdefault(pending_key, token)
            if pending_key is not None:
                pending_key = None
                continue
            if token == "default":
                entries.append((None, {}))
            elif token == "macdef":
                in_macdef = True
                break  # the rest of this line is the macro name
            else:
                pending_key = token
    for name, fields in entries:
        if name == machine:
            return fields.get("password")
    return None


def _clean(value: str | None) -> str | None:
    value = value.strip() if value else None
    return value or None
