"""Heroku Postgres provider and Data API: provisioning, tier rules, pg:info, wait_status, settings."""

from __future__ import annotations

import pytest
from herokupg_sandbox.threaded import RunningSandbox
from sandbox_helpers import (
    advance,
    assert_error,
    assert_html_404,
    create_app,
    create_db,
    info,
    post_db,
    row,
    set_settings,
    state,
    write,
)


def test_provisioning_becomes_available_when_the_clock_reaches_ready(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "prov-app")
        set_settings(c, provision_delay=120)
        addon = create_db(c, "prov-app")
        assert addon["state"] == "provisioning"
        r = c.get(f"/client/v11/databases/{addon['id']}")
        # no "message": the CLI only treats a message-less 404 as "not yet provisioned"
        assert r.status_code == 404 and r.json()["id"] == "not_found" and "message" not in r.json()
        status = c.get(f"/client/v11/databases/{addon['id']}/wait_status").json()
        assert status == {"waiting?": True, "error?": False, "message": "provisioning"}
        assert "DATABASE_URL" not in c.get("/apps/prov-app/config-vars").json()

        advance(c, 121)
        assert c.get(f"/apps/prov-app/addons/{addon['name']}").json()["state"] == "provisioned"
        body = info(c, addon["id"])
        assert body["addon_id"] == addon["id"] and body["following"] is None
        assert c.get("/apps/prov-app/config-vars").json()["DATABASE_URL"] == body["resource_url"]
        status = c.get(f"/client/v11/databases/{addon['id']}/wait_status").json()
        assert status == {"waiting?": False, "error?": False, "message": "available"}


def test_injected_provision_failure_ends_deprovisioned_with_an_error_status(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "fail-app")
        fault = {"kind": "provision_failure", "remaining": 1}
        assert c.post("/_sandbox/faults", json=fault).status_code == 201
        addon = create_db(c, "fail-app")
        stored = c.get(f"/apps/fail-app/addons/{addon['name']}").json()
        assert stored["state"] == "deprovisioned"
        assert "Provisioning failed" in stored["provision_message"]
        status = c.get(f"/client/v11/databases/{addon['id']}/wait_status").json()
        assert status["error?"] is True and status["waiting?"] is False
        assert_html_404(c.get(f"/client/v11/databases/{addon['id']}"))
        # the fault was consumed: the next database provisions normally
        assert create_db(c, "fail-app", attach_as="SECOND")["state"] == "provisioned"


def test_pg_info_rows_use_the_cli_names_and_formats(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "info-app")
        addon = create_db(c, "info-app", "standard-0")
        assert write(c, addon["id"], "users", {"id": 1}, {"id": 2}).status_code == 201
        assert write(c, addon["id"], "orders", {"id": 7}).status_code == 201
        body = info(c, addon["id"])
        assert row(body, "Plan") == ["Standard 0"]
        assert row(body, "Status") == ["Available"]
        assert row(body, "Tables") == [2] and body["num_tables"] == 2  # numbers, as Heroku sends them
        assert row(body, "Data Size") == ["7.9 MB"]
        assert row(body, "Connections") == ["0/120"]
        assert row(body, "Fork/Follow") == ["Available"]
        assert row(body, "Rollback")[0].startswith("earliest from ")
        assert row(body, "Continuous Protection") == ["On"]
        assert body["current_transaction"] == 2
        essential = create_db(c, "info-app", "essential-0", attach_as="SMALL")
        small = info(c, essential["id"])
        assert row(small, "Fork/Follow") == ["Unsupported"]
        assert row(small, "Rollback") == ["Unsupported"]
        assert row(small, "Connections") == ["0/20"]


@pytest.mark.parametrize(
    ("plan", "config", "fragment"),
    [
        ("essential-0", {"follow": "DATABASE_URL"}, "Follow is only available on Standard"),
        ("essential-1", {"fork": "DATABASE"}, "Fork is only available on Standard"),
        ("mini", {"rollback": "DATABASE", "by": "1 hour"}, "Rollback is only available"),
        ("standard-0", {"follow": "SMALL_URL"}, "follow is only available for Standard"),
        ("standard-0", {"fork": "NOPE_URL"}, "Could not find database 'NOPE_URL'"),
        ("standard-0", {"follow": "DATABASE", "fork": "DATABASE"}, "only one of"),
        ("standard-0", {"version": "14"}, "Unsupported version: 14. We support the following versions: 15"),
        ("standard-0", {"follow": "DATABASE", "version": "17"}, "same version as its leader"),
        ("standard-0", {"fast": True}, "--fast is only valid with --fork"),
        ("standard-0", {"rollback": "DATABASE"}, "exactly one of --to"),
        ("standard-0", {"rollback": "DATABASE", "by": "10 days"}, "outside the rollback window"),
        ("standard-0", {"rollback": "DATABASE", "to": "yesterday-ish"}, "Could not parse --to"),
    ],
)
def test_provider_refusals_are_addon_errors_and_change_nothing(
    shared_sandbox: RunningSandbox, plan: str, config: dict[str, object], fragment: str
) -> None:
    with shared_sandbox.http() as c:
        c.post("/_sandbox/reset")
        create_app(c, "rules-app")
        create_db(c, "rules-app", "standard-0")
        create_db(c, "rules-app", "essential-0", attach_as="SMALL")
        before = state(c)
        r = post_db(c, "rules-app", plan, config=config, attach_as="NEWDB")
        assert_error(r, 422, "addon_error", f"heroku-postgresql:{plan}, but received an error", fragment)
        assert state(c) == before


