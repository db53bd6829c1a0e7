"""`make demo` end to end: playbooks/run-demo.sh (what `make demo` runs) against a fresh sandbox
on the postgres engine, in a state dir of its own. Checks that it succeeds, that its account shows
every step's checked outcome, that no database password reaches the output and that no process is
left behind."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import ROOT, collections_path
from herokupg_sandbox.pgengine import available

pytestmark = pytest.mark.skipif(not available()[0], reason=f"postgres engine unavailable: {available()[1]}")

KEY_LINES = [
    "Set-up: app herokupg-demo with primary",
    "written on the primary was read back from the follower after",
    "The follower refuses writes: ERROR:  cannot execute INSERT in a read-only transaction",
    "FORK sees FORK: 1 row; FORK sees DATABASE: 0 rows; DATABASE sees FORK: 0 rows",
    'The report found the 5 sleeps as one fingerprint "select pg_sleep(?)": 5 runs',
    "Backup b001 is listed, scheduled backups run at 02:00 America/New_York",
    "the primary is as backed up again: 1000 customers, 5000",
    "DATABASE_URL now points at the former follower",
    "The demo walked the whole guide: every check passed.",
    "demo: every step passed in",
    "demo: sandbox stopped",
]


def processes(path: Path) -> list[str]:
    done = subprocess.run(["pgrep", "-a", "-f", str(path)], capture_output=True, text=True, check=False)
    return [line for line in done.stdout.splitlines() if "pgrep" not in line]


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # The servers run as `postgres` when we are root: not under pytest's 0700 tmp dirs.
    path = Path(tempfile.mkdtemp(prefix="herokupg-demo-", dir="/var/tmp"))
    path.chmod(0o755)
    yield path / "demo"
    shutil.rmtree(path, ignore_errors=True)


def test_make_demo_walks_the_guide_and_checks_every_step(state_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEROKU_", "ANSIBLE_"))}
    env.update(
        VENV=str(Path(sys.executable).parent.parent),
        DEMO_STATE_DIR=str(state_dir),
        ANSIBLE_COLLECTIONS_PATH=str(collections_path()),
    )
    done = subprocess.run(
        [str(ROOT / "playbooks" / "run-demo.sh")], env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=1800, check=False,
    )
    output = done.stdout + done.stderr
    try:
        assert done.returncode == 0, output[-8000:]
        # The playbook output folds long messages: compare with whitespace collapsed.
        flat = " ".join(output.split())
        missing = [line for line in KEY_LINES if " ".join(line.split()) not in flat]
        assert not missing, f"missing {missing} in:\n{output[-8000:]}"
        assert "failed=0" in output and "FAILED!" not in output

        state = json.loads((state_dir / "state.json").read_text())
        passwords = [a["db"]["password"] for a in state["addons"].values() if a.get("db")]
        assert len(passwords) >= 3  # primary, follower, fork
        assert not [p for p in passwords if p in output]
        assert state["apps"], "the demo app is in the sandbox's state"
    finally:
        assert processes(state_dir) == []
