"""The sandbox's Platform API: apps, add-ons, attachments, resolvers, config vars, releases,
formation and account, checked against the admin state dump."""

from __future__ import annotations

import re

import httpx
import pytest
from herokupg_sandbox.threaded import RunningSandbox
from sandbox_helpers import INCLUSION, assert_error, attachments, create_app, create_db, releases, snapshot

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


# -- auth and cross-cutting -------------------------------------------------------------------
def test_requests_without_token_get_401(sb: RunningSandbox) -> None:
    with httpx.Client(base_url=sb.url) as anonymous:
        assert_error(anonymous.get("/apps"), 401, "unauthorized")
        assert_error(anonymous.get("/apps", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
        assert_error(anonymous.get("/_sandbox/state"), 401, "unauthorized")
        basic = httpx.BasicAuth("", sb.token)
        assert anonymous.get("/apps", auth=basic).status_code == 200


def test_every_response_has_request_id_and_accepts_long_ones(client: httpx.Client) -> None:
    long_ids = ",".join(["0f0e0d0c-0b0a-4908-8706-050403020100"] * 200)
    response = client.get("/apps", headers={"Request-Id": long_ids})
    assert response.status_code == 200
    assert re.match(r"^[0-9a-f-]{36}$", response.headers["Request-Id"])
    assert int(response.headers["RateLimit-Remaining"]) > 0
    assert "Request-Id" in client.get("/apps/missing").headers


def test_unknown_route_is_a_heroku_404(client: httpx.Client) -> None:
    assert_error(client.get("/nothing-here"), 404, "not_found", "endpoint was not found")


# -- apps --------------------------------------------------------------------------------------
def test_app_create_get_list_rename_delete(client: httpx.Client, sb: RunningSandbox) -> None:
    app = create_app(client, "shop-api", region="eu")
    assert app["region"]["name"] == "eu" and app["stack"]["name"] == "heroku-24"
    assert app["generation"]["name"] == "cedar" and app["maintenance"] is False
    assert app["owner"]["email"] and ISO.match(app["created_at"])
    assert client.get(f"/apps/{app['id']}").json()["name"] == "shop-api"
    assert [a["name"] for a in client.get("/apps").json()] == ["shop-api"]
    assert [a["name"] for a in client.get("/users/~/apps").json()] == ["shop-api"]

    patched = client.patch("/apps/shop-api", json={"maintenance": True, "name": "shop-api-2"}).json()
    assert patched["maintenance"] is True and patched["name"] == "shop-api-2"
    assert_error(client.get("/apps/shop-api"), 404, "not_found", "Couldn't find that app.")

    generated = client.post("/apps", json={}).json()
    assert re.match(r"^[a-z]+-[a-z]+-\d{5}$", generated["name"])
    assert client.delete("/apps/shop-api-2").json()["id"] == app["id"]
    assert set(snapshot(sb)["apps"]) == {generated["id"]}


@pytest.mark.parametrize(
    ("body", "status", "error_id", "message"),
    [
        ({"name": "Bad_Name"}, 422, "invalid_params", "Name must start with a letter"),
        ({"name": "a"}, 422, "invalid_params", "Name must start with a letter"),
        ({"name": "taken"}, 422, "invalid_params", "Name is already taken"),
        ({"name": 5}, 422, "invalid_params", "name: Input should be a valid string (got int)"),
        ({"region": "mars"}, 404, "not_found", "region"),
    ],
)
def test_app_create_rejections_change_nothing(
    client: httpx.Client,
    sb: RunningSandbox,
    body: dict[str, object],
    status: int,
    error_id: str,
    message: str,
) -> None:
    create_app(client, "taken")
    before = snapshot(sb)
    assert_error(client.post("/apps", json=body), status, error_id, message)
    assert snapshot(sb) == before


def test_malformed_json_is_400_and_changes_nothing(client: httpx.Client, sb: RunningSandbox) -> None:
    create_app(client, "app-one")
    before = snapshot(sb)
    bad = client.post("/apps", content=b"{not json", headers={"Content-Type": "application/json"})
    assert_error(bad, 400, "bad_request")
    assert_error(client.patch("/apps/app-one", content=b"[1]"), 400, "bad_request")
    assert_error(client.patch("/apps/app-one", json={"maintenance": "yes"}), 422, "invalid_params")
    assert snapshot(sb) == before


# -- add-ons -----------------------------------------------------------------------------------
def test_addon_create_shape_and_default_attachments(client: httpx.Client, sb: RunningSandbox) -> None:
    create_app(client, "app-one")
    primary = create_db(client, "app-one", attachment={}, config={})
    assert re.match(r"^postgresql-[a-z]+-\d{5}$", primary["name"])
    assert primary["state"] in ("provisioning", "provisioned")
    assert primary["plan"]["name"] == "heroku-postgresql:standard-0"
    assert primary["plan"]["price"] == {"cents": 5000, "contract": False, "unit": "month", "metered": False}
    assert primary["addon_service"]["name"] == "heroku-postgresql"
    assert primary["app"]["name"] == "app-one" and primary["billing_entity"]["type"] == "app"
    assert primary["config_vars"] == ["DATABASE_URL"]

    second = create_db(client, "app-one")
    (color_var,) = second["config_vars"]
    assert re.match(r"^HEROKU_POSTGRESQL_[A-Z]+_URL$", color_var)
    named = create_db(client, "app-one", attachment={"name": "analytics"}, name="my-analytics-db")
    assert named["name"] == "my-analytics-db" and named["config_vars"] == ["ANALYTICS_URL"]

    atts = attachments(client, "app-one")
    assert atts["DATABASE"]["addon"]["name"] == primary["name"]
    assert atts["DATABASE"]["addon"]["plan"]["name"] == "heroku-postgresql:standard-0"
    assert atts["DATABASE"]["config_vars"] == ["DATABASE_URL"]
    state = snapshot(sb)
    assert {a["name"] for a in state["addons"].values()} == {
        primary["name"],
        second["name"],
        "my-analytics-db",
    }
    assert [r["description"] for r in releases(client, "app-one")][2:] == [
        f"Attach DATABASE (@ref:{primary['name']})",
        f"Attach {color_var.removesuffix('_URL')} (@ref:{second['name']})",
        "Attach ANALYTICS (@ref:my-analytics-db)",
    ]


@pytest.mark.parametrize(
    ("body", "status", "error_id", "message"),
    [
        ({"plan": {"name": "heroku-postgresql:gigantic-9"}}, 422, "invalid_params", "Known plans"),
        ({"plan": {"name": "heroku-redis:mini"}}, 422, "invalid_params", "heroku-postgresql"),
        ({}, 422, "invalid_params", "plan: Field required"),
        ({"plan": {}}, 422, "invalid_params", "plan needs a name"),
        ({"plan": "heroku-postgresql:standard-0", "config": "fork"}, 422, "invalid_params", "config: Input"),
        ({"plan": "heroku-postgresql:standard-0", "confirm": 1}, 422, "invalid_params", "confirm: Input"),
        (
            {"plan": "heroku-postgresql:standard-0", "name": "taken-db"},
            422,
            "invalid_params",
            "already taken",
        ),
        ({"plan": "heroku-postgresql:standard-0", "attachment": {"name": "1X"}}, 422, "invalid_params", "1X"),
        (
            {"plan": "heroku-postgresql:standard-0", "attachment": {"name": "DATABASE"}},
            423,
            "confirmation_required",
            "confirm: app-one",
        ),
    ],
)
def test_addon_create_rejections_change_nothing(
    client: httpx.Client,
    sb: RunningSandbox,
    body: dict[str, object],
    status: int,
    error_id: str,
    message: str,
) -> None:
    create_app(client, "app-one")
    create_db(client, "app-one", name="taken-db")
    before = snapshot(sb)
    response = client.post("/apps/app-one/addons", json=body)
    assert_error(response, status, error_id, message)
    if status == 423:
        assert response.headers["X-Confirmation-Required"] == "app-one"
    assert_error(client.post("/apps/nope/addons", json=body), 404, "not_found", "Couldn't find that app.")
    assert snapshot(sb) == before


def test_addon_lookups_and_delete(client: httpx.Client, sb: RunningSandbox) -> None:
    create_app(client, "app-one")
    create_app(client, "app-two")
    db = create_db(client, "app-one")
    for path in (f"/addons/{db['id']}", f"/addons/{db['name']}", f"/apps/app-one/addons/{db['name']}"):
        assert client.get(path).json()["id"] == db["id"]
    assert [a["id"] for a in client.get("/apps/app-one/addons").json()] == [db["id"]]
    assert client.get("/apps/app-two/addons").json() == []
    assert_error(
        client.get(f"/apps/app-two/addons/{db['name']}"), 404, "not_found", "Couldn't find that add on."
    )
    assert_error(client.get("/addons/postgresql-nope-00000"), 404, "not_found", "Couldn't find that add on.")

    # attached to another app: listed there too, but only its billing app may delete it
    attach = client.post(
        "/addon-attachments", json={"addon": {"name": db["name"]}, "app": {"name": "app-two"}}
    )
    assert attach.status_code == 201
    assert [a["id"] for a in client.get("/apps/app-two/addons").json()] == [db["id"]]
    assert client.delete(f"/apps/app-two/addons/{db['id']}").status_code == 404

    deleted = client.request("DELETE", f"/apps/{db['app']['id']}/addons/{db['id']}", json={"force": False})
    assert deleted.status_code == 200 and deleted.json()["state"] == "deprovisioned"
    state = snapshot(sb)
    assert state["addons"] == {} and state["attachments"] == {}
    assert (
        releases(client, "app-two")[-1]["description"]
        == f"Detach {attach.json()['name']} (@ref:{db['name']})"
    )
    assert releases(client, "app-one")[-1]["description"] == f"Detach DATABASE (@ref:{db['name']})"
    assert client.get("/apps/app-one/config-vars").json() == {}


def test_addon_resolver(client: httpx.Client) -> None:
    create_app(client, "app-one")
    db = create_db(client, "app-one")
    headers = {"Accept-Expansion": "addon_service,plan"}
    for key in (db["name"], db["id"], "DATABASE", "DATABASE_URL"):
        found = client.post("/actions/addons/resolve", json={"addon": key, "app": "app-one"}, headers=headers)
        assert [a["id"] for a in found.json()] == [db["id"]], key
    inline = client.post("/actions/addons/resolve", json={"addon": f"app-one::{db['name']}", "app": None})
    assert [a["id"] for a in inline.json()] == [db["id"]]
    missing = client.post("/actions/addons/resolve", json={"addon": "nope", "app": "app-one"})
    assert_error(missing, 404, "not_found")
    assert missing.json()["resource"] == "add_on"


# -- attachments -------------------------------------------------------------------------------
def test_attachment_resolver_matches_like_the_cli_expects(client: httpx.Client) -> None:
    create_app(client, "app-one")
    primary = create_db(client, "app-one")
    follower = create_db(client, "app-one", attachment={"name": "FOLLOWER"})
    resolve = "/actions/addon-attachments/resolve"
    for key, expected in (
        ("DATABASE_URL", ["DATABASE"]),
        ("DATABASE", ["DATABASE"]),
        ("follower", ["FOLLOWER"]),
        (follower["name"], ["FOLLOWER"]),
    ):
        response = client.post(resolve, json={"addon_attachment": key, "app": "app-one"}, headers=INCLUSION)
        assert [a["name"] for a in response.json()] == expected, key
        assert all(a["addon"]["plan"]["name"].startswith("heroku-postgresql:") for a in response.json())
    # an add-on attached twice resolves to both attachments (the CLI then sees they are one database)
    client.post(
        "/addon-attachments",
        json={"addon": {"name": primary["name"]}, "app": {"name": "app-one"}, "name": "PRIMARY_ALIAS"},
    )
    both = client.post(resolve, json={"addon_attachment": primary["name"], "app": "app-one"}).json()
    assert sorted(a["name"] for a in both) == ["DATABASE", "PRIMARY_ALIAS"]
    missing = client.post(resolve, json={"addon_attachment": "NOPE", "app": "app-one"})
    assert_error(missing, 404, "not_found", "Couldn't find that add on attachment.")
    assert missing.json()["resource"] == "add_on attachment"
    assert_error(client.post(resolve, json={"addon_attachment": "DATABASE", "app": "nope"}), 404, "not_found")
    assert_error(client.post(resolve, json={"app": "app-one"}), 422, "invalid_params")


def test_attachment_endpoints_and_detach(client: httpx.Client, sb: RunningSandbox) -> None:
    create_app(client, "app-one")
    create_app(client, "app-two")
    db = create_db(client, "app-one")
    created = client.post("/addon-attachments", json={"addon": {"id": db["id"]}, "app": {"name": "app-two"}})
    assert created.status_code == 201
    att = created.json()
    assert re.match(r"^HEROKU_POSTGRESQL_[A-Z]+$", att["name"]) and att["namespace"] is None
    assert "config_vars" not in att  # only with Accept-Inclusion
    assert client.get(f"/addon-attachments/{att['id']}").json()["name"] == att["name"]
    assert client.get(f"/apps/app-two/addon-attachments/{att['name']}").json()["id"] == att["id"]
    by_addon = client.get(f"/addons/{db['name']}/addon-attachments").json()
    assert sorted(a["app"]["name"] for a in by_addon) == ["app-one", "app-two"]
    assert len(client.get("/addon-attachments").json()) == 2
    assert f"{att['name']}_URL" in client.get("/apps/app-two/config-vars").json()

    assert client.delete(f"/addon-attachments/{att['id']}").status_code == 200
    assert_error(client.get(f"/addon-attachments/{att['id']}"), 404, "not_found")
    assert f"{att['name']}_URL" not in client.get("/apps/app-two/config-vars").json()
    # the billing app's last attachment cannot be detached: destroy the add-on instead
    (own,) = client.get("/apps/app-one/addon-attachments").json()
    before = snapshot(sb)
    assert_error(client.delete(f"/addon-attachments/{own['id']}"), 422, "invalid_params", "addons:destroy")
    assert snapshot(sb) == before


def test_promote_swaps_database_with_confirmation(client: httpx.Client, sb: RunningSandbox) -> None:
    """The requests pg:promote sends: alias the old primary, then attach the new one as DATABASE."""
    create_app(client, "app-one")
    old = create_db(client, "app-one")
    new = create_db(client, "app-one", attachment={"name": "NEWDB"})
    alias = client.post(
        "/addon-attachments",
        json={
            "addon": {"name": old["name"]},
            "app": {"name": "app-one"},
            "confirm": "app-one",
            "namespace": None,
        },
    )
    assert alias.status_code == 201 and alias.json()["name"].startswith("HEROKU_POSTGRESQL_")
    before = snapshot(sb)
    body = {"addon": {"name": new["name"]}, "app": {"name": "app-one"}, "name": "DATABASE", "namespace": None}
    refused = client.post("/addon-attachments", json=body)
    assert_error(refused, 423, "confirmation_required", "confirm: app-one")
    assert_error(
        client.post("/addon-attachments", json={**body, "confirm": "other"}), 423, "confirmation_required"
    )
    assert snapshot(sb) == before

    promoted = client.post("/addon-attachments", json={**body, "confirm": "app-one"})
    assert promoted.status_code == 201
    atts = attachments(client, "app-one")
    assert atts["DATABASE"]["addon"]["id"] == new["id"]
    assert atts[alias.json()["name"]]["addon"]["id"] == old["id"]
    config = client.get("/apps/app-one/config-vars").json()
    assert config["DATABASE_URL"] == config["NEWDB_URL"] != config[f"{alias.json()['name']}_URL"]
    recent = client.get("/apps/app-one/releases", headers={"Range": "version ..; max=5, order=desc"}).json()
    assert [r["description"] for r in recent[:2]] == [
        f"Detach DATABASE (@ref:{old['name']})",
        f"Attach DATABASE (@ref:{new['name']})",
    ]
    again = client.post("/addon-attachments", json={**body, "confirm": "app-one"})
    assert again.status_code == 200 and again.json()["id"] == promoted.json()["id"]


# -- config vars, releases, formation, account ----------------------------------------------------
def test_config_vars_set_unset_and_managed(client: httpx.Client, sb: RunningSandbox) -> None:
    create_app(client, "app-one")
    create_db(client, "app-one")
    result = client.patch("/apps/app-one/config-vars", json={"FOO": "1", "BAR": "two"}).json()
    assert result["FOO"] == "1" and result["DATABASE_URL"].startswith("postgres://")
    assert releases(client, "app-one")[-1]["description"] == "Set FOO, BAR config vars"
    client.patch("/apps/app-one/config-vars", json={"FOO": None})
    assert releases(client, "app-one")[-1]["description"] == "Remove FOO config vars"
    assert "FOO" not in client.get("/apps/app-one/config-vars").json()
    before = snapshot(sb)
    assert_error(
        client.patch("/apps/app-one/config-vars", json={"DATABASE_URL": "x"}),
        422,
        "invalid_params",
        "Cannot overwrite attachment values DATABASE_URL",
    )
    assert_error(client.patch("/apps/app-one/config-vars", json={"BAD-NAME": "x"}), 422, "invalid_params")
    assert_error(client.patch("/apps/app-one/config-vars", json={"N": 5}), 422, "invalid_params")
    assert_error(client.patch("/apps/nope/config-vars", json={"A": "b"}), 404, "not_found")
    assert snapshot(sb) == before


def test_releases_range_paging_and_lookup(client: httpx.Client, sb: RunningSandbox) -> None:
    create_app(client, "app-one")
    for n in range(10):
        client.patch("/apps/app-one/config-vars", json={f"V{n}": str(n)})
    everything = releases(client, "app-one")
    assert [r["version"] for r in everything] == list(range(1, 13))
    assert [r["current"] for r in everything].count(True) == 1 and everything[-1]["current"]

    first = client.get("/apps/app-one/releases", headers={"Range": "version ..; max=5, order=desc"})
    assert first.status_code == 206
    assert [r["version"] for r in first.json()] == [12, 11, 10, 9, 8]
    second = client.get("/apps/app-one/releases", headers={"Range": first.headers["Next-Range"]})
    assert [r["version"] for r in second.json()] == [7, 6, 5, 4, 3]
    third = client.get("/apps/app-one/releases", headers={"Range": second.headers["Next-Range"]})
    assert third.status_code == 200 and [r["version"] for r in third.json()] == [2, 1]
    assert "Next-Range" not in third.headers

    by_version = client.get("/apps/app-one/releases/10").json()
    assert client.get(f"/apps/app-one/releases/{by_version['id']}").json()["version"] == 10
    assert by_version["status"] == "succeeded"
    assert_error(client.get("/apps/app-one/releases/99"), 404, "not_found")
    assert_error(
        client.get("/apps/app-one/releases", headers={"Range": "version ..; max=0"}), 400, "bad_request"
    )


def test_default_page_size_setting_pages_every_list(client: httpx.Client, sb: RunningSandbox) -> None:
    sb.admin("PATCH", "settings", json={"page_size": 2})
    names = [f"app-{n}" for n in range(5)]
    for name in names:
        create_app(client, name)
    seen: list[str] = []
    headers: dict[str, str] = {}
    while True:
        response = client.get("/apps", headers=headers)
        assert len(response.json()) <= 2
        seen += [a["name"] for a in response.json()]
        if "Next-Range" not in response.headers:
            break
        assert response.status_code == 206
        headers = {"Range": response.headers["Next-Range"]}
    assert sorted(seen) == names


def test_formation_and_account(client: httpx.Client, sb: RunningSandbox) -> None:
    create_app(client, "app-one")
    (web,) = client.get("/apps/app-one/formation").json()
    assert web["type"] == "web" and web["quantity"] == 1
    account = client.get("/account").json()
    assert account["email"] and account["id"]
    remaining = client.get("/account/rate-limits").json()["remaining"]
    assert isinstance(remaining, int) and remaining > 0


def test_delete_app_destroys_its_addons_and_foreign_attachments(
    client: httpx.Client, sb: RunningSandbox
) -> None:
    create_app(client, "app-one")
    create_app(client, "app-two")
    mine = create_db(client, "app-one")
    theirs = create_db(client, "app-two")
    client.post("/addon-attachments", json={"addon": {"name": mine["name"]}, "app": {"name": "app-two"}})
    client.post("/addon-attachments", json={"addon": {"name": theirs["name"]}, "app": {"name": "app-one"}})
    assert client.delete("/apps/app-one").status_code == 200
    state = snapshot(sb)
    assert [a["name"] for a in state["addons"].values()] == [theirs["name"]]
    assert {a["app_id"] for a in state["attachments"].values()} == {theirs["app"]["id"]}
    assert list(attachments(client, "app-two")) == ["DATABASE"]
    assert all(r["app_id"] != mine["app"]["id"] for r in state["releases"].values())
    assert_error(client.delete("/apps/app-one"), 404, "not_found")
