"""heroku_pg_slow_query_info ad hoc, against statements recorded in the sandbox (the scenario is the
ansible-test target targets/heroku_pg_slow_query_info: make ansible-integration)."""

from __future__ import annotations


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
