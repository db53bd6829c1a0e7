"""Log sessions and the Server-Sent Events stream of Postgres logs (`heroku logs -p postgres`)."""

from __future__ import annotations

import re
import threading
from typing import Any

import httpx
from herokupg_sandbox.threaded import RunningSandbox
from sandbox_helpers import assert_error, create_app, create_db, state

LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 app\[(?P<proc>[\w.-]+)\]: (?P<rest>.*)$"
)


def session(c: httpx.Client, app: str, **body: Any) -> dict[str, Any]:
    r = c.post(f"/apps/{app}/log-sessions", json=body,
               headers={"Accept": "application/vnd.heroku+json; version=3.sdk"})
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def read_all(url: str) -> list[str]:
    with httpx.Client(timeout=10) as anonymous, anonymous.stream("GET", url) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        return [line.removeprefix("data: ") for line in r.iter_lines() if line.startswith("data: ")]


def statement(c: httpx.Client, addon_id: str, sql: str, ms: float) -> bool:
    r = c.post(f"/_sandbox/databases/{addon_id}/statements", json={"sql": sql, "duration_ms": ms})
    assert r.status_code == 201, r.text
    logged: bool = r.json()["logged"]
    return logged


def test_slow_statements_stream_in_heroku_format_with_continuation_lines(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "logs-app")
        db = create_db(c, "logs-app")
        assert statement(c, db["id"], "SELECT 1", 12.5) is False
        assert statement(c, db["id"], "SELECT *\nFROM users\nWHERE id = 42", 2405.887) is True

        created = session(c, "logs-app", dyno="postgres", lines=100, tail=False)
        assert set(created) >= {"id", "logplex_url", "created_at", "updated_at"}
        assert created["logplex_url"].startswith(sandbox.url + "/_sandbox/public/logs/")
        lines = read_all(created["logplex_url"])
        assert len(lines) == 3
        parsed = [LINE.match(line) for line in lines]
        assert all(parsed) and {m["proc"].split(".")[0] for m in parsed if m} == {"postgres"}
        rests = [m["rest"] for m in parsed if m]
        assert re.fullmatch(
            r"\[DATABASE\] \[(\d+)-1\]  sql_error_code = 00000 LOG:  "
            r"duration: 2405\.887 ms  statement: SELECT \*",
            rests[0],
        )
        seq = re.search(r"\[(\d+)-1\]", rests[0])
        assert seq is not None
        assert rests[1] == f"[DATABASE] [{seq[1]}-2] FROM users"
        assert rests[2] == f"[DATABASE] [{seq[1]}-3] WHERE id = 42"

        # the threshold follows pg:settings
        r = c.patch(f"/postgres/v0/databases/{db['id']}/config", json={"log_min_duration_statement": 100})
        assert r.status_code == 200
        assert statement(c, db["id"], "SELECT pg_sleep(0.15)", 150) is True
        lines = read_all(session(c, "logs-app", dyno="postgres", lines=1)["logplex_url"])
        assert len(lines) == 1 and "duration: 150.000 ms  statement: SELECT pg_sleep(0.15)" in lines[0]

        metrics = read_all(session(c, "logs-app", dyno="heroku-postgres")["logplex_url"])
        assert len(metrics) == 1
        sample = r"app\[heroku-postgres\]: source=DATABASE addon=\S+ sample#current_transaction="
        assert re.search(sample, metrics[0])
        assert read_all(session(c, "logs-app", dyno="web")["logplex_url"]) == []


def test_tail_streams_new_lines_until_the_client_leaves(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "tail-app")
        db = create_db(c, "tail-app", attach_as="HEROKU_POSTGRESQL_PINK")
        statement(c, db["id"], "SELECT 'old'", 5000)
        url = session(c, "tail-app", dyno="postgres", tail=True, lines=10)["logplex_url"]
        seen: list[str] = []
        with httpx.Client(timeout=10) as anonymous, anonymous.stream("GET", url) as r:
            lines = r.iter_lines()
            for line in lines:
                if line.startswith("data: "):
                    seen.append(line)
                    break
            threading.Timer(0.3, lambda: statement(c, db["id"], "SELECT 'new'", 3000)).start()
            for line in lines:
                if line.startswith("data: "):
                    seen.append(line)
                    break
        assert "[PINK]" in seen[0] and "SELECT 'old'" in seen[0]
        assert "SELECT 'new'" in seen[1]


def test_bad_sessions_and_tokens(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "lbad")
        before = state(c)
        assert_error(c.post("/apps/lbad/log-sessions", json={"lines": 0}), 422, "invalid_params", "lines")
        assert_error(c.post("/apps/lbad/log-sessions", json={"tail": "yes"}), 422, "invalid_params", "tail")
        assert_error(c.post("/apps/nope/log-sessions", json={}), 404, "not_found")
        assert state(c) == before
        url = session(c, "lbad", dyno_name="postgres")["logplex_url"]
        with httpx.Client(timeout=10) as anonymous:
            assert anonymous.get(re.sub(r"token=[^&]+", "token=forged", url)).status_code == 403
            assert anonymous.get(url.split("?")[0]).status_code == 403
            assert anonymous.get(url).status_code == 200
