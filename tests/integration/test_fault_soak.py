"""Fault injection soak: the guide's module flow and each role's converge, run by real
``ansible-playbook`` while the sandbox (memory engine, zero delays) resets connections, answers
500/503/429 and answers slowly on a seeded ~10% of the Heroku API requests.

Each seeded round runs one playbook over several fresh apps at once (one inventory host per app,
``-f`` as many): every app's run either succeeds or fails with a message naming the app or the
database and an error id or reason (no traceback, no "MODULE FAILURE"); then the faults are
cleared and a rerun converges (rc 0). The sandbox's state is the oracle: exactly the add-ons asked
for (no double billing), no backup deleted that the retention policy keeps, exactly one restore
per restore requested (``once`` across reruns). Counts of runs, failures by kind and durations are
printed (pytest -s), never asserted.

Two short tests check that a failed provisioning (``provision_failure``) and a failed transfer
(``transfer_failure``) are reported as failures with their reason.
"""

from __future__ import annotations

import collections
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import Ansible, sandbox_state
from herokupg_sandbox.threaded import RunningSandbox, seed_app, seed_database

FLOW = "fault_soak/flow.yml"
ROLES = "fault_soak/roles.yml"
# 16 runs of the flow and 8 role converges (2 of each role/method): 24 seeded runs, each on a fresh
# app, in about two and a half minutes on 2 cores (each module run costs a fork and a Python start).
# A seed fixes each fault's sequence of draws, but the hosts of a round run concurrently, so which
# request gets which draw (and so which step fails) varies from one pytest run to the next.
FLOW_SEEDS = (101, 202, 303, 404)
FLOW_APPS_PER_SEED = 4
ROLE_SEEDS = (505, 606)  # each: backup_setup, failover, refresh by restore, refresh by fork
# About 10% of the requests get a fault: (kind, extra fields, rate).
FAULT_MIX: tuple[tuple[str, dict[str, Any], float], ...] = (
    ("reset", {}, 0.025),
    ("error", {"status": 500}, 0.025),
    ("error", {"status": 503}, 0.02),
    ("error", {"status": 429}, 0.02),
    ("latency", {"latency": 0.2}, 0.02),
)
PG = "heroku-postgresql:"
# A failure names an error id, an HTTP status or the transport failure (the client's own words).
REASON = re.compile(r"Error ID: [a-z_]+|HTTP \d{3}|Could not complete [A-Z]+ |status \d{3}")


@dataclass
class Tally:
    runs: int = 0
    failed: int = 0
    kinds: collections.Counter[str] = field(default_factory=collections.Counter)
    seconds: float = 0.0

    def line(self, what: str) -> str:
        kinds = ", ".join(f"{k}: {n}" for k, n in sorted(self.kinds.items())) or "none"
        return f"{what}: {self.runs} runs, {self.failed} failed ({kinds}), {self.seconds:.1f} s"


def inject(sandbox: RunningSandbox, seed: int) -> None:
    for index, (kind, extra, rate) in enumerate(FAULT_MIX):
        body = {"kind": kind, "rate": rate, "seed": seed * 100 + index, **extra}
        sandbox.admin("POST", "faults", json=body)


def write_inventory(path: Path, hosts: dict[str, dict[str, Any]]) -> Path:
    group = {"hosts": hosts, "vars": {"ansible_connection": "local"}}
    inventory = {"all": {"children": {"soak_apps": group}}}
    path.write_text(json.dumps(inventory))  # JSON is YAML
    return path


