"""HerokuAPI against HerokuClient + httpx.MockTransport and recorded Heroku-shaped JSON.

Each test checks the request the CLI would send (method, host, path, headers, body) and the model
built from the answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from herokupg.api import SDK_ACCEPT, HerokuAPI
from herokupg.client import HerokuClient
from herokupg.errors import ConfirmationRequiredError, NotFoundError, UnexpectedResponseError
from herokupg.redact import redact

FIXTURES = Path(__file__).parent / "fixtures" / "api"
PLATFORM = "api.heroku.com"
DATA = "api.data.heroku.com"
DEFAULT_ACCEPT = "application/vnd.heroku+json; version=3"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


class FakeHeroku:
    """Routes (method, path) to canned responses and records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[httpx.Response]] = {}
        self.requests: list[httpx.Request] = []

    def add(self, method: str, path: str, body: Any = None, status: int = 200, **headers: str) -> None:
        content = b"" if body is None else json.dumps(body).encode()
        response = httpx.Response(
            status, content=content, headers={"Content-Type": "application/json", **headers}
        )
        self.routes.setdefault((method, path), []).append(response)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.raw_path.decode().split("?", 1)[0]  # still percent-encoded
        queue = self.routes.get((request.method, path))
        if not queue:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        # the last response repeats; earlier ones are used once each (pages, retries)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def api(self) -> HerokuAPI:
        client = HerokuClient(
            "test-key-0123456789",
            api_url="https://api.heroku.com",
            transport=httpx.MockTransport(self.handle),
            sleep=lambda _s: None,
            retries=0,
            env={},
        )
        return HerokuAPI(client)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def body(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


@pytest.fixture
def heroku() -> FakeHeroku:
    return FakeHeroku()


# -- attachments and add-ons --------------------------------------------------------------------


def test_list_attachments_headers_and_models(heroku: FakeHeroku) -> None:
    heroku.add("GET", "/apps/myapp/addon-attachments", load("attachments.json"))
    attachments = heroku.api().list_attachments("myapp")
    req = heroku.last
    assert req.url.host == PLATFORM
    assert req.headers["Accept"] == SDK_ACCEPT
    assert req.headers["Accept-Inclusion"] == "addon:plan,config_vars"
    assert [a.name for a in attachments][:3] == [
        "DATABASE",
        "HEROKU_POSTGRESQL_PINK",
        "HEROKU_POSTGRESQL_GREEN",
    ]
    assert attachments[0].addon.plan is not None
    assert attachments[0].plan_name == "heroku-postgresql:standard-0"
    assert attachments[0].config_vars == ["DATABASE_URL"]


def test_list_attachments_follows_next_range(heroku: FakeHeroku) -> None:
    items = load("attachments.json")
    heroku.add(
        "GET", "/apps/myapp/addon-attachments", items[:2], status=206, **{"Next-Range": "id ]b0b0; max=2"}
    )
    heroku.add("GET", "/apps/myapp/addon-attachments", items[2:])
    attachments = heroku.api().list_attachments("myapp")
    assert len(attachments) == len(items)
    assert heroku.requests[1].headers["Range"] == "id ]b0b0; max=2"
    assert heroku.requests[1].headers["Accept-Inclusion"] == "addon:plan,config_vars"


def test_resolve_attachment_request(heroku: FakeHeroku) -> None:
    heroku.add("POST", "/actions/addon-attachments/resolve", load("attachments.json")[:1])
    found = heroku.api().resolve_attachment("myapp", "DATABASE_URL")
    req = heroku.last
    assert body(req) == {"addon_attachment": "DATABASE_URL", "app": "myapp"}  # no addon_service, as in pg
    assert req.headers["Accept"] == SDK_ACCEPT
    assert req.headers["Accept-Inclusion"] == "addon:plan,config_vars"
    assert [a.name for a in found] == ["DATABASE"]


def test_resolve_attachment_404_is_not_found(heroku: FakeHeroku) -> None:
    heroku.add(
        "POST", "/actions/addon-attachments/resolve", load("error_not_found_attachment.json"), status=404
    )
    with pytest.raises(NotFoundError) as err:
        heroku.api().resolve_attachment("myapp", "NOPE")
    assert err.value.error_id == "not_found"


def test_resolve_addon_other_app_form(heroku: FakeHeroku) -> None:
    heroku.add("POST", "/actions/addons/resolve", [load("addon_follower.json")])
    addons = heroku.api().resolve_addon("myapp", "otherapp::postgresql-sinuous-67890")
    req = heroku.last
    assert body(req) == {"addon": "postgresql-sinuous-67890", "app": "otherapp"}
    assert req.headers["Accept"] == SDK_ACCEPT
    assert req.headers["Accept-Expansion"] == "addon_service,plan"
    assert addons[0].name == "postgresql-sinuous-67890"


def test_list_and_get_addon_expansion(heroku: FakeHeroku) -> None:
    heroku.add("GET", "/apps/myapp/addons", [load("addon_follower.json")])
    heroku.add("GET", "/apps/myapp/addons/postgresql-sinuous-67890", load("addon_follower.json"))
    heroku.add("GET", "/addons/postgresql-sinuous-67890", load("addon_follower.json"))
    api = heroku.api()
    assert api.list_addons("myapp")[0].state == "provisioning"
    assert heroku.last.headers["Accept-Expansion"] == "addon_service,plan"
    assert heroku.last.headers["Accept"] == SDK_ACCEPT
    assert api.get_addon("myapp", "postgresql-sinuous-67890").plan_name == "heroku-postgresql:standard-0"
    assert heroku.last.headers["Accept-Expansion"] == "addon_service,plan"
    assert heroku.last.headers["Accept"] == DEFAULT_ACCEPT
    api.get_addon(None, "postgresql-sinuous-67890")
    assert "Accept-Expansion" not in heroku.last.headers


def test_create_addon_follower_body_and_headers(heroku: FakeHeroku) -> None:
    heroku.add("POST", "/apps/myapp/addons", load("addon_follower.json"), status=201)
    addon = heroku.api().create_addon(
        "myapp", "heroku-postgresql:standard-0", config={"follow": "DATABASE_URL"}, confirm="myapp"
    )
    req = heroku.last
    assert body(req) == {
        "plan": {"name": "heroku-postgresql:standard-0"},
        "attachment": {},
        "config": {"follow": "DATABASE_URL"},
        "confirm": "myapp",
    }
    assert req.headers["Accept-Expansion"] == "plan"
    assert req.headers["x-heroku-legacy-provider-messages"] == "true"
    assert addon.state == "provisioning"
    assert addon.provision_message is not None


def test_create_addon_fork_with_name_and_alias(heroku: FakeHeroku) -> None:
    heroku.add("POST", "/apps/myapp/addons", load("addon_follower.json"), status=201)
    heroku.api().create_addon(
        "myapp",
        "heroku-postgresql:standard-0",
        config={"fork": "DATABASE_URL", "fast": True},
        attachment_name="FORK",
        name="my-fork",
    )
    assert body(heroku.last) == {
        "plan": {"name": "heroku-postgresql:standard-0"},
        "attachment": {"name": "FORK"},
        "config": {"fork": "DATABASE_URL", "fast": True},  # bare flags are booleans, as the CLI sends
        "name": "my-fork",
    }


def test_create_addon_confirmation_required(heroku: FakeHeroku) -> None:
    heroku.add(
        "POST",
        "/apps/myapp/addons",
        load("error_confirmation_required.json"),
        status=423,
        **{"X-Confirmation-Required": "myapp"},
    )
    with pytest.raises(ConfirmationRequiredError):
        heroku.api().create_addon("myapp", "heroku-postgresql:standard-0")
    assert len(heroku.requests) == 1  # a create is never retried blindly


def test_delete_addon(heroku: FakeHeroku) -> None:
    heroku.add(
        "DELETE",
        "/apps/myapp/addons/postgresql-sinuous-67890",
        {**load("addon_follower.json"), "state": "deprovisioned"},
    )
    addon = heroku.api().delete_addon("myapp", "postgresql-sinuous-67890")
    assert addon.state == "deprovisioned"
    assert body(heroku.last) == {"force": False}
    assert heroku.last.headers["Accept-Expansion"] == "plan"


def test_create_attachment_promote_body(heroku: FakeHeroku) -> None:
    heroku.add("POST", "/addon-attachments", load("attachments.json")[2], status=201)
    att = heroku.api().create_attachment(
        "postgresql-sinuous-67890", "myapp", name="DATABASE", confirm="myapp"
    )
    assert body(heroku.last) == {
        "addon": {"name": "postgresql-sinuous-67890"},
        "app": {"name": "myapp"},
        "name": "DATABASE",
        "namespace": None,
        "confirm": "myapp",
    }
    assert att.addon.name == "postgresql-sinuous-67890"
    # alternate alias: no name, the API picks one
    heroku.api().create_attachment("postgresql-curved-12345", "myapp", confirm="myapp")
    assert "name" not in body(heroku.last)


def test_addon_attachments_and_delete_attachment(heroku: FakeHeroku) -> None:
    atts = load("attachments.json")
    heroku.add("GET", "/addons/postgresql-curved-12345/addon-attachments", [atts[0], atts[1], atts[4]])
    heroku.add("DELETE", f"/addon-attachments/{atts[1]['id']}", atts[1])
    api = heroku.api()
    assert [a.name for a in api.addon_attachments("postgresql-curved-12345")] == [
        "DATABASE",
        "HEROKU_POSTGRESQL_PINK",
        "ANALYST",
    ]
    assert "Accept-Inclusion" not in heroku.last.headers
    assert api.delete_attachment(atts[1]["id"]).name == "HEROKU_POSTGRESQL_PINK"


def test_config_vars_registers_database_passwords(heroku: FakeHeroku) -> None:
    heroku.add("GET", "/apps/myapp/config-vars", load("config_vars.json"))
    config = heroku.api().config_vars("myapp")
    assert config["RAILS_ENV"] == "production"
    assert redact("oops p4ssw0rd-analyst-cccc") == "oops ********"


def test_config_vars_that_are_not_an_object_are_an_unexpected_answer(heroku: FakeHeroku) -> None:
    listed = ["postgres://u:p4ssw0rd-listed-dddd@h/d"]
    heroku.add("GET", "/apps/myapp/config-vars", listed, **{"Request-Id": "rq-9"})
    with pytest.raises(UnexpectedResponseError) as info:
        heroku.api().config_vars("myapp")
    assert info.value.problems == ["(the whole body): expected an object (got list)"]
    assert info.value.request_id == "rq-9" and "p4ssw0rd-listed-dddd" not in str(info.value)


def test_get_app_uses_sdk_accept(heroku: FakeHeroku) -> None:
    heroku.add("GET", "/apps/myapp", load("app.json"))
    app = heroku.api().get_app("myapp")
    assert heroku.last.headers["Accept"] == SDK_ACCEPT
    assert app.generation_name == "cedar" and app.name == "myapp"


# -- Data API -------------------------------------------------------------------------------------

ADDON_ID = "a1b2c3d4-0002-4000-8000-000000000002"


def test_database_info(heroku: FakeHeroku) -> None:
    heroku.add("GET", f"/client/v11/databases/{ADDON_ID}", load("database_follower.json"))
    info = heroku.api().database(ADDON_ID)
    req = heroku.last
    assert req.url.host == DATA
    assert req.headers["Accept"] == DEFAULT_ACCEPT
    assert req.headers["Authorization"] == "Bearer test-key-0123456789"
    assert info.following and info.leader is not None


def test_database_404_while_provisioning(heroku: FakeHeroku) -> None:
    heroku.add(
        "GET",
        f"/client/v11/databases/{ADDON_ID}",
        {"id": "not_found", "message": "Couldn't find that database.", "resource": "database"},
        status=404,
    )
    with pytest.raises(NotFoundError) as err:
        heroku.api().database(ADDON_ID)
    assert err.value.status == 404 and err.value.resource == "database"


def test_wait_status_and_unfollow(heroku: FakeHeroku) -> None:
    heroku.add("GET", f"/client/v11/databases/{ADDON_ID}/wait_status", load("wait_status.json"))
    heroku.add("PUT", f"/client/v11/databases/{ADDON_ID}/unfollow", {"message": "ok"})
    api = heroku.api()
    status = api.wait_status(ADDON_ID)
    assert status.waiting and status.message == "pending"
    api.unfollow(ADDON_ID)
    assert heroku.last.method == "PUT" and heroku.last.url.host == DATA and heroku.last.content == b""


def test_transfers_list_and_verbose_get(heroku: FakeHeroku) -> None:
    heroku.add("GET", "/client/v11/apps/myapp/transfers", load("transfers.json"))
    heroku.add("GET", "/client/v11/apps/myapp/transfers/6", load("transfer_failed_verbose.json"))
    api = heroku.api()
    transfers = api.list_transfers("myapp")
    assert heroku.last.url.host == DATA
    assert [t.name for t in transfers][:4] == ["b001", "a002", "r003", "c004"]
    failed = api.transfer("myapp", 6, verbose=True)
    assert heroku.last.url.params["verbose"] == "true"
    assert failed.logs is not None and failed.status_text.startswith("Failed")
    api.transfer("myapp", 6)
    assert "verbose" not in heroku.last.url.params


def test_capture_restore_cancel_delete(heroku: FakeHeroku) -> None:
    transfers = load("transfers.json")
    heroku.add("POST", f"/client/v11/databases/{ADDON_ID}/backups", transfers[6], status=201)
    heroku.add("POST", f"/client/v11/databases/{ADDON_ID}/restores", transfers[2], status=201)
    heroku.add(
        "POST", f"/client/v11/apps/myapp/transfers/{transfers[6]['uuid']}/actions/cancel", transfers[6]
    )
    heroku.add("DELETE", "/client/v11/apps/myapp/transfers/1", None, status=204)
    api = heroku.api()
    backup = api.capture(ADDON_ID)
    assert heroku.last.content == b"" and backup.name == "b007"
    restore = api.restore(ADDON_ID, "https://s3.example/dump", extensions=["PostGIS", "hstore", "postgis"])
    assert body(heroku.last) == {"backup_url": "https://s3.example/dump", "extensions": ["hstore", "postgis"]}
    assert restore.kind == "restore"
    api.restore(ADDON_ID, "https://s3.example/dump")
    assert body(heroku.last) == {"backup_url": "https://s3.example/dump"}
    canceled = api.cancel_transfer("myapp", transfers[6]["uuid"])
    assert canceled is not None and canceled.uuid == transfers[6]["uuid"]
    api.delete_transfer("myapp", 1)
    assert heroku.last.method == "DELETE" and heroku.last.url.host == DATA


def test_public_url(heroku: FakeHeroku) -> None:
    heroku.add("POST", "/client/v11/apps/myapp/transfers/1/actions/public-url", load("public_url.json"))
    url = heroku.api().public_url("myapp", 1)
    assert url.url.startswith("https://xfrtu.s3.amazonaws.com/")
    assert url.expires_at == "2024-05-07 10:10:00 +0000"
    assert heroku.last.content == b""


def test_schedules(heroku: FakeHeroku) -> None:
    heroku.add("GET", f"/client/v11/databases/{ADDON_ID}/transfer-schedules", load("schedules.json"))
    heroku.add("POST", f"/client/v11/databases/{ADDON_ID}/transfer-schedules", None, status=201)
    heroku.add(
        "DELETE", f"/client/v11/databases/{ADDON_ID}/transfer-schedules/5c4ed01e-0001", None, status=204
    )
    api = heroku.api()
    schedules = api.schedules(ADDON_ID)
    assert [(s.name, s.hour, s.timezone) for s in schedules] == [
        ("DATABASE_URL", 2, "UTC"),
        ("HEROKU_POSTGRESQL_GREEN_URL", 6, "America/New_York"),
    ]
    assert api.create_schedule(ADDON_ID, 6, "America/New_York", "HEROKU_POSTGRESQL_GREEN_URL") is None
    assert body(heroku.last) == {
        "hour": "06",
        "timezone": "America/New_York",
        "schedule_name": "HEROKU_POSTGRESQL_GREEN_URL",
    }
    api.delete_schedule(ADDON_ID, "5c4ed01e-0001")
    assert heroku.last.method == "DELETE"


def test_settings_get_and_patch(heroku: FakeHeroku) -> None:
    settings = load("settings.json")
    heroku.add("GET", f"/postgres/v0/databases/{ADDON_ID}/config", settings)
    changed = {
        **settings,
        "log_min_duration_statement": {**settings["log_min_duration_statement"], "value": 500},
    }
    heroku.add("PATCH", f"/postgres/v0/databases/{ADDON_ID}/config", changed)
    api = heroku.api()
    assert api.settings(ADDON_ID)["log_min_duration_statement"].value == 2000
    assert heroku.last.url.host == DATA
    after = api.update_settings(ADDON_ID, {"log_min_duration_statement": 500})
    assert body(heroku.last) == {"log_min_duration_statement": 500}
    assert after["log_min_duration_statement"].value == 500


# -- logs, releases, formation, rate limits -----------------------------------------------------


def test_log_session(heroku: FakeHeroku) -> None:
    heroku.add("POST", "/apps/myapp/log-sessions", load("log_session.json"), status=201)
    session = heroku.api().create_log_session("myapp", dyno="heroku-postgres", lines=1500, tail=False)
    assert heroku.last.headers["Accept"] == SDK_ACCEPT
    assert body(heroku.last) == {"dyno": "heroku-postgres", "lines": 1500, "tail": False}
    assert session.logplex_url.startswith("https://logs.heroku.com/stream")


def test_releases_range_is_one_page(heroku: FakeHeroku) -> None:
    releases = load("releases.json")
    heroku.add(
        "GET",
        "/apps/myapp/releases",
        releases,
        status=206,
        **{"Next-Range": "version ]11; max=5, order=desc"},
    )
    heroku.add("GET", "/apps/myapp/releases/7e1ea5e0-0011-4000-8000-000000000011", releases[1])
    api = heroku.api()
    page = api.releases("myapp", "version ..; max=5, order=desc")
    assert len(heroku.requests) == 1  # partial, like the CLI's promote: Next-Range not followed
    assert heroku.last.headers["Range"] == "version ..; max=5, order=desc"
    assert [r.version for r in page] == [12, 11]
    assert "Attach DATABASE" in (page[1].description or "")
    assert api.release("myapp", releases[1]["id"]).status == "pending"


def test_releases_all_pages(heroku: FakeHeroku) -> None:
    releases = load("releases.json")
    heroku.add(
        "GET", "/apps/myapp/releases", releases[:1], status=206, **{"Next-Range": "version ]12; max=1"}
    )
    heroku.add("GET", "/apps/myapp/releases", releases[1:])
    assert [r.version for r in heroku.api().releases("myapp")] == [12, 11]


def test_formation_and_rate_limits(heroku: FakeHeroku) -> None:
    heroku.add("GET", "/apps/myapp/formation", load("formation.json"))
    heroku.add("GET", "/account/rate-limits", {"remaining": 4321})
    api = heroku.api()
    assert [f.type for f in api.formation("myapp")] == ["web", "release"]
    assert api.rate_limits().remaining == 4321


def test_path_segments_are_escaped(heroku: FakeHeroku) -> None:
    heroku.add("GET", "/apps/a%2Fb/config-vars", {})
    heroku.api().config_vars("a/b")
    assert heroku.last.url.raw_path == b"/apps/a%2Fb/config-vars"
