"""Heroku's per-account token bucket: ``rate_limit_capacity`` requests, refilled continuously at
``rate_limit_refill_per_minute``. The bucket lives in the store and uses the sandbox clock, so
advancing the clock through the admin API refills it."""

from __future__ import annotations

import math

from herokupg_sandbox.http import HerokuHTTPError
from herokupg_sandbox.state import Store

RATE_LIMIT_URL = "https://devcenter.heroku.com/articles/platform-api-reference#rate-limits"


def _refill(store: Store) -> None:
    state = store.state
    settings = state.settings
    now = store.now()
    elapsed = max(0.0, now - state.rate_updated)
    state.rate_tokens = min(
        float(settings.rate_limit_capacity),
        state.rate_tokens + elapsed * settings.rate_limit_refill_per_minute / 60.0,
    )
    state.rate_updated = now


def remaining(store: Store) -> int:
    """Requests left right now (refilled first), without taking one."""
    with store.lock:
        _refill(store)
        return max(0, math.floor(store.state.rate_tokens))


def take(store: Store) -> int:
    """Take one request from the bucket and return what remains; 429 when it is empty.

    Not saved on every request (that would rewrite the state file per GET): the next mutation
    persists the bucket along with everything else.
    """
    with store.lock:
        _refill(store)
        if store.state.rate_tokens < 1.0:
            raise rate_limited()
        store.state.rate_tokens -= 1.0
        return max(0, math.floor(store.state.rate_tokens))


def rate_limited() -> HerokuHTTPError:
    return HerokuHTTPError(
        429,
        "rate_limit",
        "Your account reached the API rate limit",
        url=RATE_LIMIT_URL,
        headers={"RateLimit-Remaining": "0"},
    )
