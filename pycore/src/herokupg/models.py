"""Pydantic models of the Heroku Platform API and Data API objects used for Postgres.

Field names are the API's own keys; keys with a ``?`` (``waiting?``, ``error?``...) get a Python
name and an alias. Unknown fields are kept (``extra="allow"``) because both APIs grow over time.
Secrets (database passwords, postgres URLs, signed URLs, log-stream tokens) are hidden from
``repr`` and registered with :func:`herokupg.redact.register_secret` as soon as they are parsed.

Each model builds its validator on first use (``defer_build``): a module run pays only for the
models its operation reads. API bodies are read with :func:`parse` / :func:`parse_list`, which
turn pydantic's errors into :class:`herokupg.errors.UnexpectedResponseError`: the field, what it
should be and the type that came, never the value (an unexpected body may carry a secret).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, computed_field, model_validator
from pydantic import ValidationError as PydanticValidationError

from herokupg.errors import UnexpectedResponseError, ValidationError, validation_problems
from herokupg.redact import redact, register_secret

Model = TypeVar("Model", bound=BaseModel)


def register_url_secret(url: str | None) -> None:
    """Register the password of a URL (``postgres://user:pw@host``) as a secret."""
    if not url:
        return
    try:
        password = urlsplit(url).password
    except ValueError:
        return
    register_secret(password)


def _flag(key: str, default: bool | None) -> Any:
    """A field for a ``key?`` flag: serialised with the ``?``, also read without it (Advanced tier)."""
    return Field(default=default, alias=f"{key}?", validation_alias=AliasChoices(f"{key}?", key))


def parse(model: type[Model], raw: Any) -> Model:
    """``raw`` (a parsed API body) as ``model``; UnexpectedResponseError if it does not fit."""
    try:
        return model.model_validate(raw)
    except PydanticValidationError as exc:
        raise UnexpectedResponseError(model.__name__, validation_problems(exc)) from None


def parse_list(model: type[Model], raw: list[Any]) -> list[Model]:
    return [parse(model, item) for item in raw]


class HerokuModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        # Unknown fields are shown, but a secret the API added in a new field must not leak.
        declared = type(self).model_fields
        for key, value in super().__repr_args__():
            if key is not None and key not in declared and isinstance(value, str):
                value = redact(value)
            yield key, value


class Ref(HerokuModel):
    """An ``{id, name}`` reference, as embedded in most Heroku objects."""

    id: str | None = None
    name: str | None = None


class AppRef(Ref):
    pass


class App(HerokuModel):
    id: str
    name: str
    generation: Ref | str | None = None
    maintenance: bool = False
    region: Ref | None = None
    stack: Ref | None = None
    web_url: str | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def generation_name(self) -> str:
        """``cedar`` or ``fir``; absent means cedar (older API responses)."""
        if isinstance(self.generation, Ref):
            return self.generation.name or "cedar"
        return self.generation or "cedar"


class AddonService(Ref):
    human_name: str | None = None


class Price(HerokuModel):
    cents: int | None = None
    unit: str | None = None
    contract: bool | None = None
    metered: bool | None = None


class Plan(HerokuModel):
    id: str | None = None
    name: str
    price: Price | None = None

    @property
    def service(self) -> str:
        return self.name.split(":", 1)[0]

    @property
    def suffix(self) -> str:
        """``standard-0`` of ``heroku-postgresql:standard-0``."""
        return self.name.split(":", 1)[1] if ":" in self.name else ""


class Addon(HerokuModel):
    id: str
    name: str
    addon_service: AddonService | None = None
    plan: Plan | None = None
    app: AppRef | None = None  # the billing app
    billing_entity: dict[str, Any] | None = None
    billed_price: Price | None = None
    config_vars: list[str] = Field(default_factory=list)
    state: str | None = None  # provisioning | provisioned | deprovisioning | deprovisioned
    provision_message: str | None = None
    provider_id: str | None = None
    actions: list[Any] = Field(default_factory=list)
    web_url: str | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def plan_name(self) -> str:
        return self.plan.name if self.plan else ""


class Attachment(HerokuModel):
    id: str
    name: str
    namespace: str | None = None
    app: AppRef
    # With `Accept-Inclusion: addon:plan,config_vars`, `addon.plan` and `config_vars` are present.
    addon: Addon
    config_vars: list[str] = Field(default_factory=list)
    web_url: str | None = None
    log_input_url: str | None = Field(default=None, repr=False)
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def plan_name(self) -> str:
        return self.addon.plan_name

    @property
    def url_config_var(self) -> str | None:
        """The CLI's getConfigVarName: the first ``*_URL`` of the attachment's config vars."""
        return next((cv for cv in self.config_vars if cv.endswith("_URL")), None)


class InfoEntry(HerokuModel):
    name: str
    values: list[Any] = Field(default_factory=list)  # text or numbers; database URLs in some rows
    resolve_db_name: bool = False

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        for key, value in super().__repr_args__():
            if key == "values":
                value = [redact(v) if isinstance(v, str) else v for v in value]
            yield key, value


class DatabasePlan(HerokuModel):
    id: int | str | None = None
    name: str | None = None


class Leader(HerokuModel):
    addon_id: str | None = None
    name: str | None = None


class DatabaseInfo(HerokuModel):
    """``GET /client/v11/databases/{addon_id}`` (contract §2)."""

    addon_id: str | None = None
    name: str | None = None
    heroku_resource_id: str | None = None
    resource_url: str | None = Field(default=None, repr=False)
    created_at: str | None = None
    status_updated_at: str | None = None
    waiting: bool | None = _flag("waiting", None)
    database_name: str | None = None
    database_user: str | None = None
    database_password: str | None = Field(default=None, repr=False)
    port: int | None = None
    postgres_version: str | None = None
    plan: DatabasePlan | str | None = None
    num_bytes: int | None = None
    num_tables: int | None = None
    num_connections: int | None = None
    num_connections_waiting: int | None = None
    credentials: int | None = None
    # The leader's postgres URL when this database is a follower (key has no `?`).
    following: str | None = Field(default=None, repr=False)
    leader: Leader | str | None = None
    # Real Heroku sends the source's add-on id, bare; the CLI's type says a URL, its fixture
    # {addon_id, name}. See forked_from_id.
    forked_from: Leader | str | None = Field(default=None, repr=False)
    hot_standby: bool | None = Field(default=None, alias="hot_standby?")
    standalone: bool | None = Field(default=None, alias="standalone?")
    # Typed `is_in_recovery` in the CLI; accept the `?` spelling too.
    is_in_recovery: bool | None = Field(
        default=None, validation_alias=AliasChoices("is_in_recovery", "is_in_recovery?")
    )
    current_transaction: int | str | None = None
    target_transaction: int | str | None = None
    formation: dict[str, Any] | None = None
    available_for_ingress: bool | None = None
    metaas_source: str | None = Field(default=None, repr=False)  # a URL with credentials
    info: list[InfoEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _register_secrets(self) -> DatabaseInfo:
        register_secret(self.database_password)
        for url in (self.resource_url, self.following, self.forked_from, self.metaas_source):
            if isinstance(url, str):
                register_url_secret(url)
        return self

    @property
    def forked_from_id(self) -> str | None:
        """The add-on id of the database this one was forked from, when the answer names it by id."""
        ref = self.forked_from
        if isinstance(ref, Leader):
            return ref.addon_id
        if ref and "://" not in ref:
            return ref
        return None

    def info_value(self, name: str) -> list[str]:
        """The values of the ``info`` entry called ``name`` as text (``[]`` if absent: Heroku leaves
        empty rows out, and sends numbers as numbers, e.g. ``"Tables": [48]``)."""
        for entry in self.info:
            if entry.name == name:
                return [str(v) for v in entry.values]
        return []

    @property
    def is_follower(self) -> bool:
        return bool(self.following)

    @property
    def plan_name(self) -> str | None:
        return self.plan.name if isinstance(self.plan, DatabasePlan) else self.plan

    @property
    def status(self) -> str | None:
        """The ``Status`` info row, e.g. ``available``."""
        values = self.info_value("Status")
        return values[0] if values else None


class WaitStatus(HerokuModel):
    """``GET …/wait_status``; the Advanced tier spells the keys without ``?``."""

    waiting: bool = _flag("waiting", False)
    message: str | None = None
    error: bool = _flag("error", False)
    step: str | None = None


class TransferLog(HerokuModel):
    created_at: str | None = None
    level: str | None = None
    message: str = ""


class ScheduleRef(HerokuModel):
    uuid: str | None = None


TransferKind = Literal["backup", "restore", "copy"]

_NUMBERED_NAME = re.compile(r"[abcr](\d+)", re.ASCII)
_LEGACY_NAME = re.compile(r"o[ab]\d+", re.ASCII)


def format_bytes(size: int | float | None) -> str:
    """Sizes as the CLI prints them (npm `bytes`, 2 fixed decimals, 1024 base): ``1.50MB``."""
    if size is None:
        return ""
    units = ("B", "KB", "MB", "GB", "TB", "PB")
    magnitude = abs(size)
    index = 0
    while index < len(units) - 1 and magnitude >= 1024 ** (index + 1):
        index += 1
    return f"{size / 1024**index:.2f}{units[index]}"


class Transfer(HerokuModel):
    """A backup, restore or copy on the Data API (contract §5)."""

    uuid: str
    num: int | None = None
    from_name: str | None = None
    from_type: str | None = None
    from_url: str | None = Field(default=None, repr=False)
    to_name: str | None = None
    to_type: str | None = None
    to_url: str | None = Field(default=None, repr=False)
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    canceled_at: str | None = None
    deleted_at: str | None = None
    purged_at: str | None = None
    updated_at: str | None = None
    # null until the transfer finishes (the 201 of a capture or restore, every poll while it runs);
    # only finished_at set and succeeded false means it failed.
    succeeded: bool | None = None
    warnings: int = 0
    processed_bytes: int | None = None
    source_bytes: int | None = None
    num_keep: int | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    schedule: ScheduleRef | None = None
    logs: list[TransferLog] | None = None

    @model_validator(mode="after")
    def _register_secrets(self) -> Transfer:
        register_url_secret(self.from_url)
        register_url_secret(self.to_url)
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def name(self) -> str:
        """``b001``/``a042``/``r002``/``c001`` (num padded to at least 3), or ``o<name>`` if imported."""
        legacy = self.options.get("pgbackups_name")
        if legacy:
            return f"o{legacy}"
        if self.from_type == "pg_dump":
            prefix = "c" if self.to_type == "pg_restore" else ("a" if self.schedule else "b")
        else:
            prefix = "r" if self.to_type == "pg_restore" else "b"
        return prefix + str(self.num or "").rjust(3, "0")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind(self) -> TransferKind:
        if self.to_type == "pg_restore":
            return "copy" if self.from_type == "pg_dump" else "restore"
        return "backup"

    @property
    def is_backup(self) -> bool:
        """The CLI's backup list filter: ``pg_dump → gof3r``."""
        return self.from_type == "pg_dump" and self.to_type == "gof3r"

    @property
    def scheduled(self) -> bool:
        return self.schedule is not None

    @property
    def finished(self) -> bool:
        return bool(self.finished_at)

    @property
    def status_text(self) -> str:
        """The status column of ``pg:backups`` (list view)."""
        if self.finished_at and self.succeeded:
            if self.warnings > 0:
                return f"Finished with {self.warnings} warnings"
            return f"Completed {self.finished_at}"
        if self.finished_at:
            return f"Failed {self.finished_at}"
        if self.started_at:
            return f"Running (processed {format_bytes(self.processed_bytes)})"
        return "Pending"

    @property
    def info_status(self) -> str:
        """The status row of ``pg:backups:info``, which also knows ``Canceled``."""
        if self.succeeded:
            return f"Finished with {self.warnings} warnings" if self.warnings > 0 else "Completed"
        if self.canceled_at:
            return "Canceled"
        if self.finished_at:
            return "Failed"
        if self.started_at:
            return "Running"
        return "Pending"

    def log_messages(self, last: int | None = None) -> list[str]:
        messages = [log.message for log in self.logs or []]
        return messages[-last:] if last else messages


def parse_transfer_name(name: str, transfers: Iterable[Transfer] | None = None) -> int:
    """``b001`` → 1. Imported names (``ob012``) need ``transfers`` to look their num up, as the CLI does."""
    match = _NUMBERED_NAME.fullmatch(name)
    if match:
        return int(match.group(1))
    if _LEGACY_NAME.fullmatch(name) and transfers is not None:
        for transfer in transfers:
            if transfer.name == name and transfer.num is not None:
                return transfer.num
        raise ValidationError(f"Invalid ID: {name}: no transfer of that name exists")
    raise ValidationError(
        f"Invalid ID: {name!r}: expected a backup name such as b001, a001, r001 or c001 "
        "(or an imported name like ob012)"
    )


class TransferSchedule(HerokuModel):
    uuid: str
    name: str  # the schedule name, e.g. "DATABASE_URL"
    hour: int
    timezone: str


class PublicUrl(HerokuModel):
    url: str = Field(repr=False)
    expires_at: str | None = None

    @model_validator(mode="after")
    def _register_secrets(self) -> PublicUrl:
        register_url_secret(self.url)
        return self


class LogSession(HerokuModel):
    id: str
    # The URL carries a session token.
    logplex_url: str = Field(repr=False)
    created_at: str | None = None
    updated_at: str | None = None


class Release(HerokuModel):
    id: str
    version: int
    description: str | None = None
    status: str | None = None  # pending | succeeded | failed
    current: bool | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Formation(HerokuModel):
    id: str | None = None
    type: str
    quantity: int | None = None
    size: str | None = None
    command: str | None = None


class RateLimit(HerokuModel):
    remaining: int


class SettingEntry(HerokuModel):
    value: Any = None
    default: Any = None
    desc: str | None = None
    values: dict[str, str] | list[Any] | None = None


PGSettings = dict[str, SettingEntry]


def parse_settings(raw: Any) -> PGSettings:
    """``GET /postgres/v0/databases/{id}/config``: ``{setting: {value, default, desc, values}}``."""
    if not isinstance(raw, dict):
        problem = f"(the whole body): expected an object (got {type(raw).__name__})"
        raise UnexpectedResponseError("PGSettings", [problem])
    return {str(name): parse(SettingEntry, entry) for name, entry in raw.items()}
