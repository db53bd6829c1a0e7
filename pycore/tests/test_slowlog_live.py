"""The report through real log sessions: a threaded sandbox, statements recorded via its admin route."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from herokupg_sandbox.threaded import RunningSandbox
from sandbox_helpers import create_app, create_db

from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient
from herokupg.errors import NotFoundError
from herokupg.ops.base import Context
from herokupg.ops.slow_queries import slow_query_report
from herokupg.slowlog.source import stream_log_lines

RECORDED = [
    ("SELECT *\nFROM users\nWHERE id = 42", 2405.887),
    ("SELECT *\n  FROM users\n WHERE id = 7", 3100.0),
    ("select * from users where id = 9", 2200.5),
    ("UPDATE carts SET total = 10\nWHERE id IN (1, 2, 3)", 5000.25),
    ("SELECT pg_sleep(1)", 1500.0),  # under the default 2000 ms: never logged
]


def record(c: httpx.Client, addon_id: str, sql: str, ms: float) -> bool:
    r = c.post(f"/_sandbox/databases/{addon_id}/statements", json={"sql": sql, "duration_ms": ms})
    assert r.status_code == 201, r.text
    logged: bool = r.json()["logged"]
    return logged


@pytest.fixture
def seeded(sandbox: RunningSandbox) -> RunningSandbox:
    with sandbox.http() as c:
        create_app(c, "slowapp")
        db = create_db(c, "slowapp", "standard-0")
        other = create_db(c, "slowapp", "standard-0", attachment={"name": "HEROKU_POSTGRESQL_PINK"})
        logged = [record(c, db["id"], sql, ms) for sql, ms in RECORDED]
        assert logged == [True, True, True, True, False]
        assert record(c, other["id"], "DELETE FROM sessions WHERE id = 1", 9000.0)
    return sandbox


def context(sb: RunningSandbox) -> Context:
    return Context(api=HerokuAPI(HerokuClient(sb.token, api_url=sb.url)))


def test_report_through_a_log_session(seeded: RunningSandbox) -> None:
    result = slow_query_report(context(seeded), "slowapp")
    assert result.changed is False and result.requests == []
    queries = {q["query"]: q for q in result.data["queries"]}
    assert set(queries) == {
        "delete from sessions where id = ?",
        "update carts set total = ? where id in (...)",
        "select * from users where id = ?",
    }
    users = queries["select * from users where id = ?"]
    assert users["count"] == 3 and users["total_ms"] == pytest.approx(2405.887 + 3100.0 + 2200.5)
    assert (users["min_ms"], users["max_ms"], users["p50_ms"]) == (2200.5, 3100.0, 2405.887)
    assert users["example"] == "SELECT *\n  FROM users\n WHERE id = ?"
    assert result.data["queries"][0]["query"] == "delete from sessions where id = ?"
    summary = result.data["summary"]
    assert summary["queries"] == 5 and summary["malformed_lines"] == 0
    assert summary["total_ms"] == pytest.approx(2405.887 + 3100.0 + 2200.5 + 5000.25 + 9000.0)


def test_database_filter_threshold_and_values(seeded: RunningSandbox) -> None:
    ctx = context(seeded)
    result = slow_query_report(
        ctx, "slowapp", "DATABASE_URL", threshold_ms=3000, show_values=True, sort="count"
    )
    rows = result.data["queries"]
    assert [(q["query"], q["count"]) for q in rows] == [
        ("select * from users where id = ?", 1), ("update carts set total = ? where id in (...)", 1),
    ] or [(q["query"], q["count"]) for q in rows] == [
        ("update carts set total = ? where id in (...)", 1), ("select * from users where id = ?", 1),
    ]
    assert {q["example"] for q in rows} == {"SELECT *\n  FROM users\n WHERE id = 7", RECORDED[3][0]}
    assert result.data["database"]["config_var"] == "DATABASE_URL"
    pink = slow_query_report(ctx, "slowapp", "HEROKU_POSTGRESQL_PINK", top=1)
    assert [q["count"] for q in pink.data["queries"]] == [1]
    assert pink.data["queries"][0]["query"] == "delete from sessions where id = ?"
    with pytest.raises(NotFoundError):
        slow_query_report(ctx, "ghost")
    with pytest.raises(ValueError, match="lines"):
        slow_query_report(ctx, "slowapp", lines=0)


def test_stream_sends_no_credentials_and_honours_lines(seeded: RunningSandbox) -> None:
    lines = list(stream_log_lines(context(seeded).api, "slowapp", lines=2))
    assert len(lines) == 2 and all("app[postgres." in line for line in lines)
    assert seeded.token not in "".join(lines)


def test_cli_against_the_sandbox(seeded: RunningSandbox, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEROKU_")}
    env.update(HEROKU_API_URL=seeded.url, HEROKU_API_KEY=seeded.token, HOME=str(tmp_path))
    cmd = [sys.executable, "-m", "herokupg.cli", "slow-queries", "-a", "slowapp", "--format", "json"]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["summary"]["queries"] == 5 and len(data["queries"]) == 3
    assert seeded.token not in run.stdout + run.stderr
    # --tail, bounded by --duration: the backlog, then the stream until the deadline
    tail = subprocess.run(
        [*cmd, "--tail", "--duration", "1.5", "--interval", "0.5"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert tail.returncode == 0, tail.stderr
    assert json.loads(tail.stdout)["summary"]["queries"] == 5
    bad = subprocess.run(
        [*cmd[:4], "-a", "ghost"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert bad.returncode == 1 and "Couldn't find that app" in bad.stderr
