"""The sandbox's admin API under ``/_sandbox/`` (same token as the Heroku API; not rate limited,
never faulted): reset, state dump (the test oracle, passwords included), settings, faults,
the clock and app formations. ``/_sandbox/public/health`` answers without a token."""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from herokupg.sandbox import faults, platform_ops
from herokupg.sandbox.http import Call, endpoint, invalid_params, json_response, not_found
from herokupg.sandbox.platform_render import formation_json
from herokupg.sandbox.server import Sandbox, tick
from herokupg.sandbox.state import Settings, iso, new_id

PROCESS_TYPE = re.compile(r"^[a-z][a-z0-9_-]{0,29}$")


def routes(sb: Sandbox) -> list[BaseRoute]:
    store = sb.store

    def health(call: Call) -> Response:
        return json_response({"status": "ok", "engine": sb.engine.name})

    def reset(call: Call) -> Response:
        from herokupg.sandbox import provider, transfers

        with store.lock:
            for addon in list(store.state.addons.values()):
                provider.destroy_database(sb, addon)
            store.reset()
            transfers.delete_dump_files(sb)  # the signing secret (outside backups/) stays
        return json_response({"reset": True})

    def state(call: Call) -> Response:
        with store.lock:
            return json_response({**store.dump(), "now": store.now()})

    def get_settings(call: Call) -> Response:
        with store.lock:
            return json_response(dataclasses.asdict(store.state.settings))

    def patch_settings(call: Call) -> Response:
        changes = _validate_settings(call.body)
        with store.lock:
            settings = store.state.settings
            for name, value in changes.items():
                setattr(settings, name, value)
            if "rate_limit_capacity" in changes:  # a new bucket starts full
                store.state.rate_tokens = float(settings.rate_limit_capacity)
                store.state.rate_updated = store.now()
            store.save()
            return json_response(dataclasses.asdict(settings))

    def add_fault(call: Call) -> Response:
        return json_response(dataclasses.asdict(faults.create(sb, call.body)), status=201)

    def list_faults(call: Call) -> Response:
        with store.lock:
            return json_response([dataclasses.asdict(f) for f in store.state.faults.values()])

    def clear_faults(call: Call) -> Response:
        with store.lock:
            store.state.faults.clear()
            store.save()
        return json_response([])

    def delete_fault(call: Call) -> Response:
        with store.lock:
            fault = store.state.faults.pop(call.params["fault"], None)
            if fault is None:
                raise not_found("fault", "Couldn't find that fault.")
            store.save()
            return json_response(dataclasses.asdict(fault))

    def clock(call: Call) -> Response:
        with store.lock:
            now = store.now()
            return json_response({"now": iso(now), "epoch": now, "offset": store.state.clock_offset})

    def advance(call: Call) -> Response:
        seconds = float(_number("seconds", call.body.get("seconds"), 0, MAX_ADVANCE))
        with store.lock:
            if store.state.clock_offset + seconds > MAX_ADVANCE:
                raise invalid_params(f"The clock is {store.state.clock_offset:g} s ahead already; "
                                     f"it may be at most {MAX_ADVANCE:g} s ahead.")
            store.state.clock_offset += seconds
            store.save()
        tick(sb)
        return clock(call)

    def put_formation(call: Call) -> Response:
        processes = _validate_processes(call.body)
        with store.lock:
            app = platform_ops.get_app(store, call.params["app"])
            now = store.now()
            app.formation = [{**p, "id": new_id(), "created_at": now, "updated_at": now} for p in processes]
            app.updated_at = now
            store.save()
            return json_response([formation_json(app, entry) for entry in app.formation])

    return [
        Route("/_sandbox/public/health", endpoint(health), methods=["GET"]),
        Route("/_sandbox/reset", endpoint(reset), methods=["POST"]),
        Route("/_sandbox/state", endpoint(state), methods=["GET"]),
        Route("/_sandbox/settings", endpoint(get_settings), methods=["GET"]),
        Route("/_sandbox/settings", endpoint(patch_settings), methods=["PATCH"]),
        Route("/_sandbox/faults", endpoint(add_fault), methods=["POST"]),
        Route("/_sandbox/faults", endpoint(list_faults), methods=["GET"]),
        Route("/_sandbox/faults", endpoint(clear_faults), methods=["DELETE"]),
        Route("/_sandbox/faults/{fault}", endpoint(delete_fault), methods=["DELETE"]),
        Route("/_sandbox/clock", endpoint(clock), methods=["GET"]),
        Route("/_sandbox/clock/advance", endpoint(advance), methods=["POST"]),
        Route("/_sandbox/apps/{app}/formation", endpoint(put_formation), methods=["PUT"]),
    ]


DAY = 86_400.0
# Each setting's range: anything else (NaN, Infinity, absurd sizes) is refused, never stored.
SETTING_RANGES: dict[str, tuple[float, float]] = {
    "provision_delay": (0, DAY),
    "follower_catchup": (0, DAY),
    "transfer_delay": (0, DAY),
    "release_phase_delay": (0, DAY),
    "page_size": (1, 1000),
    "rate_limit_capacity": (1, 1_000_000_000),  # benchmarks use buckets no run can empty
    "rate_limit_refill_per_minute": (0, 1_000_000_000),
    "public_url_ttl": (1, 7 * DAY),  # S3 signs URLs for a week at most
}
MAX_ADVANCE = 10 * 366 * DAY  # seconds the clock may move in one call (and in all)


def _number(name: str, value: Any, low: float, high: float, *, integer: bool = False) -> float:
    """``value`` if it is a finite number (an integer if asked) within [low, high]; else 422."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if integer and not (isinstance(value, int) and not isinstance(value, bool)):
        raise invalid_params(f"{name} must be an integer from {low:g} to {high:g}.")
    finite = is_number and (not isinstance(value, float) or math.isfinite(value))
    if not finite or not low <= value <= high:  # ints may be huge: no float() of them before this
        raise invalid_params(f"{name} must be a number from {low:g} to {high:g}.")
    return float(value) if isinstance(value, float) else int(value)


def _validate_settings(body: dict[str, Any]) -> dict[str, Any]:
    types = {f.name: f.type for f in dataclasses.fields(Settings)}
    unknown = sorted(set(body) - set(types))
    if unknown:
        raise invalid_params(f"Unknown settings: {', '.join(unknown)}. Known: {', '.join(types)}.")
    changes: dict[str, Any] = {}
    for name, value in body.items():
        low, high = SETTING_RANGES[name]
        integer = types[name] == "int"
        checked = _number(name, value, low, high, integer=integer)
        changes[name] = int(checked) if integer else float(checked)
    return changes


def _validate_processes(body: dict[str, Any]) -> list[dict[str, Any]]:
    processes = body.get("processes")
    if not isinstance(processes, list):
        raise invalid_params('Body must be {"processes": [{"type": "web", "quantity": 1, "command": ...}]}.')
    result = []
    for process in processes:
        if not isinstance(process, dict) or not PROCESS_TYPE.match(str(process.get("type", ""))):
            raise invalid_params("Each process needs a type like web, worker or release.")
        quantity = process.get("quantity", 1)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise invalid_params("quantity must be a non-negative integer.")
        for key in ("command", "size"):
            if key in process and not isinstance(process[key], str):
                raise invalid_params(f"{key} must be a string.")
        result.append({
            "type": process["type"], "quantity": quantity,
            "command": process.get("command", ""), "size": process.get("size", "Basic"),
        })
    if len({p["type"] for p in result}) != len(result):
        raise invalid_params("Each process type may appear once.")
    return result
