"""Rate limit at scale: one ``ansible-playbook -f 10`` run converging a backup schedule and a
follower on every one of many apps (20 in `make test`; `make rate-limit-200` runs the issue's 200), with
the sandbox's token bucket set so the run needs more requests than the bucket holds.

Asserts that no task failed (the client paces on ``RateLimit-Remaining`` and retries 429s) and
that the sandbox ends with exactly one follower and one schedule per app. Requests and 429s are
counted server-side by an ASGI wrapper around the sandbox (admin calls excluded); the numbers and
the wall time are printed (run pytest with -s to see them), never asserted.
"""

from __future__ import annotations

import collections
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import Ansible, sandbox_state
from herokupg_sandbox.threaded import RunningSandbox, ThreadedSandbox
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TARGET = "rate_limit/main.yml"
# 200 apps is the scale (`HEROKUPG_RATE_LIMIT_APPS=200`, a bench run: each app costs two
# module runs, about 1 CPU-second); the default keeps the everyday suite lean.
APPS = int(os.environ.get("HEROKUPG_RATE_LIMIT_APPS", "20"))
# Below what ten forks spend unthrottled (about 8 requests/s measured on a loaded 2-core box), so
# the bucket runs dry and the rest of the run is paced by the refill.
REFILL_PER_MINUTE = int(os.environ.get("HEROKUPG_RATE_LIMIT_REFILL", "240"))
FORKS = 10
PLAN = "heroku-postgresql:standard-0"
UNCOUNTED = ("/_sandbox/", "/account/rate-limits")  # what the sandbox's bucket does not count


@dataclass
class RequestCounter:
    """Counts the Heroku API requests a sandbox serves and the statuses it answers with."""

    app: ASGIApp | None = None
    requests: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)

    def wrap(self, app: ASGIApp) -> ASGIApp:
        self.app = app
        return self

    def snapshot(self) -> tuple[int, int]:
        return self.requests, self.statuses[429]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        if scope["type"] != "http" or scope["path"].startswith(UNCOUNTED):
            await self.app(scope, receive, send)
            return
        self.requests += 1  # one event loop: no lock needed

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.statuses[message["status"]] += 1
            await send(message)

        await self.app(scope, receive, counting_send)


@pytest.fixture
def counter() -> RequestCounter:
    return RequestCounter()


@pytest.fixture
def sandbox(tmp_path: Path, counter: RequestCounter) -> Iterator[RunningSandbox]:
    """The integration sandbox, wrapped by the request counter (overrides conftest's)."""
    with ThreadedSandbox(tmp_path / "sandbox", wrap=counter.wrap) as running:
        yield running


def seed(http: httpx.Client, names: list[str]) -> None:
    """Apps with one standard-0 database each, through the Platform API (bucket raised first)."""
    for name in names:
        http.post("/apps", json={"name": name}).raise_for_status()
        http.post(f"/apps/{name}/addons", json={"plan": {"name": PLAN}}).raise_for_status()


def write_inventory(path: Path, names: list[str]) -> Path:
    hosts = {f"rl-host-{i:03d}": {"heroku_app": name} for i, name in enumerate(names)}
    inventory = {
        "all": {
            "children": {
                "rate_limit_apps": {"hosts": hosts, "vars": {"ansible_connection": "local"}},
            }
        }
    }
    path.write_text(json.dumps(inventory))  # JSON is YAML
    return path


def per_app(state: dict[str, Any]) -> dict[str, dict[str, int]]:
    """app name -> number of followers / schedules / databases it has in the sandbox."""
    apps = {app["id"]: app["name"] for app in state["apps"].values()}
    counts = {name: {"followers": 0, "schedules": 0, "databases": 0} for name in apps.values()}
    for addon in state["addons"].values():
        if addon["db"] is None or addon["state"] != "provisioned":
            continue
        counts[apps[addon["app_id"]]]["databases"] += 1
        if addon["db"]["leader_id"]:
            counts[apps[addon["app_id"]]]["followers"] += 1
    for schedule in state["schedules"].values():
        addon = state["addons"][schedule["addon_id"]]
        counts[apps[addon["app_id"]]]["schedules"] += 1
    return counts


def converge(ansible: Ansible, inventory: Path, names: list[str]) -> tuple[float, str]:
    started = time.monotonic()
    run = ansible.playbook(TARGET, "-i", str(inventory), "-f", str(FORKS))
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.output[-6000:]
    return elapsed, run.output


def test_many_apps_under_rate_limit(ansible: Ansible, counter: RequestCounter, tmp_path: Path) -> None:
    sandbox = ansible.sandbox
    probe = ["rl-probe"]
    names = [f"rl-{i:03d}" for i in range(APPS)]
    sandbox.admin("PATCH", "settings", json={"rate_limit_capacity": 100_000, "rate_limit_refill_per_minute": 0})

    started = time.monotonic()
    with sandbox.http() as http:
        seed(http, probe + names)
    seeded = time.monotonic() - started

    # Measure what one app's converge costs, unthrottled, on an app of its own.
    before = counter.snapshot()
    probe_time, _probe_stats = converge(ansible, write_inventory(tmp_path / "probe.json", probe), probe)
    per_app_requests = counter.snapshot()[0] - before[0]

    # A bucket holding a quarter of what the run needs, refilled slower than the run can spend.
    needed = per_app_requests * APPS
    capacity = max(20, needed // 4)
    refill_per_minute = REFILL_PER_MINUTE
    sandbox.admin(
        "PATCH",
        "settings",
        json={"rate_limit_capacity": capacity, "rate_limit_refill_per_minute": refill_per_minute},
    )
    before = counter.snapshot()
    elapsed, output = converge(ansible, write_inventory(tmp_path / "apps.json", names), names)
    requests, too_many = (now - then for now, then in zip(counter.snapshot(), before, strict=True))
    remaining = _remaining(sandbox)

    state = sandbox_state(sandbox)
    counts = per_app(state)
    wrong = {name: c for name, c in counts.items() if c != {"followers": 1, "schedules": 1, "databases": 2}}
    assert wrong == {}, f"{len(wrong)} apps not converged to one follower and one schedule: {list(wrong.items())[:5]}"
    assert " failed=0" in output and "429" not in _failed_lines(output)

    print(
        f"\nrate limit run: {APPS} apps, -f {FORKS}: seeded in {seeded:.1f} s; probe app: {per_app_requests} "
        f"requests in {probe_time:.1f} s; bucket {capacity} + {refill_per_minute}/min; converge: "
        f"{requests} requests served ({requests / APPS:.1f}/app), {too_many} answered 429, "
        f"{remaining} left in the bucket, {elapsed:.1f} s wall time"
    )
    assert requests > capacity, "the run did not exceed the bucket: the test proves nothing"


def _remaining(sandbox: RunningSandbox) -> int:
    with sandbox.http() as http:
        return int(http.get("/account/rate-limits").json()["remaining"])


def _failed_lines(output: str) -> str:
    return "\n".join(line for line in output.splitlines() if line.startswith("fatal:"))
