"""ensure_maintenance against a real sandbox over HTTP: check mode, real, reruns, both directions,
a missing app; the sandbox's own record of the app is the oracle."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from herokupg_sandbox.threaded import RunningSandbox, seed_app

from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient
from herokupg.errors import NotFoundError
from herokupg.ops.base import Context
from herokupg.ops.maintenance import ensure_maintenance


@pytest.fixture
def api(sandbox: RunningSandbox) -> Iterator[HerokuAPI]:
    with HerokuClient(sandbox.token, api_url=sandbox.url, env={}, retries=0) as client:
        yield HerokuAPI(client)


def _maintenance(sandbox: RunningSandbox, app: str) -> bool:
    apps = sandbox.admin("GET", "state")["apps"].values()
    flag: bool = next(a for a in apps if a["name"] == app)["maintenance"]
    return flag


def test_on_check_real_rerun_then_off(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    seed_app(sandbox, "shop")

    checked = ensure_maintenance(Context(api=api, check_mode=True), "shop", enabled=True)
    assert checked.changed and checked.data["maintenance"] is True and checked.data["previous"] is False
    assert [(r.method, r.path, r.body) for r in checked.requests] == [
        ("PATCH", "/apps/shop", {"maintenance": True})
    ]
    assert checked.data["msg"] == "Would turn maintenance mode of shop on (it was off)."
    assert not _maintenance(sandbox, "shop")

    on = ensure_maintenance(Context(api=api), "shop", enabled=True)
    assert on.changed and on.data["maintenance"] is True
    assert on.diff == {"before": {"maintenance": False}, "after": {"maintenance": True}}
    assert _maintenance(sandbox, "shop")

    again = ensure_maintenance(Context(api=api), "shop", enabled=True)
    assert not again.changed and again.requests == []
    assert again.data["msg"] == "Maintenance mode of shop is already on: nothing to change."
    checked_again = ensure_maintenance(Context(api=api, check_mode=True), "shop", enabled=True)
    assert not checked_again.changed

    off = ensure_maintenance(Context(api=api), "shop", enabled=False)
    assert off.changed and off.data == {
        "maintenance": False,
        "previous": True,
        "msg": "Turned maintenance mode of shop off (it was on).",
    }
    assert not _maintenance(sandbox, "shop")
    assert not ensure_maintenance(Context(api=api), "shop", enabled=False).changed


def test_missing_app_is_an_error_and_sends_no_write(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    ctx = Context(api=api)
    with pytest.raises(NotFoundError) as caught:
        ensure_maintenance(ctx, "nosuchapp", enabled=True)
    assert caught.value.status == 404 and not ctx.wrote
