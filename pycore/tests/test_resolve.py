"""Database resolution, as the Heroku CLI's DatabaseResolver does it, over recorded API answers."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient
from herokupg.errors import ConflictError, ForbiddenError, NotFoundError
from herokupg.models import Attachment, DatabaseInfo
from herokupg.ops.info import url_names
from herokupg.resolve import (
    all_databases,
    is_advanced,
    is_essential,
    is_essential_tier,
    is_legacy,
    is_legacy_essential,
    name_for_url,
    resolve_database,
)

FIXTURES = Path(__file__).parent / "fixtures" / "api"
RESOLVE = "/actions/addon-attachments/resolve"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


ATTACHMENTS = load("attachments.json")
DATABASE, PINK, GREEN, REDIS, ANALYST = ATTACHMENTS
CONFIG = load("config_vars.json")
NOT_FOUND = load("error_not_found_attachment.json")
A1, A2 = DATABASE["addon"]["id"], GREEN["addon"]["id"]


class FakeHeroku:
    """Answers by (method, path); the resolver's answer may depend on the requested identifier."""

    def __init__(self) -> None:
        self.resolver: dict[tuple[str, str], tuple[int, Any]] = {}
        self.routes: dict[tuple[str, str], Any] = {
            ("GET", "/apps/myapp/addon-attachments"): ATTACHMENTS,
            ("GET", "/apps/myapp/config-vars"): CONFIG,
        }
        self.requests: list[httpx.Request] = []

    def resolves(self, app: str, ident: str, result: Any, status: int = 200) -> None:
        self.resolver[(app, ident)] = (status, result)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == RESOLVE:
            sent = json.loads(request.content)
            status, result = self.resolver.get((sent["app"], sent["addon_attachment"]), (404, NOT_FOUND))
            return httpx.Response(status, json=result)
        key = (request.method, request.url.path)
        if key not in self.routes:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        return httpx.Response(200, json=self.routes[key])

    def api(self) -> HerokuAPI:
        transport = httpx.MockTransport(self.handle)
        return HerokuAPI(HerokuClient("test-key-0123456789", transport=transport, retries=0, env={}))

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


@pytest.fixture
def heroku() -> FakeHeroku:
    return FakeHeroku()


# -- identifier forms ------------------------------------------------------------------------------


@pytest.mark.parametrize("ident", ["DATABASE_URL", "DATABASE"])
def test_database_forms(heroku: FakeHeroku, ident: str) -> None:
    db = resolve_database(heroku.api(), "myapp", ident)
    assert db.app == "myapp"
    assert db.attachment.name == "DATABASE"
    assert db.config_var == "DATABASE_URL"
    assert db.addon_id == A1 and db.addon_name == "postgresql-curved-12345"
    assert db.plan == "heroku-postgresql:standard-0" and not db.is_essential
    assert db.names == ("DATABASE", "HEROKU_POSTGRESQL_PINK", "ANALYST")
    assert db.billing_app == "myapp"
    # It matches an attachment of the list by the resolver's own rules: the resolver is not asked.
    assert heroku.paths() == ["/apps/myapp/addon-attachments"]


def test_identifier_unknown_to_the_list_goes_to_the_resolver(heroku: FakeHeroku) -> None:
    heroku.resolves("myapp", "database_url", [DATABASE])
    db = resolve_database(heroku.api(), "myapp", "database_url")
    assert db.attachment.name == "DATABASE"
    assert db.names == ("DATABASE", "HEROKU_POSTGRESQL_PINK", "ANALYST")
    assert heroku.paths() == ["/apps/myapp/addon-attachments", RESOLVE]
    assert json.loads(heroku.requests[1].content) == {"addon_attachment": "database_url", "app": "myapp"}


def test_default_identifier_is_database_url(heroku: FakeHeroku) -> None:
    heroku.resolves("myapp", "DATABASE_URL", [DATABASE])
    assert resolve_database(heroku.api(), "myapp").attachment.name == "DATABASE"


@pytest.mark.parametrize("ident", ["HEROKU_POSTGRESQL_GREEN", "HEROKU_POSTGRESQL_GREEN_URL"])
def test_color_forms(heroku: FakeHeroku, ident: str) -> None:
    heroku.resolves("myapp", ident, [GREEN])
    db = resolve_database(heroku.api(), "myapp", ident)
    assert db.addon_id == A2
    assert db.config_var == "HEROKU_POSTGRESQL_GREEN_URL"
    assert db.names == ("HEROKU_POSTGRESQL_GREEN",)


