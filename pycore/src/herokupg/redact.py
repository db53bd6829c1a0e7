"""Redaction of secrets in text: API tokens, database passwords, signed-URL tokens.

Known secrets (the API key in use, passwords seen in config vars) are registered with
:func:`register_secret`; patterns catch the rest (credentials in postgres URLs, signature
query parameters, bearer headers).
"""

from __future__ import annotations

import re
import threading

MASK = "********"

_lock = threading.Lock()
_secrets: set[str] = set()

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # postgres://user:password@host -> postgres://user:********@host
    (re.compile(r"(?P<scheme>postgres(?:ql)?://[^:/@\s]+:)(?P<secret>[^@\s]+)(?=@)"), r"\g<scheme>" + MASK),
    # signed URL parameters
    (
        re.compile(r"(?P<key>[?&](?:signature|sig|token|X-Amz-Signature|X-Amz-Credential)=)[^&\s\"']+", re.I),
        r"\g<key>" + MASK,
    ),
    (re.compile(r"(?P<key>Bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\g<key>" + MASK),
    # Authorization: Basic base64(":" + token), as some Data API calls send it
    (
        re.compile(r"(?P<key>authorization[\"']?\s*[:=]\s*[\"']?basic\s+)[A-Za-z0-9+/=]+", re.I),
        r"\g<key>" + MASK,
    ),
)

# Values shorter than this are not registered: masking "a" everywhere would wreck output.
_MIN_SECRET_LEN = 6


def register_secret(value: str | None) -> None:
    """Remember a secret so that every later redaction masks it."""
    if value and len(value) >= _MIN_SECRET_LEN:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every known secret and secret-looking token masked."""
    if not text:
        return text
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text
