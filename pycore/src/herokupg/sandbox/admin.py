"""The sandbox's admin API under ``/_sandbox/`` (same token as the Heroku API; not rate limited,
never faulted): reset, state dump (the test oracle, passwords included), settings, faults,
the clock and app formations. ``/_sandbox/public/health`` answers without a token."""

from __future__ import annotations

import dataclasses
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
        seconds = call.body.get("seconds")
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            raise invalid_params("seconds must be a non-negative number.")
        with store.lock:
            store.state.clock_offset += float(seconds)
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

    def put_space(call: Call) -> Response:
        # Apps in a Private Space (or Shield) make add-on creation ask for a confirmation (423).
        space = call.body.get("space")
        valid = space is None or (isinstance(space, str) and re.fullmatch(r"[a-z][a-z0-9-]{0,29}", space))
        if not valid:
            raise invalid_params('Body must be {"space": "<space name>"} or {"space": null}.')
        with store.lock:
            app = platform_ops.get_app(store, call.params["app"])
            app.space = space
            app.updated_at = store.now()
            store.save()
            return json_response({"app": app.name, "space": app.space})

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
        Route("/_sandbox/apps/{app}/space", endpoint(put_space), methods=["PUT"]),
    ]


def _validate_settings(body: dict[str, Any]) -> dict[str, Any]:
    types = {f.name: f.type for f in dataclasses.fields(Settings)}
    unknown = sorted(set(body) - set(types))
    if unknown:
        raise invalid_params(f"Unknown settings: {', '.join(unknown)}. Known: {', '.join(types)}.")
    changes: dict[str, Any] = {}
    for name, value in body.items():
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if types[name] == "int" and not (isinstance(value, int) and not isinstance(value, bool)):
            raise invalid_params(f"{name} must be an integer.")
        if not is_number or value < 0:
            raise invalid_params(f"{name} must be a non-negative number.")
        changes[name] = value if types[name] == "int" else float(value)
    if "page_size" in changes and not 1 <= changes["page_size"] <= 1000:
        raise invalid_params("page_size must be between 1 and 1000.")
    if "rate_limit_capacity" in changes and changes["rate_limit_capacity"] < 1:
        raise invalid_params("rate_limit_capacity must be at least 1.")
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
