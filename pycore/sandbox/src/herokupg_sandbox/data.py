"""Data API routes for one database: info (pg:info), wait_status (pg:wait), unfollow and settings,
plus the memory engine's admin routes that play a client (writes, statements, a data snapshot).

Transfer and schedule routes live in transfers.py and schedules.py and are mounted from here.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from herokupg_sandbox import pgsettings, provider, schedules, transfers
from herokupg_sandbox.bodies import Statement, TableWrite, parse
from herokupg_sandbox.engine import EngineError
from herokupg_sandbox.http import (
    HerokuHTTPError,
    bad_request,
    invalid_params,
    json_response,
    read_json,
)
from herokupg_sandbox.memory import MemoryEngine
from herokupg_sandbox.state import Addon

if TYPE_CHECKING:
    from herokupg_sandbox.server import Sandbox


def human_size(num: int) -> str:
    """Sizes as pg:info shows them: "7.9 MB", "64 GB", "512 bytes"."""
    value = float(num)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            break
        value /= 1024
    if unit == "bytes":
        return f"{num} bytes"
    return f"{value:.1f} {unit}".replace(".0 ", " ") if value < 10 else f"{round(value)} {unit}"


def _minute(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _fork_follow(sb: Sandbox, addon: Addon, now: float) -> str:
    if not provider.tier(addon.plan_suffix).production:
        return "Unsupported"
    if addon.db and addon.db.leader_id:
        return "Unavailable"  # followers can't be followed (forking one is fine, following isn't)
    if provider.follow_cooldown_left(addon, now) > 0:
        return "Temporarily Unavailable"
    return "Available"


def _iso_ms(ts: float) -> str:
    """Data API timestamps of databases: ``2020-10-06T17:21:08.826+00:00``."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def _plan(addon: Addon) -> dict[str, Any]:
    """A production plan as the Data API describes it (the fields a recorded Standard-0 answer has)."""
    suffix, t = addon.plan_suffix, provider.tier(addon.plan_suffix)
    size_gb = provider.storage_limit_bytes(suffix) // 1024**3
    conns = provider.connection_limit(suffix)
    return {
        "id": 100 + provider.plan_level(suffix), "created_at": "2016-04-04T20:54:02.919+00:00",
        "service_slug": provider.SERVICE, "name": suffix, "tier": t.name, "slots": "32.0",
        "instance_type": "sandbox", "virt_type": "hvm", "bit_depth": 64, "slack_quantity": 5,
        "default_disk_size": size_gb, "default_disk_iops": 3 * size_gb, "status": "production",
        "attrs_unparsed": {"work_mem": "32MB", "capacity_bytes": str(size_gb * 1024**3),
                           "hard_connlimit": str(conns + 80), "soft_connlimit": str(conns),
                           "maintenance_work_mem": "128MB"},
        "default_block_device_mapping": [],
    }


