"""ensure_settings against a real sandbox over HTTP: check mode, idempotency, validation, tiers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from herokupg_sandbox.threaded import RunningSandbox, seed_app, seed_database

from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient
from herokupg.errors import ConflictError, NotFoundError, ValidationError
from herokupg.models import SettingEntry
from herokupg.ops.base import Context
from herokupg.ops.settings import SettingKind, ensure_settings


def _seed(
    sandbox: RunningSandbox, app: str, plan: str = "standard-0", attach: str | None = None
) -> dict[str, Any]:
    with sandbox.http() as http:
        if http.get(f"/apps/{app}").status_code == 404:
            seed_app(sandbox, app)
    return seed_database(sandbox, app, f"heroku-postgresql:{plan}", attachment=attach)


def _overrides(sandbox: RunningSandbox, addon_id: str) -> dict[str, Any]:
    """The sandbox's own record of the settings changed on a database (the test oracle)."""
    state = sandbox.admin("GET", "state")
    settings: dict[str, Any] = state["addons"][addon_id]["db"]["settings"]
    return settings


@pytest.fixture
def api(sandbox: RunningSandbox) -> Iterator[HerokuAPI]:
    with HerokuClient(sandbox.token, api_url=sandbox.url, env={}, retries=0) as client:
        yield HerokuAPI(client)


def _ctx(api: HerokuAPI, check: bool = False) -> Context:
    return Context(api=api, check_mode=check)


DESIRED = {"log_min_duration_statement": 50, "log_statement": "all", "log_lock_waits": True}


