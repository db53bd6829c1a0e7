"""The request bodies the sandbox takes, as pydantic models, and the one way a route reads them.

Strict, as Heroku's API is: a string field takes a string (not a number), a boolean true or false
(not "yes"), a number a finite number. Keys a route does not use are ignored, except where the
sandbox refuses them on purpose (app and add-on updates, settings, faults). A body that does not
fit is a 422 ``invalid_params`` (or the route's own status and id) whose message names each field
and what it should be, never the value sent.

Rules that need the sandbox's state (does the plan exist, is the name taken, is the timezone
known) stay in the routes; these models only say what shape a body has.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from herokupg_sandbox import naming
from herokupg_sandbox.faults import KINDS, METHODS
from herokupg_sandbox.http import HerokuHTTPError
from herokupg_sandbox.state import Fault, Settings

B = TypeVar("B", bound=BaseModel)

STRICT = ConfigDict(strict=True, extra="ignore", allow_inf_nan=False, frozen=True)
MAX_LOG_LINES = 1500  # the most lines a Heroku log session serves

Name = Annotated[str, StringConstraints(min_length=1)]


def parse(model: type[B], body: Any, *, status: int = 422) -> B:
    """``body`` (the parsed JSON of a request) as ``model``, or the Heroku-shaped error saying why
    not: 422 ``invalid_params``, or 400 ``bad_request`` for the routes that answer that."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        error_id = "bad_request" if status == 400 else "invalid_params"
        raise HerokuHTTPError(status, error_id, "; ".join(_problems(exc)) + ".") from None


def _problems(exc: ValidationError) -> list[str]:
    """``where: what it should be (got <type>)`` for each error, never the value: a body that does
    not fit may carry a password under a key nobody expected."""
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(map(str, error["loc"])) or "(the whole body)"
        got = "" if error["type"] == "missing" else f" (got {type(error['input']).__name__})"
        problems.append(f"{where}: {error['msg']}{got}")
    return problems


class Body(BaseModel):
    model_config = STRICT


class _Closed(Body):
    """A body that refuses keys it does not know."""

    model_config = ConfigDict(extra="forbid")


class Ref(Body):
    """``{"id": ...}`` or ``{"name": ...}``, as Heroku embeds a reference."""

    id: str | None = None
    name: str | None = None


def ident(value: str | Ref) -> str | None:
    """What a reference names: the string itself, else its id, else its name."""
    return value if isinstance(value, str) else value.id or value.name


# -- Platform API ---------------------------------------------------------------------------------


class AppCreate(Body):
    name: str | None = None
    region: str | None = None
    stack: str | None = None


class AppUpdate(_Closed):
    maintenance: bool = False
    name: str = ""
    build_stack: str = ""


ConfigVarName = Annotated[str, StringConstraints(pattern=naming.CONFIG_VAR_NAME.pattern)]


class ConfigVarsPatch(RootModel[dict[ConfigVarName, str | None]]):
    """``{NAME: value}``; null unsets a var."""

    model_config = ConfigDict(strict=True)


class AddonCreate(Body):
    plan: Name | Ref
    attachment: Ref | None = None  # {"name": "DATABASE"}; {} lets the API pick
    config: dict[str, str | bool | int | float] | None = None
    confirm: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _plan_is_named(self) -> AddonCreate:
        if not self.plan_name:
            raise ValueError('plan needs a name, as in {"plan": {"name": "heroku-postgresql:<plan>"}}')
        return self

    @property
    def plan_name(self) -> str | None:
        return self.plan if isinstance(self.plan, str) else self.plan.name or self.plan.id


class AddonUpdate(_Closed):
    name: str
    plan: Any = None  # taken so that the route can say plan changes are not supported


class AddonResolve(Body):
    addon: Name
    app: str | None = None
    addon_service: str | None = None


class AttachmentResolve(Body):
    addon_attachment: Name
    app: str | None = None
    addon_service: str | None = None


class AttachmentCreate(Body):
    addon: Name | Ref
    app: Name | Ref
    name: str | None = None
    namespace: str | None = None
    confirm: str | None = None

    @model_validator(mode="after")
    def _refs_name_something(self) -> AttachmentCreate:
        for field in ("addon", "app"):
            if not ident(getattr(self, field)):
                raise ValueError(f'{field} needs a name or an id, as in {{"{field}": {{"name": ...}}}}')
        return self


