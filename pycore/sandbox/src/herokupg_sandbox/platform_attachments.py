"""Platform API: add-on attachments and the attachment resolver (what the CLI's database
resolution starts from)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from herokupg_sandbox import naming, platform_ops
from herokupg_sandbox.bodies import AttachmentCreate, AttachmentResolve, ident, parse
from herokupg_sandbox.http import Call, HerokuHTTPError, endpoint, json_response, paginate
from herokupg_sandbox.platform_render import attachment_json
from herokupg_sandbox.server import Sandbox
from herokupg_sandbox.state import Attachment, Store


def routes(sb: Sandbox) -> list[BaseRoute]:
    store = sb.store

    def render(call: Call, atts: list[Attachment]) -> list[dict[str, Any]]:
        inclusion = call.header("accept-inclusion")
        return [attachment_json(sb, att, inclusion=inclusion) for att in atts]

    def page(call: Call, atts: list[Attachment]) -> Response:
        return paginate(call.request, render(call, atts), default_field="id",
                        page_size=store.state.settings.page_size)

    def list_for_app(call: Call) -> Response:
        with store.lock:
            app = platform_ops.get_app(store, call.params["app"])
            return page(call, store.attachments_of_app(app.id))

    def list_all(call: Call) -> Response:
        with store.lock:
            return page(call, _candidates(store, None))

    def list_for_addon(call: Call) -> Response:
        with store.lock:
            addon = platform_ops.get_addon(store, call.params["addon"])
            return page(call, store.attachments_of_addon(addon.id))

    def info(call: Call) -> Response:
        with store.lock:
            att = store.state.attachments.get(call.params["attachment"])
            if att is None:
                raise platform_ops.attachment_not_found()
            return json_response(render(call, [att])[0])

    def info_for_app(call: Call) -> Response:
        key = call.params["attachment"]
        with store.lock:
            app = platform_ops.get_app(store, call.params["app"])
            for att in store.attachments_of_app(app.id):
                if key == att.id or key.upper() in (att.name, f"{att.name}_URL"):
                    return json_response(render(call, [att])[0])
        raise platform_ops.attachment_not_found()

    def create(call: Call) -> Response:
        body = parse(AttachmentCreate, call.body)
        addon_key, app_key = ident(body.addon) or "", ident(body.app) or ""
        name = platform_ops.attachment_name(body.name) if body.name is not None else None
        namespace, confirm = body.namespace, body.confirm
        with store.lock:
            app = platform_ops.get_app(store, app_key)
            addon = platform_ops.get_addon(store, addon_key)
            if name is None:
                used = {a.name for a in store.attachments_of_app(app.id)}
                name = naming.color_attachment_name(used)
            before = set(store.state.attachments)
            att = platform_ops.attach_named(sb, app, addon, name, namespace or None, confirm)
            created = att.id not in before
            if created:
                store.save()
            return json_response(render(call, [att])[0], status=201 if created else 200)

    def delete(call: Call) -> Response:
        with store.lock:
            att = store.state.attachments.get(call.params["attachment"])
            if att is None:
                raise platform_ops.attachment_not_found()
            _check_detachable(store, att)
            body = render(call, [att])[0]
            platform_ops.detach(sb, att)
            store.save()
            return json_response(body)

    def resolve(call: Call) -> Response:
        asked = parse(AttachmentResolve, call.body)
        key, app_key, service = platform_ops.resolve_args(
            asked.addon_attachment, asked.app, asked.addon_service
        )
        with store.lock:
            app = platform_ops.get_app(store, app_key) if app_key else None
            found = [att for att in _candidates(store, app.id if app else None) if _matches(store, att, key)]
            found = [
                att for att in found
                if service is None or store.state.addons[att.addon_id].service == service
            ]
            if not found:
                raise platform_ops.attachment_not_found()
            return json_response(render(call, found))

    return [
        Route("/apps/{app}/addon-attachments", endpoint(list_for_app), methods=["GET"]),
        Route("/apps/{app}/addon-attachments/{attachment}", endpoint(info_for_app), methods=["GET"]),
        Route("/addons/{addon}/addon-attachments", endpoint(list_for_addon), methods=["GET"]),
        Route("/addon-attachments", endpoint(create), methods=["POST"]),
        Route("/addon-attachments", endpoint(list_all), methods=["GET"]),
        Route("/addon-attachments/{attachment}", endpoint(info), methods=["GET"]),
        Route("/addon-attachments/{attachment}", endpoint(delete), methods=["DELETE"]),
        Route("/actions/addon-attachments/resolve", endpoint(resolve), methods=["POST"]),
    ]


def _candidates(store: Store, app_id: str | None) -> list[Attachment]:
    if app_id is not None:
        return store.attachments_of_app(app_id)
    return sorted(store.state.attachments.values(), key=lambda a: a.created_at)


def _matches(store: Store, att: Attachment, key: str) -> bool:
    """An attachment id, its name or config var (``DATABASE``/``DATABASE_URL``), or its add-on's
    id or name (which matches every attachment of that add-on)."""
    addon = store.state.addons.get(att.addon_id)
    if addon is None:
        return False
    return key == att.id or key.upper() in (att.name, f"{att.name}_URL") or key in (addon.id, addon.name)


def _check_detachable(store: Store, att: Attachment) -> None:
    addon = store.state.addons.get(att.addon_id)
    if addon is None or addon.app_id != att.app_id:
        return
    own = [a for a in store.attachments_of_addon(addon.id) if a.app_id == addon.app_id]
    if len(own) <= 1:
        raise HerokuHTTPError(
            422, "invalid_params",
            f"{att.name} is the last attachment of {addon.name} to its billing app; "
            f"destroy the add-on instead (heroku addons:destroy {addon.name}).",
        )