def test_addon_name_matching_several_attachments_of_one_database(heroku: FakeHeroku) -> None:
    # The resolver answers every attachment of the add-on; the credential one is dropped, and
    # DATABASE and PINK carry the same URL, so they are one database: the first wins.
    heroku.resolves("myapp", "postgresql-curved-12345", [DATABASE, PINK, ANALYST])
    db = resolve_database(heroku.api(), "myapp", "postgresql-curved-12345")
    assert db.attachment.name == "DATABASE"
    assert "/apps/myapp/config-vars" in heroku.paths()


def test_other_app_form(heroku: FakeHeroku) -> None:
    other = {"id": "0b5d2f8e-9f61-4e0a-8f2c-7c3b8a9e1d02", "name": "otherapp"}
    theirs = {**copy.deepcopy(DATABASE), "app": other, "id": "b0b0b0b0-0009-4000-8000-000000000009"}
    heroku.resolves("otherapp", "PRIMARY", [theirs])
    heroku.routes[("GET", "/apps/otherapp/addon-attachments")] = [theirs]
    db = resolve_database(heroku.api(), "myapp", "otherapp::DATABASE")
    assert db.app == "otherapp"
    assert db.attachment.app.name == "otherapp"
    assert heroku.paths() == ["/apps/otherapp/addon-attachments"]
    assert resolve_database(heroku.api(), "myapp", "otherapp::PRIMARY").app == "otherapp"
    assert json.loads(heroku.requests[-1].content) == {"addon_attachment": "PRIMARY", "app": "otherapp"}
    assert "/apps/myapp/addon-attachments" not in heroku.paths()


# -- filtering and ambiguity ---------------------------------------------------------------------


def test_non_postgres_attachments_are_ignored(heroku: FakeHeroku) -> None:
    heroku.resolves("myapp", "REDIS", [REDIS])
    with pytest.raises(NotFoundError) as err:
        resolve_database(heroku.api(), "myapp", "REDIS")
    assert err.value.message.startswith("Couldn't find that addon.")
    assert "'REDIS'" in err.value.message and err.value.error_id == "not_found"


def test_postgres_kept_among_other_services(heroku: FakeHeroku) -> None:
    heroku.resolves("myapp", "shared-name", [REDIS, GREEN])
    assert resolve_database(heroku.api(), "myapp", "shared-name").addon_id == A2


def test_ambiguous_identifier(heroku: FakeHeroku) -> None:
    heroku.resolves("myapp", "postgresql", [DATABASE, GREEN])
    with pytest.raises(ConflictError) as err:
        resolve_database(heroku.api(), "myapp", "postgresql")
    assert err.value.error_id == "multiple_matches" and err.value.status == 422
    assert err.value.message == (
        "Ambiguous identifier; multiple matching add-ons found: DATABASE, HEROKU_POSTGRESQL_GREEN."
    )


def test_same_addon_with_different_urls_is_ambiguous(heroku: FakeHeroku) -> None:
    heroku.routes[("GET", "/apps/myapp/config-vars")] = {
        **CONFIG,
        "HEROKU_POSTGRESQL_PINK_URL": "postgres://u9:rotated-password-zz@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d1abc",
    }
    heroku.resolves("myapp", "postgresql-curved-12345", [DATABASE, PINK])
    with pytest.raises(ConflictError, match="DATABASE, HEROKU_POSTGRESQL_PINK"):
        resolve_database(heroku.api(), "myapp", "postgresql-curved-12345")


# -- namespaces ---------------------------------------------------------------------------------------


def test_namespace_selects_the_credential_attachment(heroku: FakeHeroku) -> None:
    heroku.resolves("myapp", "postgresql-curved-12345", [DATABASE, PINK, ANALYST])
    db = resolve_database(heroku.api(), "myapp", "postgresql-curved-12345", namespace="credential:analyst")
    assert db.attachment.name == "ANALYST"
    assert db.config_var == "ANALYST_URL"
    assert "/apps/myapp/config-vars" not in heroku.paths()  # a single match needs no URL comparison


def test_namespace_without_match(heroku: FakeHeroku) -> None:
    heroku.resolves("myapp", "DATABASE", [DATABASE])
    with pytest.raises(NotFoundError, match="namespace 'credential:nope'"):
        resolve_database(heroku.api(), "myapp", "DATABASE", namespace="credential:nope")


def test_single_namespaced_match_without_namespace_is_kept(heroku: FakeHeroku) -> None:
    # Only when several match are namespaced attachments dropped (the CLI's singularize).
    heroku.resolves("myapp", "ANALYST", [ANALYST])
    assert resolve_database(heroku.api(), "myapp", "ANALYST").attachment.name == "ANALYST"


# -- 404 fallback through config vars -------------------------------------------------------------


