"""The Heroku Postgres add-on provider: what happens behind `POST /apps/{app}/addons` for
`heroku-postgresql` plans (primaries, followers, forks, rollbacks), deletes, and the clock.

Heroku's rules live here (tiers, no chained followers, the cool-down after a fork or unfollow,
rollback windows, versions); the data work is the engine's. Platform routes call
``create_database`` under the store lock before storing the add-on, ``after_create`` once it
is stored, ``destroy_database`` on delete and ``tick`` all the time.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from herokupg_sandbox.engine import EngineError
from herokupg_sandbox.http import HerokuHTTPError
from herokupg_sandbox.state import Addon, App, Database, random_password

if TYPE_CHECKING:
    from herokupg_sandbox.server import Sandbox

SERVICE = "heroku-postgresql"
SUPPORTED_VERSIONS = ("15", "16", "17")
DEFAULT_VERSION = "16"
FOLLOW_COOLDOWN = 600.0  # seconds a new fork / unfollowed DB can't be followed (base backup pending)
DAY = 86400.0


@dataclass(frozen=True)
class Tier:
    name: str  # essential | standard | premium | private | shield | legacy
    production: bool  # fork / follow / rollback supported
    rollback_days: int
    manual_backups: int


TIERS = {
    "essential": Tier("essential", False, 0, 5),
    "legacy": Tier("legacy", False, 0, 5),  # hobby-dev, mini, basic, dev
    "standard": Tier("standard", True, 4, 25),
    "premium": Tier("premium", True, 7, 50),
    "private": Tier("private", True, 7, 50),
    "shield": Tier("shield", True, 7, 50),
}

# Per-plan limits shown by pg:info (connections, storage); sizes by plan level.
_CONNECTIONS = {"essential": (20, 20, 40), "standard": (120, 400, 400, 500, 500, 500, 500, 500, 500, 500)}
_STORAGE_GB = (64, 256, 256, 512, 768, 1024, 1536, 2048, 3072, 4096, 8192)
_ESSENTIAL_STORAGE_GB = (1, 10, 32)


def tier(plan_suffix: str) -> Tier:
    for prefix in ("essential", "standard", "premium", "private", "shield"):
        if plan_suffix.startswith(prefix):
            return TIERS[prefix]
    return TIERS["legacy"]


def plan_level(plan_suffix: str) -> int:
    match = re.search(r"-(\d+)$", plan_suffix)
    return int(match[1]) if match else 0


def connection_limit(plan_suffix: str) -> int:
    t, level = tier(plan_suffix).name, plan_level(plan_suffix)
    limits = _CONNECTIONS["essential"] if t in ("essential", "legacy") else _CONNECTIONS["standard"]
    return limits[min(level, len(limits) - 1)]


def storage_limit_bytes(plan_suffix: str) -> int:
    t, level = tier(plan_suffix).name, plan_level(plan_suffix)
    sizes = _ESSENTIAL_STORAGE_GB if t in ("essential", "legacy") else _STORAGE_GB
    return sizes[min(level, len(sizes) - 1)] * 1024**3


def is_pg(addon: Addon) -> bool:
    return addon.service == SERVICE and addon.db is not None


def is_available(addon: Addon) -> bool:
    return is_pg(addon) and addon.state == "provisioned"


def provider_error(addon: Addon, text: str) -> HerokuHTTPError:
    return HerokuHTTPError(
        422,
        "addon_error",
        f"We tried to create {addon.plan}, but received an error from the add-on provider. {text}",
    )


# -- resolving the database a follow / fork / rollback names ---------------------------------
def _same_database(url: str, db: Database) -> bool:
    try:
        parts = urlsplit(url)
        port = parts.port or 5432
    except ValueError:
        return False
    return (parts.hostname, port, parts.path.lstrip("/")) == (db.host, db.port, db.database_name)


def resolve_reference(sb: Sandbox, app: App, ref: str) -> Addon | None:
    """A database named the ways Heroku accepts: config var, attachment, add-on name/id, URL."""
    store = sb.store
    if "::" in ref:
        other, _, ref = ref.partition("::")
        found = store.app(other)
        if found is None:
            return None
        app = found
    pg = [a for a in store.state.addons.values() if is_pg(a)]
    if re.match(r"^postgres(ql)?://", ref):
        return next((a for a in pg if a.db and _same_database(ref, a.db)), None)
    wanted = ref.upper()
    for att in store.attachments_of_app(app.id):
        if wanted in (att.name.upper(), f"{att.name.upper()}_URL"):
            addon = store.state.addons.get(att.addon_id)
            if addon is not None and is_pg(addon):
                return addon
    for key, value in app.config_vars.items():
        names = (key.upper(), key.upper().removesuffix("_URL"))
        if wanted in names and re.match(r"^postgres(ql)?://", value):
            return next((a for a in pg if a.db and _same_database(value, a.db)), None)
    addon = store.addon(ref)
    return addon if addon is not None and is_pg(addon) else None


def attachment_name(sb: Sandbox, addon: Addon, app_id: str | None = None) -> str | None:
    """The name Heroku shows for a DB in transfers and logs: DATABASE if attached so, else the first."""
    atts = [
        a
        for a in sb.store.attachments_of_addon(addon.id)
        if (app_id is None or a.app_id == app_id) and not a.namespace
    ]
    if not atts:
        return None
    return next((a.name for a in atts if a.name == "DATABASE"), atts[0].name)


# -- time parsing for rollbacks --------------------------------------------------------------
_BY_UNITS = {"d": DAY, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_by(text: str) -> float | None:
    """'3 days 7 hours' -> seconds."""
    total, pos = 0.0, 0
    pattern = re.compile(r"\s*(\d+)\s*(days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)\b\s*,?", re.I)
    while pos < len(text):
        match = pattern.match(text, pos)
        if not match:
            return None
        total += int(match[1]) * _BY_UNITS[match[2][0].lower()]
        pos = match.end()
    return total if pos else None


def parse_to(text: str) -> float | None:
    """'2024-05-01 12:00 UTC', '2024-05-01T12:00:00Z', '2024-05-01 12:00:00+00' -> timestamp."""
    cleaned = re.sub(r"\s*(UTC|Z)$", "+00:00", text.strip(), flags=re.I)
    cleaned = re.sub(r"([+-]\d\d)$", r"\1:00", cleaned)
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def rollback_earliest(addon: Addon, now: float) -> float | None:
    days = tier(addon.plan_suffix).rollback_days
    if not days or addon.db is None:
        return None
    return max(addon.created_at, now - days * DAY)


def rollback_target(addon: Addon, source: Addon, config: dict[str, Any], now: float) -> float:
    to, by = config.get("to"), config.get("by")
    if (to is None) == (by is None):
        raise provider_error(addon, "Rollback needs exactly one of --to '<time>' or --by '<interval>'.")
    if to is not None:
        target = parse_to(str(to))
        if target is None:
            raise provider_error(addon, f"Could not parse --to {to!r}; use e.g. '2024-05-01 12:00 UTC'.")
    else:
        delta = parse_by(str(by))
        if delta is None:
            raise provider_error(addon, f"Could not parse --by {by!r}; use e.g. '3 days 7 hours'.")
        target = now - delta
    earliest = rollback_earliest(source, now)
    fmt = "%Y-%m-%d %H:%M UTC"
    if earliest is None or target < earliest or target > now:
        window = (
            f"between {datetime.fromtimestamp(earliest, UTC).strftime(fmt)} and now"
            if earliest is not None
            else "not available"
        )
        raise provider_error(
            addon,
            f"Rollback target {datetime.fromtimestamp(target, UTC).strftime(fmt)} is outside the "
            f"rollback window of {source.name} ({window}).",
        )
    return target


# -- the seam with the platform routes --------------------------------------------------------
def follow_cooldown_left(addon: Addon, now: float) -> float:
    db = addon.db
    if db is None:
        return 0.0
    since = max(db.forked_at or 0.0, db.unfollowed_at or 0.0)
    return max(0.0, since + FOLLOW_COOLDOWN - now) if since else 0.0


def create_database(sb: Sandbox, app: App, addon: Addon, config: dict[str, Any]) -> None:
    """Validate the provider config and fill ``addon.db``; raises HerokuHTTPError 422 addon_error."""
    if addon.service != SERVICE:
        return
    now = sb.store.now()
    modes = [m for m in ("follow", "fork", "rollback") if config.get(m) not in (None, False)]
    if len(modes) > 1:
        raise provider_error(addon, "Use only one of --follow, --fork and --rollback.")
    mode = modes[0] if modes else None
    if mode is None and any(k in config for k in ("to", "by")):
        raise provider_error(addon, "--to and --by are only valid with --rollback.")
    if config.get("fast") not in (None, False) and mode != "fork":
        raise provider_error(addon, "--fast is only valid with --fork.")
    version = config.get("version")
    if version is not None:
        version = str(version).strip()
        if version not in SUPPORTED_VERSIONS:
            raise provider_error(
                addon,
                f"Unsupported version: {version}. We support the following versions: "
                f"{', '.join(SUPPORTED_VERSIONS)}",
            )
    source: Addon | None = None
    if mode is not None:
        source = _check_source(sb, app, addon, mode, config.get(mode), version)
    db = Database(
        database_name="d" + secrets.token_hex(7),
        user="u" + secrets.token_hex(7),
        password="p" + random_password(64),
        version=version or (source.db.version if source and source.db else DEFAULT_VERSION),
        status="creating",
    )
    if source is not None and mode == "follow":
        db.leader_id = source.id
    elif source is not None:
        db.forked_from_id = source.id
        db.forked_at = now
        if mode == "rollback":
            rollback_target(addon, source, config, now)  # validated here, recomputed in after_create
    addon.db = db
    addon.config = dict(config)
    addon.state = "provisioning"
    addon.ready_at = now + sb.store.state.settings.provision_delay
    if _consume_fault(sb, app):
        addon.fail_reason = "The database could not be provisioned (injected provision_failure fault)."


def _check_source(
    sb: Sandbox, app: App, addon: Addon, mode: str, ref: Any, version: str | None
) -> Addon:
    verb = mode.capitalize()
    if not isinstance(ref, str) or not ref.strip():
        raise provider_error(addon, f"--{mode} needs a database, e.g. --{mode} DATABASE_URL.")
    if not tier(addon.plan_suffix).production:
        raise provider_error(
            addon,
            f"{verb} is only available on Standard, Premium, Private and Shield tier databases, "
            f"not on {addon.plan}.",
        )
    source = resolve_reference(sb, app, ref.strip())
    if source is None or source.db is None:
        raise provider_error(addon, f"Could not find database {ref!r} to {mode} on {app.name}.")
    if not tier(source.plan_suffix).production:
        raise provider_error(
            addon,
            f"{source.name} is on {source.plan}: {mode} is only available for Standard, Premium, "
            "Private and Shield tier databases.",
        )
    if source.state != "provisioned":
        raise provider_error(addon, f"{source.name} is not available yet (state {source.state}).")
    now = sb.store.now()
    if mode == "follow":
        if source.db.leader_id:
            raise provider_error(
                addon, f"{source.name} is itself a follower; followers cannot be followed. Follow its leader."
            )
        wait = follow_cooldown_left(source, now)
        if wait > 0:
            raise provider_error(
                addon,
                f"{source.name} was recently forked or unfollowed and can't be followed yet. "
                f"Try again in {int(wait // 60) + 1} minutes.",
            )
        if version is not None and version != source.db.version:
            raise provider_error(
                addon, f"A follower must run the same version as its leader ({source.db.version})."
            )
    return source


def _consume_fault(sb: Sandbox, app: App) -> bool:
    try:
        from herokupg_sandbox import faults
    except ImportError:  # the fault module arrives with the admin API
        return False
    return faults.consume(sb, "provision_failure", f"/apps/{app.name}/addons", "POST") is not None


T = TypeVar("T")


def run_engine(
    sb: Sandbox, work: Callable[[], T], finish: Callable[[T | None, EngineError | None], None]
) -> None:
    """Run engine work and then ``finish(result, error)`` under the lock, saving the state.

    A non-blocking engine runs inline under the lock; a blocking one in a worker thread
    without the lock (only ``finish`` takes it), so the API stays responsive.
    """

    def call() -> tuple[T | None, EngineError | None]:
        try:
            return work(), None
        except EngineError as exc:
            return None, exc

    if not sb.engine.blocking:
        with sb.store.lock:
            result, error = call()
            finish(result, error)
            sb.store.save()
        return

    def worker() -> None:
        result, error = call()
        with sb.store.lock:
            finish(result, error)
            sb.store.save()

    threading.Thread(target=worker, name="sandbox-engine", daemon=True).start()


def after_create(sb: Sandbox, addon: Addon) -> None:
    """Start the engine work for a stored add-on (outside the lock)."""
    with sb.store.lock:
        db, store = addon.db, sb.store
        if db is None or addon.fail_reason:
            return
        now = store.now()
        leader = store.state.addons.get(db.leader_id) if db.leader_id else None
        source = store.state.addons.get(db.forked_from_id) if db.forked_from_id else None
        target = None
        if source is not None and addon.config.get("rollback") not in (None, False):
            target = rollback_target(addon, source, addon.config, addon.created_at)

    def work() -> None:
        if leader is not None:
            sb.engine.follow(addon, leader, now)
        elif source is not None:
            sb.engine.fork(addon, source, now, to=target)
        else:
            sb.engine.provision(addon, now)

    def finish(_: None, error: EngineError | None) -> None:
        if error is not None:
            addon.fail_reason = str(error)
        elif addon.db is not None:
            addon.db.status = "available"

    run_engine(sb, work, finish)
    tick(sb)  # with no provision delay the add-on is ready before the create response goes out


def destroy_database(sb: Sandbox, addon: Addon) -> None:
    """The add-on is being deleted: its followers stop following (as on Heroku), data goes."""
    with sb.store.lock:
        now = sb.store.now()
        state = sb.store.state
        followers = [a for a in state.addons.values() if a.db and a.db.leader_id == addon.id]
        for follower in followers:
            follower.database.leader_id = None
            follower.database.unfollowed_at = now
        for key in [k for k, s in state.schedules.items() if s.addon_id == addon.id]:
            del state.schedules[key]

    delay = sb.store.state.settings.follower_catchup

    def work() -> None:
        for follower in followers:
            sb.engine.lag(follower, addon, now, delay=delay)  # keep what had replicated by now
            sb.engine.unfollow(follower, now)
        sb.engine.destroy(addon)

    run_engine(sb, work, lambda _r, _e: None)


def database_url(sb: Sandbox, addon: Addon) -> str | None:
    db = addon.db
    if db is None or addon.state != "provisioned":
        return None
    return f"postgres://{db.user}:{db.password}@{db.host}:{db.port}/{db.database_name}"


def public_url(addon: Addon) -> str | None:
    """The database URL without the password (for `following`, info rows, transfer names)."""
    db = addon.db
    if db is None:
        return None
    return f"postgres://{db.user}@{db.host}:{db.port}/{db.database_name}"


def follower_lag(sb: Sandbox, addon: Addon) -> int | None:
    """Commits behind the leader (replaying what the follower can by now); None if not following."""
    db = addon.db
    if db is None or not db.leader_id or addon.state != "provisioned" or db.status != "available":
        return None
    leader = sb.store.state.addons.get(db.leader_id)
    if leader is None:
        return None
    try:
        return sb.engine.lag(addon, leader, sb.store.now(), delay=sb.store.state.settings.follower_catchup)
    except EngineError:  # a server is down: lag unknown, not an API failure
        return None


def unfollow(sb: Sandbox, addon: Addon) -> None:
    with sb.store.lock:
        db = addon.database
        now = sb.store.now()
        leader = sb.store.state.addons.get(db.leader_id or "")
        delay = sb.store.state.settings.follower_catchup
        db.leader_id = None
        db.unfollowed_at = now
        db.status = "unfollowing"

    def work() -> None:
        if leader is not None:
            sb.engine.lag(addon, leader, now, delay=delay)  # keep what had replicated by now
        sb.engine.unfollow(addon, now)

    def finish(_: None, error: EngineError | None) -> None:
        if addon.db is not None:
            addon.db.status = "available"

    run_engine(sb, work, finish)


def tick(sb: Sandbox) -> None:
    """Advance time-driven state: provisioning, transfers, schedules. Cheap when nothing is due."""
    from herokupg_sandbox import schedules, transfers

    store = sb.store
    with store.lock:
        now = store.now()
        changed = False
        for addon in store.state.addons.values():
            if addon.state != "provisioning" or addon.db is None or now < addon.ready_at:
                continue
            if addon.fail_reason:
                addon.state = "deprovisioned"
                addon.provision_message = f"Provisioning failed: {addon.fail_reason}"
            elif addon.db.status == "available":
                addon.state = "provisioned"
                addon.provision_message = None
            else:
                continue
            addon.updated_at = now
            changed = True
        changed = transfers.tick(sb, now) or changed
        changed = schedules.tick(sb, now) or changed
        if changed:
            store.save()
