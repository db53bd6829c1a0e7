"""The pg:settings catalogue: every setting the CLI's ``pg:settings:*`` commands read or write.

``GET /postgres/v0/databases/{id}/config`` answers ``{key: {value, default, desc, values}}``;
the CLI prints ``values[value]`` for enum settings, so ``values`` maps each allowed value to its
explanation. PATCH bodies carry JSON booleans, numbers or strings as the CLI converted them; a
pydantic model made from this catalogue checks them (strictly: a boolean setting takes true or false).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model


@dataclass(frozen=True)
class SettingSpec:
    key: str
    kind: str  # "bool" | "int" | "enum"
    default: Any
    desc: str
    values: dict[str, str] = field(default_factory=dict)
    minimum: int = -1


_BOOL = {"true": "on", "false": "off"}


def _bool(key: str, default: bool, desc: str) -> SettingSpec:
    return SettingSpec(key, "bool", default, desc, dict(_BOOL))


SETTINGS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        _bool("auto_explain", False, "Automatically log execution plans of queries."),
        _bool("auto_explain.log_analyze", False, "Use EXPLAIN ANALYZE when logging execution plans."),
        _bool("auto_explain.log_buffers", False, "Log buffer usage statistics with execution plans."),
        SettingSpec(
            "auto_explain.log_format", "enum", "text", "EXPLAIN output format for logged plans.",
            {"text": "Text format.", "json": "JSON format.", "yaml": "YAML format.", "xml": "XML format."},
        ),
        SettingSpec(
            "auto_explain.log_min_duration", "int", -1,
            "Minimum statement duration (ms) for its plan to be logged; -1 disables, 0 logs all.",
            {"-1": "disabled", "0": "all statements"},
        ),
        _bool("auto_explain.log_nested_statements", False, "Log plans of nested statements too."),
        _bool("auto_explain.log_triggers", False, "Log trigger execution statistics with plans."),
        _bool("auto_explain.log_verbose", False, "Use EXPLAIN VERBOSE when logging execution plans."),
        _bool("data_connector_details_logs", False, "Log replication slot details for data connectors."),
        _bool("log_connections", True, "Log each attempted connection to the server."),
        _bool("log_lock_waits", False, "Log when a session waits longer than deadlock_timeout for a lock."),
        SettingSpec(
            "log_min_duration_statement", "int", 2000,
            "Log the duration of statements that run at least this many milliseconds; "
            "-1 disables, 0 logs every statement.",
            {"-1": "disabled", "0": "all statements"},
        ),
        SettingSpec(
            "log_min_error_statement", "enum", "error",
            "Log the SQL of statements that cause an error at this severity or above.",
            {
                "error": "ERROR, LOG, FATAL, and PANIC level messages are logged.",
                "log": "LOG, FATAL, and PANIC level messages are logged.",
                "fatal": "FATAL and PANIC level messages are logged.",
                "panic": "PANIC level messages are logged.",
            },
        ),
        SettingSpec(
            "log_statement", "enum", "ddl", "Which SQL statements are logged.",
            {
                "none": "No statements are logged.",
                "ddl": "All data definition statements, such as CREATE, ALTER and DROP will be logged.",
                "mod": "Includes all statements from ddl as well as data-modifying statements such as "
                "INSERT, UPDATE, DELETE, TRUNCATE, COPY.",
                "all": "All statements are logged.",
            },
        ),
        SettingSpec(
            "track_functions", "enum", "none", "Track function call counts and time used.",
            {
                "none": "No functions are tracked.",
                "pl": "Only procedural language functions are tracked.",
                "all": "All functions, including SQL and C language functions, are tracked.",
            },
        ),
    )
}

DEFAULTS: dict[str, Any] = {key: spec.default for key, spec in SETTINGS.items()}


INT_MAX = 2**31 - 1  # PostgreSQL's integer settings are 32-bit


class SettingError(ValueError):
    pass


def _allowed(spec: SettingSpec) -> str:
    if spec.kind == "bool":
        return "a boolean value"
    if spec.kind == "int":
        return f"an integer from {spec.minimum} to {INT_MAX}"
    return ", ".join(spec.values)


@cache
def _change_model() -> type[BaseModel]:
    """A PATCH body as a model: each setting optional, of its kind; anything else refused."""
    fields: dict[str, Any] = {}
    for key, spec in SETTINGS.items():
        kind: Any = {
            "bool": bool,
            "int": Annotated[int, Field(ge=spec.minimum, le=INT_MAX)],
            "enum": Literal[tuple(spec.values)],
        }[spec.kind]
        fields[key.replace(".", "__")] = (kind, Field(None, alias=key))
    config = ConfigDict(strict=True, extra="forbid", populate_by_name=False)
    model: type[BaseModel] = create_model("SettingsChange", __config__=config, **fields)
    return model


def validate(changes: dict[str, Any]) -> dict[str, Any]:
    """Check a PATCH body; returns the values to set or raises SettingError (all problems, in the
    Data API's words: the value shown is the user's own setting, not a secret)."""
    if not changes:
        raise SettingError("No settings given. Send {\"<setting>\": <value>}.")
    try:
        checked = _change_model().model_validate(changes)
    except ValidationError as exc:
        problems = []
        for key in dict.fromkeys(str(error["loc"][0]) for error in exc.errors()):
            spec = SETTINGS.get(key)
            if spec is None:
                known = ", ".join(SETTINGS)
                problems.append(f"{key} is not a setting you can change. Known settings: {known}.")
            else:
                shown = json.dumps(changes[key])
                problems.append(f"Invalid value {shown} for {key}. Valid options are: {_allowed(spec)}.")
        raise SettingError(" ".join(problems)) from None
    return checked.model_dump(by_alias=True, exclude_unset=True)


def render(overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        key: {"value": overrides.get(key, spec.default), "default": spec.default, "desc": spec.desc,
              "values": spec.values}
        for key, spec in SETTINGS.items()
    }
