"""Run each role's molecule scenario (create, prepare, check, converge, idempotence, verify, destroy).

Every scenario starts its own sandbox on a free port with a temporary state directory and stops
it in its destroy step, which molecule also runs after a failed step. If molecule itself is
killed (the time limit below), `molecule destroy` is run here so no sandbox is left behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from harness import ROOT, collections_path

ROLES = ["backup_setup", "failover", "refresh"]
TIME_LIMIT = 600  # seconds per scenario; ~1 minute on an idle machine
BIN = Path(sys.executable).parent


def molecule_env(ephemeral: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEROKU_", "ANSIBLE_", "MOLECULE_"))}
    env.update(
        # molecule names its scenario directory after the role's directory name only, so checkouts
        # running the same role at once would share ~/.ansible/tmp/molecule.<hash>.default.
        MOLECULE_EPHEMERAL_DIRECTORY=str(ephemeral),
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",  # molecule calls ansible-config, ansible-playbook
        ANSIBLE_COLLECTIONS_PATH=str(collections_path()),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        NO_COLOR="1",
        PY_COLORS="0",
    )
    return env


def run(role: str, *args: str, timeout: float, ephemeral: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(  # a new session, so a timeout kills ansible-playbook too
        [str(BIN / "molecule"), *args], cwd=ROOT / "roles" / role, env=molecule_env(ephemeral),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        out, _stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        out, _stderr = proc.communicate()
        return subprocess.CompletedProcess(proc.args, -1, f"{out}\n*** timed out after {timeout} s")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out)


@pytest.mark.timeout(TIME_LIMIT + 180)
@pytest.mark.parametrize("role", ROLES)
def test_molecule_default_scenario(role: str, tmp_path: Path) -> None:
    if not (BIN / "molecule").exists() or shutil.which("ansible-config", path=str(BIN)) is None:
        pytest.fail("molecule is not installed in this virtualenv: add molecule to tests/requirements.txt")
    ephemeral = tmp_path / "molecule"
    result = run(role, "test", "-s", "default", timeout=TIME_LIMIT, ephemeral=ephemeral)
    if result.returncode != 0:  # destroy is idempotent; it stops a left-over sandbox
        cleanup = run(role, "destroy", "-s", "default", timeout=120, ephemeral=ephemeral)
        pytest.fail(
            f"molecule test of roles/{role} failed (exit {result.returncode}):\n{result.stdout[-8000:]}\n"
            f"--- molecule destroy (exit {cleanup.returncode}) ---\n{cleanup.stdout[-2000:]}"
        )
    for step in ("create", "prepare", "check", "converge", "idempotence", "verify", "destroy"):
        assert f"{step}: Executed: Successful" in result.stdout, f"{step} did not run:\n{result.stdout[-4000:]}"
