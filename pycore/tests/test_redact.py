"""Redaction of tokens, database passwords and signed-URL parameters."""

from __future__ import annotations

import pytest

from herokupg.errors import APIError, HerokuPgError, TransferFailedError
from herokupg.redact import MASK, redact, register_secret


def test_registered_secret_is_masked_everywhere() -> None:
    secret = "registered-secret-3f9a2c7e"
    register_secret(secret)
    assert redact(f"a {secret} b {secret}") == f"a {MASK} b {MASK}"


def test_short_and_empty_values_are_not_registered() -> None:
    register_secret("abc")
    register_secret("")
    register_secret(None)
    assert redact("abc abcdef") == "abc abcdef"
    assert redact("") == ""


def test_longest_secret_masked_first() -> None:
    register_secret("overlap-secret")
    register_secret("overlap-secret-longer")
    assert redact("x overlap-secret-longer y") == f"x {MASK} y"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgres://u1abc:p4ssw0rd@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d9x",
         f"postgres://u1abc:{MASK}@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d9x"),
        ("postgresql://user:pw/with:odd@host/db", f"postgresql://user:{MASK}@host/db"),
        ("https://s3.example/b001?X-Amz-Signature=abc123&X-Amz-Expires=600",
         f"https://s3.example/b001?X-Amz-Signature={MASK}&X-Amz-Expires=600"),
        ("https://x.example/p?a=1&signature=zzz", f"https://x.example/p?a=1&signature={MASK}"),
        ("https://x.example/p?token=t0k3n", f"https://x.example/p?token={MASK}"),
        ("Authorization: Bearer abc.def-123", f"Authorization: Bearer {MASK}"),
        ("Authorization: Basic OmFiY2RlZmdoaWo=", f"Authorization: Basic {MASK}"),
        ("{'authorization': 'Basic OmFiY2Rl'}", f"{{'authorization': 'Basic {MASK}'}}"),
    ],
)
def test_patterns(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Basic plan has no followers",  # the word alone is not a header
        "postgres://host/db",  # no credentials
        "https://x.example/p?page=2",
    ],
)
def test_harmless_text_untouched(text: str) -> None:
    assert redact(text) == text


def test_errors_redact_message_url_and_logs() -> None:
    secret = "error-secret-8c1d0b2a"
    register_secret(secret)
    base = HerokuPgError(f"bad {secret}")
    assert secret not in str(base) and secret not in repr(base)
    api = APIError("boom", url=f"https://api.example/x?token={secret}", status=500)
    assert api.url is not None and secret not in api.url
    transfer = TransferFailedError("failed", transfer="b001", logs=[f"postgres://u:{secret}@h/d"])
    assert all(secret not in line for line in transfer.logs)
