"""Models: API key aliases, tolerance of unknown fields, transfer naming/status, secrets in repr."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from herokupg.errors import UnexpectedResponseError, ValidationError
from herokupg.models import (
    Addon,
    App,
    Attachment,
    DatabaseInfo,
    LogSession,
    PublicUrl,
    Transfer,
    TransferSchedule,
    WaitStatus,
    format_bytes,
    parse,
    parse_settings,
    parse_transfer_name,
)
from herokupg.redact import redact

FIXTURES = Path(__file__).parent / "fixtures" / "api"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def transfer(**fields: Any) -> Transfer:
    return Transfer.model_validate({"uuid": "u-1", **fields})


# -- transfer names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "name", "kind"),
    [
        ({"num": 1, "from_type": "pg_dump", "to_type": "gof3r"}, "b001", "backup"),
        (
            {"num": 42, "from_type": "pg_dump", "to_type": "gof3r", "schedule": {"uuid": "s"}},
            "a042",
            "backup",
        ),
        ({"num": 1234, "from_type": "pg_dump", "to_type": "gof3r"}, "b1234", "backup"),
        ({"num": 1, "from_type": "pg_dump", "to_type": "pg_restore"}, "c001", "copy"),
        # A copy is a copy even when started by a schedule-less or scheduled source.
        (
            {"num": 7, "from_type": "pg_dump", "to_type": "pg_restore", "schedule": {"uuid": "s"}},
            "c007",
            "copy",
        ),
        ({"num": 2, "from_type": "gof3r", "to_type": "pg_restore"}, "r002", "restore"),
        ({"num": 3, "from_type": "htcat", "to_type": "pg_restore"}, "r003", "restore"),
        ({"num": 5, "from_type": "htcat", "to_type": "gof3r"}, "b005", "backup"),
        (
            {"num": 9, "from_type": "pg_dump", "to_type": "gof3r", "options": {"pgbackups_name": "b012"}},
            "ob012",
            "backup",
        ),
        ({"from_type": "pg_dump", "to_type": "gof3r"}, "b000", "backup"),
    ],
)
def test_transfer_name_and_kind(fields: dict[str, Any], name: str, kind: str) -> None:
    t = transfer(**fields)
    assert t.name == name
    assert t.kind == kind
    # computed fields are part of the dump, so modules can return them as-is
    assert t.model_dump()["name"] == name


def test_parse_transfer_name_numbers() -> None:
    assert parse_transfer_name("b001") == 1
    assert parse_transfer_name("a042") == 42
    assert parse_transfer_name("b1234") == 1234
    assert parse_transfer_name("c001") == 1
    assert parse_transfer_name("r002") == 2


def test_parse_transfer_name_legacy_needs_the_list() -> None:
    transfers = [Transfer.model_validate(t) for t in load("transfers.json")]
    assert parse_transfer_name("ob012", transfers) == 5
    with pytest.raises(ValidationError, match="ob999"):
        parse_transfer_name("ob999", transfers)
    with pytest.raises(ValidationError, match="ob012"):
        parse_transfer_name("ob012")


@pytest.mark.parametrize(
    "bad", ["", "001", "x001", "b", "b01a", "B001", "b001 ", "latest", "b\u0660\u0660\u0661"]
)
def test_parse_transfer_name_rejects(bad: str) -> None:
    with pytest.raises(ValidationError, match="Invalid ID"):
        parse_transfer_name(bad)


# -- transfer status ----------------------------------------------------------------------------


def test_status_text_variants() -> None:
    done = {"finished_at": "2024-05-01 02:01:00 +0000", "started_at": "2024-05-01 02:00:00 +0000"}
    assert transfer(succeeded=True, **done).status_text == "Completed 2024-05-01 02:01:00 +0000"
    assert transfer(succeeded=True, warnings=3, **done).status_text == "Finished with 3 warnings"
    assert transfer(succeeded=False, **done).status_text == "Failed 2024-05-01 02:01:00 +0000"
    running = transfer(started_at="2024-05-01 02:00:00 +0000", processed_bytes=1572864)
    assert running.status_text == "Running (processed 1.50MB)"
    assert transfer().status_text == "Pending"


def test_info_status_knows_canceled() -> None:
    canceled = transfer(canceled_at="x", finished_at="y", started_at="z")
    assert canceled.info_status == "Canceled"
    assert transfer(succeeded=True, finished_at="y").info_status == "Completed"
    assert transfer(finished_at="y").info_status == "Failed"
    assert transfer(started_at="z").info_status == "Running"
    assert transfer().info_status == "Pending"


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (None, ""),
        (0, "0.00B"),
        (512, "512.00B"),
        (1024, "1.00KB"),
        (1572864, "1.50MB"),
        (5 * 1024**3, "5.00GB"),
    ],
)
def test_format_bytes_like_the_cli(size: int | None, text: str) -> None:
    assert format_bytes(size) == text


def test_transfer_fixture_list() -> None:
    transfers = [Transfer.model_validate(t) for t in load("transfers.json")]
    assert [t.name for t in transfers] == ["b001", "a002", "r003", "c004", "ob012", "b006", "b007"]
    assert [t.is_backup for t in transfers] == [True, True, False, False, True, True, True]
    assert transfers[6].status_text == "Running (processed 1.50MB)"
    failed = Transfer.model_validate(load("transfer_failed_verbose.json"))
    assert failed.log_messages(last=2) == ["waiting for pg_dump to complete", "upload failed"]


def test_transfer_urls_hidden_and_registered() -> None:
    t = Transfer.model_validate(load("transfers.json")[0])
    assert "p4ssw0rd-primary-aaaa" not in repr(t)
    assert "s3.amazonaws.com" not in repr(t)
    assert redact("leaked p4ssw0rd-primary-aaaa") == "leaked ********"


# -- aliases and unknown fields -----------------------------------------------------------------


def test_wait_status_aliases() -> None:
    status = WaitStatus.model_validate(load("wait_status.json"))
    assert status.waiting is True and status.error is False and status.message == "pending"
    # Advanced tier spells the keys without `?`
    advanced = WaitStatus.model_validate({"waiting": False, "message": None})
    assert advanced.waiting is False and advanced.message is None
    # populate_by_name: constructing with Python names works, dumping by alias restores the API keys
    built = WaitStatus(waiting=True, message="m", error=True)
    assert built.model_dump(by_alias=True)["waiting?"] is True
    assert built.model_dump(by_alias=True)["error?"] is True


def test_database_info_fields() -> None:
    info = DatabaseInfo.model_validate(load("database_follower.json"))
    assert info.waiting is False
    assert info.hot_standby is True and info.standalone is False and info.is_in_recovery is True
    assert info.is_follower
    assert info.leader is not None and not isinstance(info.leader, str)
    assert info.leader.name == "postgresql-curved-12345"
    assert info.plan_name == "standard-0"
    assert info.info_value("Behind By") == ["0 commits"]
    assert info.info_value("Followers") == []
    assert info.info_value("No Such Row") == []
    assert info.status == "Available"
    following_row = next(e for e in info.info if e.name == "Following")
    assert following_row.resolve_db_name is True
    # unknown keys are kept
    assert info.model_extra == {"maintenance_required?": False}
    # plan may also be a plain string, leader a plain string
    assert DatabaseInfo.model_validate({"plan": "Hobby-dev", "leader": "x"}).plan_name == "Hobby-dev"


def test_database_info_secrets_not_in_repr() -> None:
    info = DatabaseInfo.model_validate(load("database_follower.json"))
    text = repr(info) + str(info)
    assert "p4ssw0rd-follower-bbbb" not in text
    assert "following=" not in text and "resource_url=" not in text  # URLs may carry credentials
    # the password is registered: any later error text mentioning it is masked
    assert "p4ssw0rd-follower-bbbb" not in redact("password=p4ssw0rd-follower-bbbb")
    # still available to code that needs it
    assert info.database_password == "p4ssw0rd-follower-bbbb"


def test_unknown_field_with_secret_is_redacted_in_repr() -> None:
    info = DatabaseInfo.model_validate({"new_url": "postgres://u:s3cret-new-field@h:5432/d"})
    assert "s3cret-new-field" not in repr(info)
    assert "new_url" in repr(info)


def test_addon_and_attachment() -> None:
    addon = Addon.model_validate(load("addon_follower.json"))
    assert addon.plan is not None and addon.plan.service == "heroku-postgresql"
    assert addon.plan.suffix == "standard-0"
    assert addon.plan.price is not None and addon.plan.price.cents == 5000
    assert addon.addon_service is not None and addon.addon_service.name == "heroku-postgresql"
    assert addon.state == "provisioning"
    assert addon.model_extra == {"protected": False}
    attachments = [Attachment.model_validate(a) for a in load("attachments.json")]
    redis = attachments[3]
    assert redis.plan_name == "heroku-redis:mini"
    assert redis.url_config_var == "REDIS_URL"
    assert attachments[4].namespace == "credential:analyst"
    assert attachments[0].namespace is None


def test_attachment_without_inclusion() -> None:
    # plain GET /addons/{id}/addon-attachments has no plan and no config_vars
    bare = Attachment.model_validate(
        {
            "id": "i",
            "name": "DATABASE",
            "app": {"id": "a", "name": "app"},
            "addon": {"id": "x", "name": "pg-1"},
        }
    )
    assert bare.plan_name == "" and bare.config_vars == [] and bare.url_config_var is None


def test_app_generation() -> None:
    assert App.model_validate(load("app.json")).generation_name == "cedar"
    assert App.model_validate({"id": "i", "name": "n", "generation": "fir"}).generation_name == "fir"
    assert App.model_validate({"id": "i", "name": "n"}).generation_name == "cedar"


def test_schedule_hour_number_or_string() -> None:
    assert (
        TransferSchedule.model_validate(
            {"uuid": "u", "name": "DATABASE_URL", "hour": "06", "timezone": "UTC"}
        ).hour
        == 6
    )


def test_settings() -> None:
    settings = parse_settings(load("settings.json"))
    assert settings["log_lock_waits"].value is True
    assert settings["log_min_duration_statement"].default == 2000
    assert isinstance(settings["log_statement"].values, dict)
    assert settings["log_statement"].values["all"] == "All statements"


def test_signed_urls_hidden() -> None:
    url = PublicUrl.model_validate(load("public_url.json"))
    assert "X-Amz-Signature" not in repr(url) and url.expires_at == "2024-05-07 10:10:00 +0000"
    session = LogSession.model_validate(load("log_session.json"))
    assert "s3cr3tt0k3n" not in repr(session)
    assert session.logplex_url.startswith("https://logs.heroku.com/")


# -- pydantic: what the models are, and errors that never echo a value -----------------------------


def test_models_are_pydantic_models_built_on_first_use() -> None:
    import pydantic

    assert issubclass(Transfer, pydantic.BaseModel) and Transfer.model_config.get("defer_build") is True
    assert Transfer.model_config.get("extra") == "allow"


def test_a_body_that_does_not_fit_names_field_and_type_but_never_the_value() -> None:
    body = {"port": "not-a-port-s3cr3tvalue", "info": [{"values": []}], "waiting?": {"x": 1}}
    with pytest.raises(UnexpectedResponseError) as info:
        parse(DatabaseInfo, body)
    text = str(info.value)
    assert text.startswith("Unexpected answer from the Heroku API for DatabaseInfo: ")
    assert "port: Input should be a valid integer" in text and "(got str)" in text
    assert "info.0.name: Field required" in text
    assert "waiting?: Input should be a valid boolean" in text and "(got dict)" in text
    assert "s3cr3tvalue" not in text and "s3cr3tvalue" not in repr(info.value.problems)
    assert isinstance(info.value, ValueError)  # modules report it as bad data, not a crash
    with pytest.raises(UnexpectedResponseError, match=r"for Transfer: \(the whole body\): .* \(got str\)"):
        parse(Transfer, "<html>Not Found</html>")
    with pytest.raises(UnexpectedResponseError, match="PGSettings"):
        parse_settings(["log_statement"])


def test_running_transfer_has_no_outcome_yet_and_fork_source_may_be_a_bare_uuid() -> None:
    running = Transfer.model_validate({"uuid": "u", "succeeded": None, "started_at": "x"})
    assert running.succeeded is None and running.status_text.startswith("Running")
    assert transfer().succeeded is None
    fork = DatabaseInfo.model_validate({"forked_from": "5ba4dc28-2b86-4b6c-b7a4-0c2a0b2f6c49"})
    assert fork.forked_from == "5ba4dc28-2b86-4b6c-b7a4-0c2a0b2f6c49"
    tables = DatabaseInfo.model_validate({"info": [{"name": "Tables", "values": [48]}]})
    assert tables.info_value("Tables") == ["48"]
