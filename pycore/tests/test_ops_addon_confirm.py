"""Followers and forks when Heroku asks to confirm a new add-on (423 confirmation_required, as for
apps in a Private Space), and when two runs create the same follower at once: against the sandbox."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from herokupg_sandbox.threaded import RunningSandbox
from replication_helpers import FAST, seed

from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient
from herokupg.errors import ConfirmationRequiredError, ValidationError
from herokupg.ops.base import Context
from herokupg.ops.followers import ensure_follower
from herokupg.ops.forks import ensure_fork


def pg_addons(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    return [
        a
        for a in sandbox.admin("GET", "state")["addons"].values()
        if a["plan"].startswith("heroku-postgresql")
    ]


def in_space(sandbox: RunningSandbox) -> None:
    sandbox.admin("PUT", "apps/shop/space", json={"space": "secure"})


def ctx(api: HerokuAPI) -> Context:
    return Context(api=api, wait=FAST)


def test_a_follower_in_a_private_space_needs_confirm_and_says_so(
    sandbox: RunningSandbox, api: HerokuAPI
) -> None:
    seed(sandbox)
    in_space(sandbox)
    with pytest.raises(ConfirmationRequiredError) as info:
        ensure_follower(ctx(api), "shop", name="REPLICA")
    message = info.value.message
    assert "Set confirm: shop to create it" in message and "Private Space secure" in message
    assert info.value.status == 423 and len(pg_addons(sandbox)) == 1  # nothing was created

    result = ensure_follower(ctx(api), "shop", name="REPLICA", confirm="shop")
    assert result.changed and result.data["follower"]["following"] == "DATABASE"
    assert len(pg_addons(sandbox)) == 2
    again = ensure_follower(ctx(api), "shop", name="REPLICA", confirm="shop")
    assert not again.changed and again.requests == []


def test_a_fork_in_a_private_space_is_created_with_confirm(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    seed(sandbox)
    in_space(sandbox)
    with pytest.raises(ConfirmationRequiredError):
        ensure_fork(ctx(api), "shop", name="COPY")
    result = ensure_fork(ctx(api), "shop", name="COPY", confirm="shop")
    assert result.changed and result.data["fork"]["forked_from"] == "DATABASE"
    rerun = ensure_fork(ctx(api), "shop", name="COPY")
    assert not rerun.changed


@pytest.mark.parametrize("op", [ensure_follower, ensure_fork])
def test_a_confirm_that_is_not_the_app_name_changes_nothing(
    sandbox: RunningSandbox, api: HerokuAPI, op: Any
) -> None:
    seed(sandbox)
    before = sandbox.admin("GET", "state")["addons"]
    with pytest.raises(ValidationError, match=r"confirm must be the app name \(shop\)"):
        op(ctx(api), "shop", name="REPLICA", confirm="other")
    assert sandbox.admin("GET", "state")["addons"] == before


class RacingTransport(httpx.BaseTransport):
    """Forwards to the sandbox; just before our first add-on POST, another run creates the same
    follower (what a second playbook run at the same moment does)."""

    def __init__(self, sandbox: RunningSandbox) -> None:
        self.inner = httpx.HTTPTransport()
        self.sandbox = sandbox
        self.raced = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/apps/shop/addons" and not self.raced:
            self.raced = True
            with HerokuClient(api_key=self.sandbox.token, api_url=self.sandbox.url) as other:
                ensure_follower(Context(api=HerokuAPI(other), wait=FAST), "shop", name="REPLICA")
        return self.inner.handle_request(request)


def test_the_loser_of_two_concurrent_creations_uses_the_winner_s_follower(sandbox: RunningSandbox) -> None:
    seed(sandbox)
    transport = RacingTransport(sandbox)
    with HerokuClient(api_key=sandbox.token, api_url=sandbox.url, transport=transport) as client:
        result = ensure_follower(ctx(HerokuAPI(client)), "shop", name="REPLICA")
    assert transport.raced
    assert len(pg_addons(sandbox)) == 2  # one leader, one follower: no second billed add-on
    [warning] = result.warnings
    assert "created by another run" in warning and "instead of a second, billed add-on" in warning
    assert "pass confirm" not in warning and "Set confirm" not in warning
    assert result.data["follower"]["following"] == "DATABASE" and result.data["follower"]["attachments"] == [
        "REPLICA"
    ]
