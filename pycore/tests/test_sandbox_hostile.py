"""The sandbox as a network service under hostile input: bytes a well-behaved client never sends.

Non-ASCII credentials and malformed signed-URL parameters answer 401/403 in Heroku's error shape;
admin values that are not finite or are absurdly large are refused (422) and never stored; a client
that sends its headers too slowly is cut off; a client that goes away mid-request leaves no
traceback (nothing logged at ERROR, nothing on stderr). Everything over raw sockets, since HTTP
libraries refuse to send most of this.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import re
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from herokupg_sandbox.bodies import SETTING_BOUNDS
from herokupg_sandbox.state import Settings
from herokupg_sandbox.threaded import RunningSandbox, ThreadedSandbox, seed_app, seed_database

HEADER_TIMEOUT = 1.0
UUID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    with ThreadedSandbox(tmp_path / "sandbox", header_timeout=HEADER_TIMEOUT) as running:
        yield running


@pytest.fixture
def quiet(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Fails the test if the sandbox logged an error or printed a traceback while it ran."""
    caplog.set_level(logging.WARNING)
    yield
    records = caplog.get_records("setup") + caplog.get_records("call")  # this teardown's are empty
    errors = [r for r in records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [f"{r.name}: {r.getMessage()}" for r in errors]
    printed = capfd.readouterr()
    assert "Traceback" not in printed.out + printed.err, printed.err[-3000:]


def port(sandbox: RunningSandbox) -> int:
    return int(sandbox.url.rsplit(":", 1)[1])


def exchange(sandbox: RunningSandbox, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send one raw request (``Connection: close``); the status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", port(sandbox)), timeout=10) as sock:
        sock.sendall(head.rstrip(b"\r\n") + b"\r\nHost: sandbox\r\nConnection: close\r\n\r\n" + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    start, _, rest = answer.partition(b"\r\n\r\n")
    lines = start.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, rest


def heroku_error(status: int, headers: dict[str, str], body: bytes, expected: int, error_id: str) -> None:
    assert status == expected, body[:300]
    assert headers["content-type"].startswith("application/json"), headers
    parsed = json.loads(body)
    assert parsed["id"] == error_id and parsed["message"], parsed


@pytest.mark.parametrize(
    "authorization",
    [
        b"Bearer \xc3\xa9",  # UTF-8 e-acute
        b"Bearer \xe9t\xe9",  # latin-1
        b"Basic " + base64.b64encode(":p\xc3\xa4ssword".encode("latin-1")),  # UTF-8 password
        b"Basic " + base64.b64encode(b":\xff\xfe"),  # not UTF-8 at all
        b"Basic \xc3\xa9\xc3\xa9",  # not base64
    ],
)
def test_non_ascii_credentials_are_401(sandbox: RunningSandbox, quiet: None, authorization: bytes) -> None:
    status, headers, body = exchange(sandbox, b"GET /account HTTP/1.1\r\nAuthorization: " + authorization)
    heroku_error(status, headers, body, 401, "unauthorized")


@pytest.mark.parametrize(
    "query",
    [
        "expires=%C2%B2&signature=00",  # a digit to str.isdigit, not to int()
        "expires=" + "9" * 5000 + "&signature=00",  # more digits than int() takes
        "expires=1&signature=%C3%A9",  # non-ASCII signature
        "expires=1&signature=%FF",  # not UTF-8
        "expires=-1&signature=00",
        "expires=&signature=",
        "expires=1e3&signature=00",
    ],
)
def test_malformed_signed_url_parameters_are_403(sandbox: RunningSandbox, quiet: None, query: str) -> None:
    head = f"GET /_sandbox/public/backups/{UUID}/shop-b001.dump?{query} HTTP/1.1".encode()
    status, headers, body = exchange(sandbox, head)
    heroku_error(status, headers, body, 403, "forbidden")


def test_a_restore_from_a_malformed_signed_url_fails_cleanly(sandbox: RunningSandbox, quiet: None) -> None:
    seed_app(sandbox, "shop")
    addon = seed_database(sandbox, "shop")
    url = f"{sandbox.url}/_sandbox/public/backups/{UUID}/x.dump?expires=%C2%B2&signature=%C3%A9"
    with sandbox.http() as http:
        response = http.post(f"/client/v11/databases/{addon['id']}/restores", json={"backup_url": url})
        assert response.status_code == 201, response.text
        path = f"/client/v11/apps/shop/transfers/{response.json()['uuid']}?verbose=true"
        for _attempt in range(200):
            restore = http.get(path).json()
            if restore["finished_at"]:
                break
            time.sleep(0.05)
    assert restore["succeeded"] is False
    assert any("403" in line["message"] for line in restore["logs"]), restore["logs"]


def patch_raw(
    sandbox: RunningSandbox, path: str, text: str, method: str = "PATCH"
) -> tuple[int, dict[str, str], bytes]:
    body = text.encode()
    head = (
        f"{method} {path} HTTP/1.1\r\nAuthorization: Bearer {sandbox.token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}"
    ).encode()
    return exchange(sandbox, head, body)


@pytest.mark.parametrize(
    "body",
    [
        '{"transfer_delay": Infinity}',
        '{"transfer_delay": -Infinity}',
        '{"transfer_delay": NaN}',
        '{"provision_delay": 1e999}',
        '{"follower_catchup": 1e300}',
        '{"release_phase_delay": 1e12}',
        '{"rate_limit_refill_per_minute": 1e300}',
        '{"rate_limit_capacity": ' + "9" * 400 + "}",
        '{"public_url_ttl": ' + "9" * 30 + "}",
        '{"page_size": ' + "9" * 400 + "}",
    ],
)
def test_admin_settings_that_are_not_finite_or_huge_are_refused(
    sandbox: RunningSandbox, quiet: None, body: str
) -> None:
    before = sandbox.admin("GET", "settings")
    status, headers, answer = patch_raw(sandbox, "/_sandbox/settings", body)
    heroku_error(status, headers, answer, 422, "invalid_params")
    assert sandbox.admin("GET", "settings") == before
    state_file = sandbox.state_dir / "state.json"
    stored = state_file.read_text() if state_file.exists() else ""
    assert "Infinity" not in stored and "NaN" not in stored
    with sandbox.http() as http:
        assert http.get("/account").status_code == 200  # and the sandbox still serves


@pytest.mark.parametrize("seconds", ["Infinity", "NaN", "1e999", "1e300", "9" * 400])
def test_clock_advance_that_is_not_finite_or_huge_is_refused(
    sandbox: RunningSandbox, quiet: None, seconds: str
) -> None:
    before = sandbox.admin("GET", "clock")["offset"]
    body = f'{{"seconds": {seconds}}}'
    status, headers, answer = patch_raw(sandbox, "/_sandbox/clock/advance", body, "POST")
    heroku_error(status, headers, answer, 422, "invalid_params")
    assert sandbox.admin("GET", "clock")["offset"] == before


def test_a_client_that_sends_headers_too_slowly_is_cut_off(sandbox: RunningSandbox, quiet: None) -> None:
    """One byte of header every 0.2 s keeps a server without a header timeout busy forever."""
    with socket.create_connection(("127.0.0.1", port(sandbox)), timeout=10) as sock:
        sock.sendall(b"GET /account HTTP/1.1\r\nHost: sandbox\r\n")
        closed = False
        for _byte in range(int(10 * HEADER_TIMEOUT / 0.2)):
            try:
                sock.sendall(b"X")
            except OSError:  # reset by the server
                closed = True
                break
            time.sleep(0.2)
            sock.setblocking(False)
            try:
                closed = sock.recv(1024) == b""
            except BlockingIOError:
                pass
            except OSError:
                closed = True
            sock.setblocking(True)
            if closed:
                break
    assert closed, "the server kept a connection whose headers never ended"


def test_the_next_request_on_a_kept_alive_connection_is_timed_too(
    sandbox: RunningSandbox, quiet: None
) -> None:
    request = f"GET /account HTTP/1.1\r\nHost: sandbox\r\nAuthorization: Bearer {sandbox.token}\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port(sandbox)), timeout=10) as sock:
        sock.sendall(request.encode())
        first = b""
        while not re.search(rb"\r\n\r\n\{.*\}$", first, re.S):  # the whole JSON answer
            first += sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200"), first[:100]
        sock.sendall(b"GET /account HTTP/1.1\r\n")  # and then nothing more
        sock.settimeout(10 * HEADER_TIMEOUT)
        assert sock.recv(1024) == b""


def test_clients_that_go_away_leave_no_traceback(sandbox: RunningSandbox, quiet: None) -> None:
    seed_app(sandbox, "shop")
    addon = seed_database(sandbox, "shop")
    auth = f"Authorization: Bearer {sandbox.token}\r\n"

    def hang_up(request: bytes, after: float, *, reset: bool = False) -> None:
        with socket.create_connection(("127.0.0.1", port(sandbox)), timeout=10) as sock:
            if reset:  # close with an RST rather than a FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.sendall(request)
            time.sleep(after)

    # The body breaks off halfway: an admin route, a Platform route, a Data API route.
    for method, path in (("PATCH", "/_sandbox/settings"), ("POST", "/apps"),
                         ("POST", f"/client/v11/databases/{addon['id']}/restores")):
        head = f"{method} {path} HTTP/1.1\r\nHost: s\r\n{auth}Content-Length: 5000\r\n\r\n{{\"na"
        for reset in (False, True):
            hang_up(head.encode(), 0.1, reset=reset)
    # Gone while an injected latency holds the answer back.
    fault = {"kind": "latency", "path": "^/account$", "latency": 0.5, "remaining": 1}
    sandbox.admin("POST", "faults", json=fault)
    hang_up(f"GET /account HTTP/1.1\r\nHost: s\r\n{auth}\r\n".encode(), 0.1)
    # Gone in the middle of a tailed log stream.
    with sandbox.http() as http:
        session = http.post("/apps/shop/log-sessions", json={"tail": True, "dyno": "postgres"}).json()
    stream = re.sub(r"^https?://[^/]+", "", session["logplex_url"])
    hang_up(f"GET {stream} HTTP/1.1\r\nHost: s\r\n\r\n".encode(), 0.5, reset=True)
    time.sleep(1.0)  # let the server notice every one of them
    with sandbox.http() as http:
        assert http.get("/account").status_code == 200


def test_every_setting_has_a_range() -> None:
    assert set(SETTING_BOUNDS) == {f.name for f in dataclasses.fields(Settings)}
