#!/usr/bin/env python3
"""Timings of the demo and of follower replication on the sandbox's postgres engine.

1. The wall time of playbooks/run-demo.sh (what `make demo` runs: sandbox start, set-up, the
   guide's playbooks with their checks, sandbox stop), in a state dir of its own.
2. Follower catch-up, --runs times, on one app with a standard-0 primary and a follower:
   a burst of --burst single-row commits on the primary, then
   - replay: the time until the last row is readable on the follower (psql polling), and
   - module: the wall time of `heroku_pg_follower name=FOLLOWER max_lag=0` (an ad-hoc
     ansible call, which waits until the follower is 0 commits behind), compared with
   - idle: the same module call with nothing to wait for (ansible's own start-up cost).

Prints a table (min / median / max); asserts nothing.

    make bench
    ANSIBLE_COLLECTIONS_PATH=collections .venv/bin/python pycore/bench/demo_bench.py
    options: --runs N (default 5), --burst N (default 200), --skip-demo
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from benchlib import collections_path, compile_core
from herokupg_sandbox.pgengine import PostgresEngine
from herokupg_sandbox.threaded import RunningSandbox, ThreadedSandbox

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def state_dir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/var/tmp"))  # reachable by the postgres user
    path.chmod(0o755)
    return path


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEROKU_", "ANSIBLE_"))}
    env["ANSIBLE_COLLECTIONS_PATH"] = str(collections_path())
    env["ANSIBLE_LOCALHOST_WARNING"] = "False"
    env["ANSIBLE_INVENTORY_UNPARSED_WARNING"] = "False"
    return env


def time_demo() -> tuple[float, bool]:
    base = state_dir("herokupg-bench-demo-")
    env = {**clean_env(), "VENV": str(VENV_BIN.parent), "DEMO_STATE_DIR": str(base / "demo")}
    try:
        start = time.monotonic()
        done = subprocess.run([str(ROOT / "playbooks/run-demo.sh")], env=env, cwd=ROOT,
                              capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - start
        if done.returncode != 0:
            print((done.stdout + done.stderr)[-3000:], file=sys.stderr)
        return elapsed, done.returncode == 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


def wait_provisioned(api: httpx.Client, addon_id: str) -> None:
    deadline = time.monotonic() + 300
    while api.get(f"/client/v11/databases/{addon_id}/wait_status").json().get("waiting?", True):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{addon_id} was not provisioned in time")
        time.sleep(0.1)


def psql(url: str, sql: str) -> str:
    done = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url],
                          input=sql, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def inserts(run: int, burst: int) -> str:
    """``burst`` single-row INSERTs: one commit each (psql autocommit)."""
    return f"INSERT INTO burst (run) VALUES ({int(run)});\n" * burst  # noqa: S608 - an int


def module_seconds(sb: RunningSandbox, app: str) -> float:
    env = {**clean_env(), "HEROKU_API_URL": sb.url, "HEROKU_API_KEY": sb.token}
    cmd = [str(VENV_BIN / "ansible"), "localhost", "-i", "localhost,", "-c", "local",
           "-e", f"ansible_python_interpreter={sys.executable}",
           "-m", "herokuops.postgres.heroku_pg_follower",
           "-a", f"app={app} name=FOLLOWER max_lag=0 poll_interval=0.2"]
    start = time.monotonic()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-2000:] + done.stderr[-2000:])
    return elapsed


def until(probe: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 300
    while not probe():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.01)


def time_follower(runs: int, burst: int) -> dict[str, list[float]]:
    base = state_dir("herokupg-bench-follow-")
    figures: dict[str, list[float]] = {"replay": [], "module": [], "idle": []}
    try:
        with ThreadedSandbox(base / "sandbox", engine="postgres") as sb, sb.http() as api:
            api.timeout = httpx.Timeout(300)
            api.post("/apps", json={"name": "bench"}).raise_for_status()
            plan = {"name": "heroku-postgresql:standard-0"}
            primary = api.post("/apps/bench/addons", json={"plan": plan}).json()
            wait_provisioned(api, primary["id"])
            follower = api.post("/apps/bench/addons", json={
                "plan": plan, "attachment": {"name": "FOLLOWER"}, "config": {"follow": primary["id"]},
            }).json()
            wait_provisioned(api, follower["id"])
            urls = api.get("/apps/bench/config-vars").json()
            leader_url, follower_url = urls["DATABASE_URL"], urls["FOLLOWER_URL"]
            psql(leader_url, "CREATE TABLE burst (id serial PRIMARY KEY, run int NOT NULL)")
            module_seconds(sb, "bench")  # warm-up: the first call also imports and caches
            for run in range(runs):
                figures["idle"].append(module_seconds(sb, "bench"))
                psql(leader_url, inserts(run, burst))
                figures["module"].append(module_seconds(sb, "bench"))
                psql(leader_url, inserts(run, burst))
                written = time.monotonic()
                query = f"SELECT count(*) FROM burst WHERE run = {int(run)}"  # noqa: S608 - an int

                def replayed(query: str = query) -> bool:
                    return psql(follower_url, query) == str(2 * burst)

                until(replayed)
                figures["replay"].append(time.monotonic() - written)
    finally:
        if subprocess.run(["pgrep", "-f", str(base)], capture_output=True, check=False).returncode == 0:
            PostgresEngine(base / "sandbox").stop()
        shutil.rmtree(base, ignore_errors=True)
    return figures


def row(name: str, values: list[float]) -> str:
    return (f"{name:<58} {len(values):>4} {min(values):>9.3f} {statistics.median(values):>9.3f}"
            f" {max(values):>9.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    compile_core()

    print(f"{'measure (seconds)':<58} {'runs':>4} {'min':>9} {'median':>9} {'max':>9}")
    if not args.skip_demo:
        elapsed, ok = time_demo()
        print(row("make demo: run-demo.sh wall time" + ("" if ok else " (FAILED)"), [elapsed]))
    figures = time_follower(args.runs, args.burst)
    print(row(f"replay: {args.burst} commits on primary -> last one on follower", figures["replay"]))
    print(row(f"module: heroku_pg_follower max_lag=0 after {args.burst} commits", figures["module"]))
    print(row("idle: heroku_pg_follower max_lag=0, nothing to wait for", figures["idle"]))
    extra = [m - i for m, i in zip(figures["module"], figures["idle"], strict=True)]
    print(row("module - idle: the wait itself (approximate)", extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())
