"""HerokuClient against httpx.MockTransport and Heroku-shaped recorded responses (over real
sockets: test_transport.py)."""

from __future__ import annotations

import json
import logging
import traceback
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

import herokupg
from herokupg.client import (
    DEFAULT_API_URL,
    DEFAULT_DATA_API_URL,
    REFILL_INTERVAL,
    ApiResponse,
    HerokuClient,
    resolve_urls,
)
from herokupg.errors import (
    APIError,
    AuthConfigError,
    ConfirmationRequiredError,
    ConflictError,
    ConnectionFailedError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    UnauthorizedError,
    ValidationError,
)

FIXTURES = Path(__file__).parent / "fixtures" / "responses"
KEY = "hrku-test-5b1c0e2a-9d7f-4c3b-8a6e-2f1d0c9b8a7e"
SANDBOX = "http://127.0.0.1:5999"
SDK = "application/vnd.heroku+json; version=3.sdk"

Step = httpx.Response | Exception | str


def fixture(name: str) -> httpx.Response:
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    body = data["body"]
    if isinstance(body, str):
        return httpx.Response(data["status"], headers=data["headers"], text=body)
    return httpx.Response(data["status"], headers=data["headers"], content=json.dumps(body).encode())


class Script:
    """A MockTransport handler that plays steps in order and records every request."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0)
        if isinstance(step, str):
            step = fixture(step)
        if isinstance(step, Exception):
            if isinstance(step, httpx.RequestError):
                step._request = request
            raise step
        return step


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make(script: Script, sleeps: Sleeps | None = None, **kwargs: Any) -> HerokuClient:
    kwargs.setdefault("env", {})
    kwargs.setdefault("api_url", SANDBOX)
    return HerokuClient(
        KEY, transport=httpx.MockTransport(script), sleep=sleeps if sleeps is not None else Sleeps(), **kwargs
    )


def ok(body: Any = None, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers={k.replace("_", "-"): v for k, v in headers.items()})


# -- URL resolution ----------------------------------------------------------------------------


def test_urls_default_to_heroku() -> None:
    assert resolve_urls(env={}) == (DEFAULT_API_URL, DEFAULT_DATA_API_URL)


def test_urls_from_env() -> None:
    env = {"HEROKU_API_URL": "https://api.example.test/", "HEROKU_DATA_API_URL": "https://data.example.test"}
    assert resolve_urls(env=env) == ("https://api.example.test", "https://data.example.test")


def test_url_arguments_win_over_env() -> None:
    env = {"HEROKU_API_URL": "https://api.example.test", "HEROKU_DATA_API_URL": "https://data.example.test"}
    assert resolve_urls("http://127.0.0.1:1", "http://127.0.0.1:2", env=env) == (
        "http://127.0.0.1:1",
        "http://127.0.0.1:2",
    )


def test_sandbox_serves_data_api_on_platform_url() -> None:
    assert resolve_urls(SANDBOX, env={}) == (SANDBOX, SANDBOX)
    assert resolve_urls(env={"HEROKU_API_URL": SANDBOX + "/"}) == (SANDBOX, SANDBOX)


def test_heroku_host_keeps_default_data_url() -> None:
    assert resolve_urls("https://api.heroku.com", env={}) == (DEFAULT_API_URL, DEFAULT_DATA_API_URL)
    # a host that merely ends in "heroku.com" is not a heroku.com host
    assert resolve_urls("https://evilheroku.com", env={})[1] == "https://evilheroku.com"


def test_bad_url_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        resolve_urls("api.heroku.com", env={})


# -- headers and bodies ------------------------------------------------------------------------


def test_headers_sent_to_both_apis() -> None:
    script = Script(ok({"id": "x"}), ok({"info": []}), ok({"id": "y"}, status=201))
    with make(script) as client:
        client.get("/apps/example")
        client.get("/client/v11/databases/a0", api="data", accept=SDK)
        client.post("/apps/example/addons", json={"plan": "heroku-postgresql:standard-0"})
    first, data, post = script.requests
    assert str(first.url) == SANDBOX + "/apps/example"
    assert first.headers["Accept"] == "application/vnd.heroku+json; version=3"
    assert first.headers["User-Agent"] == f"herokupg/{herokupg.__version__}"
    assert first.headers["Authorization"] == f"Bearer {KEY}"
    assert "Content-Type" not in first.headers
    assert data.headers["Accept"] == SDK
    assert data.headers["Authorization"] == f"Bearer {KEY}"
    assert post.headers["Content-Type"] == "application/json"
    assert json.loads(post.content) == {"plan": "heroku-postgresql:standard-0"}
    ids = [r.headers["Request-Id"] for r in script.requests]
    assert len(set(ids)) == 3 and all(uuid.UUID(i) for i in ids)


def test_data_api_goes_to_data_host() -> None:
    script = Script(ok([]), ok([]))
    with make(script, api_url=None, env={}) as client:
        client.get("/apps/example/addons")
        client.get("/client/v11/apps/example/transfers", api="data")
    assert [str(r.url) for r in script.requests] == [
        "https://api.heroku.com/apps/example/addons",
        "https://api.data.heroku.com/client/v11/apps/example/transfers",
    ]


def test_caller_headers_and_params_are_sent() -> None:
    script = Script(ok([]))
    with make(script, user_agent="ansible-herokuops/1.0") as client:
        client.get("/apps/x/addons", headers={"accept-expansion": "addon_service,plan"}, params={"q": "1"})
    (request,) = script.requests
    assert request.headers["Accept-Expansion"] == "addon_service,plan"
    assert request.headers["User-Agent"] == "ansible-herokuops/1.0"
    assert request.url.params["q"] == "1"


def test_request_returns_response_with_request_id_and_empty_body_is_none() -> None:
    script = Script(httpx.Response(204, headers={"Request-Id": "server-id-1"}))
    with make(script) as client:
        response = client.request("DELETE", "/apps/example/addons/x")
    assert response == ApiResponse(204, response.headers, None, "server-id-1")


def test_absolute_url_is_refused_so_the_key_stays_home() -> None:
    with make(Script()) as client, pytest.raises(ValidationError):
        client.get("https://attacker.example/steal")


def test_key_is_looked_up_lazily() -> None:
    client = HerokuClient(env={"HOME": "/nonexistent-home"}, transport=httpx.MockTransport(Script(ok())))
    with pytest.raises(AuthConfigError):
        client.get("/account")
    assert client.request_count == 0
    env = {"HEROKU_API_KEY": KEY}
    script = Script(ok({"email": "me@example.com"}))
    with HerokuClient(env=env, transport=httpx.MockTransport(script)) as client:
        assert client.get("/account") == {"email": "me@example.com"}
    assert script.requests[0].headers["Authorization"] == f"Bearer {KEY}"


# -- pagination --------------------------------------------------------------------------------


def test_get_all_follows_next_range_over_three_pages() -> None:
    script = Script("addons_page1", "addons_page2", "addons_page3")
    with make(script) as client:
        addons = client.get_all("/apps/example/addons")
    assert [a["name"] for a in addons] == [
        "postgresql-amber-1", "postgresql-blue-2", "postgresql-cyan-3",
        "postgresql-dark-4", "postgresql-elm-5",
    ]
    ranges = [r.headers.get("Range") for r in script.requests]
    assert ranges == [
        None,
        "id ]a0000000-0000-4000-8000-000000000002; max=2",
        "id ]a0000000-0000-4000-8000-000000000004; max=2",
    ]
    assert client.request_count == 3
    assert client.rate_limit_remaining == 4497


def test_get_all_starts_at_range_header_and_get_also_paginates() -> None:
    script = Script(*["addons_page1", "addons_page2", "addons_page3"] * 2)
    with make(script) as client:
        assert len(client.get_all("/apps/example/addons", range_header="id ..; max=2")) == 5
        assert len(client.get("/apps/example/addons")) == 5
    assert script.requests[0].headers["Range"] == "id ..; max=2"


def test_request_does_not_paginate() -> None:
    script = Script("addons_page1")
    with make(script) as client:
        response = client.request("GET", "/apps/example/addons")
    assert response.status == 206 and len(response.body) == 2
    assert response.headers["next-range"].startswith("id ]")


def test_pagination_that_does_not_advance_is_an_error() -> None:
    stuck = {"Next-Range": "id ]x; max=1"}
    script = Script(ok([1], 206, **stuck), ok([2], 206, **stuck))
    with make(script) as client, pytest.raises(APIError, match="did not advance"):
        client.get_all("/apps/example/addons")


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cls", "status", "error_id"),
    [
        ("error_unauthorized", UnauthorizedError, 401, "unauthorized"),
        ("error_forbidden", ForbiddenError, 403, "forbidden"),
        ("error_two_factor", ForbiddenError, 403, "two_factor"),
        ("error_not_found_app", NotFoundError, 404, "not_found"),
        ("error_confirmation_required", ConfirmationRequiredError, 423, "confirmation_required"),
        ("error_multiple_matches", ConflictError, 422, "multiple_matches"),
        ("error_conflict", ConflictError, 409, "conflict"),
        ("error_addon_error", ConflictError, 422, "addon_error"),
        ("error_bad_request_data", APIError, 400, "bad_request"),
    ],
)
def test_error_types_and_fields(name: str, cls: type[APIError], status: int, error_id: str) -> None:
    recorded = json.loads((FIXTURES / f"{name}.json").read_text())
    script = Script(name)
    with make(script, retries=0) as client, pytest.raises(APIError) as info:
        client.post("/apps/example/addons", json={"plan": "x"})
    err = info.value
    assert type(err) is cls
    assert err.status == status
    assert err.error_id == error_id
    assert err.message == recorded["body"]["message"]
    assert err.request_id == f"req-{name}"
    assert err.method == "POST"
    assert err.url == SANDBOX + "/apps/example/addons"
    assert err.doc_url == recorded["body"].get("url")
    assert f"Error ID: {error_id}" in str(err)


def test_not_found_carries_resource() -> None:
    with make(Script("error_not_found_database")) as client, pytest.raises(NotFoundError) as info:
        client.get("/client/v11/databases/a0", api="data")
    assert info.value.resource == "database"
    assert info.value.message == "Couldn't find that database."


def test_rate_limited_after_retries() -> None:
    sleeps = Sleeps()
    script = Script("error_rate_limit", "error_rate_limit")
    with make(script, sleeps, rate_limit_retries=1) as client, pytest.raises(RateLimitedError) as info:
        client.get("/apps/example")
    assert info.value.doc_url == "https://devcenter.heroku.com/articles/platform-api-reference#rate-limits"
    assert client.request_count == 2
    assert client.rate_limit_remaining == 0


def test_error_without_message_names_status_method_and_url() -> None:
    with make(Script("error_internal_html"), retries=0) as client, pytest.raises(APIError) as info:
        client.delete("/apps/example/addons/x")
    assert type(info.value) is APIError
    assert info.value.message == f"HTTP Error 500 for DELETE {SANDBOX}/apps/example/addons/x"
    assert info.value.request_id == "req-error_internal_html"


def test_html_served_as_json_is_still_a_typed_error() -> None:
    # The Data API answers an unknown database id with an HTML page labelled application/json.
    page = b"<!DOCTYPE html><html><head><title>Page not found</title></head><body>\xe2\x80\x94</body></html>"
    labelled = {"Content-Type": "application/json", "Request-Id": "r-1"}
    html = httpx.Response(404, headers=labelled, content=page)
    with make(Script(html), retries=0) as client, pytest.raises(NotFoundError) as info:
        client.get("/client/v11/databases/0b9c", api="data")
    missing = "Heroku has no database 0b9c (HTTP 404 for GET /client/v11/databases/0b9c)"
    assert info.value.message.startswith(missing) and info.value.resource == "database"
    assert info.value.request_id == "r-1" and info.value.error_id is None


def test_error_request_id_falls_back_to_the_one_sent() -> None:
    script = Script(httpx.Response(418, json={"id": "teapot", "message": "short and stout"}))
    with make(script, retries=0) as client, pytest.raises(APIError) as info:
        client.get("/teapot")
    assert info.value.request_id == script.requests[0].headers["Request-Id"]


# -- retries -----------------------------------------------------------------------------------


def test_get_retried_on_5xx_and_read_errors_until_success() -> None:
    sleeps = Sleeps()
    script = Script("error_unavailable", httpx.ReadTimeout("slow"), httpx.ReadError("reset"), ok({"id": 1}))
    with make(script, sleeps, retries=3) as client:
        assert client.get("/apps/example") == {"id": 1}
    assert client.request_count == 4
    assert len(sleeps) == 3


def test_get_gives_up_after_retries() -> None:
    script = Script(*["error_unavailable"] * 4)
    with make(script, retries=3) as client, pytest.raises(APIError) as info:
        client.get("/apps/example")
    assert info.value.status == 503
    assert client.request_count == 4


@pytest.mark.parametrize("failure", ["error_unavailable", "error_internal_html"])
def test_post_not_repeated_after_5xx(failure: str) -> None:
    script = Script(failure, ok({"id": "never"}))
    with make(script, retries=3) as client, pytest.raises(APIError):
        client.post("/apps/example/addons", json={"plan": "x"})
    assert client.request_count == 1


def test_post_not_repeated_after_read_timeout() -> None:
    script = Script(httpx.ReadTimeout("timed out"), ok({"id": "never"}))
    with make(script, retries=3) as client, pytest.raises(ConnectionFailedError) as info:
        client.post("/apps/example/addons", json={"plan": "x"})
    assert client.request_count == 1
    assert info.value.may_have_applied is True
    assert "may have reached the server and been applied" in str(info.value)


def test_patch_not_repeated_but_idempotent_post_is() -> None:
    script = Script("error_unavailable", "error_unavailable", ok({"id": "done"}))
    with make(script, retries=3) as client:
        with pytest.raises(APIError):
            client.patch("/apps/example/addons/x", json={"plan": "y"})
        assert client.post("/actions/x", json={}, idempotent=True) == {"id": "done"}
    assert client.request_count == 3


def test_post_repeated_after_connect_error() -> None:
    script = Script(httpx.ConnectError("refused"), httpx.ConnectTimeout("no syn-ack"), ok({"id": 1}, 201))
    with make(script, retries=3) as client:
        assert client.post("/apps/example/addons", json={"plan": "x"}) == {"id": 1}
    assert client.request_count == 3


def test_post_repeated_after_429() -> None:
    script = Script("error_rate_limit", ok({"id": "made"}, 201))
    with make(script, retries=3) as client:
        assert client.post("/apps/example/addons", json={"plan": "x"}) == {"id": "made"}
    assert client.request_count == 2


def test_connect_errors_exhausted_say_nothing_was_applied() -> None:
    script = Script(*[httpx.ConnectError("refused")] * 3)
    with make(script, retries=2) as client, pytest.raises(ConnectionFailedError) as info:
        client.post("/apps/example/addons", json={"plan": "x"})
    assert client.request_count == 3
    assert info.value.may_have_applied is False
    assert "never reached the server" in str(info.value)
    assert info.value.method == "POST"


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    sleeps = Sleeps()
    script = Script(*[httpx.ConnectError("refused")] * 6)
    with make(script, sleeps, retries=5, backoff_base=1.0, backoff_max=4.0) as client:
        with pytest.raises(ConnectionFailedError):
            client.get("/apps/example")
    ceilings = [1.0, 2.0, 4.0, 4.0, 4.0]
    assert len(sleeps) == 5
    for slept, ceiling in zip(sleeps, ceilings, strict=True):
        assert ceiling / 2 <= slept <= ceiling


def test_429s_have_their_own_budget_and_back_off_from_a_refill_interval() -> None:
    # Concurrent clients sharing the account's bucket may each be refused several times in a row:
    # a 429 is never applied, so it is repeated beyond `retries` (connection errors and 5xx).
    sleeps = Sleeps()
    script = Script(*["error_rate_limit"] * 4, "error_unavailable", ok({"id": "app"}))
    with make(script, sleeps, retries=1, rate_limit_retries=4, backoff_max=60.0) as client:
        assert client.get("/apps/example") == {"id": "app"}
    assert client.request_count == 6
    for slept, ceiling in zip(sleeps[:4], [REFILL_INTERVAL * 2**n for n in range(4)], strict=True):
        assert ceiling / 2 <= slept <= ceiling  # (pacing at RateLimit-Remaining 0 is one interval)


def test_retry_after_is_honoured() -> None:
    sleeps = Sleeps()
    limited = fixture("error_rate_limit")
    limited.headers["Retry-After"] = "7"
    limited.headers["RateLimit-Remaining"] = "4000"  # so pacing cannot explain the wait
    with make(Script(limited, ok({})), sleeps) as client:
        client.get("/apps/example")
    assert sleeps == [7.0]


def test_retries_zero_means_one_attempt() -> None:
    script = Script(httpx.ConnectError("refused"))
    with make(script, retries=0) as client, pytest.raises(ConnectionFailedError):
        client.get("/apps/example")
    assert client.request_count == 1


def test_each_attempt_gets_a_fresh_request_id() -> None:
    script = Script("error_unavailable", ok({}))
    with make(script) as client:
        client.get("/apps/example")
    first, second = (r.headers["Request-Id"] for r in script.requests)
    assert first != second


# -- pacing ------------------------------------------------------------------------------------


def test_pacing_sleeps_grow_as_remaining_falls() -> None:
    sleeps = Sleeps()
    remaining = ["4500", "250", "200", "150", "100", "50", "0"]
    script = Script(*[ok({}, RateLimit_Remaining=r) for r in remaining], ok({}))
    with make(script, sleeps, pace_below=200) as client:
        waits = []
        for _ in range(len(remaining) + 1):
            before = len(sleeps)
            client.get("/apps/example")
            waits.append(sum(sleeps[before:]))
    # the wait before request i depends on the remaining seen in response i-1
    assert waits[:4] == [0.0, 0.0, 0.0, 0.0]  # none seen yet, 4500, 250, 200 (threshold)
    paced = waits[4:]
    assert paced == sorted(paced) and len(set(paced)) == len(paced)  # 150, 100, 50, 0: strictly growing
    assert paced[-1] == pytest.approx(REFILL_INTERVAL)
    assert paced[0] == pytest.approx(REFILL_INTERVAL * 0.25)
    assert client.rate_limit_remaining == 0


def test_pacing_can_be_disabled() -> None:
    sleeps = Sleeps()
    script = Script(ok({}, RateLimit_Remaining="0"), ok({}))
    with make(script, sleeps, pace_below=0) as client:
        client.get("/a")
        client.get("/a")
    assert sleeps == []


def test_two_clients_sharing_a_bucket_both_slow_down() -> None:
    # Forks see the same account counter: each paces on what it last saw.
    bucket = {"remaining": 60}

    def shared(request: httpx.Request) -> httpx.Response:
        bucket["remaining"] -= 1
        return ok({}, RateLimit_Remaining=str(bucket["remaining"]))

    sleeps_a, sleeps_b = Sleeps(), Sleeps()
    a = HerokuClient(KEY, transport=httpx.MockTransport(shared), sleep=sleeps_a, env={}, api_url=SANDBOX)
    b = HerokuClient(KEY, transport=httpx.MockTransport(shared), sleep=sleeps_b, env={}, api_url=SANDBOX)
    for _ in range(5):
        a.get("/a")
        b.get("/b")
    assert sleeps_a == sorted(sleeps_a) and sleeps_b == sorted(sleeps_b)
    assert sleeps_a[-1] > sleeps_a[0] and sleeps_b[-1] > sleeps_b[0]


# -- secrets -----------------------------------------------------------------------------------


def test_key_not_in_repr_or_errors() -> None:
    echo = httpx.Response(401, json={"id": "unauthorized", "message": f"Invalid token {KEY}"})
    with make(Script(echo)) as client, pytest.raises(UnauthorizedError) as info:
        client.get("/account")
    assert KEY not in repr(client) and KEY not in str(client)
    err = info.value
    for text in (str(err), repr(err), err.message, str(err.args)):
        assert KEY not in text


def test_key_not_in_connection_error() -> None:
    leak = httpx.ConnectError(f"proxy said no to Bearer {KEY}")
    with make(Script(leak), retries=0) as client, pytest.raises(ConnectionFailedError) as info:
        client.get("/account")
    assert KEY not in str(info.value) and KEY not in repr(info.value)
    assert KEY not in "".join(traceback.format_exception(info.value))


def test_debug_log_has_requests_and_retries_but_no_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="herokupg.client")
    script = Script(
        "error_unavailable",
        httpx.ReadError(f"reset while sending Authorization: Bearer {KEY}"),
        ok({"url": "postgres://u:dbpassword123@h/d"}, Request_Id="srv-req-42"),
        "error_not_found_app",
    )
    with make(script) as client:
        client.get("/apps/example", params={"token": "signed-url-token-xyz"})
        with pytest.raises(NotFoundError):
            client.get("/apps/missing")
    text = caplog.text
    assert KEY not in text
    assert "signed-url-token-xyz" not in text
    assert "GET http://127.0.0.1:5999/apps/example?token=********" in text
    assert "-> 503" in text and "-> 200" in text and "-> 404" in text
    assert "srv-req-42" in text
    assert "retrying GET" in text and "HTTP 503" in text and "ReadError" in text
    for record in caplog.records:
        assert KEY not in record.getMessage()


def test_heroku_warning_header_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="herokupg.client")
    warn = {"X-Heroku-Warning": "This API is deprecated"}
    with make(Script(ok({}, **warn), ok({}, **warn))) as client:
        client.get("/a")
        client.get("/a")
    assert [r.getMessage() for r in caplog.records] == ["Heroku API warning: This API is deprecated"]


# -- over real HTTP, against the sandbox on 127.0.0.1 -------------------------------------------


def test_against_sandbox_over_http(sandbox: Any) -> None:
    with HerokuClient("wrong-token-0000", api_url=sandbox.url, env={}, retries=0) as client:
        with pytest.raises(UnauthorizedError) as info:
            client.get("/account")
    assert info.value.message == "Invalid credentials provided."
    assert info.value.request_id  # the sandbox's own Request-Id header
    assert client.data_api_url == sandbox.url
    with HerokuClient(sandbox.token, api_url=sandbox.url, env={}, retries=0) as client:
        with pytest.raises(NotFoundError):
            client.get("/client/v11/databases/no-such-database-id", api="data")
    assert client.request_count == 1
