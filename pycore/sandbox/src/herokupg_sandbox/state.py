"""The sandbox's state: plain dataclasses, one lock, persisted as JSON under the state dir.

Every mutation happens inside ``with store.lock:`` and ends with ``store.save()``; the file is
replaced atomically so a crash never leaves half a state behind, and it is 0600 (it holds every
password: see private.py). Derived values (config vars,
database info, lag) are computed on read from these records and the engine.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from herokupg_sandbox.private import private_dir, write_private

STATE_FILE = "state.json"


def new_id() -> str:
    return str(uuid.uuid4())


def iso(ts: float) -> str:
    """Platform API timestamp: ISO 8601, UTC, second precision."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def transfer_time(ts: float | None) -> str | None:
    """Data API transfer timestamp, which the CLI sorts as strings: "2016-10-01 00:42:54 +0000"."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S +0000")


@dataclass
class Settings:
    """Behaviour knobs; tests set them through the admin API (zero delays by default)."""

    provision_delay: float = 0.0  # seconds an add-on stays `provisioning`
    follower_catchup: float = 0.0  # seconds a new follower needs to catch up (memory engine)
    transfer_delay: float = 0.0  # seconds a backup/restore stays running (memory engine)
    page_size: int = 200  # default Range page size
    rate_limit_capacity: int = 4500
    rate_limit_refill_per_minute: float = 75.0
    public_url_ttl: int = 3600  # seconds a signed backup URL stays valid (Heroku: 60 minutes)
    release_phase_delay: float = 0.0  # seconds a release stays `pending` when the app has a release phase


@dataclass
class Fault:
    """An injected fault: `rate` of the requests matching `method`/`path` (a regex) get it."""

    id: str
    kind: str  # "error" | "reset" | "latency" | "provision_failure" | "transfer_failure"
    path: str = ".*"
    method: str = "*"
    rate: float = 1.0
    status: int = 500
    latency: float = 0.0
    remaining: int | None = None  # None: unlimited; else how many more times it fires
    seed: int | None = None
    error_id: str | None = None  # body id of an "error" fault (default from the status)
    message: str | None = None  # body message of an "error" fault (default from the status)
    draws: int = 0  # random draws made so far: with `seed`, the next draw is reproducible
    hits: int = 0  # times it fired


@dataclass
class App:
    id: str
    name: str
    created_at: float
    updated_at: float
    region: str = "us"
    stack: str = "heroku-24"
    generation: str = "cedar"
    maintenance: bool = False
    space: str | None = None  # a Private Space: new add-ons need confirm (423 confirmation_required)
    config_vars: dict[str, str] = field(default_factory=dict)  # user-set vars only
    formation: list[dict[str, Any]] = field(default_factory=list)
    transfer_seq: int = 0  # last transfer num used for this app


@dataclass
class Database:
    """Heroku Postgres specifics of a `heroku-postgresql` add-on."""

    database_name: str
    user: str
    password: str
    host: str = "127.0.0.1"
    port: int = 5432
    version: str = "16"
    status: str = "available"  # available | creating | unfollowing | ...
    leader_id: str | None = None  # add-on id of the leader when following
    forked_from_id: str | None = None
    unfollowed_at: float | None = None
    forked_at: float | None = None
    caught_up_at: float | None = None  # memory engine: when a new follower has caught up
    settings: dict[str, Any] = field(default_factory=dict)  # pg:settings overrides
    engine_data: dict[str, Any] = field(default_factory=dict)  # the engine's own bookkeeping


class NotADatabase(LookupError):
    """An add-on that holds no database where one was needed."""


@dataclass
class Addon:
    id: str
    name: str
    app_id: str  # the billing app
    plan: str  # e.g. "heroku-postgresql:standard-0"
    state: str  # provisioning | provisioned | deprovisioning | deprovisioned
    created_at: float
    updated_at: float
    ready_at: float  # when provisioning completes (clock time)
    provision_message: str | None = None
    fail_reason: str | None = None  # set when provisioning is to fail (fault injection / engine)
    config: dict[str, Any] = field(default_factory=dict)  # the create request's provider config
    db: Database | None = None

    @property
    def database(self) -> Database:
        """Its database: only heroku-postgresql add-ons have one (:class:`NotADatabase` otherwise)."""
        if self.db is None:
            raise NotADatabase(f"{self.name} is not a Heroku Postgres database")
        return self.db

    @property
    def service(self) -> str:
        return self.plan.split(":", 1)[0]

    @property
    def plan_suffix(self) -> str:
        return self.plan.split(":", 1)[1] if ":" in self.plan else self.plan


@dataclass
class Attachment:
    id: str
    name: str
    app_id: str
    addon_id: str
    created_at: float
    updated_at: float
    namespace: str | None = None


@dataclass
class Release:
    id: str
    app_id: str
    version: int
    description: str
    created_at: float
    status: str = "succeeded"  # pending (release phase running) | succeeded | failed
    ready_at: float = 0.0  # when a pending release finishes its release phase


@dataclass
class Transfer:
    uuid: str
    num: int
    app_id: str  # the app the transfer is numbered under (the database's billing app)
    addon_id: str  # database captured (backup) or written (restore)
    from_name: str | None
    from_type: str
    from_url: str | None
    to_name: str | None
    to_type: str
    to_url: str | None
    created_at: float
    updated_at: float
    started_at: float | None = None
    finished_at: float | None = None
    canceled_at: float | None = None
    deleted_at: float | None = None
    purged_at: float | None = None
    succeeded: bool | None = None  # null until finished, as on Heroku
    warnings: int = 0
    processed_bytes: int = 0
    source_bytes: int | None = None  # null until the source's size is known
    schedule_uuid: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    logs: list[dict[str, str]] = field(default_factory=list)
    ready_at: float = 0.0  # memory engine: when it finishes
    fail_reason: str | None = None
    artifact: str | None = None  # file name of the stored dump under the state dir


@dataclass
class Schedule:
    uuid: str
    addon_id: str
    name: str  # e.g. "DATABASE_URL"
    hour: int
    timezone: str
    created_at: float
    last_run: str | None = None  # local date (YYYY-MM-DD) of the last scheduled capture
    updated_at: float = 0.0


@dataclass
class LogSession:
    id: str
    app_id: str
    dyno: str | None
    source: str | None
    lines: int
    tail: bool
    token: str
    created_at: float


@dataclass
class State:
    apps: dict[str, App] = field(default_factory=dict)
    addons: dict[str, Addon] = field(default_factory=dict)
    attachments: dict[str, Attachment] = field(default_factory=dict)
    releases: dict[str, Release] = field(default_factory=dict)
    transfers: dict[str, Transfer] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    log_sessions: dict[str, LogSession] = field(default_factory=dict)
    faults: dict[str, Fault] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    clock_offset: float = 0.0
    rate_tokens: float = 4500.0
    rate_updated: float = 0.0


_TABLES: dict[str, type[Any]] = {
    "apps": App,
    "addons": Addon,
    "attachments": Attachment,
    "releases": Release,
    "transfers": Transfer,
    "schedules": Schedule,
    "log_sessions": LogSession,
    "faults": Fault,
}


def _load_addon(raw: dict[str, Any]) -> Addon:
    db = raw.pop("db", None)
    addon = Addon(**raw)
    addon.db = Database(**db) if db else None
    return addon


def state_from_dict(raw: dict[str, Any]) -> State:
    state = State()
    for table, cls in _TABLES.items():
        records = raw.get(table, {})
        loader = _load_addon if cls is Addon else (lambda r, c=cls: c(**r))
        setattr(state, table, {key: loader(dict(value)) for key, value in records.items()})
    state.settings = Settings(**raw.get("settings", {}))
    state.clock_offset = float(raw.get("clock_offset", 0.0))
    state.rate_tokens = float(raw.get("rate_tokens", state.settings.rate_limit_capacity))
    state.rate_updated = float(raw.get("rate_updated", 0.0))
    return state


class Store:
    """The state plus its lock, clock and persistence."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.lock = threading.RLock()
        if not state_dir.is_dir():
            private_dir(state_dir)
        path = state_dir / STATE_FILE
        self.state = state_from_dict(json.loads(path.read_text())) if path.exists() else State()

    # -- clock -------------------------------------------------------------------------
    def now(self) -> float:
        """Sandbox time: wall time plus the offset the admin API may have advanced."""
        return time.time() + self.state.clock_offset

    # -- persistence -------------------------------------------------------------------
    def save(self) -> None:
        with self.lock:
            data = dataclasses.asdict(self.state)
            write_private(self.state_dir / STATE_FILE, json.dumps(data, indent=1, sort_keys=True))

    def reset(self) -> None:
        """Forget every resource; keep settings defaults (used by the admin API)."""
        with self.lock:
            self.state = State()
            self.save()

    def dump(self) -> dict[str, Any]:
        with self.lock:
            return dataclasses.asdict(self.state)

    # -- lookups -----------------------------------------------------------------------
    def app(self, id_or_name: str) -> App | None:
        state = self.state
        if id_or_name in state.apps:
            return state.apps[id_or_name]
        return next((a for a in state.apps.values() if a.name == id_or_name), None)

    def addon(self, id_or_name: str) -> Addon | None:
        state = self.state
        if id_or_name in state.addons:
            return state.addons[id_or_name]
        return next((a for a in state.addons.values() if a.name == id_or_name), None)

    def attachments_of_app(self, app_id: str) -> list[Attachment]:
        return sorted(
            (a for a in self.state.attachments.values() if a.app_id == app_id), key=lambda a: a.created_at
        )

    def attachments_of_addon(self, addon_id: str) -> list[Attachment]:
        return sorted(
            (a for a in self.state.attachments.values() if a.addon_id == addon_id),
            key=lambda a: a.created_at,
        )


def random_password(length: int = 32) -> str:
    return secrets.token_hex(length // 2)
