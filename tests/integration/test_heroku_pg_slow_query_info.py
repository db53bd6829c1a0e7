"""heroku_pg_slow_query_info from a playbook and ad hoc, against statements recorded in the sandbox."""

from __future__ import annotations

from typing import Any

from harness import Ansible
from herokupg_sandbox.threaded import seed_app, seed_database

# (sql, duration_ms): the sandbox logs those of at least 2000 ms (its default threshold)
RECORDED = [
    ("SELECT *\nFROM users\nWHERE id = 42", 2405.887),
    ("SELECT * FROM users WHERE id = 7", 3100.0),
    ("select *\n  from users\n where id = 9", 2600.5),
    ("UPDATE carts SET total = 10\nWHERE id IN (1, 2, 3)", 5000.25),
    ("SELECT 1", 10.0),
]


def record(ansible: Ansible, addon_id: str) -> None:
    with ansible.sandbox.http() as c:
        for sql, ms in RECORDED:
            r = c.post(f"/_sandbox/databases/{addon_id}/statements", json={"sql": sql, "duration_ms": ms})
            assert r.status_code == 201, r.text


def test_slow_query_info_playbook(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "slowapp")
    db = seed_database(ansible.sandbox, "slowapp")
    other = seed_database(ansible.sandbox, "slowapp", attachment="REPLICA")
    record(ansible, db["id"])
    with ansible.sandbox.http() as c:  # the other database's statement must stay out of `database:` runs
        r = c.post(f"/_sandbox/databases/{other['id']}/statements",
                   json={"sql": "SELECT * FROM users WHERE id = 1", "duration_ms": 2100.0})
        assert r.status_code == 201
    users = [ms for sql, ms in RECORDED if "users" in sql.lower()]
    expected: dict[str, Any] = {
        "app": "slowapp",
        "expected_queries": 5,
        "expected_fingerprints": 2,
        "expected_top": {
            "query": "select * from users where id = ?",
            "count": 4,
            "total_ms": sum(users) + 2100.0,
            "max_ms": 3100.0,
            "count_over_2500": 2,
        },
    }
    run = ansible.playbook("heroku_pg_slow_query_info/main.yml", extra_vars=expected)
    run.assert_ok()
    assert ansible.sandbox.token not in run.output


def test_slow_query_info_ad_hoc(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "adhocslow")
    db = seed_database(ansible.sandbox, "adhocslow")
    record(ansible, db["id"])
    run = ansible.module("heroku_pg_slow_query_info", "app=adhocslow top=1 sort=max")
    run.assert_ok()
    assert '"query": "update carts set total = ? where id in (...)"' in run.output
    assert '"changed": false' in run.output
    assert ansible.sandbox.token not in run.output


def test_slow_query_info_unknown_app(ansible: Ansible) -> None:
    run = ansible.module("heroku_pg_slow_query_info", "app=ghost")
    assert run.returncode != 0
    assert "Couldn't find that app" in run.output and "ghost" in run.output
