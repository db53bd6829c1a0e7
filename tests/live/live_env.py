"""Settings of the live tests against real Heroku, run by ``make test-live`` (see the README).

They run only when ``make test-live`` asks for them (HEROKU_LIVE=1) and an API key and an app are
given; otherwise every test is skipped and the summary says why. The read-only set changes nothing.
The write set runs only with HEROKU_LIVE_WRITE=backup (a backup, captured then deleted) or
HEROKU_LIVE_WRITE=all (also a follower, created then destroyed, which Heroku bills while it
exists); what it will create and cost is printed before any test runs.
"""

from __future__ import annotations

import os

from herokupg.api import HerokuAPI
from herokupg.auth import find_api_key
from herokupg.client import HerokuClient
from herokupg.errors import AuthConfigError
from herokupg.ops.base import Context, WaitOptions
from herokupg.resolve import resolve_database

APP = os.environ.get("HEROKU_LIVE_APP", "").strip()
DATABASE = os.environ.get("HEROKU_LIVE_DATABASE", "").strip() or "DATABASE_URL"
WRITE = os.environ.get("HEROKU_LIVE_WRITE", "").strip().lower()
WRITES = {"": (), "backup": ("backup",), "all": ("backup", "follower")}
FOLLOWER = "HEROKUPG_LIVE_FOLLOWER"


def skip_reason() -> str | None:
    """Why the live tests cannot run here, or None when they can."""
    if os.environ.get("HEROKU_LIVE") != "1":
        return "live tests run only through `make test-live`"
    try:
        find_api_key()
    except AuthConfigError:
        return "no Heroku API key: set HEROKU_API_KEY (or run `heroku login`)"
    if not APP:
        return "no app to read: give HEROKU_LIVE_APP=<app>, e.g. make test-live HEROKU_LIVE_APP=myapp"
    if WRITE not in WRITES:
        return f"HEROKU_LIVE_WRITE={WRITE!r} is not one of backup, all (or empty: read only)"
    return None


def writes() -> tuple[str, ...]:
    return WRITES.get(WRITE, ())


def client() -> HerokuClient:
    return HerokuClient(timeout=60, retries=3)


def context(*, check_mode: bool = False) -> Context:
    return Context(
        api=HerokuAPI(client()), check_mode=check_mode, wait=WaitOptions(timeout=1800, poll_interval=5)
    )


def write_plan() -> list[str]:
    """What the write set will create on the app and what it costs, read from Heroku."""
    todo = writes()
    if not todo:
        sets = "info, backups, schedules, settings, slow queries"
        return [f"make test-live: read-only set ({sets}); nothing is created"]
    lines = [f"make test-live: WRITE SET on {APP} (HEROKU_LIVE_WRITE={WRITE}); it will create:"]
    api = HerokuAPI(client())
    db = resolve_database(api, APP, DATABASE)
    if "backup" in todo:
        lines.append(
            f"  - a manual backup of {db.config_var} ({db.addon_name}): free; it takes one of the "
            f"manual backup slots of {db.plan} until it is deleted at the end of the test"
        )
    if "follower" in todo:
        addon = api.get_addon(APP, db.addon_name)
        price = addon.billed_price
        cost = (
            f"${price.cents / 100:.2f}/{price.unit}"
            if price and price.cents is not None
            else "its plan's price"
        )
        lines.append(
            f"  - a {db.plan} follower of {db.config_var} attached as {FOLLOWER}: billed {cost}, "
            "prorated to the second while it exists (it is destroyed at the end, also on failure)"
        )
    return lines
