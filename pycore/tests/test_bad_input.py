"""Bad input to the sandbox's HTTP API and to the ``herokupg`` CLI, table-driven.

Every case must get a clear error (status + Heroku error id for the API; a message naming what
was wrong and exit status 1/2 for the CLI), change nothing (the admin state dump is compared
before and after), and leave the sandbox serving (a health request after each).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from herokupg_sandbox.threaded import RunningSandbox, ThreadedSandbox
from sandbox_helpers import create_app, create_db, snapshot

from herokupg.cli import main

APP = "badinput"
OTHER = "badother"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str  # sent as is (no normalisation): "{db}", "{uuid}", "{sig}" are filled in
    status: int
    error_id: str
    body: bytes | None = None
    json_body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    auth: str | None = "token"  # "token", None (no Authorization), or a literal header value

    def __str__(self) -> str:
        return self.name


TRANSFERS = f"/client/v11/apps/{APP}/transfers"
HTML_404 = "<h1>Not Found</h1>"  # the Data API's answer to an unknown database id, as recorded
SCHEDULES = "/client/v11/databases/{db}/transfer-schedules"
DOWNLOAD = "/_sandbox/public/backups"
NESTED = b"[" * 100_000 + b"]" * 100_000  # under 1 MiB, deeper than any JSON parser's recursion

CASES = [
    Case("malformed JSON", "POST", "/apps", 400, "bad_request", body=b'{"name": '),
    Case("JSON array body", "POST", "/apps", 400, "bad_request", body=b'["name"]'),
    Case("JSON string body", "POST", "/apps", 400, "bad_request", body=b'"x"'),
    Case("invalid UTF-8", "POST", "/apps", 400, "bad_request", body=b'{"name": "\xff\xfe"}'),
    Case("deeply nested JSON", "POST", "/apps", 400, "bad_request", body=NESTED),
    Case(
        "body over 1 MiB", "POST", "/apps", 413, "request_too_large", body=b'{"name": "' + b"a" * MIB + b'"}'
    ),
    Case("app name of wrong type", "POST", "/apps", 422, "invalid_params", json_body={"name": 42}),
    Case("app name traversal", "POST", "/apps", 422, "invalid_params", json_body={"name": "../../etc"}),
    Case("duplicate app name", "POST", "/apps", 422, "invalid_params", json_body={"name": APP}),
    Case("unknown app", "GET", "/apps/no-such-app", 404, "not_found"),
    Case("unknown app, encoded traversal", "GET", f"/apps/{APP}%2F..%2F{OTHER}", 404, "not_found"),
    Case("unknown database", "GET", "/client/v11/databases/no-such-db", 404, HTML_404),
    Case(
        "invalid plan",
        "POST",
        f"/apps/{APP}/addons",
        422,
        "invalid_params",
        json_body={"plan": {"name": "heroku-postgresql:galactic-9"}},
    ),
    Case("plan of wrong type", "POST", f"/apps/{APP}/addons", 422, "invalid_params", json_body={"plan": 5}),
    Case(
        "add-on for unknown app",
        "POST",
        "/apps/no-such-app/addons",
        404,
        "not_found",
        json_body={"plan": {"name": "heroku-postgresql:standard-0"}},
    ),
    Case(
        "add-on resolve without addon",
        "POST",
        "/actions/addons/resolve",
        422,
        "invalid_params",
        json_body={"app": APP, "addon": ["REPLICA"]},
    ),
    Case(
        "config var of wrong type",
        "PATCH",
        f"/apps/{APP}/config-vars",
        422,
        "invalid_params",
        json_body={"FOO": {"nested": True}},
    ),
    Case("bad token", "GET", f"/apps/{APP}", 401, "unauthorized", auth="Bearer not-the-token"),
    Case("no token", "GET", f"/apps/{APP}", 401, "unauthorized", auth=None),
    Case("bad basic auth", "GET", f"/apps/{APP}", 401, "unauthorized", auth="Basic !!notbase64!!"),
    Case("bad token on a write", "DELETE", f"/apps/{APP}", 401, "unauthorized", auth="Bearer x"),
    Case("garbage Range", "GET", f"/apps/{APP}/releases", 400, "bad_request", headers={"Range": "bogus"}),
    Case(
        "Range max 0",
        "GET",
        f"/apps/{APP}/releases",
        400,
        "bad_request",
        headers={"Range": "version ..; max=0"},
    ),
    Case("Range max huge", "GET", "/apps", 400, "bad_request", headers={"Range": "name ..; max=99999999"}),
    Case("Range bad order", "GET", "/apps", 400, "bad_request", headers={"Range": "name ..; order=sideways"}),
    Case("Range unknown field", "GET", "/apps", 400, "bad_request", headers={"Range": "password ..; max=10"}),
    Case(
        "Range non-numeric start",
        "GET",
        f"/apps/{APP}/releases",
        400,
        "bad_request",
        headers={"Range": "version abc..; max=10"},
    ),
    Case("backup name traversal", "GET", TRANSFERS + "/..%2F..%2Fetc%2Fpasswd", 404, "not_found"),
    Case("backup name b001/../../x", "GET", TRANSFERS + "/b001%2F..%2F..%2Fx", 404, "not_found"),
    Case("backup name %2e%2e", "DELETE", TRANSFERS + "/%2e%2e", 404, "not_found"),
    Case("public URL of unknown backup", "POST", TRANSFERS + "/b999/actions/public-url", 404, "not_found"),
    # %2F is decoded before routing: no route matches, nothing under the state dir is served
    Case(
        "download, traversal in file",
        "GET",
        DOWNLOAD + "/{uuid}/..%2F..%2Fstate.json?expires=1&signature=x",
        404,
        "not_found",
        auth=None,
    ),
    Case(
        "download, traversal in uuid",
        "GET",
        DOWNLOAD + "/..%2F..%2Ftoken/x.dump?{sig}",
        404,
        "not_found",
        auth=None,
    ),
    Case("download, %2e%2e as uuid", "GET", DOWNLOAD + "/%2e%2e/token?{sig}", 403, "forbidden", auth=None),
    Case(
        "download, bad signature",
        "GET",
        DOWNLOAD + "/{uuid}/x.dump?expires=99999999999&signature=00",
        403,
        "forbidden",
        auth=None,
    ),
    Case(
        "download, expired",
        "GET",
        DOWNLOAD + "/{uuid}/x.dump?expires=1&signature=00",
        403,
        "forbidden",
        auth=None,
    ),
    Case(
        "download, non-numeric expires",
        "GET",
        DOWNLOAD + "/{uuid}/x.dump?expires=soon&signature=00",
        403,
        "forbidden",
        auth=None,
    ),
    Case(
        "restore from file URL",
        "POST",
        "/client/v11/databases/{db}/restores",
        400,
        "bad_request",
        json_body={"backup_url": "file:///etc/passwd"},
    ),
    Case(
        "restore without backup_url",
        "POST",
        "/client/v11/databases/{db}/restores",
        400,
        "bad_request",
        json_body={},
    ),
    Case("capture on unknown database", "POST", "/client/v11/databases/no-such-db/backups", 404, HTML_404),
    Case(
        "schedule at hour 25",
        "POST",
        SCHEDULES,
        400,
        "bad_request",
        json_body={"hour": 25, "timezone": "UTC", "schedule_name": "DATABASE_URL"},
    ),
    Case(
        "schedule hour as text",
        "POST",
        SCHEDULES,
        400,
        "bad_request",
        json_body={"hour": "25:00", "timezone": "UTC", "schedule_name": "DATABASE_URL"},
    ),
    Case(
        "schedule unknown timezone",
        "POST",
        SCHEDULES,
        400,
        "bad_request",
        json_body={"hour": 2, "timezone": "Mars/Olympus_Mons", "schedule_name": "DATABASE_URL"},
    ),
    Case(
        "pg setting unknown",
        "PATCH",
        "/postgres/v0/databases/{db}/config",
        422,
        "invalid_params",
        json_body={"shared_buffers": "1TB"},
    ),
    Case(
        "pg setting wrong type",
        "PATCH",
        "/postgres/v0/databases/{db}/config",
        422,
        "invalid_params",
        json_body={"log_min_duration_statement": "fast"},
    ),
    Case(
        "log session, negative lines",
        "POST",
        f"/apps/{APP}/log-sessions",
        422,
        "invalid_params",
        json_body={"lines": -1},
    ),
    Case(
        "log session, lines as text",
        "POST",
        f"/apps/{APP}/log-sessions",
        422,
        "invalid_params",
        json_body={"lines": "many"},
    ),
    Case(
        "log session, too many lines",
        "POST",
        f"/apps/{APP}/log-sessions",
        422,
        "invalid_params",
        json_body={"lines": 100_000},
    ),
    Case(
        "log session, tail not boolean",
        "POST",
        f"/apps/{APP}/log-sessions",
        422,
        "invalid_params",
        json_body={"tail": "yes"},
    ),
    Case(
        "log stream, wrong token",
        "GET",
        "/_sandbox/public/logs/no-such-session?token=x",
        403,
        "forbidden",
        auth=None,
    ),
    Case("unknown route", "GET", "/apps/../../etc/passwd", 404, "not_found"),
    Case("wrong verb", "PUT", "/apps", 404, "not_found", json_body={}),
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningSandbox, dict[str, str]]]:
    """One sandbox for the whole table: two apps, three databases, a finished backup."""
    with ThreadedSandbox(tmp_path_factory.mktemp("bad-input")) as sb, sb.http() as http:
        create_app(http, APP)
        create_app(http, OTHER)
        db = create_db(http, APP)
        create_db(http, APP, attachment={"name": "REPLICA"})
        create_db(http, APP, name="REPLICA", attachment={"name": "SPARE"})  # "REPLICA" is now ambiguous
        create_db(http, OTHER)
        captured = http.post(f"/client/v11/databases/{db['id']}/backups")
        assert captured.status_code == 201, captured.text
        transfer = captured.json()
        for _ in range(200):
            if http.get(f"{TRANSFERS}/{transfer['num']}").json().get("finished_at"):
                break
        signed = http.post(f"{TRANSFERS}/{transfer['num']}/actions/public-url").json()["url"]
        yield sb, {"db": db["id"], "uuid": transfer["uuid"], "sig": signed.split("?", 1)[1]}


def _send(sb: RunningSandbox, case: Case, values: dict[str, str]) -> httpx.Response:
    headers = {"Accept": "application/vnd.heroku+json; version=3", **case.headers}
    if case.auth == "token":
        headers["Authorization"] = f"Bearer {sb.token}"
    elif case.auth is not None:
        headers["Authorization"] = case.auth
    content = case.body if case.json_body is None else json.dumps(case.json_body).encode()
    if content is not None:
        headers["Content-Type"] = "application/json"
    path = case.path.format(**values) if "{" in case.path else case.path
    with httpx.Client(timeout=30) as client:
        request = client.build_request(case.method, sb.url, headers=headers, content=content)
        request.url = request.url.copy_with(raw_path=path.encode())  # no client-side normalisation
        return client.send(request)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_api_rejects_bad_input(seeded: tuple[RunningSandbox, dict[str, str]], case: Case) -> None:
    sb, values = seeded
    before = snapshot(sb)
    response = _send(sb, case, values)
    try:
        body = response.json()
    except ValueError:
        body = {"unparsed": response.text[:300]}
    if case.error_id == HTML_404:
        assert (response.status_code, response.text) == (case.status, HTML_404)
    else:
        assert (response.status_code, body.get("id")) == (case.status, case.error_id), body
        assert isinstance(body.get("message"), str) and body["message"], body
    assert sb.token not in response.text
    assert snapshot(sb) == before
    with sb.http() as http:
        assert http.get("/_sandbox/public/health").status_code == 200


# -- the herokupg CLI ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CliCase:
    name: str
    argv: list[str]
    code: int
    says: str  # a phrase the error must contain (case-insensitive)

    def __str__(self) -> str:
        return self.name


CLI_CASES = [
    CliCase("no app nor file", ["slow-queries"], 2, "one of the arguments"),
    CliCase("lines not a number", ["slow-queries", "-a", APP, "--lines", "lots"], 2, "--lines"),
    CliCase("lines 0", ["slow-queries", "-a", APP, "--lines", "0"], 2, "lines"),
    CliCase("lines too many", ["slow-queries", "-a", APP, "--lines", "1501"], 2, "lines"),
    CliCase("negative threshold", ["slow-queries", "-a", APP, "--threshold", "-5"], 2, "threshold"),
    CliCase("top 0", ["slow-queries", "-a", APP, "--top", "0"], 2, "top"),
    CliCase("bad sort", ["slow-queries", "-a", APP, "--sort", "random"], 2, "--sort"),
    CliCase("duration without tail", ["slow-queries", "-a", APP, "--duration", "5"], 2, "--tail"),
    CliCase(
        "missing file", ["slow-queries", "--file", "/nonexistent/heroku.log"], 1, "/nonexistent/heroku.log"
    ),
    CliCase("unknown app", ["slow-queries", "-a", "no-such-app"], 1, "no-such-app"),
    CliCase("unknown database", ["slow-queries", "-a", APP, "--database", "NOPE_URL"], 1, "NOPE"),
    CliCase("ambiguous database", ["slow-queries", "-a", APP, "--database", "REPLICA"], 1, "ambiguous"),
    CliCase(
        "unknown engine", ["sandbox", "serve", "--engine", "mongodb", "--state-dir", "{tmp}/s"], 2, "mongodb"
    ),
    CliCase("unknown subcommand", ["restore-everything"], 2, "invalid choice"),
]


@pytest.mark.parametrize("case", CLI_CASES, ids=str)
def test_cli_rejects_bad_input(
    seeded: tuple[RunningSandbox, dict[str, str]],
    case: CliCase,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sb, _ = seeded
    monkeypatch.setenv("HEROKU_API_URL", sb.url)
    monkeypatch.setenv("HEROKU_API_KEY", sb.token)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("HEROKU_DATA_API_URL", raising=False)
    monkeypatch.delenv("HEROKUPG_SANDBOX_PORT", raising=False)
    before = snapshot(sb)
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in case.argv]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert code == case.code, out + err
    assert case.says.lower() in err.lower(), err
    assert "Traceback" not in err and sb.token not in out + err
    assert {k: v for k, v in snapshot(sb).items() if k != "log_sessions"} == {
        k: v for k, v in before.items() if k != "log_sessions"
    }
    with sb.http() as http:
        assert http.get("/_sandbox/public/health").status_code == 200


# -- a refused write is not a change --------------------------------------------------------------


def test_a_write_the_api_refused_does_not_count_as_changed() -> None:
    from herokupg.errors import APIError, ConnectionFailedError
    from herokupg.ops.base import Context, PlannedRequest, Result

    def refuse(status: int | None) -> Any:
        raise APIError("refused", status=status)

    def lose() -> Any:
        raise ConnectionFailedError("lost", method="POST", url="/x", may_have_applied=True)

    planned = PlannedRequest("POST", "/apps/x/addons", None, "create")
    for send, wrote in (
        (lambda: refuse(422), False),
        (lambda: refuse(429), False),
        (lambda: refuse(503), True),
        (lose, True),
    ):
        ctx = Context(api=None, check_mode=False)  # type: ignore[arg-type]
        with pytest.raises((APIError, ConnectionFailedError)):
            ctx.write(Result(), planned, send)
        assert ctx.wrote is wrote