def run_round(
    ansible: Ansible,
    playbook: str,
    hosts: dict[str, dict[str, Any]],
    seed: int,
    workdir: Path,
    tally: Tally,
    rerun_vars: dict[str, Any] | None = None,
) -> None:
    """One faulted run over ``hosts``, its failures checked, then a clean rerun that must converge.

    ``rerun_vars``: extra vars of the rerun only (what the operator adds after a failed run)."""
    results = workdir / f"results-{seed}"
    results.mkdir()
    inventory = write_inventory(workdir / f"inventory-{seed}.json", hosts)
    forks = str(len(hosts))
    extra = {"soak_results_dir": str(results)}
    inject(ansible.sandbox, seed)
    started = time.monotonic()
    faulted = ansible.playbook(playbook, "-i", str(inventory), "-f", forks, extra_vars=extra)
    tally.seconds += time.monotonic() - started
    ansible.sandbox.admin("DELETE", "faults")

    failures = {p.stem: json.loads(p.read_text()) for p in results.glob("*.json")}
    tally.runs += len(hosts)
    tally.failed += len(failures)
    assert (faulted.returncode == 0) == (not failures), faulted.output[-6000:]
    for bad in ("Traceback", "MODULE FAILURE"):
        assert bad not in faulted.output, faulted.output[-6000:]
    for app, failure in failures.items():
        tally.kinds[check_failure(app, hosts[app], failure)] += 1

    if not failures:
        return
    # The apps whose run failed are rerun without faults (the others converged already).
    rerun_results = workdir / f"rerun-{seed}"
    rerun_results.mkdir()
    started = time.monotonic()
    rerun = ansible.playbook(
        playbook,
        *("-i", str(inventory), "-f", forks, "--limit", ",".join(sorted(failures))),
        extra_vars={"soak_results_dir": str(rerun_results), **(rerun_vars or {})},
    )
    tally.seconds += time.monotonic() - started
    unconverged = {p.stem: json.loads(p.read_text()) for p in rerun_results.glob("*.json")}
    assert rerun.returncode == 0 and not unconverged, (
        f"rerun without faults did not converge: {json.dumps(unconverged)[:4000]}\n"
        f"the faulted run failed with: {json.dumps(failures)[:4000]}\n{rerun.output[-4000:]}"
    )


def check_failure(app: str, host: dict[str, Any], failure: dict[str, Any]) -> str:
    """Assert one recorded failure is clear; return its kind (for the tally)."""
    result: dict[str, Any] = failure["result"]
    msg = str(result.get("msg", ""))
    shown = f"{app}: task {failure['task']!r} failed: {json.dumps(result)[:2000]}"
    assert msg and msg != "MODULE FAILURE", shown
    # ansible-core 2.19 adds "exception": "(traceback unavailable)" to every failure: no traceback.
    assert "Traceback" not in json.dumps(result), shown
    names = [app, *(str(v) for k, v in host.items() if k in ("primary_addon", "soak_source_app"))]
    assert any(name in msg for name in names), shown
    reason = REASON.search(msg)
    assert reason is not None, shown
    return f"{failure['task']}: {reason.group(0)}"


# -- the sandbox's state, per app ---------------------------------------------------------------


def postgres_addons(state: dict[str, Any], app: str) -> list[dict[str, Any]]:
    app_id = next(a["id"] for a in state["apps"].values() if a["name"] == app)
    return [a for a in state["addons"].values() if a["app_id"] == app_id and a["plan"].startswith(PG)]


def attached(state: dict[str, Any], app: str) -> dict[str, str]:
    """attachment name -> add-on id, for the app."""
    app_id = next(a["id"] for a in state["apps"].values() if a["name"] == app)
    return {t["name"]: t["addon_id"] for t in state["attachments"].values() if t["app_id"] == app_id}


def transfers(state: dict[str, Any], addon_id: str, to_type: str) -> list[dict[str, Any]]:
    found = [t for t in state["transfers"].values() if t["addon_id"] == addon_id and t["to_type"] == to_type]
    return sorted(found, key=lambda t: t["num"])


def capture(sandbox: RunningSandbox, app: str, addon_id: str) -> dict[str, Any]:
    """A manual backup, captured through the Data API (before any fault is injected)."""
    with sandbox.http() as http:
        created = http.post(f"/client/v11/databases/{addon_id}/backups").json()
        for _attempt in range(500):
            backup: dict[str, Any] = http.get(f"/client/v11/apps/{app}/transfers/{created['num']}").json()
            if backup.get("finished_at"):
                return backup
            time.sleep(0.02)
    raise AssertionError(f"backup {created['num']} of {app} never finished")


# -- the soak -----------------------------------------------------------------------------------


def test_flow_soak(ansible: Ansible, tmp_path: Path) -> None:
    sandbox = ansible.sandbox
    tally = Tally()
    for seed in FLOW_SEEDS:
        hosts: dict[str, dict[str, Any]] = {}
        for index in range(FLOW_APPS_PER_SEED):
            app = f"soak-{seed}-{index}"
            seed_app(sandbox, app)
            hosts[app] = {"heroku_app": app, "primary_addon": seed_database(sandbox, app)["name"]}
        run_round(ansible, FLOW, hosts, seed, tmp_path, tally)

        state = sandbox_state(sandbox)
        for app, host in hosts.items():
            addons = postgres_addons(state, app)
            names = attached(state, app)
            primary = next(a for a in addons if a["name"] == host["primary_addon"])
            # Exactly the primary, one follower and one fork: nothing billed twice.
            assert len(addons) == 3, (app, [(a["name"], a["config"]) for a in addons])
            assert names["DATABASE"] == names["FOLLOWER"] != primary["id"], (app, names)
            promoted = next(a for a in addons if a["id"] == names["FOLLOWER"])
            assert promoted["db"]["leader_id"] is None
            fork = next(a for a in addons if a["id"] == names["FORK"])
            assert fork["id"] not in (primary["id"], promoted["id"])
            # One capture (max_age), one restore (once): never more, faults or not.
            assert len(transfers(state, primary["id"], "gof3r")) == 1, app
            restores = transfers(state, primary["id"], "pg_restore")
            assert len(restores) == 1 and restores[0]["succeeded"], (app, restores)
            assert sum(len(transfers(state, a["id"], "pg_restore")) for a in addons) == 1, app
    print("\n" + tally.line("fault soak, guide flow"))
    assert tally.runs == len(FLOW_SEEDS) * FLOW_APPS_PER_SEED