def test_fallback_matches_a_config_var_copy(heroku: FakeHeroku) -> None:
    heroku.routes[("GET", "/apps/myapp/config-vars")] = {
        **CONFIG,
        "REPORTING_URL": CONFIG["HEROKU_POSTGRESQL_GREEN_URL"],
    }
    db = resolve_database(heroku.api(), "myapp", "REPORTING")
    assert db.attachment.name == "HEROKU_POSTGRESQL_GREEN"
    assert heroku.paths() == ["/apps/myapp/addon-attachments", RESOLVE, "/apps/myapp/config-vars"]


def test_fallback_with_url_suffix_and_equivalent_matches(heroku: FakeHeroku) -> None:
    heroku.routes[("GET", "/apps/myapp/config-vars")] = {**CONFIG, "PRIMARY_URL": CONFIG["DATABASE_URL"]}
    db = resolve_database(heroku.api(), "myapp", "PRIMARY_URL")
    assert db.attachment.name == "DATABASE"  # DATABASE and PINK are the same database
    assert heroku.paths().count("/apps/myapp/config-vars") == 1  # fetched once per resolution


def test_fallback_unknown_database_lists_options(heroku: FakeHeroku) -> None:
    for ident in ("NOPE", "NOPE_URL"):
        with pytest.raises(NotFoundError) as err:
            resolve_database(heroku.api(), "myapp", ident)
        assert err.value.message == (
            "Unknown database: NOPE. Valid options are: "
            "DATABASE, HEROKU_POSTGRESQL_PINK, HEROKU_POSTGRESQL_GREEN, ANALYST"
        )


def test_fallback_app_without_databases(heroku: FakeHeroku) -> None:
    heroku.routes[("GET", "/apps/myapp/addon-attachments")] = [REDIS]
    with pytest.raises(NotFoundError) as err:
        resolve_database(heroku.api(), "myapp")
    assert err.value.message == "myapp has no databases"
    assert "/apps/myapp/config-vars" not in heroku.paths()


def test_fallback_distinct_databases_reraise_the_404(heroku: FakeHeroku) -> None:
    same = CONFIG["DATABASE_URL"]
    heroku.routes[("GET", "/apps/myapp/config-vars")] = {
        **CONFIG,
        "HEROKU_POSTGRESQL_GREEN_URL": same,
        "X_URL": same,
    }
    with pytest.raises(NotFoundError) as err:
        resolve_database(heroku.api(), "myapp", "X")
    assert err.value.message == "Couldn't find that add on attachment."


def test_other_resolver_errors_propagate(heroku: FakeHeroku) -> None:
    heroku.resolves(
        "myapp", "SECRET", {"id": "forbidden", "message": "You do not have access."}, status=403
    )
    with pytest.raises(ForbiddenError):
        resolve_database(heroku.api(), "myapp", "SECRET")
    heroku.resolves("myapp", "GONE", {"id": "gone", "message": "Gone."}, status=404)
    with pytest.raises(NotFoundError) as err:
        resolve_database(heroku.api(), "myapp", "GONE")
    assert err.value.error_id == "gone"  # only id=not_found triggers the fallback
    assert "/apps/myapp/config-vars" not in heroku.paths()


