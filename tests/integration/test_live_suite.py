"""make test-live's own tests, run against a sandbox standing in for Heroku: the read-only and
write sets pass, the cost is printed before anything is created, and without a key or an app
every test is skipped with the reason."""

from __future__ import annotations

import os
import subprocess
import sys

from harness import ROOT
from herokupg_sandbox.threaded import RunningSandbox, seed_app, seed_database


def run_live(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("HEROKU_")}
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(ROOT),
        "-rs",
        "tests/live",
    ]
    return subprocess.run(
        cmd,
        cwd=ROOT,
        env={**base, "HEROKU_LIVE": "1", **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_read_and_write_sets_pass_and_print_the_cost_first(sandbox: RunningSandbox) -> None:
    seed_app(sandbox, "shop")
    database = seed_database(sandbox, "shop")
    with sandbox.http() as http:
        http.post(
            f"/client/v11/databases/{database['id']}/transfer-schedules",
            json={"hour": "02", "timezone": "UTC", "schedule_name": "DATABASE_URL"},
        ).raise_for_status()
    result = run_live(
        {
            "HEROKU_API_KEY": sandbox.token,
            "HEROKU_API_URL": sandbox.url,
            "HEROKU_LIVE_APP": "shop",
            "HEROKU_LIVE_WRITE": "all",
        }
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0 and "7 passed" in out, out
    plan = out.index("WRITE SET on shop")
    assert "a manual backup of DATABASE_URL" in out and "billed $50.00/month, prorated" in out
    assert plan < out.index("passed")
    state = sandbox.admin("GET", "state")
    assert [a["name"] for a in state["addons"].values()] == [database["name"]]  # the follower is gone
    assert all(t["deleted_at"] for t in state["transfers"].values())  # the backup too


def test_without_a_key_or_an_app_every_test_is_skipped_and_says_why(tmp_path) -> None:
    no_key = run_live({"HOME": str(tmp_path), "HEROKU_LIVE_APP": "shop"})
    assert no_key.returncode == 0 and "7 skipped" in no_key.stdout, no_key.stdout + no_key.stderr
    assert "every live test was skipped: no Heroku API key: set HEROKU_API_KEY" in no_key.stdout
    no_app = run_live({"HOME": str(tmp_path), "HEROKU_API_KEY": "key"})
    assert no_app.returncode == 0 and "no app to read: give HEROKU_LIVE_APP=<app>" in no_app.stdout
