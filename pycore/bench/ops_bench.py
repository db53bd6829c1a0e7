#!/usr/bin/env python3
"""Our modules against the official Heroku CLI, side by side, on one memory-engine sandbox.

Every request is counted server-side by the same ASGI counter (herokupg_sandbox.threaded.Counter)
wrapped around the sandbox, whoever sends it; admin calls that set the scene (/_sandbox/) are not
counted, log streams (/_sandbox/public/, Heroku's logs host) are.

1. Requests per operation: each Heroku CLI command (or pair) against the module doing the same,
   each on a fresh app in the same state, and the module's idempotent rerun (target: <= 3).
2. Wall time per task: each module's no-op run against ansible.builtin.ping in the same playbook
   (median of --wall-reps, per-task times from the callback in callbacks/task_times.py; target <= 1.5x),
   and the Python import time each module adds to `import ansible.module_utils.basic`.
3. The guide's workflow (follower, fork, settings, schedule, capture, list, restore, promote) as one
   playbook against the same steps as Heroku CLI commands: wall time and requests.
4. Polling: a follower that becomes ready T seconds after it is created (sandbox provision_delay);
   requests spent waiting, and the delay from readiness to the command's return, for our adaptive
   backoff (0.25 s x1.5 up to poll_interval=5) and the CLI's fixed 5 s pg:wait loop.

Prints tables; asserts nothing. Needs the Heroku CLI (`make heroku-cli`).

    make bench                                            (this, with demo_bench.py and slowlog_bench.py)
    .venv/bin/python pycore/bench/ops_bench.py [--quick] [--reps N] [--wall-reps N] [--delays 2,5,10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchlib import (
    PLAN,
    VENV_BIN,
    Run,
    Runner,
    addon_ids,
    addon_state,
    collections_path,
    compile_core,
    counted_sandbox,
    heroku_cli,
    load_average,
    median,
    seed_app,
    set_settings,
    table,
)

AT = "02:00 America/New_York"
SETTING = ["pg:settings:log-min-duration-statement", "DATABASE_URL", "50"]
REQUEST_TARGET = 3
WALL_TARGET = 1.5


def create(name: str, how: str, app: str) -> list[str]:
    """``heroku addons:create`` of a follower (how=--follow) or fork (--fork) of DATABASE_URL."""
    return ["addons:create", PLAN, "-a", app, "--as", name, "--", how, "DATABASE_URL"]


class Bench:
    def __init__(self, runner: Runner, quick: bool, reps: int, wall_reps: int) -> None:
        self.r = runner
        self.quick = quick
        self.reps = reps
        self.wall_reps = wall_reps
        self.seq = 0

    def app(self, prefix: str, *, follower: str | None = None) -> str:
        self.seq += 1
        name = f"{prefix}-{self.seq}"
        seed_app(self.r.sb, name, follower=follower)
        return name

    # -- 1. requests per operation -----------------------------------------------------------------
    def requests_per_operation(self) -> str:
        r = self.r
        # (operation, CLI label, set-up(app), CLI steps(app), module, module args(app), rerun args(app))
        Case = tuple[str, str, Callable[[], str], Callable[[str], list[Run]], str,
                     Callable[[str], dict[str, Any]], Callable[[str], dict[str, Any]] | None]

        def with_follower() -> str:
            return self.app("req", follower="FOLLOWER")

        def primary_only() -> str:
            return self.app("req")

        def with_backup() -> str:
            app = self.app("req")
            r.module("heroku_pg_backup", {"app": app}).check()
            return app

        def follow(app: str) -> list[Run]:
            return [r.heroku(*create("FOLLOWER", "--follow", app)),
                    r.heroku("pg:wait", "FOLLOWER", "-a", app)]

        def fork(app: str) -> list[Run]:
            return [r.heroku(*create("FORK", "--fork", app)), r.heroku("pg:wait", "FORK", "-a", app)]

        cases: list[Case] = [
            ("pg:info (primary + follower)", "pg:info", with_follower,
             lambda a: [r.heroku("pg:info", "-a", a)],
             "heroku_pg_info", lambda a: {"app": a}, None),
            ("follower create + wait", "addons:create --follow + pg:wait", primary_only, follow,
             "heroku_pg_follower", lambda a: {"app": a, "name": "FOLLOWER"}, None),
            ("backup capture", "pg:backups:capture", primary_only,
             lambda a: [r.heroku("pg:backups:capture", "-a", a)],
             "heroku_pg_backup", lambda a: {"app": a, "max_age": "1h"}, None),
            ("restore", "pg:backups:restore", with_backup,
             lambda a: [r.heroku("pg:backups:restore", "b001", "DATABASE_URL", "--confirm", a, "-a", a)],
             "heroku_pg_restore", lambda a: {"app": a, "backup": "b001", "confirm": a, "once": True}, None),
            ("promote (unfollow: false)", "pg:promote", with_follower,
             lambda a: [r.heroku("pg:promote", "FOLLOWER", "-a", a)],
             "heroku_pg_promote",
             lambda a: {"app": a, "database": "FOLLOWER", "unfollow": False, "confirm": a}, None),
        ]
        if not self.quick:
            cases += [
                ("fork create + wait", "addons:create --fork + pg:wait", primary_only, fork,
                 "heroku_pg_fork", lambda a: {"app": a, "name": "FORK"}, None),
                ("settings", "pg:settings:log-min-duration-statement", primary_only,
                 lambda a: [r.heroku(*SETTING, "-a", a)],
                 "heroku_pg_settings", lambda a: {"app": a, "settings": {"log_min_duration_statement": 50}},
                 None),
                ("backup schedule", "pg:backups:schedule", primary_only,
                 lambda a: [r.heroku("pg:backups:schedule", "DATABASE_URL", "--at", AT, "-a", a)],
                 "heroku_pg_backup_schedule", lambda a: {"app": a, "at": AT}, None),
                ("backup list", "pg:backups", with_backup,
                 lambda a: [r.heroku("pg:backups", "-a", a)],
                 "heroku_pg_backup_info", lambda a: {"app": a}, None),
                ("slow queries (1500 log lines)", "logs -p postgres -n 1500", primary_only,
                 lambda a: [r.heroku("logs", "-p", "postgres", "-n", "1500", "-a", a)],
                 "heroku_pg_slow_query_info", lambda a: {"app": a}, None),
            ]
        else:
            cases = [c for c in cases if c[4] in ("heroku_pg_info", "heroku_pg_backup")]
        rows = []
        for operation, label, setup, cli_steps, module, args, rerun_args in cases:
            cli_runs = [run.check() for run in cli_steps(setup())]
            app = setup()
            first = r.module(module, args(app)).check()
            again = r.module(module, (rerun_args or args)(app)).check()
            rows.append([
                operation, label, sum(x.requests for x in cli_runs), first.requests, module,
                again.requests, "yes" if again.requests <= REQUEST_TARGET else "NO",
                sum(x.seconds for x in cli_runs), first.seconds,
            ])
        return table(
            "1. HTTP requests per operation (server-side count; fresh app each)",
            ["operation", "heroku CLI", "CLI req", "module req", "module", "rerun req",
             f"rerun <= {REQUEST_TARGET}", "CLI s", "module s"],
            rows,
        )

    # -- 2. wall time per task against ansible.builtin.ping -------------------------------------------
    def wall_time_per_task(self) -> str:
        r = self.r
        app = self.app("wall", follower="FOLLOWER")
        steady = [  # each module's idempotent no-op form (the app is brought to that state first)
            ("heroku_pg_info", {}),
            ("heroku_pg_follower", {"name": "FOLLOWER"}),
            ("heroku_pg_fork", {"name": "FORK"}),
            ("heroku_pg_settings", {"settings": {"log_min_duration_statement": 50}}),
            ("heroku_pg_backup_schedule", {"at": AT}),
            ("heroku_pg_backup", {"max_age": "1h"}),
            ("heroku_pg_backup_info", {}),
            ("heroku_pg_restore", {"backup": "b001", "confirm": app, "once": True}),
            ("heroku_pg_promote", {"database": "DATABASE", "unfollow": False, "confirm": app}),
            ("heroku_pg_slow_query_info", {}),
        ]
        if self.quick:
            steady = steady[:1] + steady[5:6]
        tasks: list[dict[str, Any]] = []
        for _rep in range(self.wall_reps):
            for module, args in steady:
                tasks.append({"name": "ping", "ansible.builtin.ping": None})
                tasks.append({"name": module, f"herokuops.postgres.{module}": args})
        play = [{
            "name": "wall time per task", "hosts": "localhost", "connection": "local", "gather_facts": False,
            "module_defaults": {"group/herokuops.postgres.heroku": {"app": app}},
            "tasks": tasks,
        }]
        # bring the app to the steady state: the first pass changes things, the timed pass does not
        prepare = r.workdir / "prepare.yml"
        prepare.write_text(json.dumps([{**play[0], "tasks": tasks[: 2 * len(steady)]}]))
        r.playbook(prepare, {}).check()
        path = r.workdir / "wall.yml"
        path.write_text(json.dumps(play))
        times_file = r.workdir / "wall-times.json"
        r.playbook(path, {}, times=times_file).check()
        records = json.loads(times_file.read_text())
        pings = [x["seconds"] for x in records if x["task"] == "ping"]
        ping = median(pings)
        imports = self.import_times([m for m, _ in steady])
        rows = [["ansible.builtin.ping", len(pings), ping, 1.0, "", imports.get("", float("nan"))]]
        for module, _args in steady:
            secs = [x["seconds"] for x in records if x["task"] == module]
            ratio = median(secs) / ping
            rows.append([module, len(secs), median(secs), ratio,
                         "yes" if ratio <= WALL_TARGET else "NO", imports.get(module, float("nan"))])
        return table(
            f"2. Wall time per task, no-op runs, median of {self.wall_reps} (ping interleaved, same play)",
            ["task", "n", "seconds", "x ping", f"<= {WALL_TARGET}x", "import ms"],
            rows,
        ) + (f"\nimport ms: fresh interpreter, median of {1 if self.quick else 3}; for ping the cost of\n"
             "ansible.module_utils.basic, for a module what importing it adds on top of that\n"
             "(herokupg with httpx and pydantic, its models and the module's op).\n")

    def import_times(self, modules: list[str]) -> dict[str, float]:
        """Milliseconds, median of 3 fresh interpreters."""
        code = (
            "import sys, time\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "t = time.perf_counter()\n"
            "import ansible.module_utils.basic\n"
            "u = time.perf_counter()\n"
            "if sys.argv[2]:\n"
            "    __import__('ansible_collections.herokuops.postgres.plugins.modules.' + sys.argv[2])\n"
            "v = time.perf_counter()\n"
            "print((u - t) * 1000 if not sys.argv[2] else (v - u) * 1000)\n"
        )
        result: dict[str, float] = {}
        for module in ["", *modules]:
            samples = []
            for _ in range(1 if self.quick else 3):
                done = subprocess.run([sys.executable, "-c", code, str(collections_path()), module],
                                      capture_output=True, text=True, check=True)
                samples.append(float(done.stdout.strip()))
            result[module] = median(samples)
        return result

    # -- 3. the guide's workflow ---------------------------------------------------------------------
    def workflow(self) -> str:
        r = self.r
        playbook = Path(__file__).resolve().parent / "playbooks" / "workflow.yml"
        plays: list[tuple[float, int]] = []
        clis: list[tuple[float, int]] = []
        per_task: dict[str, list[float]] = {}
        task_requests: dict[str, list[float]] = {}
        pings: list[float] = []
        cli_steps: dict[str, list[float]] = {}
        cli_requests: dict[str, list[float]] = {}
        for rep in range(1 if self.quick else self.reps):
            app = self.app("flow")
            times_file = r.workdir / f"flow-times-{rep}.json"
            run = r.playbook(playbook, {"app": app}, times=times_file).check()
            plays.append((run.seconds, run.requests))
            for record in json.loads(times_file.read_text()):
                if record["action"] == "ansible.builtin.ping":
                    pings.append(record["seconds"])
                else:
                    per_task.setdefault(record["task"], []).append(record["seconds"])
                    served = [h for h in run.hits if record["start"] <= h.at <= record["end"]]
                    task_requests.setdefault(record["task"], []).append(len(served))
            app = self.app("flow")
            steps = [
                ("follower", create("FOLLOWER", "--follow", app)),
                ("follower", ["pg:wait", "FOLLOWER", "-a", app]),
                ("fork", create("FORK", "--fork", app)),
                ("fork", ["pg:wait", "FORK", "-a", app]),
                ("settings", [*SETTING, "-a", app]),
                ("schedule", ["pg:backups:schedule", "DATABASE_URL", "--at", AT, "-a", app]),
                ("capture", ["pg:backups:capture", "-a", app]),
                ("list", ["pg:backups", "-a", app]),
                ("restore", ["pg:backups:restore", "b001", "DATABASE_URL", "--confirm", app, "-a", app]),
                ("promote", ["pg:promote", "FOLLOWER", "-a", app]),
            ]
            total, requests = 0.0, 0
            by_step: dict[str, tuple[float, int]] = {}
            for step, args in steps:
                cli = r.heroku(*args).check()
                total += cli.seconds
                requests += cli.requests
                secs, count = by_step.get(step, (0.0, 0))
                by_step[step] = (secs + cli.seconds, count + cli.requests)
            for step, (secs, count) in by_step.items():
                cli_steps.setdefault(step, []).append(secs)
                cli_requests.setdefault(step, []).append(count)
            clis.append((total, requests))
        play_s, cli_s = median([p[0] for p in plays]), median([c[0] for c in clis])
        rows = [
            ["ansible-playbook workflow.yml (8 module tasks)", len(plays), play_s,
             int(median([p[1] for p in plays])), play_s / cli_s],
            ["heroku CLI, 10 commands in sequence", len(clis), cli_s,
             int(median([c[1] for c in clis])), 1.0],
        ]
        out = table(
            "3. The guide's workflow: one playbook vs the same steps as Heroku CLI commands (median)",
            ["run", "n", "seconds", "requests", "x CLI"], rows,
        )
        ping = median(pings)
        step_rows = []
        for task, durations in per_task.items():
            step = task.split(":")[0]
            took = median(durations)
            step_rows.append([task, took, took / ping, median(cli_steps.get(step, [])),
                              int(median(task_requests[task])), int(median(cli_requests.get(step, [])))])
        step_rows.append(["ansible.builtin.ping (same play)", ping, 1.0, "", "", ""])
        out += "\n" + table(
            "3b. The workflow per step (changing runs): module task vs ping vs the CLI command(s)",
            ["task", "module s", "x ping", "CLI s", "module req", "CLI req"], step_rows,
        )
        return out

    # -- 4. polling ------------------------------------------------------------------------------------
    def polling(self, delays: list[float]) -> str:
        r = self.r
        waiters = {"ours": "heroku_pg_follower (0.25 s x1.5 -> 5 s)",
                   "cli": "addons:create + pg:wait (fixed 5 s)"}
        # per (T, waiter): [requests, seconds from readiness to the first request after it, to the exit]
        samples: dict[tuple[float, str], list[tuple[float, float, float]]] = {}
        for delay in [0.0, *delays]:
            for _rep in range(1 if delay == 0 else self.reps):
                set_settings(r.sb, provision_delay=delay)
                try:
                    app = self.app("poll")
                    ours = r.module("heroku_pg_follower", {"app": app, "name": "FOLLOWER"}).check()
                    ready = addon_state(r.sb, addon_ids(r.sb, app)["FOLLOWER"])["ready_at"]
                    app = self.app("poll")
                    created = r.heroku(*create("FOLLOWER", "--follow", app)).check()
                    waited = r.heroku("pg:wait", "FOLLOWER", "-a", app).check()
                    cli_ready = addon_state(r.sb, addon_ids(r.sb, app)["FOLLOWER"])["ready_at"]
                finally:
                    set_settings(r.sb, provision_delay=0)
                for key, requests, hits, ended, at in (
                    ("ours", ours.requests, ours.hits, ours.ended, ready),
                    ("cli", created.requests + waited.requests, waited.hits, waited.ended, cli_ready),
                ):
                    seen = min((h.at for h in hits if h.at >= at), default=float("nan"))
                    samples.setdefault((delay, key), []).append((requests, seen - at, ended - at))
        rows = []
        for delay in delays:
            for key, label in waiters.items():
                runs = samples[(delay, key)]
                count = median([x[0] for x in runs])
                baseline = samples[(0.0, key)][0][0]
                rows.append([f"{delay:g}", label, len(runs), int(count), int(count - baseline),
                             median([x[1] for x in runs]), median([x[2] for x in runs])])
        return table(
            "4. Polling: a follower ready T s after creation (sandbox provision_delay=T), "
            f"median of {self.reps}",
            ["T s", "waiter", "n", "requests", "waiting req", "ready->seen s", "ready->return s"], rows,
        ) + ("\nwaiting req: requests beyond those of the same command with T=0. ready->seen: from the\n"
             "moment the sandbox made the follower available to the command's first request after it (the\n"
             "poll that sees it ready); ready->return: to the command's exit (ansible or heroku process).\n")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer cases, one repetition")
    parser.add_argument("--reps", type=int, default=3, help="repetitions for medians (default 3)")
    # a task is ~0.25 s and one of 3 runs is often off by 0.05 s or more: 9 give steady medians
    parser.add_argument("--wall-reps", type=int, default=9, help="repetitions of section 2 (default 9)")
    parser.add_argument("--delays", default="2,5,10", help="provision delays T for the polling table")
    parser.add_argument("--only", default="1,2,3,4", help="sections to run, e.g. 1,4")
    parser.add_argument("--verbose", action="store_true", help="list every request of every run (stderr)")
    args = parser.parse_args()
    reps = 1 if args.quick else max(1, args.reps)
    delays = [1.0] if args.quick else [float(x) for x in args.delays.split(",") if x]
    only = set(args.only.split(","))
    cli = heroku_cli()
    compile_core()
    print(f"# ops_bench {'--quick ' if args.quick else ''}{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
          f"load average at start: {load_average()}")
    print(f"# python {sys.version.split()[0]}, {VENV_BIN}, heroku CLI {cli_version(cli)}\n", flush=True)
    start = time.monotonic()
    with counted_sandbox() as (sb, counter), tempfile.TemporaryDirectory(prefix="opsbench-work-") as work:
        runner = Runner(sb, counter, cli, Path(work))
        runner.verbose = args.verbose
        bench = Bench(runner, args.quick, reps, 1 if args.quick else max(1, args.wall_reps))
        sections: list[tuple[str, Callable[[], str]]] = [
            ("1", bench.requests_per_operation),
            ("2", bench.wall_time_per_task),
            ("3", bench.workflow),
            ("4", lambda: bench.polling(delays)),
        ]
        for key, section in sections:
            if key in only:
                print(section(), flush=True)
    print(f"# done in {time.monotonic() - start:.0f}s; load average at end: {load_average()}")
    return 0


def cli_version(cli: Path) -> str:
    package = cli.parent.parent / "heroku" / "package.json"
    try:
        return str(json.loads(package.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "?"


if __name__ == "__main__":
    sys.exit(main())
