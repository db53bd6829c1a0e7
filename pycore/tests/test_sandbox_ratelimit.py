"""The sandbox's token bucket: RateLimit-Remaining, 429 when empty, refill with the clock."""

from __future__ import annotations

import httpx
from herokupg_sandbox.threaded import RunningSandbox
from sandbox_helpers import assert_error


def test_bucket_empties_to_429_and_refills_with_the_clock(sandbox: RunningSandbox) -> None:
    sandbox.admin("PATCH", "settings", json={"rate_limit_capacity": 3, "rate_limit_refill_per_minute": 60})
    with sandbox.http() as client:
        seen = [int(client.get("/apps").headers["RateLimit-Remaining"]) for _ in range(3)]
        assert seen == [2, 1, 0]
        limited = client.get("/apps")
        assert_error(limited, 429, "rate_limit", "Your account reached the API rate limit")
        assert limited.json()["url"].endswith("#rate-limits")
        assert limited.headers["RateLimit-Remaining"] == "0"

        # not counted: the rate-limit endpoint and the admin API
        for _ in range(3):
            assert client.get("/account/rate-limits").json() == {"remaining": 0}
            assert client.get("/_sandbox/settings").status_code == 200

        sandbox.admin("POST", "clock/advance", json={"seconds": 2})  # 60/min: two requests back
        assert client.get("/account/rate-limits").json() == {"remaining": 2}
        assert client.get("/apps").status_code == 200
        sandbox.admin("POST", "clock/advance", json={"seconds": 3600})  # capped at the capacity
        assert client.get("/account/rate-limits").json() == {"remaining": 3}


def test_unauthenticated_requests_do_not_spend_the_bucket(sandbox: RunningSandbox) -> None:
    sandbox.admin("PATCH", "settings", json={"rate_limit_capacity": 2})
    for _ in range(5):
        assert httpx.get(f"{sandbox.url}/apps").status_code == 401
    with sandbox.http() as client:
        assert client.get("/account/rate-limits").json() == {"remaining": 2}


def test_default_bucket_is_herokus(sandbox: RunningSandbox) -> None:
    settings = sandbox.admin("GET", "settings")
    assert settings["rate_limit_capacity"] == 4500 and settings["rate_limit_refill_per_minute"] == 75
    with sandbox.http() as client:
        assert int(client.get("/apps").headers["RateLimit-Remaining"]) == 4499
