"""Masking of the sandbox's database passwords in what it shows: PostgreSQL programs' errors and
server log lines (psql echoes the SQL it rejects, an ALTER ROLE ... PASSWORD included).

The sandbox's own registry, not herokupg's: it serves herokupg but never imports it.
"""

from __future__ import annotations

import re
import threading

MASK = "********"
_URL_PASSWORD = re.compile(r"(postgres(?:ql)?://[^:/@\s]+:)[^@\s]+@")
_MIN_LEN = 6  # masking very short values everywhere would wreck the text

_lock = threading.Lock()
_passwords: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask ``value`` in every later :func:`redact`."""
    if value and len(value) >= _MIN_LEN:
        with _lock:
            _passwords.add(value)


def redact(text: str) -> str:
    """``text`` with every registered password, and the password of any postgres URL, masked."""
    text = _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
    with _lock:
        known = sorted(_passwords, key=len, reverse=True)
    for value in known:
        text = text.replace(value, MASK)
    return text
