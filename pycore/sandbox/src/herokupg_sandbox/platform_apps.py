"""Platform API: account, apps, config vars, releases and formation."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from herokupg_sandbox import naming, platform_ops, ratelimit
from herokupg_sandbox.bodies import AppCreate, AppUpdate, ConfigVarsPatch, parse
from herokupg_sandbox.http import (
    Call,
    HerokuHTTPError,
    endpoint,
    invalid_params,
    json_response,
    not_found,
    paginate,
)
from herokupg_sandbox.platform_render import (
    ACCOUNT_EMAIL,
    ACCOUNT_ID,
    REGIONS,
    STACKS,
    account_json,
    app_json,
    formation_json,
    release_json,
)
from herokupg_sandbox.server import Sandbox
from herokupg_sandbox.state import App, new_id


def routes(sb: Sandbox) -> list[BaseRoute]:
    store = sb.store

    def page(call: Call, items: list[dict[str, Any]], field: str = "id") -> Response:
        return paginate(call.request, items, default_field=field, page_size=store.state.settings.page_size)

    def get_account(call: Call) -> Response:
        with store.lock:
            created = min((a.created_at for a in store.state.apps.values()), default=store.now())
        return json_response(account_json(created))

    def get_rate_limits(call: Call) -> Response:
        return json_response({"remaining": ratelimit.remaining(store)})

    def create_app(call: Call) -> Response:
        body = parse(AppCreate, call.body)
        name, region, stack = body.name, body.region or "us", body.stack or "heroku-24"
        if region not in REGIONS:
            raise not_found("region", "Couldn't find that region.")
        if stack not in STACKS:
            raise not_found("stack", "Couldn't find that stack.")
        with store.lock:
            if name is None:
                name = naming.app_name(lambda n: store.app(n) is not None)
            _check_app_name(sb, name)
            now = store.now()
            app = App(id=new_id(), name=name, created_at=now, updated_at=now, region=region, stack=stack)
            app.formation = [
                {"id": new_id(), "type": "web", "command": "npm start", "quantity": 1, "size": "Basic",
                 "created_at": now, "updated_at": now},
            ]
            store.state.apps[app.id] = app
            platform_ops.add_release(sb, app, "Initial release")
            platform_ops.add_release(sb, app, "Enable Logplex")
            store.save()
            return json_response(app_json(app), status=201)

    def list_apps(call: Call) -> Response:
        with store.lock:
            items = [app_json(app) for app in store.state.apps.values()]
        return page(call, items)

    def list_user_apps(call: Call) -> Response:
        # `heroku apps` lists /users/~/apps; every sandbox app is owned by the one account.
        if call.params["user"] not in ("~", ACCOUNT_ID, ACCOUNT_EMAIL):
            raise not_found("user", "Couldn't find that user.")
        return list_apps(call)

    def get_app(call: Call) -> Response:
        with store.lock:
            return json_response(app_json(platform_ops.get_app(store, call.params["app"])))

    def update_app(call: Call) -> Response:
        body = parse(AppUpdate, call.body)
        given = body.model_fields_set
        if "build_stack" in given and body.build_stack not in STACKS:
            raise not_found("stack", "Couldn't find that stack.")
        with store.lock:
            app = platform_ops.get_app(store, call.params["app"])
            if "name" in given and body.name != app.name:
                _check_app_name(sb, body.name)
                app.name = body.name
            if "maintenance" in given:
                app.maintenance = body.maintenance
            if "build_stack" in given:
                app.stack = body.build_stack
            app.updated_at = store.now()
            store.save()
            return json_response(app_json(app))

    def delete_app(call: Call) -> Response:
        with store.lock:
            app = platform_ops.get_app(store, call.params["app"])
            body = app_json(app)
            platform_ops.destroy_app(sb, app)
            store.save()
            return json_response(body)

    def get_config(call: Call) -> Response:
        with store.lock:
            app = platform_ops.get_app(store, call.params["app"])
            return json_response(platform_ops.config_vars(sb, app))

    def patch_config(call: Call) -> Response:
        changes = parse(ConfigVarsPatch, call.body).root
        with store.lock:
            app = platform_ops.get_app(store, call.params["app"])
            managed = sorted(set(changes) & platform_ops.attachment_config_var_names(store, app))
            if managed:
                raise invalid_params(f"Cannot overwrite attachment values {', '.join(managed)}.")
            set_keys = [k for k, v in changes.items() if v is not None and app.config_vars.get(k) != v]
            removed = [k for k, v in changes.items() if v is None and k in app.config_vars]
            for key in set_keys:
                app.config_vars[key] = str(changes[key])
            for key in removed:
                del app.config_vars[key]
            parts = []
            if set_keys:
                parts.append(f"Set {', '.join(set_keys)} config vars")
            if removed:
                parts.append(f"Remove {', '.join(removed)} config vars")
            if parts:
                platform_ops.add_release(sb, app, " and ".join(parts))
                store.save()
            return json_response(platform_ops.config_vars(sb, app))

    def list_releases(call: Call) -> Response:
        with store.lock:
            app = platform_ops.get_app(store, call.params["app"])
            releases = platform_ops.releases_of(store, app)
            current = releases[-1].version if releases else 0
            items = [release_json(app, r, current) for r in releases]
        return page(call, items, "version")

    def get_release(call: Call) -> Response:
        key = call.params["release"]
        with store.lock:
            app = platform_ops.get_app(store, call.params["app"])
            releases = platform_ops.releases_of(store, app)
            current = releases[-1].version if releases else 0
            for release in releases:
                if release.id == key or str(release.version) == key.lstrip("v"):
                    return json_response(release_json(app, release, current))
        raise not_found("release", "Couldn't find that release.")

    def list_formation(call: Call) -> Response:
        with store.lock:
            app = platform_ops.get_app(store, call.params["app"])
            items = [formation_json(app, entry) for entry in app.formation]
        return page(call, items, "type")

    return [
        Route("/account", endpoint(get_account), methods=["GET"]),
        Route("/account/rate-limits", endpoint(get_rate_limits), methods=["GET"]),
        Route("/apps", endpoint(create_app), methods=["POST"]),
        Route("/apps", endpoint(list_apps), methods=["GET"]),
        Route("/users/{user}/apps", endpoint(list_user_apps), methods=["GET"]),
        Route("/apps/{app}", endpoint(get_app), methods=["GET"]),
        Route("/apps/{app}", endpoint(update_app), methods=["PATCH"]),
        Route("/apps/{app}", endpoint(delete_app), methods=["DELETE"]),
        Route("/apps/{app}/config-vars", endpoint(get_config), methods=["GET"]),
        Route("/apps/{app}/config-vars", endpoint(patch_config), methods=["PATCH"]),
        Route("/apps/{app}/releases", endpoint(list_releases), methods=["GET"]),
        Route("/apps/{app}/releases/{release}", endpoint(get_release), methods=["GET"]),
        Route("/apps/{app}/formation", endpoint(list_formation), methods=["GET"]),
    ]


def _check_app_name(sb: Sandbox, name: str) -> None:
    if not naming.APP_NAME.match(name) or name.endswith("-"):
        raise invalid_params(naming.APP_NAME_RULES)
    if sb.store.app(name) is not None:
        raise HerokuHTTPError(422, "invalid_params", "Name is already taken")
