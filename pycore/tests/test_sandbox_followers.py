"""Followers, forks and unfollow on the memory engine: replication lag, catch-up, independence."""

from __future__ import annotations

from herokupg_sandbox.threaded import RunningSandbox
from sandbox_helpers import advance, assert_error, create_app, create_db, data, info, row, set_settings, write


def wait_status(c: object, addon_id: str) -> dict[str, object]:
    import httpx

    assert isinstance(c, httpx.Client)
    body: dict[str, object] = c.get(f"/client/v11/databases/{addon_id}/wait_status").json()
    return body


def test_follower_lags_then_catches_up_as_the_clock_advances(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "f-app")
        set_settings(c, follower_catchup=30)
        leader = create_db(c, "f-app")
        for n in range(3):
            write(c, leader["id"], "items", {"n": n})
        follower = create_db(c, "f-app", config={"follow": "DATABASE_URL"}, attach_as="REPLICA")
        assert follower["state"] == "provisioned"

        body = info(c, follower["id"])
        assert row(body, "Behind By") == ["3 commits"]
        assert body["following"].endswith("/" + info(c, leader["id"])["database_name"])
        # a string (the CLI's type; pg:promote prints it in a sentence), not the fixture's object
        assert body["leader"] == leader["name"]
        assert body["hot_standby?"] is True and body["waiting?"] is True
        assert wait_status(c, follower["id"]) == {
            "waiting?": True, "error?": False, "message": "following: 3 commits behind leader"
        }
        assert data(c, follower["id"])["tables"] == {}
        followers = row(info(c, leader["id"]), "Followers")
        assert len(followers) == 1 and followers[0].endswith(body["database_name"])

        advance(c, 31)
        caught_up = info(c, follower["id"])
        assert row(caught_up, "Behind By") == ["0 commits"]
        # the same response's sizes include what that request replayed (pg:info shows both)
        assert row(caught_up, "Tables") == [1] and caught_up["num_tables"] == 1
        assert caught_up["current_transaction"] == 3
        assert wait_status(c, follower["id"])["waiting?"] is False
        assert data(c, follower["id"])["tables"] == {"items": [{"n": 0}, {"n": 1}, {"n": 2}]}

        write(c, leader["id"], "items", {"n": 3})  # new commits take the replication delay too
        assert row(info(c, follower["id"]), "Behind By") == ["1 commits"]
        advance(c, 31)
        assert data(c, follower["id"])["behind_by"] == 0
        assert data(c, follower["id"])["tables"]["items"][-1] == {"n": 3}


def test_follower_is_read_only_until_unfollowed(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "u-app")
        leader = create_db(c, "u-app")
        write(c, leader["id"], "t", {"v": 1})
        follower = create_db(c, "u-app", config={"follow": "DATABASE"}, attach_as="REPLICA")
        assert data(c, follower["id"])["tables"] == {"t": [{"v": 1}]}
        assert_error(write(c, follower["id"], "t", {"v": 9}), 422, "read_only", "read-only")

        r = c.put(f"/client/v11/databases/{follower['id']}/unfollow")
        assert r.status_code == 200, r.text
        body = info(c, follower["id"])
        assert body["following"] is None and row(body, "Behind By") == []
        assert row(body, "Fork/Follow") == ["Temporarily Unavailable"]
        assert write(c, follower["id"], "t", {"v": 2}).status_code == 201
        write(c, leader["id"], "t", {"v": 3})
        assert data(c, follower["id"])["tables"] == {"t": [{"v": 1}, {"v": 2}]}
        assert data(c, leader["id"])["tables"] == {"t": [{"v": 1}, {"v": 3}]}
        assert row(info(c, leader["id"]), "Followers") == []


def test_fork_copies_data_at_that_moment_and_is_independent(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "k-app")
        leader = create_db(c, "k-app")
        write(c, leader["id"], "t", {"v": 1})
        fork = create_db(c, "k-app", config={"fork": "DATABASE_URL", "fast": True}, attach_as="FORK")
        write(c, leader["id"], "t", {"v": 2})
        write(c, fork["id"], "other", {"w": 1})
        assert data(c, fork["id"])["tables"] == {"t": [{"v": 1}], "other": [{"w": 1}]}
        assert data(c, leader["id"])["tables"] == {"t": [{"v": 1}, {"v": 2}]}
        body = info(c, fork["id"])
        assert body["following"] is None
        assert body["forked_from"] == leader["id"]
        assert len(row(info(c, leader["id"]), "Forks")) == 1


def test_deleting_the_leader_makes_followers_standalone(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "d-app")
        leader = create_db(c, "d-app", attach_as="MAIN")
        write(c, leader["id"], "t", {"v": 1})
        follower = create_db(c, "d-app", config={"follow": "MAIN_URL"}, attach_as="REPLICA")
        r = c.delete(f"/apps/d-app/addons/{leader['name']}")
        assert r.status_code == 200, r.text
        body = info(c, follower["id"])
        assert body["following"] is None and body["leader"] is None
        assert write(c, follower["id"], "t", {"v": 2}).status_code == 201
        assert data(c, follower["id"])["tables"] == {"t": [{"v": 1}, {"v": 2}]}
