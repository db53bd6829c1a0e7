"""Every playbook of playbooks/ as a user runs it, in the guide's order on one app: `--check`, then for
real, then once more, which changes nothing (restore and promote say why). Real `ansible-playbook`
started from the checkout's root (its ansible.cfg finds the collection), against a sandbox whose
databases are real PostgreSQL servers; the sandbox's own state is compared around each check run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from harness import ROOT
from herokupg_sandbox.threaded import RunningSandbox, postgres_sandbox, seed_app, seed_database

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(900)]

PLAYBOOKS = ROOT / "playbooks"
APP = "guide-app"
# make demo's own playbooks: run end to end by tests/integration/test_demo.py. demo-setup.yml creates
# the app; demo.yml promotes its follower, after which its follower step fails by design on a rerun.
DEMO = {"demo.yml", "demo-setup.yml"}
# What the real run, then the rerun, of each playbook must say (a regular expression each).
GUIDE: list[tuple[str, dict[str, Any], str, str]] = [
    ("follower.yml", {}, r"Follower FOLLOWER \(postgresql-[a-z-]+\d+, heroku-postgresql:standard-0\) was created",
     r"Follower FOLLOWER \(postgresql-[a-z-]+\d+, [^)]+\) already existed"),
    ("fork.yml", {}, r"Fork FORK \(postgresql-[a-z-]+\d+, [^)]+\) was created from DATABASE",
     r"Fork FORK \(postgresql-[a-z-]+\d+, [^)]+\) already existed"),
    ("slow_queries.yml", {"slow_query_threshold_ms": 50}, r"No slow statements? in the logs",
     r"No slow statements? in the logs"),
    ("backups.yml", {"backup_dest_dir": "{work}"}, r"Backup b001 of DATABASE captured",
     r"Backup b001 of DATABASE reused"),
    ("restore.yml", {"confirm": APP}, r"Restored b001 of guide-app into DATABASE",
     r"already restored from b001 .*nothing to do"),
    ("promote.yml", {"promote_database": "FOLLOWER", "confirm": APP}, r"is now the primary",
     r"is already the primary \(DATABASE_URL\) of guide-app: nothing to do"),
]
WATCHED = ("apps", "addons", "attachments", "releases", "transfers", "schedules")


@dataclass
class Run:
    returncode: int
    output: str

    @property
    def changed(self) -> int:
        return sum(int(n) for n in re.findall(r"^localhost\s+: ok=\d+\s+changed=(\d+)", self.output, re.M))


def run_playbook(sandbox: RunningSandbox, home: Path, playbook: str, variables: dict[str, Any],
                 *args: str) -> Run:
    """`ansible-playbook playbooks/<name> -e app=... [-e k=v ...]` from the root, as the README shows."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEROKU_", "ANSIBLE_"))}
    env.update(HOME=str(home), HEROKU_API_URL=sandbox.url, HEROKU_API_KEY=sandbox.token, ANSIBLE_NOCOLOR="1")
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), f"playbooks/{playbook}", "-e", f"app={APP}"]
    for key, value in variables.items():
        cmd += ["-e", f"{key}={value}"]
    proc = subprocess.run([*cmd, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    return Run(proc.returncode, proc.stdout + proc.stderr)


def watched(sandbox: RunningSandbox) -> dict[str, Any]:
    state = sandbox.admin("GET", "state")
    return {key: state[key] for key in WATCHED}


@pytest.fixture(scope="module")
def guide_app() -> Iterator[RunningSandbox]:
    with postgres_sandbox("herokupg-playbooks-") as sandbox:
        seed_app(sandbox, APP)
        seed_database(sandbox, APP)
        yield sandbox


def test_every_playbook_is_run_here_or_by_the_demo() -> None:
    assert {p.name for p in PLAYBOOKS.glob("*.yml")} == {step[0] for step in GUIDE} | DEMO


@pytest.mark.parametrize(("playbook", "variables", "did", "again"), GUIDE, ids=[g[0] for g in GUIDE])
def test_check_real_rerun(guide_app: RunningSandbox, tmp_path: Path, playbook: str, variables: dict[str, Any],
                          did: str, again: str) -> None:
    """Each step runs on the app as the steps before it left it (a follower to promote, a backup to
    restore), as a user walking the guide would."""
    home = tmp_path / "home"
    home.mkdir()
    values = {k: str(v).format(work=tmp_path) for k, v in variables.items()}

    before = watched(guide_app)
    checked = run_playbook(guide_app, home, playbook, values, "--check")
    assert checked.returncode == 0, checked.output[-6000:]
    assert checked.changed >= 1, checked.output[-6000:]
    assert watched(guide_app) == before, f"--check changed the sandbox:\n{checked.output[-4000:]}"

    real = run_playbook(guide_app, home, playbook, values)
    assert real.returncode == 0 and real.changed >= 1, real.output[-6000:]
    assert re.search(did, real.output), real.output[-6000:]

    rerun = run_playbook(guide_app, home, playbook, values)
    assert rerun.returncode == 0 and rerun.changed == 0, rerun.output[-6000:]
    assert re.search(again, rerun.output), rerun.output[-6000:]
