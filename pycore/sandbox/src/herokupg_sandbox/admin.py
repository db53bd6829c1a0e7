"""The sandbox's admin API under ``/_sandbox/`` (same token as the Heroku API; not rate limited,
never faulted): reset, state dump (the test oracle, passwords included), settings, faults,
the clock and app formations. ``/_sandbox/public/health`` answers without a token."""

from __future__ import annotations

import dataclasses

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from herokupg_sandbox import faults, platform_ops
from herokupg_sandbox.bodies import (
    MAX_ADVANCE,
    ClockAdvance,
    FaultCreate,
    FormationPut,
    SettingsPatch,
    SpacePut,
    parse,
)
from herokupg_sandbox.http import Call, endpoint, invalid_params, json_response, not_found
from herokupg_sandbox.platform_render import formation_json
from herokupg_sandbox.server import Sandbox, tick
from herokupg_sandbox.state import iso, new_id


def routes(sb: Sandbox) -> list[BaseRoute]:
    store = sb.store

    def health(call: Call) -> Response:
        return json_response({"status": "ok", "engine": sb.engine.name})

    def reset(call: Call) -> Response:
        from herokupg_sandbox import provider, transfers

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
        changes = parse(SettingsPatch, call.body).model_dump(exclude_unset=True)
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
        spec = parse(FaultCreate, call.body)
        return json_response(dataclasses.asdict(faults.add(sb, spec.model_dump())), status=201)

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
        seconds = parse(ClockAdvance, call.body).seconds
        with store.lock:
            if store.state.clock_offset + seconds > MAX_ADVANCE:
                raise invalid_params(f"The clock is {store.state.clock_offset:g} s ahead already; "
                                     f"it may be at most {MAX_ADVANCE:g} s ahead.")
            store.state.clock_offset += seconds
            store.save()
        tick(sb)
        return clock(call)

    def put_formation(call: Call) -> Response:
        processes = [p.model_dump() for p in parse(FormationPut, call.body).processes]
        with store.lock:
            app = platform_ops.get_app(store, call.params["app"])
            now = store.now()
            app.formation = [{**p, "id": new_id(), "created_at": now, "updated_at": now} for p in processes]
            app.updated_at = now
            store.save()
            return json_response([formation_json(app, entry) for entry in app.formation])

    def put_space(call: Call) -> Response:
        # Apps in a Private Space (or Shield) make add-on creation ask for a confirmation (423).
        space = parse(SpacePut, call.body).space
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
