"""Database resolution end to end: the real client against the running sandbox, every identifier form."""

from __future__ import annotations

import pytest
from herokupg_sandbox.threaded import RunningSandbox
from sandbox_helpers import create_app, create_db

from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient
from herokupg.errors import ConflictError, NotFoundError
from herokupg.resolve import all_databases, resolve_database


@pytest.fixture(scope="module")
def seeded(shared_sandbox: RunningSandbox) -> dict[str, str]:
    """shop: primary (DATABASE) + a follower (REPLICA); other: one primary; empty: no database."""
    with shared_sandbox.http() as http:
        for app in ("shop", "other", "empty"):
            create_app(http, app)
        primary = create_db(http, "shop")
        replica = create_db(http, "shop", attachment={"name": "REPLICA"}, config={"follow": "DATABASE_URL"})
        other = create_db(http, "other")
    return {"primary": primary["name"], "replica": replica["name"], "other": other["name"]}


@pytest.fixture
def api(shared_sandbox: RunningSandbox) -> HerokuAPI:
    return HerokuAPI(HerokuClient(shared_sandbox.token, api_url=shared_sandbox.url, retries=0))


@pytest.mark.parametrize(
    ("identifier", "expected", "config_var"),
    [
        ("DATABASE", "primary", "DATABASE_URL"),
        ("DATABASE_URL", "primary", "DATABASE_URL"),
        ("REPLICA", "replica", "REPLICA_URL"),
        ("REPLICA_URL", "replica", "REPLICA_URL"),
        ("replica", "replica", "REPLICA_URL"),
    ],
)
def test_attachment_and_config_var_forms(
    api: HerokuAPI, seeded: dict[str, str], identifier: str, expected: str, config_var: str
) -> None:
    db = resolve_database(api, "shop", identifier)
    assert db.addon_name == seeded[expected]
    assert db.config_var == config_var
    assert db.app == "shop"


def test_addon_name_form(api: HerokuAPI, seeded: dict[str, str]) -> None:
    db = resolve_database(api, "shop", seeded["replica"])
    assert db.addon_name == seeded["replica"]
    assert "REPLICA" in db.names


def test_other_app_form(api: HerokuAPI, seeded: dict[str, str]) -> None:
    db = resolve_database(api, "shop", "other::DATABASE_URL")
    assert (db.app, db.addon_name) == ("other", seeded["other"])


def test_unknown_database_lists_the_valid_options(api: HerokuAPI, seeded: dict[str, str]) -> None:
    with pytest.raises(NotFoundError) as caught:
        resolve_database(api, "shop", "NOPE")
    message = caught.value.message
    assert "Unknown database: NOPE" in message
    assert "DATABASE" in message and "REPLICA" in message


def test_app_without_databases(api: HerokuAPI, seeded: dict[str, str]) -> None:
    with pytest.raises(NotFoundError, match="empty has no databases"):
        resolve_database(api, "empty", "DATABASE_URL")


def test_unknown_app(api: HerokuAPI, seeded: dict[str, str]) -> None:
    with pytest.raises(NotFoundError) as caught:
        resolve_database(api, "ghost", "DATABASE_URL")
    assert caught.value.status == 404


def test_ambiguous_identifier(shared_sandbox: RunningSandbox, api: HerokuAPI, seeded: dict[str, str]) -> None:
    # An add-on literally named like another database's attachment makes the name ambiguous.
    with shared_sandbox.http() as http:
        create_app(http, "amb")
        create_db(http, "amb")
        create_db(http, "amb", attachment={"name": "REPORTING"}, name="reporting")
        create_db(http, "amb", attachment={"name": "REPORTING2"}, name="REPORTING")
    with pytest.raises(ConflictError) as caught:
        resolve_database(api, "amb", "REPORTING")
    assert caught.value.error_id == "multiple_matches"
    assert "Ambiguous identifier; multiple matching add-ons found" in caught.value.message


def test_all_databases_puts_the_primary_first(api: HerokuAPI, seeded: dict[str, str]) -> None:
    names = [db.addon_name for db in all_databases(api, "shop")]
    assert names == [seeded["primary"], seeded["replica"]]
