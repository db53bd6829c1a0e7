"""Platform API JSON for the sandbox's records (field names as in Heroku's schema and as the CLI
reads them; timestamps ISO 8601 UTC). Callers hold the store lock."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from herokupg_sandbox import catalog
from herokupg_sandbox.state import Addon, App, Attachment, Release, Store, iso

if TYPE_CHECKING:
    from herokupg_sandbox.server import Sandbox

ACCOUNT_ID = "8f4c1b9e-5d3a-4e2f-9b1c-0a7d6e5f4c3b"
ACCOUNT_EMAIL = "sandbox@herokupg.invalid"
REGIONS = {"us": "59accabd-516d-4f0e-83e6-6e3757701145", "eu": "ed30241c-ed8c-4bb6-9714-61953675d0b4"}
STACKS = ("heroku-22", "heroku-24", "container")
_NS = uuid.UUID("0f0e0d0c-0b0a-4908-8706-050403020100")


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"id": str(uuid.uuid5(_NS, f"{kind}:{name}")), "name": name}


def owner() -> dict[str, str]:
    return {"id": ACCOUNT_ID, "email": ACCOUNT_EMAIL}


def account_json(created_at: float) -> dict[str, Any]:
    return {
        **owner(),
        "name": "Sandbox User",
        "allow_tracking": False,
        "beta": False,
        "created_at": iso(created_at),
        "updated_at": iso(created_at),
        "last_login": iso(created_at),
        "verified": True,
        "two_factor_authentication": False,
        "default_organization": None,
        "default_team": None,
        "delinquent_at": None,
        "suspended_at": None,
        "sms_number": None,
        "federated": False,
    }


def app_ref(app: App) -> dict[str, str]:
    return {"id": app.id, "name": app.name}


def app_json(app: App) -> dict[str, Any]:
    stack = _ref("stack", app.stack)
    return {
        "id": app.id,
        "name": app.name,
        "acm": False,
        "archived_at": None,
        "buildpack_provided_description": None,
        "build_stack": stack,
        "stack": stack,
        "created_at": iso(app.created_at),
        "updated_at": iso(app.updated_at),
        "released_at": iso(app.updated_at),
        "generation": _ref("generation", app.generation),
        "git_url": f"https://git.heroku.com/{app.name}.git",
        "web_url": f"https://{app.name}-{app.id[:12]}.herokuapp.com/",
        "internal_routing": None,
        "maintenance": app.maintenance,
        "owner": owner(),
        "organization": None,
        "team": None,
        "space": {**_ref("space", app.space), "shield": False} if app.space else None,
        "region": {"id": REGIONS.get(app.region, REGIONS["us"]), "name": app.region},
        "repo_size": None,
        "slug_size": None,
    }


def addon_ref(store: Store, addon: Addon) -> dict[str, Any]:
    billing = store.state.apps.get(addon.app_id)
    return {
        "id": addon.id,
        "name": addon.name,
        "app": {"id": addon.app_id, "name": billing.name if billing else None},
    }


def addon_config_vars(store: Store, addon: Addon) -> list[str]:
    """The config var names the add-on sets, one ``<ATTACHMENT>_URL`` per attachment."""
    names = [f"{att.name}_URL" for att in store.attachments_of_addon(addon.id)]
    return list(dict.fromkeys(names))


def addon_json(sb: Sandbox, addon: Addon, *, price: bool = False) -> dict[str, Any]:
    """An add-on; ``price`` adds ``plan.price`` (``Accept-Expansion: plan`` on create and delete,
    which the CLI reads; recorded listings show plan as ``{id, name}``)."""
    store = sb.store
    billing = store.state.apps.get(addon.app_id)
    app = {"id": addon.app_id, "name": billing.name if billing else None}
    body: dict[str, Any] = {
        "id": addon.id,
        "name": addon.name,
        "actions": [],
        "addon_service": {"id": catalog.service_id(addon.service), "name": addon.service},
        "app": app,
        "billing_entity": {**app, "type": "app"},
        "billed_price": catalog.billed_price(addon.plan),
        "config_vars": addon_config_vars(store, addon),
        "created_at": iso(addon.created_at),
        "updated_at": iso(addon.updated_at),
        "plan": catalog.plan_json(addon.plan) if price else catalog.plan_ref(addon.plan),
        "provider_id": f"resource-{addon.id}@herokupg.invalid",
        "state": addon.state,
        "web_url": f"https://addons-sso.heroku.com/apps/{addon.app_id}/addons/{addon.id}",
    }
    if addon.provision_message:  # as recorded add-ons show: only when there is one
        body["provision_message"] = addon.provision_message
    return body


def attachment_json(sb: Sandbox, att: Attachment, *, inclusion: str = "") -> dict[str, Any]:
    """An attachment; ``Accept-Inclusion: addon:plan,config_vars`` adds ``addon.plan`` and
    ``config_vars`` (what the CLI's database resolver sends and reads)."""
    store = sb.store
    app = store.state.apps.get(att.app_id)
    addon = store.state.addons.get(att.addon_id)
    addon_part: dict[str, Any] = addon_ref(store, addon) if addon else {"id": att.addon_id, "name": None}
    included = {part.strip() for part in inclusion.split(",")}
    body: dict[str, Any] = {
        "id": att.id,
        "name": att.name,
        "namespace": att.namespace,
        "app": {"id": att.app_id, "name": app.name if app else None},
        "addon": addon_part,
        "created_at": iso(att.created_at),
        "updated_at": iso(att.updated_at),
        "web_url": f"https://data.heroku.com/datastores/{att.addon_id}",
        "log_input_url": None,
    }
    if "addon:plan" in included and addon:
        addon_part["plan"] = {"id": catalog.plan_id(addon.plan), "name": addon.plan}
    if "config_vars" in included:
        body["config_vars"] = [f"{att.name}_URL"]
    return body


def release_json(app: App, release: Release, current_version: int) -> dict[str, Any]:
    return {
        "id": release.id,
        "version": release.version,
        "description": release.description,
        "status": release.status,
        "current": release.version == current_version,
        "created_at": iso(release.created_at),
        "updated_at": iso(release.created_at),
        "app": app_ref(app),
        "user": owner(),
        "slug": None,
        "addon_plan_names": [],
        "output_stream_url": None,
    }


def formation_json(app: App, entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": entry["id"],
        "type": entry["type"],
        "command": entry.get("command", ""),
        "quantity": entry.get("quantity", 1),
        "size": entry.get("size", "Basic"),
        "app": app_ref(app),
        "created_at": iso(entry.get("created_at", app.created_at)),
        "updated_at": iso(entry.get("updated_at", app.created_at)),
    }