class LogSessionCreate(Body):
    dyno: str | None = None
    dyno_name: str | None = None  # older spellings of dyno, as the CLI may send them
    type: str | None = None
    source: str | None = None
    lines: Annotated[int, Field(ge=1, le=MAX_LOG_LINES)] | None = None
    tail: bool = False


# -- Data API -------------------------------------------------------------------------------------


class RestoreCreate(Body):
    backup_url: str
    extensions: list[str] | None = None

    @field_validator("backup_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL of a backup")
        return value


class ScheduleCreate(Body):
    hour: Annotated[int, Field(ge=0, le=23)]  # a whole hour; the CLI sends it as a string, "06"
    timezone: str = "UTC"
    schedule_name: str | None = None

    @field_validator("hour", mode="before")
    @classmethod
    def _digits(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        return value


class TableWrite(Body):
    table: Name
    rows: list[Any] = []


class Statement(Body):
    sql: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    duration_ms: float = 0.0


# -- the admin API --------------------------------------------------------------------------------

DAY = 86_400
# Each setting's range: anything else (NaN, Infinity, absurd sizes) is refused, never stored.
SETTING_BOUNDS: dict[str, dict[str, int]] = {
    "provision_delay": {"ge": 0, "le": DAY},
    "follower_catchup": {"ge": 0, "le": DAY},
    "transfer_delay": {"ge": 0, "le": DAY},
    "release_phase_delay": {"ge": 0, "le": DAY},
    "page_size": {"ge": 1, "le": 1000},
    "rate_limit_capacity": {"ge": 1, "le": 1_000_000_000},  # benchmarks use buckets no run can empty
    "rate_limit_refill_per_minute": {"ge": 0, "le": 1_000_000_000},
    "public_url_ttl": {"ge": 1, "le": 7 * DAY},  # S3 signs URLs for a week at most
}
MAX_ADVANCE = 10 * 366 * DAY  # seconds the clock may move in one call (and in all)


def _settings_patch() -> type[Body]:
    """Every field of the sandbox's Settings, optional, a number of its type within its range."""
    fields: dict[str, Any] = {}
    for spec in dataclasses.fields(Settings):
        kind = int if spec.type in ("int", int) else float
        bounds = SETTING_BOUNDS[spec.name]  # a new setting needs its range here
        fields[spec.name] = (Annotated[kind, Field(**bounds)], None)  # type: ignore[call-overload]
    model: type[Body] = create_model("SettingsPatch", __base__=_Closed, **fields)
    return model


SettingsPatch = _settings_patch()


class SpacePut(_Closed):
    """The sandbox's Private Space switch: a space name, or null to leave the space."""

    space: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,29}$")] | None = None


class ClockAdvance(Body):
    seconds: Annotated[float, Field(ge=0, le=MAX_ADVANCE)]


class Process(Body):
    type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,29}$")]
    quantity: Annotated[int, Field(ge=0)] = 1
    command: str = ""
    size: str = "Basic"


class FormationPut(Body):
    processes: list[Process]

    @model_validator(mode="after")
    def _types_once(self) -> FormationPut:
        if len({p.type for p in self.processes}) != len(self.processes):
            raise ValueError("each process type may appear once")
        return self


_FAULT = Fault(id="", kind="")


class FaultCreate(_Closed):
    kind: Literal[KINDS]  # type: ignore[valid-type]
    path: str = _FAULT.path
    method: str = _FAULT.method
    rate: Annotated[float, Field(ge=0, le=1)] = _FAULT.rate
    latency: Annotated[float, Field(ge=0, le=60)] = _FAULT.latency
    status: Annotated[int, Field(ge=400, le=599)] = _FAULT.status
    remaining: Annotated[int, Field(ge=1)] | None = None  # None: unlimited
    seed: int | None = None
    error_id: str | None = None
    message: str | None = None

    @field_validator("path")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc})") from None
        return value

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        if value.upper() not in METHODS:
            raise ValueError(f"must be one of {', '.join(METHODS)}")
        return value.upper()
