"""The sandbox's files hold every database password, each cluster's superuser password, the API
token and whole database dumps: only their owner may read them. State, dumps, the token, the
signing secret and the server's own files are 0600; the state dir is 0700, or 0710 with the
`postgres` group when the postgres engine runs its servers as that user (it must enter the dir,
nobody else may)."""

from __future__ import annotations

import grp
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from herokupg_sandbox.pgengine import available
from herokupg_sandbox.pgengine.binaries import server_user
from herokupg_sandbox.threaded import (
    RunningSandbox,
    ThreadedSandbox,
    free_port,
    postgres_sandbox,
    seed_app,
    seed_database,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def exposed(state_dir: Path, skip: tuple[str, ...] = ()) -> list[str]:
    """Files and dirs below the state dir that a group or other user could read (clusters aside:
    their data dirs are PostgreSQL's own, 0700 at their root)."""
    found = []
    for path in state_dir.rglob("*"):
        if any(part in skip for part in path.relative_to(state_dir).parts):
            continue
        if mode(path) & 0o077:
            found.append(f"{oct(mode(path))} {path.relative_to(state_dir)}")
    return found


def capture_and_sign(sandbox: RunningSandbox) -> None:
    seed_app(sandbox, "shop")
    addon = seed_database(sandbox, "shop")
    with sandbox.http() as http:
        http.post(f"/client/v11/databases/{addon['id']}/backups").raise_for_status()
        for _attempt in range(600):
            [backup] = http.get("/client/v11/apps/shop/transfers").json()
            if backup["finished_at"]:
                assert backup["succeeded"], backup
                break
            time.sleep(0.05)
        http.post("/client/v11/apps/shop/transfers/1/actions/public-url").raise_for_status()


def test_memory_engine_files_are_private(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    with ThreadedSandbox(state_dir) as sandbox:
        capture_and_sign(sandbox)
        names = {p.name for p in state_dir.iterdir()}
        assert {"state.json", "token", "public_url_secret", "backups"} <= names
        assert [p.suffix for p in (state_dir / "backups").iterdir()] == [".dump"]
        assert mode(state_dir) == 0o700
        assert exposed(state_dir) == []


def test_a_state_dir_made_by_an_older_sandbox_is_tightened(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    with ThreadedSandbox(state_dir) as sandbox:
        capture_and_sign(sandbox)
    state_dir.chmod(0o755)
    for path in state_dir.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    with ThreadedSandbox(state_dir) as sandbox:
        with sandbox.http() as http:
            http.post("/apps", json={"name": "again"}).raise_for_status()  # saves the state
        assert mode(state_dir) == 0o700
        assert exposed(state_dir) == []


@pytest.mark.postgres
@pytest.mark.skipif(not available()[0], reason=f"postgres engine unavailable: {available()[1]}")
def test_postgres_engine_state_dir_lets_only_the_server_user_in() -> None:
    with postgres_sandbox("herokupg-modes-") as sandbox:
        capture_and_sign(sandbox)
        state_dir = sandbox.state_dir
        ids = server_user()
        if ids is None:  # not root: the servers run as we do
            assert mode(state_dir) == 0o700
        else:
            assert mode(state_dir) == 0o710
            assert state_dir.stat().st_gid == ids[1] == grp.getgrnam("postgres").gr_gid
        assert exposed(state_dir, skip=("clusters",)) == []
        clusters = list((state_dir / "clusters").iterdir())
        assert clusters and all(mode(cluster) == 0o700 for cluster in clusters)


def test_background_server_files_are_private(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    env = {**os.environ, "HEROKUPG_SANDBOX_DIR": str(state_dir), "HEROKUPG_SANDBOX_PORT": str(free_port()),
           "HOME": str(tmp_path)}

    def herokupg(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "herokupg.cli", "sandbox", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)

    started = herokupg("start", "--engine", "memory")
    try:
        assert started.returncode == 0, started.stderr
        names = {p.name for p in state_dir.iterdir()}
        assert {"server.json", "sandbox.pid", "sandbox.log", "token"} <= names
        assert mode(state_dir) == 0o700
        assert exposed(state_dir) == []
    finally:
        assert herokupg("stop").returncode == 0