def test_roles_soak(ansible: Ansible, tmp_path: Path) -> None:
    sandbox = ansible.sandbox
    tally = Tally()
    seeded_backups: dict[str, list[int]] = {}
    for seed in ROLE_SEEDS:
        hosts: dict[str, dict[str, Any]] = {}
        app = f"bk-{seed}"
        seed_app(sandbox, app)
        primary = seed_database(sandbox, app)
        seeded_backups[app] = [capture(sandbox, app, primary["id"])["num"] for _backup in range(4)]
        hosts[app] = {"heroku_app": app, "soak_role": "backup_setup", "primary_addon": primary["name"]}

        app = f"fo-{seed}"
        seed_app(sandbox, app)
        primary = seed_database(sandbox, app)
        seed_database(sandbox, app, attachment="REPLICA", config={"follow": "DATABASE_URL"})
        hosts[app] = {"heroku_app": app, "soak_role": "failover", "primary_addon": primary["name"]}

        for method in ("restore", "fork"):
            source = f"prod-{method}-{seed}"
            seed_app(sandbox, source)
            capture(sandbox, source, seed_database(sandbox, source)["id"])
            app = f"rf-{method}-{seed}"
            seed_app(sandbox, app)
            primary = seed_database(sandbox, app)
            hosts[app] = {
                "heroku_app": app,
                "soak_role": "refresh",
                "soak_source_app": source,
                "soak_refresh_method": method,
                "primary_addon": primary["name"],
            }
        # A failover interrupted after its unfollow is finished by the documented rerun with
        # failover_resume: true (the final state below is checked as strictly as for the others).
        run_round(ansible, ROLES, hosts, seed, tmp_path, tally, rerun_vars={"soak_failover_resume": True})

        state = sandbox_state(sandbox)
        for app, host in hosts.items():
            addons = postgres_addons(state, app)
            names = attached(state, app)
            primary = next(a for a in addons if a["name"] == host["primary_addon"])
            role = host["soak_role"]
            if role == "backup_setup":
                assert len(addons) == 1, app
                backups = [t for t in transfers(state, primary["id"], "gof3r") if t["succeeded"]]
                # The four seeded ones (recent: max_age 1h captures nothing more); the policy keeps
                # the newest two manual backups and deletes the others.
                assert [t["num"] for t in backups] == seeded_backups[app], "backup_setup captured again"
                kept = [t["num"] for t in backups if t["deleted_at"] is None]
                assert kept == seeded_backups[app][-2:], (app, backups)
                assert sandbox_schedules(state, primary["id"]) == 1, app
            elif role == "failover":
                assert len(addons) == 2, (app, [a["name"] for a in addons])
                assert names["DATABASE"] == names["REPLICA"] != primary["id"], (app, names)
                promoted = next(a for a in addons if a["id"] == names["DATABASE"])
                assert promoted["db"]["leader_id"] is None
            elif host["soak_refresh_method"] == "restore":
                assert len(addons) == 1, app
                restores = transfers(state, primary["id"], "pg_restore")
                assert len(restores) == 1 and restores[0]["succeeded"], (app, restores)
            else:
                assert len(addons) == 2, (app, [a["name"] for a in addons])
                assert names["DATABASE"] == names["REFRESH"] != primary["id"], (app, names)
                assert all(not transfers(state, a["id"], "pg_restore") for a in addons), app
    print("\n" + tally.line("fault soak, roles"))
    assert tally.runs == len(ROLE_SEEDS) * 4


def sandbox_schedules(state: dict[str, Any], addon_id: str) -> int:
    return sum(1 for s in state["schedules"].values() if s["addon_id"] == addon_id)


# -- failures reported with their reason ----------------------------------------------------------