def info_body(sb: Sandbox, addon: Addon) -> dict[str, Any]:
    """GET /client/v11/databases/{id} (lock held), shaped like recorded Heroku answers: a
    production-tier body (Standard and up) or the smaller Essential/hobby one; rows that would be
    empty are left out (but Followers and Forks), counts are numbers, a fork's source is its add-on
    id (``forked_from``) with no Forked From row."""
    db = addon.database
    state, now = sb.store.state, sb.store.now()
    lag = provider.follower_lag(sb, addon)  # replays first: the stats below include what it replayed
    stats = sb.engine.stats(addon)
    leader = state.addons.get(db.leader_id) if db.leader_id else None
    live = [a for a in state.addons.values() if provider.is_available(a) and a.db]
    followers = [a for a in live if a.db and a.db.leader_id == addon.id]
    forks = [a for a in live if a.db and a.db.forked_from_id == addon.id]
    t = provider.tier(addon.plan_suffix)
    app = state.apps.get(addon.app_id)
    conns = provider.connection_limit(addon.plan_suffix)
    earliest = provider.rollback_earliest(addon, now)

    def urls(addons: list[Addon]) -> list[str]:
        return [u for u in (provider.public_url(a) for a in addons) if u]

    plan_text = addon.plan_suffix.replace("-", " ").title()
    if not t.production:
        return {
            "addon_id": addon.id,
            "name": addon.name,
            "info": [
                {"name": "Plan", "values": [plan_text.replace(" ", "-", 1)]},
                {"name": "Status", "values": [db.status.title()]},
                {"name": "Connections", "values": [f"{stats.num_connections}/{conns}"]},
                {"name": "PG Version", "values": [stats.postgres_version]},
                {"name": "Created", "values": [_minute(addon.created_at)]},
                {"name": "Data Size", "values": [human_size(stats.num_bytes)]},
                {"name": "Tables", "values": [stats.num_tables]},
                {"name": "Rows", "values": ["0/10000 (In compliance)"]},
                {"name": "Fork/Follow", "values": ["Unsupported"]},
                {"name": "Rollback", "values": ["Unsupported"]},
                {"name": "Continuous Protection", "values": ["Off"]},
                {"name": "Region", "values": [app.region if app else "us"]},
            ],
            "plan": plan_text.replace(" ", "-", 1),
            "created_at": _iso_ms(addon.created_at),
            "database_user": db.user,
            "database_name": db.database_name,
            "available_for_ingress": True,
            "standalone?": False,
            "resource_url": provider.database_url(sb, addon),
            "waiting?": False,
            "num_bytes": stats.num_bytes,
        }
    rows: list[dict[str, Any]] = [
        {"name": "Plan", "values": [plan_text]},
        {"name": "Status", "values": [db.status.title()]},
        {"name": "Data Size", "values": [human_size(stats.num_bytes)]},
        {"name": "Tables", "values": [stats.num_tables]},
        {"name": "PG Version", "values": [stats.postgres_version]},
        {"name": "Connections", "values": [f"{stats.num_connections}/{conns}"]},
        {"name": "Connection Pooling", "values": ["Available"]},
        {"name": "Credentials", "values": [1]},
        {"name": "Fork/Follow", "values": [_fork_follow(sb, addon, now)]},
        {"name": "Rollback", "values": [f"earliest from {_minute(earliest)}" if earliest else "Unsupported"]},
        {"name": "Created", "values": [_minute(addon.created_at)]},
        {"name": "Region", "values": [app.region if app else "us"]},
        {"name": "Data Encryption", "values": ["In Use"]},
        {"name": "Continuous Protection", "values": ["On"]},
    ]
    if leader is not None:  # rows of a follower (none is recorded: what the CLI reads)
        rows.append({"name": "Following", "values": urls([leader]), "resolve_db_name": True})
        if lag is not None:
            rows.append({"name": "Behind By", "values": [f"{lag} commits"]})
    rows += [
        {"name": "Followers", "values": urls(followers), "resolve_db_name": True},
        {"name": "Forks", "values": urls(forks), "resolve_db_name": True},
        {"name": "Maintenance", "values": ["not required"]},
        {"name": "Maintenance window", "values": ["Sundays 22:30 to Mondays 02:30 UTC"]},
    ]
    leader_stats = sb.engine.stats(leader) if leader else None
    primary = leader or addon
    return {
        "following": provider.public_url(leader) if leader else None,
        "forked_from": db.forked_from_id,
        "hot_standby?": True,
        "addon_id": addon.id,
        "name": addon.name,
        "heroku_resource_id": f"resource-{addon.id}@herokupg.invalid",
        "formation": {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"formation:{primary.id}")),
                      "primary": primary.id},
        "metaas_source": f"dod-{provider.database_url(sb, addon)}",
        "num_connections": stats.num_connections,
        "num_connections_waiting": stats.num_connections_waiting,
        "num_tables": stats.num_tables,
        "current_transaction": stats.current_transaction,
        "num_bytes": stats.num_bytes,
        "postgres_version": stats.postgres_version,
        "plan": _plan(addon),
        "created_at": _iso_ms(addon.created_at),
        "port": db.port,
        "database_name": db.database_name,
        "database_user": db.user,
        "database_password": db.password,
        "target_transaction": leader_stats.current_transaction if leader_stats else None,
        "available_for_ingress": True,
        "resource_url": provider.database_url(sb, addon),
        "waiting?": bool(lag),
        "credentials": 1,
        # The CLI types `leader` as a string and prints it in a sentence (pg:promote's
        # "replicating from its leader (<name>)"): the leader's add-on name.
        "leader": leader.name if leader else None,
        "info": rows,
    }


def wait_status(sb: Sandbox, addon: Addon) -> dict[str, Any]:
    """GET .../wait_status (lock held): what pg:wait and promote poll."""
    db = addon.db
    if addon.state == "provisioning":
        busy = "preparing" if db and (db.leader_id or db.forked_from_id) else "provisioning"
        return {"waiting?": True, "error?": False, "message": busy}
    if addon.state != "provisioned" or db is None:
        return {"waiting?": False, "error?": True, "message": addon.provision_message or addon.state}
    if db.status != "available":
        return {"waiting?": True, "error?": False, "message": db.status}
    lag = provider.follower_lag(sb, addon)
    if lag:
        return {"waiting?": True, "error?": False, "message": f"following: {lag} commits behind leader"}
    return {"waiting?": False, "error?": False, "message": "available"}


