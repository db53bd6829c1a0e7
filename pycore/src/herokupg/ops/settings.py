"""pg:settings as desired state: make a database's Postgres settings match, idempotently.

The Data API reports every setting it manages (``GET /postgres/v0/databases/{id}/config`` ->
``{name: {value, default, desc, values}}``) and takes changes as ``PATCH`` of the same path with
``{name: value}``. The report is the authority on what exists and on each setting's kind: a boolean
or integer current/default value makes it a boolean or integer setting, and a non-empty ``values``
map on a string setting lists its allowed values. Requested values are normalized to that kind
(``"on"`` -> ``True``, ``"50"`` -> ``50``) before they are compared, so a rerun changes nothing;
anything only the API can judge (an integer out of range, say) is sent and its error surfaced.

As in the Heroku CLI, Essential-tier databases are refused before any request about settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from herokupg.errors import ValidationError
from herokupg.models import PGSettings, SettingEntry
from herokupg.ops.base import Context, PlannedRequest, Result
from herokupg.resolve import ResolvedDatabase, resolve_database

DEFAULT_DATABASE = "DATABASE_URL"

ESSENTIAL_REFUSAL = "You can't perform this operation on Essential-tier databases."

# The Heroku CLI's booleanConverter accepts true/TRUE/on/ON and false/FALSE/off/OFF; Ansible users
# also write yes/no and 1/0, so those are taken too (case-insensitively).
_TRUE = frozenset({"true", "on", "yes", "1"})
_FALSE = frozenset({"false", "off", "no", "0"})


def settings_path(addon_id: str) -> str:
    return f"/postgres/v0/databases/{addon_id}/config"


@dataclass(frozen=True)
class SettingKind:
    """How one setting's values are compared, derived from the API's own report of it."""

    name: str
    kind: str  # "bool" | "int" | "enum" | "str"
    choices: tuple[str, ...] = ()

    @classmethod
    def of(cls, name: str, entry: SettingEntry) -> SettingKind:
        sample = entry.value if entry.value is not None else entry.default
        if isinstance(sample, bool):
            return cls(name, "bool")
        if isinstance(sample, int):
            return cls(name, "int")
        if isinstance(entry.values, dict) and entry.values:
            return cls(name, "enum", tuple(entry.values))
        if isinstance(entry.values, list) and entry.values:
            return cls(name, "enum", tuple(str(v) for v in entry.values))
        return cls(name, "str")

    def allowed(self) -> str:
        if self.kind == "bool":
            return "a boolean value (true/false, on/off)"
        if self.kind == "int":
            return "a whole number"
        if self.kind == "enum":
            return ", ".join(self.choices)
        return "a string"

    def normalize(self, value: Any) -> Any:
        """``value`` as this setting's kind; raises ValueError if it cannot be one."""
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError(value)
        if self.kind == "int":
            if isinstance(value, bool):
                raise ValueError(value)
            if isinstance(value, int):
                return value
            if isinstance(value, float):
                if value.is_integer():
                    return int(value)
                raise ValueError(value)
            return int(str(value).strip(), 10)
        if isinstance(value, (dict, list)) or value is None:
            raise ValueError(value)
        if isinstance(value, bool):  # YAML's `on` for an enum such as track_functions
            raise ValueError(value)
        text = str(value).strip()
        if self.kind == "enum" and text not in self.choices:
            folded = {choice.lower(): choice for choice in self.choices}
            if text.lower() not in folded:
                raise ValueError(value)
            text = folded[text.lower()]
        return text

    def current(self, entry: SettingEntry) -> Any:
        """The reported value, normalized the same way (tolerating the API's own spellings)."""
        try:
            return self.normalize(entry.value)
        except ValueError:
            return entry.value


def describe_database(db: ResolvedDatabase) -> dict[str, Any]:
    return {
        "addon": db.addon_name,
        "addon_id": db.addon_id,
        "config_var": db.config_var,
        "attachments": list(db.names),
        "plan": db.plan,
        "app": db.app,
    }


def _values(report: PGSettings) -> dict[str, Any]:
    return {name: report[name].value for name in sorted(report)}


def _where(db: ResolvedDatabase) -> str:
    return f"{db.addon_name} ({db.config_var}) on app {db.app}"


def plan_changes(
    report: PGSettings, desired: Mapping[str, Any], where: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate ``desired`` against ``report``: (normalized desired values, the changes to send).

    Raises ValidationError naming every unknown setting (with the valid ones) and every value that
    cannot be the setting's kind (with what it accepts).
    """
    problems: list[str] = []
    unknown = sorted(name for name in desired if name not in report)
    if unknown:
        problems.append(
            f"Unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} for {where}. "
            f"Valid settings: {', '.join(sorted(report))}."
        )
    wanted: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    for name in sorted(desired):
        if name not in report:
            continue
        kind = SettingKind.of(name, report[name])
        try:
            value = kind.normalize(desired[name])
        except ValueError:
            problems.append(
                f"Invalid value {desired[name]!r} for {name}. Valid options are: {kind.allowed()}."
            )
            continue
        wanted[name] = value
        if kind.current(report[name]) != value:
            changes[name] = value
    if problems:
        raise ValidationError(" ".join(problems))
    return wanted, changes


def ensure_settings(
    ctx: Context,
    app: str,
    settings: Mapping[str, Any],
    database: str | None = None,
) -> Result:
    """Make ``database`` (default DATABASE_URL) on ``app`` have ``settings``; others are untouched.

    ``data``: ``database`` (which add-on), ``settings`` (every setting's value after the run; in
    check mode, as it would be) and ``changes`` (what was or would be sent). ``before``/``after``
    hold the managed settings only.
    """
    if not isinstance(settings, Mapping):
        raise ValidationError(
            f"settings must be a mapping of setting names to values, got {type(settings).__name__}."
        )
    db = resolve_database(ctx.reads, app, database or DEFAULT_DATABASE)
    if db.is_essential:
        raise ValidationError(
            f"{ESSENTIAL_REFUSAL} {_where(db)} is on plan {db.plan}; Postgres settings can only be "
            "changed on Standard, Premium, Private and Shield databases."
        )
    report = ctx.api.settings(db.addon_id)
    wanted, changes = plan_changes(report, settings, _where(db))

    result = Result(changed=False)
    result.before = {name: SettingKind.of(name, report[name]).current(report[name]) for name in wanted}
    after_report = report
    if changes:
        request = PlannedRequest(
            "PATCH",
            settings_path(db.addon_id),
            body=dict(changes),
            description=f"set {', '.join(f'{k}={v!r}' for k, v in changes.items())} on {_where(db)}",
        )
        updated = ctx.write(result, request, lambda: ctx.api.update_settings(db.addon_id, changes))
        if updated is None:  # check mode: the report as it would be
            after_report = {
                name: entry.model_copy(update={"value": changes[name]}) if name in changes else entry
                for name, entry in report.items()
            }
        else:
            after_report = updated
    result.after = {
        name: SettingKind.of(name, after_report[name]).current(after_report[name])
        for name in wanted
        if name in after_report
    }
    for name, value in wanted.items():
        if result.after.get(name) != value:
            result.warnings.append(
                f"{name} on {_where(db)} was set to {value!r} but the API reports {result.after.get(name)!r}."
            )
    result.data = {
        "database": describe_database(db),
        "settings": _values(after_report),
        "changes": dict(changes),
    }
    return result