def test_provision_failure_is_reported(ansible: Ansible) -> None:
    sandbox = ansible.sandbox
    seed_app(sandbox, "provfail")
    primary = seed_database(sandbox, "provfail")
    sandbox.admin("POST", "faults", json={"kind": "provision_failure", "path": "provfail", "remaining": 1})
    run = ansible.module("heroku_pg_follower", "app=provfail name=FOLLOWER poll_interval=0.1")
    assert run.returncode != 0, run.output
    assert "provfail" in run.output and "injected provision_failure" in run.output, run.output
    assert "Traceback" not in run.output and "MODULE FAILURE" not in run.output, run.output
    # One add-on was created, and it is the one reported: nothing was retried into a second one.
    state = sandbox_state(sandbox)
    created = [a for a in postgres_addons(state, "provfail") if a["id"] != primary["id"]]
    assert len(created) == 1 and created[0]["name"] in run.output, (created, run.output)
    assert created[0]["state"] == "deprovisioned"


def test_transfer_failure_is_reported(ansible: Ansible) -> None:
    sandbox = ansible.sandbox
    seed_app(sandbox, "xferfail")
    primary = seed_database(sandbox, "xferfail")
    sandbox.admin("POST", "faults", json={"kind": "transfer_failure", "path": "/backups$", "remaining": 1})
    run = ansible.module("heroku_pg_backup", "app=xferfail poll_interval=0.1")
    assert run.returncode != 0, run.output
    assert "xferfail" in run.output and "injected transfer_failure" in run.output, run.output
    assert "b001" in run.output, run.output
    assert "Traceback" not in run.output and "MODULE FAILURE" not in run.output, run.output
    ansible.module("heroku_pg_backup", "app=xferfail poll_interval=0.1").assert_ok()
    backups = transfers(sandbox_state(sandbox), primary["id"], "gof3r")
    assert [(t["num"], t["succeeded"]) for t in backups] == [(1, False), (2, True)]


# -- an interrupted failover, deterministically ----------------------------------------------------


def failover_host(sandbox: RunningSandbox, app: str, **extra: Any) -> dict[str, Any]:
    seed_app(sandbox, app)
    primary = seed_database(sandbox, app)
    seed_database(sandbox, app, attachment="REPLICA", config={"follow": "DATABASE_URL"})
    return {"heroku_app": app, "soak_role": "failover", "primary_addon": primary["name"], **extra}


def test_failover_rerun_after_interrupted_promote(ansible: Ansible, tmp_path: Path) -> None:
    """The connection drops on the promote's attach (POST /addon-attachments), after its unfollow:
    the failure is reported clearly; a plain rerun refuses the unfollowed database (it could be any
    standalone database) and says how to finish, changing nothing; the rerun with
    failover_resume: true finishes the switch."""
    sandbox = ansible.sandbox
    hosts = {"fo-cut": failover_host(sandbox, "fo-cut")}
    inventory = write_inventory(tmp_path / "inventory.json", hosts)
    sandbox.admin("POST", "faults", json={"kind": "reset", "path": "^/addon-attachments$", "method": "POST",
                                          "remaining": 1})
    results = tmp_path / "results"
    results.mkdir()
    run = ansible.playbook(ROLES, "-i", str(inventory), extra_vars={"soak_results_dir": str(results)})
    assert run.returncode != 0, run.output[-4000:]
    failure = json.loads((results / "fo-cut.json").read_text())
    assert "Could not complete POST" in check_failure("fo-cut", hosts["fo-cut"], failure)

    before = sandbox_state(sandbox)
    names = attached(before, "fo-cut")
    assert names["DATABASE"] != names["REPLICA"], names  # the old primary is still the DATABASE
    refused = ansible.playbook(ROLES, "-i", str(inventory), extra_vars={"soak_results_dir": str(results)})
    assert refused.returncode != 0, refused.output[-4000:]
    msg = json.loads((results / "fo-cut.json").read_text())["result"]["msg"]
    assert "it is not a follower (it follows nothing)" in msg, msg
    assert (
        "If a previous failover of fo-cut was interrupted after REPLICA was unfollowed, "
        "run again with failover_resume: true to finish it." in msg
    ), msg
    after_refusal = sandbox_state(sandbox)
    assert after_refusal["attachments"] == before["attachments"]
    assert after_refusal["addons"] == before["addons"]

    resumed = {"soak_results_dir": str(results), "soak_failover_resume": True}
    ansible.playbook(ROLES, "-i", str(inventory), extra_vars=resumed).assert_ok()
    state = sandbox_state(sandbox)
    names = attached(state, "fo-cut")
    addons = postgres_addons(state, "fo-cut")
    assert names["DATABASE"] == names["REPLICA"], names
    assert len(addons) == 2
    promoted = next(a for a in addons if a["id"] == names["DATABASE"])
    assert promoted["db"]["leader_id"] is None
    # The old primary keeps an attachment (reachable), and a further rerun changes nothing.
    old = next(a for a in addons if a["name"] == hosts["fo-cut"]["primary_addon"])
    assert old["id"] in names.values(), names
    again = ansible.playbook(ROLES, "-i", str(inventory), extra_vars=resumed)
    again.assert_ok()
    assert re.search(r"fo-cut\s+:.*changed=0", again.output), again.output[-3000:]