def _memory(sb: Sandbox) -> MemoryEngine:
    if not isinstance(sb.engine, MemoryEngine):
        raise bad_request("Only the memory engine simulates clients; connect to the database instead.")
    return sb.engine


def routes(sb: Sandbox) -> list[BaseRoute]:
    async def get_info(request: Request) -> Response:
        with sb.store.lock:
            addon = transfers.database(sb, request.path_params["db"])
            body = info_body(sb, addon)
            sb.store.save()  # replaying a follower changes its data
            return json_response(body)

    async def get_wait_status(request: Request) -> Response:
        with sb.store.lock:
            addon = transfers.database(sb, request.path_params["db"], ready=False)
            if addon.state == "deprovisioned" and not addon.provision_message:  # deleted, not failed
                raise transfers.DatabaseNotFound(404, "not_found", f"Couldn't find database {addon.name}.")
            return json_response(wait_status(sb, addon))

    async def unfollow(request: Request) -> Response:
        with sb.store.lock:
            addon = transfers.database(sb, request.path_params["db"])
            if addon.db is None or not addon.db.leader_id:
                raise HerokuHTTPError(422, "bad_request", f"{addon.name} is not a follower.")
        provider.unfollow(sb, addon)
        return json_response({"message": f"{addon.name} is no longer following and is now writable."})

    def _settings_db(request: Request) -> Addon:
        addon = transfers.database(sb, request.path_params["db"])
        if not provider.tier(addon.plan_suffix).production:
            raise HerokuHTTPError(
                422, "bad_request", "You can't perform this operation on Essential-tier databases."
            )
        return addon

    async def get_config(request: Request) -> Response:
        with sb.store.lock:
            addon = _settings_db(request)
            return json_response(pgsettings.render(addon.database.settings))

    async def patch_config(request: Request) -> Response:
        body = await read_json(request, required=True)
        with sb.store.lock:
            addon = _settings_db(request)
            try:
                clean = pgsettings.validate(body)
            except pgsettings.SettingError as exc:
                raise invalid_params(str(exc)) from None
            addon.database.settings.update(clean)
            sb.store.save()
        provider.run_engine(sb, lambda: sb.engine.apply_settings(addon, clean), lambda _r, _e: None)
        with sb.store.lock:
            return json_response(pgsettings.render(addon.database.settings))

    async def admin_write(request: Request) -> Response:
        write = parse(TableWrite, await read_json(request, required=True), status=400)
        table, rows = write.table, write.rows
        engine = _memory(sb)
        with sb.store.lock:
            addon = transfers.database(sb, request.path_params["db"])
            try:
                commit = engine.write(addon, table, rows, sb.store.now())
            except EngineError as exc:
                raise HerokuHTTPError(422, "read_only", str(exc)) from None
            sb.store.save()
            return json_response({"commits": commit}, status=201)

    async def admin_statement(request: Request) -> Response:
        statement = parse(Statement, await read_json(request, required=True), status=400)
        sql, duration = statement.sql, statement.duration_ms
        engine = _memory(sb)
        with sb.store.lock:
            addon = transfers.database(sb, request.path_params["db"])
            logged = engine.record_statement(addon, sql, float(duration), sb.store.now())
            sb.store.save()
            return json_response({"logged": logged}, status=201)

    async def admin_data(request: Request) -> Response:
        engine = _memory(sb)
        with sb.store.lock:
            addon = transfers.database(sb, request.path_params["db"])
            lag = provider.follower_lag(sb, addon)
            snapshot = engine.snapshot(addon)
            sb.store.save()
            return json_response({**snapshot, "behind_by": lag})

    db_path = "/client/v11/databases/{db}"
    admin = "/_sandbox/databases/{db}"
    return [
        Route(db_path, get_info, methods=["GET"]),
        Route(db_path + "/wait_status", get_wait_status, methods=["GET"]),
        Route(db_path + "/unfollow", unfollow, methods=["PUT"]),
        Route("/postgres/v0/databases/{db}/config", get_config, methods=["GET"]),
        Route("/postgres/v0/databases/{db}/config", patch_config, methods=["PATCH"]),
        Route(admin + "/writes", admin_write, methods=["POST"]),
        Route(admin + "/statements", admin_statement, methods=["POST"]),
        Route(admin + "/data", admin_data, methods=["GET"]),
        *transfers.routes(sb),
        *schedules.routes(sb),
    ]
