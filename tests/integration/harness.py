"""Run real `ansible-playbook` against a sandbox served in a thread (fixtures: conftest.py).

The playbooks these tests run live in playbooks/. Each module's own scenario (check mode, real,
rerun, bad input, the sandbox's state read back) is an ansible-test target in targets/, run by
`make ansible-integration`, not by pytest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checkout import collections_dir
from herokupg_sandbox.threaded import RunningSandbox
from sandbox_env import ansible_env

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
# Heroku never answers at once: add-ons provision, backups and restores run. The suite's sandboxes
# take seconds too (not minutes), so every module meets its waits; a test may set its own. The
# same variables as the molecule scenarios' change them (0 for the old instant sandbox).
REALISTIC_DELAYS = {
    "provision_delay": float(os.environ.get("HEROKUPG_SANDBOX_PROVISION_DELAY", "2")),
    "transfer_delay": float(os.environ.get("HEROKUPG_SANDBOX_TRANSFER_DELAY", "2")),
}


def collections_path() -> Path:
    """A collections dir where herokuops.postgres is this checkout."""
    return collections_dir(ROOT)


@dataclass
class PlaybookRun:
    returncode: int
    output: str

    def assert_ok(self) -> None:
        assert self.returncode == 0, self.output[-6000:]


@dataclass
class Ansible:
    sandbox: RunningSandbox
    workdir: Path

    def env(self) -> dict[str, str]:
        return ansible_env(self.sandbox, self.workdir, collections_path())

    def playbook(self, path: Path | str, *args: str, extra_vars: dict[str, Any] | None = None) -> PlaybookRun:
        playbook = PLAYBOOKS / path if not Path(path).is_absolute() else Path(path)
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local"]
        variables = {"sandbox_url": self.sandbox.url, **(extra_vars or {})}
        cmd += ["-e", json.dumps(variables), *args, str(playbook)]
        proc = subprocess.run(
            cmd, env=self.env(), cwd=self.workdir, capture_output=True, text=True, timeout=900, check=False
        )
        return PlaybookRun(proc.returncode, proc.stdout + proc.stderr)

    def module(self, name: str, args: str, *extra: str) -> PlaybookRun:
        """An ad-hoc `ansible localhost -m herokuops.postgres.<name> -a ...` call."""
        cmd = [str(Path(sys.executable).parent / "ansible"), "localhost", "-i", "localhost,", "-c", "local"]
        cmd += ["-m", f"herokuops.postgres.{name}", "-a", args, *extra]
        proc = subprocess.run(
            cmd, env=self.env(), cwd=self.workdir, capture_output=True, text=True, timeout=600, check=False
        )
        return PlaybookRun(proc.returncode, proc.stdout + proc.stderr)


def sandbox_state(sandbox: RunningSandbox) -> dict[str, Any]:
    state: dict[str, Any] = sandbox.admin("GET", "state")
    return state


def settled(sandbox: RunningSandbox, timeout: float = 60) -> dict[str, Any]:
    """The sandbox's state once nothing is provisioning or running any more (with delays on, what a
    test set up a moment ago may still be): a "before" to compare an "after" with."""
    deadline = time.monotonic() + timeout
    while True:
        state = sandbox_state(sandbox)
        busy = [a["name"] for a in state["addons"].values() if a["state"] == "provisioning"]
        busy += [str(t["num"]) for t in state["transfers"].values() if t["finished_at"] is None]
        if not busy:
            return state
        assert time.monotonic() < deadline, f"still busy after {timeout} s: {busy}"
        time.sleep(0.2)


def run_tool(cmd: list[str], *, cwd: Path | None = None, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Run a packaging/docs tool outside any ANSIBLE_* or PYTHONPATH setting of the test run; it must
    succeed (the assertion shows the end of its output)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_") and k != "PYTHONPATH"}
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, f"{' '.join(cmd)} -> {proc.returncode}\n{proc.stdout[-6000:]}\n{proc.stderr[-4000:]}"
    return proc