def test_no_following_a_follower_and_cooldown_after_fork(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "chain-app")
        leader = create_db(c, "chain-app")
        create_db(c, "chain-app", config={"follow": "DATABASE_URL"}, attach_as="REPLICA")
        before = state(c)
        assert_error(
            post_db(c, "chain-app", config={"follow": "REPLICA_URL"}, attach_as="X"),
            422, "addon_error", "followers cannot be followed",
        )
        assert state(c) == before

        fork = create_db(c, "chain-app", config={"fork": leader["name"]}, attach_as="FORK")
        assert row(info(c, fork["id"]), "Fork/Follow") == ["Temporarily Unavailable"]
        assert info(c, fork["id"])["forked_from"] == leader["id"]  # a bare add-on id, no row
        before = state(c)
        assert_error(
            post_db(c, "chain-app", config={"follow": "FORK"}, attach_as="Y"),
            422, "addon_error", "recently forked",
        )
        assert state(c) == before
        advance(c, 601)
        assert row(info(c, fork["id"]), "Fork/Follow") == ["Available"]
        chained = create_db(c, "chain-app", config={"follow": "FORK_URL"}, attach_as="Z")
        assert chained["state"] == "provisioned"



def test_unfollow_refuses_a_non_follower(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "uf-app")
        addon = create_db(c, "uf-app")
        before = state(c)
        r = c.put(f"/client/v11/databases/{addon['id']}/unfollow")
        assert_error(r, 422, "bad_request", "not a follower")
        assert state(c) == before
        unknown = "00000000-0000-0000-0000-000000000000"
        assert_html_404(c.put(f"/client/v11/databases/{unknown}/unfollow"))


def test_settings_get_patch_and_validation(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "set-app")
        addon = create_db(c, "set-app")
        path = f"/postgres/v0/databases/{addon['name']}/config"
        settings = c.get(path).json()
        assert settings["log_min_duration_statement"]["value"] == 2000
        assert settings["log_min_duration_statement"]["default"] == 2000
        assert settings["log_statement"]["values"]["ddl"].startswith("All data definition")
        expected = {"auto_explain", "auto_explain.log_format", "track_functions", "log_connections"}
        assert expected <= set(settings)

        r = c.patch(f"/postgres/v0/databases/{addon['id']}/config",
                    json={"log_min_duration_statement": 500, "log_statement": "mod", "auto_explain": True})
        assert r.status_code == 200, r.text
        assert r.json()["log_min_duration_statement"]["value"] == 500
        assert c.get(path).json()["log_statement"]["value"] == "mod"

        before = state(c)
        for bad, fragment in [
            ({"log_statement": "everything"}, "Valid options are: none, ddl, mod, all"),
            ({"log_min_duration_statement": None}, "log_min_duration_statement"),
            ({"log_min_duration_statement": -5}, "an integer from -1 to 2147483647"),
            ({"log_min_duration_statement": 2**31}, "an integer from -1 to 2147483647"),
            ({"auto_explain": "yes"}, "a boolean value"),
            ({"shared_buffers": "1GB"}, "shared_buffers is not a setting"),
        ]:
            assert_error(c.patch(path, json=bad), 422, "invalid_params", fragment)
        assert state(c) == before

        small = create_db(c, "set-app", "essential-0", attach_as="SMALL")
        before = state(c)
        r = c.get(f"/postgres/v0/databases/{small['id']}/config")
        assert_error(r, 422, "bad_request", "Essential-tier")
        assert_error(c.patch(f"/postgres/v0/databases/{small['id']}/config", json={"log_statement": "all"}),
                     422, "bad_request", "Essential-tier")
        assert state(c) == before


def test_rollback_copies_the_data_as_of_the_target_time(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "rb-app")
        leader = create_db(c, "rb-app")
        write(c, leader["id"], "events", {"n": 1})
        advance(c, 3600)
        write(c, leader["id"], "events", {"n": 2})
        rolled = create_db(
            c, "rb-app", config={"rollback": "DATABASE_URL", "by": "30 minutes"}, attach_as="RB"
        )
        assert rolled["state"] == "provisioned"
        tables = c.get(f"/_sandbox/databases/{rolled['id']}/data").json()["tables"]
        assert tables == {"events": [{"n": 1}]}
        assert info(c, rolled["id"])["forked_from"] == leader["id"]
