"""Bad input to every module, from one playbook (playbooks/bad_input) looping over this table, plus
a few ad-hoc ``ansible localhost -m`` calls. Each case must fail with a message naming what was
wrong (the app, database, backup or option), and nothing may change in the sandbox.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness import Ansible, sandbox_state, settled
from herokupg_sandbox.threaded import seed_app, seed_database

APP = "badmod"
OTHER = "badmod-other"
MODULE_FAILURE = ("Traceback", "MODULE FAILURE", "KeyError", "NoneType")

# module -> [(case name, module args, phrases the failure message must contain)]
CASES: dict[str, list[tuple[str, dict[str, Any], list[str]]]] = {
    "heroku_pg_info": [
        ("unknown database", {"database": "NOPE"}, ["NOPE", APP]),
        ("unknown app", {"app": "no-such-app"}, ["no-such-app"]),
        ("wrong api key", {"api_key": "hrku-wrong-key-0000"}, ["Invalid credentials", "unauthorized"]),
        ("negative timeout", {"timeout": -1}, ["timeout"]),
        ("negative retries", {"retries": -1}, ["retries"]),
        ("timeout of wrong type", {"timeout": "soon"}, ["timeout"]),
        ("ambiguous database", {"database": "AMBIG"}, ["AMBIG", "Ambiguous"]),
        ("unknown option", {"databse": "DATABASE"}, ["databse"]),
    ],
    "heroku_pg_follower": [
        ("unknown leader", {"name": "F2", "leader": "NOPE"}, ["NOPE", APP]),
        ("name and count", {"name": "F2", "count": 2}, ["name", "count"]),
        ("negative count", {"count": -1}, ["count"]),
        ("bad attachment name", {"name": "bad name!"}, ["bad name!"]),
        ("invalid plan", {"name": "F2", "plan": "galactic-9"}, ["galactic-9"]),
        ("negative wait_timeout", {"name": "F2", "wait_timeout": -5}, ["wait_timeout", "-5"]),
        ("zero poll_interval", {"name": "F2", "poll_interval": 0}, ["poll_interval"]),
        ("negative max_lag", {"name": "F2", "max_lag": -1}, ["max_lag"]),
        ("count of wrong type", {"count": "three"}, ["count"]),
        ("absent without name", {"count": 1, "state": "absent"}, ["name"]),
    ],
    "heroku_pg_fork": [
        ("unknown source", {"name": "COPY", "source": "NOPE"}, ["NOPE", APP]),
        ("bad point in time", {"name": "COPY", "to": "yesterday-ish"}, ["yesterday-ish"]),
        ("bad rollback interval", {"name": "COPY", "by": "forever"}, ["forever"]),
        ("fast with to", {"name": "COPY", "fast": True, "to": "2024-01-01T00:00:00Z"}, ["fast", "to"]),
        ("invalid plan", {"name": "COPY", "plan": "galactic-9"}, ["galactic-9"]),
    ],
    "heroku_pg_promote": [
        ("without confirm", {"database": "REPLICA"}, ["confirm", APP]),
        ("confirm of another app", {"database": "REPLICA", "confirm": OTHER}, ["confirm", APP]),
        ("unknown database", {"database": "NOPE", "confirm": APP}, ["NOPE", APP]),
    ],
    "heroku_pg_backup": [
        ("id with traversal", {"id": "../../etc/passwd", "url": True}, ["../../etc/passwd"]),
        ("id b001/../../x", {"id": "b001/../../x", "url": True}, ["b001/../../x"]),
        ("id %2e%2e", {"id": "%2e%2e", "url": True}, ["%2e%2e"]),
        ("unknown backup", {"id": "b099", "url": True}, ["b099", APP]),
        ("bad max_age", {"max_age": "forever"}, ["forever"]),
        ("delete without confirm", {"state": "absent", "id": "b001"}, ["confirm"]),
        ("delete with wrong confirm", {"state": "absent", "id": "b001", "confirm": OTHER}, ["confirm", APP]),
        ("delete with traversal", {"state": "absent", "id": "b001/../b001", "confirm": APP}, ["b001/../b001"]),
        ("unknown database", {"database": "NOPE", "max_age": "1h"}, ["NOPE", APP]),
        ("negative wait_timeout", {"max_age": "1h", "wait_timeout": -1}, ["wait_timeout"]),
    ],
    "heroku_pg_backup_info": [
        ("unknown database", {"database": "NOPE"}, ["NOPE", APP]),
        ("bad kind", {"kind": "weird"}, ["kind", "weird"]),
        ("unknown app", {"app": "no-such-app"}, ["no-such-app"]),
    ],
    "heroku_pg_backup_schedule": [
        ("hour 25", {"at": "25:00 UTC"}, ["25:00"]),
        ("unknown timezone", {"at": "02:00 Mars/Olympus_Mons"}, ["Mars/Olympus_Mons"]),
        ("not a time", {"at": "soon"}, ["soon"]),
        ("present without at", {}, ["at"]),
        ("unknown database", {"database": "NOPE", "at": "02:00 UTC"}, ["NOPE", APP]),
    ],
    "heroku_pg_restore": [
        ("without confirm", {"backup": "b001"}, ["confirm", APP]),
        ("confirm of another app", {"backup": "b001", "confirm": OTHER}, ["confirm", APP]),
        ("backup with traversal", {"backup": "../../etc/passwd", "confirm": APP}, ["../../etc/passwd"]),
        ("unknown backup", {"backup": "b099", "confirm": APP}, ["b099"]),
        ("negative wait_timeout", {"backup": "b001", "confirm": APP, "wait_timeout": -5}, ["wait_timeout"]),
        ("into a follower", {"database": "REPLICA", "backup": "b001", "confirm": APP}, ["REPLICA"]),
    ],
    "heroku_pg_settings": [
        ("unknown setting", {"settings": {"shared_buffers": "1TB"}}, ["shared_buffers"]),
        ("wrong value type", {"settings": {"log_min_duration_statement": "fast"}}, ["log_min_duration_statement"]),
        ("unknown database", {"database": "NOPE", "settings": {"log_lock_waits": True}}, ["NOPE", APP]),
    ],
    "heroku_pg_outliers_info": [
        ("zero top", {"top": 0}, ["top"]),
        ("unknown database", {"database": "NOPE"}, ["NOPE", APP]),
    ],
    "heroku_pg_slow_query_info": [
        ("zero lines", {"lines": 0}, ["lines"]),
        ("zero top", {"top": 0}, ["top"]),
        ("negative threshold", {"threshold": -1}, ["threshold"]),
        ("unknown database", {"database": "NOPE"}, ["NOPE", APP]),
    ],
}


def _resources(ansible: Ansible) -> dict[str, Any]:
    state = sandbox_state(ansible.sandbox)
    keys = ("apps", "addons", "attachments", "releases", "transfers", "schedules", "settings", "faults")
    return {key: state[key] for key in keys}


def _seed(ansible: Ansible) -> None:
    sandbox = ansible.sandbox
    seed_app(sandbox, APP)
    seed_app(sandbox, OTHER)
    db = seed_database(sandbox, APP)
    seed_database(sandbox, APP, attachment="REPLICA", config={"follow": "DATABASE_URL"})
    seed_database(sandbox, APP, attachment="AMBIG")
    with sandbox.http() as http:  # an add-on *named* AMBIG, attached under another name
        body = {"plan": {"name": "heroku-postgresql:standard-0"}, "name": "AMBIG", "attachment": {"name": "SPARE"}}
        http.post(f"/apps/{APP}/addons", json=body).raise_for_status()
        http.post(f"/client/v11/databases/{db['id']}/backups").raise_for_status()
    settled(sandbox)


def test_every_module_rejects_bad_input(ansible: Ansible, tmp_path: Path) -> None:
    _seed(ansible)
    before = _resources(ansible)
    results_file = tmp_path / "results.json"
    cases = {
        module: [{"name": name, "args": args} for name, args, _says in table] for module, table in CASES.items()
    }
    run = ansible.playbook(
        "bad_input/main.yml", extra_vars={"app": APP, "cases": cases, "results_file": str(results_file)}
    )
    run.assert_ok()
    assert _resources(ansible) == before
    with ansible.sandbox.http() as http:
        assert http.get("/_sandbox/public/health").status_code == 200

    results = json.loads(results_file.read_text())
    problems = []
    for module, table in CASES.items():
        by_name = {r["item"]["name"]: r for r in results[module]}
        for name, _args, says in table:
            result = by_name[name]
            msg = str(result.get("msg", ""))
            missing = [phrase for phrase in says if phrase.lower() not in msg.lower()]
            crashed = [marker for marker in MODULE_FAILURE if marker in json.dumps(result)]
            if not result.get("failed") or missing or crashed or result.get("changed"):
                problems.append(f"{module} / {name}: failed={result.get('failed')} changed={result.get('changed')} "
                                f"missing={missing} crashed={crashed}: {msg[:300]}")
    total = sum(len(table) for table in CASES.values())
    print(f"\n{total} bad module inputs checked, {len(problems)} problems")
    assert not problems, "\n".join(problems)


def test_ad_hoc_bad_input(ansible: Ansible) -> None:
    """The same path as a user typing ``ansible localhost -m ...``: a few cases end to end."""
    _seed(ansible)
    before = _resources(ansible)
    for module, args, says in (
        ("heroku_pg_restore", f"app={APP} backup=b001", ["confirm", APP]),
        ("heroku_pg_backup_schedule", f"app={APP} at='25:00 UTC'", ["25:00"]),
        ("heroku_pg_follower", f"app={APP} name=F2 wait_timeout=-1", ["wait_timeout"]),
    ):
        run = ansible.module(module, args)
        assert run.returncode != 0, run.output
        assert all(phrase.lower() in run.output.lower() for phrase in says), run.output
        assert "Traceback" not in run.output and ansible.sandbox.token not in run.output
    assert _resources(ansible) == before