def test_service_override_env(heroku: FakeHeroku, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEROKU_POSTGRESQL_ADDON_NAME", "heroku-redis")
    heroku.resolves("myapp", "REDIS", [REDIS])
    assert resolve_database(heroku.api(), "myapp", "REDIS").attachment.name == "REDIS"


# -- all databases --------------------------------------------------------------------------------


def test_all_databases(heroku: FakeHeroku) -> None:
    advanced = copy.deepcopy(GREEN)
    advanced["id"], advanced["name"] = "b0b0b0b0-0008-4000-8000-000000000008", "HEROKU_POSTGRESQL_RED"
    advanced["addon"] = {
        **advanced["addon"],
        "id": "adv-1",
        "name": "postgresql-adv-1",
        "plan": {"id": "p", "name": "heroku-postgresql:advanced"},
    }
    advanced["config_vars"] = ["HEROKU_POSTGRESQL_RED_URL"]
    # GREEN listed first: DATABASE must still come first
    heroku.routes[("GET", "/apps/myapp/addon-attachments")] = [
        GREEN,
        advanced,
        REDIS,
        ANALYST,
        PINK,
        DATABASE,
    ]
    dbs = all_databases(heroku.api(), "myapp")
    assert [d.addon_id for d in dbs] == [A1, A2]
    assert dbs[0].attachment.name == "DATABASE" and dbs[0].config_var == "DATABASE_URL"
    assert dbs[0].names == ("ANALYST", "HEROKU_POSTGRESQL_PINK", "DATABASE")
    assert dbs[1].names == ("HEROKU_POSTGRESQL_GREEN",)


def test_all_databases_none(heroku: FakeHeroku) -> None:
    heroku.routes[("GET", "/apps/myapp/addon-attachments")] = [REDIS]
    assert all_databases(heroku.api(), "myapp") == []


# -- name_for_url -----------------------------------------------------------------------------------


def test_name_for_url_prefers_non_database_names() -> None:
    leader = "postgres://ec2-1-2-3-4.compute-1.amazonaws.com:5432/d1abc"
    assert name_for_url({"DATABASE_URL": CONFIG["DATABASE_URL"]}, leader) == "DATABASE"
    pair = {"DATABASE_URL": CONFIG["DATABASE_URL"], "HEROKU_POSTGRESQL_PINK_URL": CONFIG["DATABASE_URL"]}
    assert name_for_url(pair, leader) == "HEROKU_POSTGRESQL_PINK"
    reversed_pair = dict(reversed(list(pair.items())))
    assert name_for_url(reversed_pair, leader) == "HEROKU_POSTGRESQL_PINK"
    # with several non-DATABASE names, the last in config order wins (the CLI pops the list)
    assert name_for_url(CONFIG, leader) == "ANALYST"


def test_name_for_url_no_match() -> None:
    assert name_for_url(CONFIG, "postgres://elsewhere.example.com:5432/d1abc") is None
    assert name_for_url(CONFIG, "postgres://ec2-1-2-3-4.compute-1.amazonaws.com:5433/d1abc") is None
    assert name_for_url(CONFIG, "postgres://ec2-1-2-3-4.compute-1.amazonaws.com:5432/other") is None
    assert name_for_url({}, "postgres://h/d") is None


def test_name_for_url_exact_value() -> None:
    assert name_for_url({"FOO": "not-a-url", "BAR": "x"}, "not-a-url") == "FOO"


def test_url_names_name_databases_as_the_config_vars_do() -> None:
    # From the databases' own resource_url, without the config vars (heroku_pg_info's no-op).
    pooler = {
        **copy.deepcopy(DATABASE),
        "id": "b0b0b0b0-0007-4000-8000-000000000007",
        "name": "DATABASE_CONNECTION_POOL",
        "namespace": "connection-pooling:default",
        "config_vars": ["DATABASE_CONNECTION_POOL_URL"],
    }
    attachments = [Attachment.model_validate(a) for a in [*ATTACHMENTS, pooler]]
    infos = [
        DatabaseInfo(addon_id=A1, resource_url=CONFIG["DATABASE_URL"]),
        DatabaseInfo(addon_id=A2, resource_url=CONFIG["HEROKU_POSTGRESQL_GREEN_URL"]),
        None,  # still provisioning
    ]
    names = url_names(attachments, infos)
    assert sorted(names) == sorted(k for k in CONFIG if k.startswith(("DATABASE", "HEROKU", "ANALYST")))
    for url in (CONFIG["DATABASE_URL"], CONFIG["HEROKU_POSTGRESQL_GREEN_URL"], "postgres://elsewhere/d"):
        assert name_for_url(names, url) == name_for_url(CONFIG, url)


# -- plan classification ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "advanced", "legacy", "essential", "legacy_essential", "essential_tier"),
    [
        ("heroku-postgresql:essential-0", False, True, True, False, True),
        ("heroku-postgresql:essential-2", False, True, True, False, True),
        ("heroku-postgresql:standard-0", False, True, False, False, False),
        ("heroku-postgresql:premium-3", False, True, False, False, False),
        ("heroku-postgresql:private-0", False, True, False, False, False),
        ("heroku-postgresql:shield-0", False, True, False, False, False),
        ("heroku-postgresql:mini", False, True, False, True, True),
        ("heroku-postgresql:basic", False, True, False, True, True),
        ("heroku-postgresql:dev", False, True, False, True, True),
        ("heroku-postgresql:hobby-dev", False, True, False, False, False),  # not matched, as in the CLI
        ("heroku-postgresql:advanced", True, False, False, False, False),
        ("heroku-postgresql:advanced-private", True, False, False, False, False),
        ("heroku-postgresql:performance-2", True, False, False, False, False),
        ("heroku-redis:mini", False, False, False, False, False),
        ("standard-0", False, True, False, False, False),  # a bare suffix
    ],
)
def test_plan_classification(
    plan: str, advanced: bool, legacy: bool, essential: bool, legacy_essential: bool, essential_tier: bool
) -> None:
    assert is_advanced(plan) is advanced
    assert is_legacy(plan) is legacy
    assert is_essential(plan) is essential
    assert is_legacy_essential(plan) is legacy_essential
    assert is_essential_tier(plan) is essential_tier