def test_check_real_check_real(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    addon = _seed(sandbox, "setapp")
    path = f"/postgres/v0/databases/{addon['id']}/config"

    checked = ensure_settings(_ctx(api, check=True), "setapp", DESIRED)
    assert checked.changed
    assert [(r.method, r.path, r.body) for r in checked.requests] == [("PATCH", path, DESIRED)]
    assert _overrides(sandbox, addon["id"]) == {}  # nothing written
    assert checked.before == {
        "log_lock_waits": False,
        "log_min_duration_statement": 2000,
        "log_statement": "ddl",
    }
    assert checked.after == DESIRED
    assert checked.data["settings"]["log_statement"] == "all"  # as it would be
    assert checked.data["settings"]["log_connections"] is True  # unmanaged settings are reported too
    assert checked.data["changes"] == DESIRED
    assert checked.data["database"]["addon_id"] == addon["id"]
    assert checked.data["database"]["config_var"] == "DATABASE_URL"

    real = ensure_settings(_ctx(api), "setapp", DESIRED)
    assert real.changed
    assert [(r.method, r.path, r.body) for r in real.requests] == [("PATCH", path, DESIRED)]
    assert _overrides(sandbox, addon["id"]) == DESIRED
    assert real.before == checked.before
    assert real.after == DESIRED
    assert real.data["settings"] == checked.data["settings"]
    assert real.warnings == []

    again = ensure_settings(_ctx(api, check=True), "setapp", DESIRED)
    assert not again.changed
    assert again.requests == []
    assert again.before == again.after == DESIRED

    final = ensure_settings(_ctx(api), "setapp", DESIRED)
    assert not final.changed
    assert final.requests == []
    assert final.data["changes"] == {}
    assert _overrides(sandbox, addon["id"]) == DESIRED


def test_only_what_differs_is_sent(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    addon = _seed(sandbox, "partial")
    # log_statement's default is already ddl: only the lock waits change.
    result = ensure_settings(_ctx(api), "partial", {"log_statement": "ddl", "log_lock_waits": "on"})
    assert result.changed
    assert [r.body for r in result.requests] == [{"log_lock_waits": True}]
    assert _overrides(sandbox, addon["id"]) == {"log_lock_waits": True}
    assert result.diff == {
        "before": {"log_lock_waits": False, "log_statement": "ddl"},
        "after": {"log_lock_waits": True, "log_statement": "ddl"},
    }


@pytest.mark.parametrize(
    "spelled",
    [
        {"log_min_duration_statement": "50", "log_lock_waits": "true", "log_statement": "ALL"},
        {"log_min_duration_statement": 50.0, "log_lock_waits": "ON", "log_statement": "all"},
        {"log_min_duration_statement": " 50 ", "log_lock_waits": "yes", "log_statement": " all"},
    ],
)
def test_normalized_values_are_idempotent(
    sandbox: RunningSandbox, api: HerokuAPI, spelled: dict[str, Any]
) -> None:
    addon = _seed(sandbox, "norm")
    first = ensure_settings(_ctx(api), "norm", spelled)
    assert first.changed
    assert [r.body for r in first.requests] == [DESIRED]  # sent as the API's own types
    assert _overrides(sandbox, addon["id"]) == DESIRED
    for again in (spelled, DESIRED):
        rerun = ensure_settings(_ctx(api), "norm", again)
        assert not rerun.changed, again
        assert rerun.requests == []


def test_unknown_setting_lists_the_valid_ones(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    addon = _seed(sandbox, "unknown")
    for check in (True, False):
        with pytest.raises(ValidationError) as info:
            ensure_settings(_ctx(api, check), "unknown", {"log_statment": "all", "log_lock_waits": True})
        message = info.value.message
        assert "Unknown setting log_statment" in message
        assert "Valid settings: " in message
        assert "log_statement" in message and "track_functions" in message and "auto_explain" in message
        assert "on app unknown" in message
    assert _overrides(sandbox, addon["id"]) == {}  # the valid half was not applied either


def test_bad_values_are_refused_before_sending(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    addon = _seed(sandbox, "badval")
    for check in (True, False):
        with pytest.raises(ValidationError) as info:
            ensure_settings(
                _ctx(api, check),
                "badval",
                {
                    "log_statement": "everything",
                    "log_lock_waits": "maybe",
                    "log_min_duration_statement": "5s",
                },
            )
        message = info.value.message
        assert (
            "Invalid value 'everything' for log_statement. Valid options are: none, ddl, mod, all." in message
        )
        assert "Invalid value 'maybe' for log_lock_waits" in message
        assert "Invalid value '5s' for log_min_duration_statement" in message
    assert _overrides(sandbox, addon["id"]) == {}


def test_values_only_the_api_can_judge_surface_its_error(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    addon = _seed(sandbox, "apierr")
    ensure_settings(_ctx(api), "apierr", {"log_statement": "mod"})
    with pytest.raises(ConflictError) as info:
        ensure_settings(_ctx(api), "apierr", {"log_min_duration_statement": -5, "log_statement": "all"})
    assert info.value.status == 422
    assert info.value.error_id == "invalid_params"
    assert "Invalid value -5 for log_min_duration_statement" in info.value.message
    assert info.value.request_id
    assert _overrides(sandbox, addon["id"]) == {"log_statement": "mod"}  # nothing half-applied
    # check mode cannot know the range: it predicts the request the API would then refuse
    predicted = ensure_settings(_ctx(api, True), "apierr", {"log_min_duration_statement": -5})
    assert predicted.changed and [r.body for r in predicted.requests] == [{"log_min_duration_statement": -5}]


def test_essential_databases_are_refused_client_side(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    addon = _seed(sandbox, "tiny", plan="essential-0")
    for check in (True, False):
        with pytest.raises(ValidationError) as info:
            ensure_settings(_ctx(api, check), "tiny", {"log_statement": "all"})
        message = info.value.message
        assert message.startswith("You can't perform this operation on Essential-tier databases.")
        assert addon["name"] in message and "essential-0" in message and "on app tiny" in message
        assert "Standard, Premium" in message  # ours, not the API's: refused before asking it
    assert _overrides(sandbox, addon["id"]) == {}


def test_other_database_by_attachment_name(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    primary = _seed(sandbox, "twodb")
    other = _seed(sandbox, "twodb", attach="REPORTING")
    result = ensure_settings(_ctx(api), "twodb", {"track_functions": "pl"}, database="REPORTING")
    assert result.changed
    assert result.data["database"]["addon_id"] == other["id"]
    assert result.data["database"]["config_var"] == "REPORTING_URL"
    assert _overrides(sandbox, other["id"]) == {"track_functions": "pl"}
    assert _overrides(sandbox, primary["id"]) == {}
    # DATABASE_URL, DATABASE and the add-on name all mean the primary
    for name in ("DATABASE_URL", "DATABASE", primary["name"]):
        assert (
            ensure_settings(_ctx(api, True), "twodb", {"track_functions": "none"}, database=name).changed
            is False
        )
    with pytest.raises(NotFoundError) as info:
        ensure_settings(_ctx(api), "twodb", {"track_functions": "pl"}, database="NOPE")
    assert "NOPE" in info.value.message


def test_empty_settings_reads_only(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    _seed(sandbox, "readonly")
    result = ensure_settings(_ctx(api), "readonly", {})
    assert not result.changed and result.requests == []
    assert result.before == result.after == {}
    assert result.data["settings"]["log_min_duration_statement"] == 2000


# -- the kind of a setting comes from the API's report of it ---------------------------------


def _entry(value: Any, default: Any = None, values: Any = None) -> SettingEntry:
    return SettingEntry(value=value, default=default, desc="", values=values)


def test_kinds_follow_the_report() -> None:
    assert SettingKind.of("b", _entry(False, False, {"true": "on", "false": "off"})).kind == "bool"
    assert SettingKind.of("i", _entry(2000, 2000, {})).kind == "int"
    assert SettingKind.of("i", _entry(None, -1, {"-1": "disabled"})).kind == "int"
    enum = SettingKind.of("e", _entry("ddl", "ddl", {"none": "", "ddl": "", "all": ""}))
    assert (enum.kind, enum.choices) == ("enum", ("none", "ddl", "all"))
    assert SettingKind.of("s", _entry("x", "x", {})).kind == "str"


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("bool", "off", False),
        ("bool", "FALSE", False),
        ("bool", "0", False),
        ("bool", 1, True),
        ("bool", "TRUE", True),
        ("int", "-1", -1),
        ("int", 7.0, 7),
        ("enum", "MOD", "mod"),
    ],
)
def test_normalize(kind: str, value: Any, expected: Any) -> None:
    assert SettingKind("x", kind, ("none", "ddl", "mod")).normalize(value) == expected


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("bool", "maybe"),
        ("bool", None),
        ("int", True),
        ("int", 1.5),
        ("int", "ten"),
        ("enum", True),
        ("enum", "x"),
    ],
)
def test_normalize_refuses(kind: str, value: Any) -> None:
    with pytest.raises(ValueError):
        SettingKind("x", kind, ("none", "ddl")).normalize(value)
