"""Platform API: add-ons (create, list, info, rename, destroy) and the add-on resolver."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from herokupg_sandbox import catalog, naming, platform_ops
from herokupg_sandbox.bodies import AddonCreate, AddonResolve, AddonUpdate, parse
from herokupg_sandbox.http import Call, HerokuHTTPError, endpoint, invalid_params, json_response, paginate
from herokupg_sandbox.platform_render import addon_json
from herokupg_sandbox.server import Sandbox
from herokupg_sandbox.state import Addon, App, new_id


def routes(sb: Sandbox) -> list[BaseRoute]:
    store = sb.store

    def page(call: Call, items: list[dict[str, Any]]) -> Response:
        return paginate(call.request, items, default_field="id", page_size=store.state.settings.page_size)

    def create(call: Call) -> Response:
        from herokupg_sandbox import provider

        with store.lock:
            app = platform_ops.get_app(store, call.params["app"])
            request = parse(AddonCreate, call.body)
            try:
                plan = catalog.normalize_plan(request.plan_name or "")
            except ValueError as exc:
                raise invalid_params(str(exc)) from None
            if request.name is not None:
                _check_addon_name(sb, request.name)
            name = request.name or naming.addon_name(plan.split(":")[0], lambda n: store.addon(n) is not None)
            named = request.attachment.name if request.attachment else None
            attachment = platform_ops.attachment_name(named) if named else None
            attachment = attachment or platform_ops.default_attachment_name(store, app)
            existing = next((a for a in store.attachments_of_app(app.id) if a.name == attachment), None)
            if existing is not None and request.confirm != app.name:
                raise platform_ops.confirmation_required(
                    app, f"{attachment} is already attached to {app.name}; the new add-on would replace it."
                )
            if app.space and request.confirm != app.name:
                raise platform_ops.confirmation_required(
                    app, f"This add-on is not automatically networked with the Private Space {app.space}; "
                    "configure network access with `heroku pg:settings` once it is created.",
                )
            now = store.now()
            addon = Addon(
                id=new_id(), name=name, app_id=app.id, plan=plan, state="provisioning",
                created_at=now, updated_at=now, ready_at=now, config=dict(request.config or {}),
            )
            provider.create_database(sb, app, addon, dict(request.config or {}))
            store.state.addons[addon.id] = addon
            platform_ops.attach_named(sb, app, addon, attachment, None, app.name)
            store.save()
        provider.after_create(sb, addon)
        with store.lock:
            current = store.state.addons.get(addon.id, addon)
            return json_response(addon_json(sb, current, price=True), status=201)

    def list_all(call: Call) -> Response:
        with store.lock:
            items = [addon_json(sb, a) for a in store.state.addons.values()]
        return page(call, items)

    def list_for_app(call: Call) -> Response:
        with store.lock:
            app = platform_ops.get_app(store, call.params["app"])
            items = [addon_json(sb, a) for a in _addons_of_app(sb, app)]
        return page(call, items)

    def info_for_app(call: Call) -> Response:
        with store.lock:
            app = platform_ops.get_app(store, call.params["app"])
            addon = _addon_on_app(sb, app, call.params["addon"])
            return json_response(addon_json(sb, addon))

    def info(call: Call) -> Response:
        with store.lock:
            return json_response(addon_json(sb, platform_ops.get_addon(store, call.params["addon"])))

    def rename(call: Call) -> Response:
        body = parse(AddonUpdate, call.body)
        if "plan" in body.model_fields_set:
            raise invalid_params("Changing an add-on's plan is not supported by the sandbox.")
        with store.lock:
            app = platform_ops.get_app(store, call.params["app"])
            addon = _addon_on_app(sb, app, call.params["addon"], billed=True)
            if body.name != addon.name:
                _check_addon_name(sb, body.name)
                addon.name = body.name
                addon.updated_at = store.now()
                store.save()
            return json_response(addon_json(sb, addon))

    def destroy(call: Call) -> Response:
        with store.lock:
            if "app" in call.params:
                app = platform_ops.get_app(store, call.params["app"])
                addon = _addon_on_app(sb, app, call.params["addon"], billed=True)
            else:
                addon = platform_ops.get_addon(store, call.params["addon"])
            body = addon_json(sb, addon, price=True)
            platform_ops.destroy_addon(sb, addon)
            store.save()
        body["state"] = "deprovisioned"
        return json_response(body)

    def resolve(call: Call) -> Response:
        asked = parse(AddonResolve, call.body)
        key, app_key, service = platform_ops.resolve_args(asked.addon, asked.app, asked.addon_service)
        with store.lock:
            app = platform_ops.get_app(store, app_key) if app_key else None
            matches: dict[str, Addon] = {}
            for addon in store.state.addons.values():
                if key in (addon.id, addon.name):
                    matches[addon.id] = addon
            if app is not None:
                for att in store.attachments_of_app(app.id):
                    if key.upper() in (att.name, f"{att.name}_URL") and att.addon_id in store.state.addons:
                        matches[att.addon_id] = store.state.addons[att.addon_id]
            found = [a for a in matches.values() if service is None or a.service == service]
            if not found:
                raise platform_ops.get_addon_not_found()
            return json_response([addon_json(sb, a) for a in found])

    return [
        Route("/apps/{app}/addons", endpoint(create), methods=["POST"]),
        Route("/apps/{app}/addons", endpoint(list_for_app), methods=["GET"]),
        Route("/apps/{app}/addons/{addon}", endpoint(info_for_app), methods=["GET"]),
        Route("/apps/{app}/addons/{addon}", endpoint(rename), methods=["PATCH"]),
        Route("/apps/{app}/addons/{addon}", endpoint(destroy), methods=["DELETE"]),
        Route("/addons", endpoint(list_all), methods=["GET"]),
        Route("/addons/{addon}", endpoint(info), methods=["GET"]),
        Route("/addons/{addon}", endpoint(destroy), methods=["DELETE"]),
        Route("/actions/addons/resolve", endpoint(resolve), methods=["POST"]),
    ]


def _check_addon_name(sb: Sandbox, name: str) -> None:
    if not naming.ADDON_NAME.match(name):
        raise invalid_params(
            f"Invalid add-on name {name!r}: it must start with a letter and contain only letters, digits, "
            "dashes and underscores."
        )
    if sb.store.addon(name) is not None:
        raise HerokuHTTPError(422, "invalid_params", "Name is already taken")


def _addons_of_app(sb: Sandbox, app: App) -> list[Addon]:
    """Add-ons billed to the app and add-ons of other apps attached to it."""
    state = sb.store.state
    ids = {a.id for a in state.addons.values() if a.app_id == app.id}
    ids |= {att.addon_id for att in sb.store.attachments_of_app(app.id)}
    return [a for a in state.addons.values() if a.id in ids]


def _addon_on_app(sb: Sandbox, app: App, key: str, *, billed: bool = False) -> Addon:
    addon = platform_ops.get_addon(sb.store, key)
    if billed and addon.app_id != app.id:
        raise platform_ops.get_addon_not_found()
    if addon not in _addons_of_app(sb, app):
        raise platform_ops.get_addon_not_found()
    return addon