# roles/failover's failover_http_retries default (heroku_app_maintenance's retries): a request is
# tried this many times in all.
MAINTENANCE_ATTEMPTS = 4


def test_failover_maintenance_failure_is_clear(ansible: Ansible, tmp_path: Path) -> None:
    """The connection drops on every attempt to turn maintenance mode on: the failure must say why."""
    sandbox = ansible.sandbox
    hosts = {"fo-maint": failover_host(sandbox, "fo-maint", soak_maintenance=True)}
    inventory = write_inventory(tmp_path / "inventory.json", hosts)
    sandbox.admin("POST", "faults", json={"kind": "reset", "path": "^/apps/fo-maint$", "method": "PATCH",
                                          "remaining": MAINTENANCE_ATTEMPTS})
    results = tmp_path / "results"
    results.mkdir()
    run = ansible.playbook(ROLES, "-i", str(inventory), extra_vars={"soak_results_dir": str(results)})
    assert run.returncode != 0, run.output[-4000:]
    failure = json.loads((results / "fo-maint.json").read_text())
    shown = [line for line in run.output.splitlines() if line.startswith("fatal: [fo-maint]")]
    print(f"\nmaintenance mode failure as recorded: {failure['task']}: {failure['result'].get('msg')}")
    print("as shown to the user:\n" + "\n".join(shown))
    # What the user sees (the first fatal line: the failed task itself) names the app and the reason.
    assert shown and "fo-maint" in shown[0] and "Connection reset" in shown[0], shown
    assert f"after {MAINTENANCE_ATTEMPTS} attempt(s)" in shown[0], shown
    assert "censored" not in shown[0] and sandbox.token not in run.output
    assert check_failure("fo-maint", hosts["fo-maint"], failure).startswith("Turn maintenance mode on: Could not complete PATCH")
    # The PATCH may have been applied: the role turned it off again (the failed task reports changed).
    assert '"changed": true' in shown[0]
    state = sandbox_state(sandbox)
    app = next(a for a in state["apps"].values() if a["name"] == "fo-maint")
    assert not app["maintenance"]
    names = attached(state, "fo-maint")
    assert names["DATABASE"] != names["REPLICA"], names  # nothing was promoted
    ansible.playbook(ROLES, "-i", str(inventory), extra_vars={"soak_results_dir": str(results)}).assert_ok()


def test_failover_maintenance_transient_failure_is_retried(ansible: Ansible, tmp_path: Path) -> None:
    """A dropped connection and a 503 on the maintenance mode requests are retried: the run succeeds,
    maintenance mode ends off, and a rerun reports nothing changed."""
    sandbox = ansible.sandbox
    hosts = {"fo-retry": failover_host(sandbox, "fo-retry", soak_maintenance=True)}
    inventory = write_inventory(tmp_path / "inventory.json", hosts)
    sandbox.admin("POST", "faults", json={"kind": "reset", "path": "^/apps/fo-retry$", "method": "PATCH",
                                          "remaining": 1})
    sandbox.admin("POST", "faults", json={"kind": "error", "status": 503, "path": "^/apps/fo-retry$",
                                          "method": "GET", "remaining": 1})
    results = tmp_path / "results"
    results.mkdir()
    run = ansible.playbook(ROLES, "-i", str(inventory), extra_vars={"soak_results_dir": str(results)})
    run.assert_ok()
    assert sandbox.admin("GET", "faults") == [] and sandbox.token not in run.output, run.output[-4000:]
    state = sandbox_state(sandbox)
    app = next(a for a in state["apps"].values() if a["name"] == "fo-retry")
    assert not app["maintenance"]
    names = attached(state, "fo-retry")
    assert names["DATABASE"] == names["REPLICA"], names
    again = ansible.playbook(ROLES, "-i", str(inventory), extra_vars={"soak_results_dir": str(results)})
    again.assert_ok()
    assert re.search(r"fo-retry\s+:.*changed=0", again.output), again.output[-3000:]
