"""`herokupg sandbox serve|start|status|env|stop` as a user runs them, in subprocesses."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from herokupg_sandbox.threaded import free_port
from sandbox_helpers import not_installed


def herokupg(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "herokupg.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    environment = {
        **os.environ,
        "HEROKUPG_SANDBOX_DIR": str(tmp_path / "state"),
        "HEROKUPG_SANDBOX_PORT": str(free_port()),
        "HOME": str(tmp_path),
    }
    yield environment
    herokupg("sandbox", "stop", env=environment)  # never leave a server behind


def parse_exports(text: str) -> dict[str, str]:
    exports = {}
    for line in text.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        exports[name] = shlex.split(value)[0]
    return exports


def test_start_status_env_stop(env: dict[str, str], tmp_path: Path) -> None:
    port = env["HEROKUPG_SANDBOX_PORT"]
    assert herokupg("sandbox", "status", env=env).returncode == 3

    started = herokupg("sandbox", "start", env=env)
    assert started.returncode == 0, started.stderr
    assert f"http://127.0.0.1:{port}" in started.stdout
    pid = int((tmp_path / "state" / "sandbox.pid").read_text())

    status = herokupg("sandbox", "status", env=env)
    assert status.returncode == 0 and "running" in status.stdout and str(pid) in status.stdout
    again = herokupg("sandbox", "start", env=env)
    assert again.returncode == 0 and "already running" in again.stdout

    # env finds the remembered port even without $HEROKUPG_SANDBOX_PORT, and the key works
    no_port_env = {k: v for k, v in env.items() if k != "HEROKUPG_SANDBOX_PORT"}
    exports = parse_exports(herokupg("sandbox", "env", env=no_port_env).stdout)
    assert exports["HEROKU_HOST"] == exports["HEROKU_API_URL"] == f"http://127.0.0.1:{port}"
    assert exports["HEROKU_DATA_HOST"] == "127.0.0.1"
    assert exports["HEROKU_PARTICLEBOARD_URL"] == exports["HEROKU_HOST"]
    token = exports["HEROKU_API_KEY"]
    response = httpx.get(f"{exports['HEROKU_HOST']}/account", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert token not in (tmp_path / "state" / "sandbox.log").read_text()
    assert token not in started.stdout + status.stdout

    stopped = herokupg("sandbox", "stop", env=no_port_env)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not (tmp_path / "state" / "sandbox.pid").exists()
    assert herokupg("sandbox", "status", env=env).returncode == 3
    assert "not running" in herokupg("sandbox", "stop", env=env).stdout


def test_serve_foreground_prints_engine_and_url_but_not_the_token(
    env: dict[str, str], tmp_path: Path
) -> None:
    port = env["HEROKUPG_SANDBOX_PORT"]
    process = subprocess.Popen(
        [sys.executable, "-m", "herokupg.cli", "sandbox", "serve", "--token", "secret-token-xyz-123"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "memory" in first and f"http://127.0.0.1:{port}" in first
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/apps", headers={"Authorization": "Bearer secret-token-xyz-123"}
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert response.status_code == 200
        assert herokupg("sandbox", "status", env=env).returncode == 0
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "secret-token-xyz-123" not in first + output
    assert not (tmp_path / "state" / "sandbox.pid").exists()


def test_unknown_engine_is_a_usage_error(env: dict[str, str]) -> None:
    result = herokupg("sandbox", "serve", "--engine", "quantum", env=env)
    assert result.returncode == 2 and "quantum" in result.stderr


def test_version() -> None:
    from herokupg import __version__

    done = subprocess.run([sys.executable, "-m", "herokupg.cli", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"herokupg {__version__}"


def test_help_tells_the_engine_default(env: dict[str, str]) -> None:
    text = " ".join(herokupg("sandbox", "start", "--help", env=env).stdout.split())
    assert "else postgres when PostgreSQL server binaries can run here, else memory" in text


@pytest.mark.parametrize("on_path", [False, True])
def test_start_hint_is_a_command_that_runs(env: dict[str, str], on_path: bool) -> None:
    """After `make venv` .venv/bin is not on PATH: the hint then names the script by its path."""
    script = Path(sys.executable).parent / "herokupg"
    others = [d for d in env["PATH"].split(os.pathsep) if Path(d).resolve() != script.parent.resolve()]
    path = os.pathsep.join([str(script.parent), *others] if on_path else others)
    shell_env = {**env, "PATH": path}
    started = subprocess.run([str(script), "sandbox", "start", "--engine", "memory"], env=shell_env,
                             capture_output=True, text=True, timeout=60)
    assert started.returncode == 0, started.stderr
    hint = started.stdout.split("Point the Heroku CLI at it with: ", 1)[1].strip()
    assert hint.startswith('eval "$(herokupg ' if on_path else f'eval "$({script} ')
    shown = subprocess.run(["bash", "-c", f"{hint} && echo $HEROKU_API_URL"], env=shell_env,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and shown.stdout.strip() == f"http://127.0.0.1:{env['HEROKUPG_SANDBOX_PORT']}"


# The real `herokupg` console script, in a Python where herokupg_sandbox cannot be imported (as when
# only the herokupg wheel is installed).
WITHOUT_SANDBOX = not_installed("herokupg_sandbox") + """
import runpy
script = sys.argv.pop(1)
sys.argv[0] = script
runpy.run_path(script, run_name="__main__")
"""


@pytest.mark.parametrize("command", ["start", "serve", "env", "status", "stop"])
def test_without_the_sandbox_distribution_says_what_to_install(env: dict[str, str], command: str) -> None:
    script = Path(sys.executable).parent / "herokupg"
    done = subprocess.run([sys.executable, "-c", WITHOUT_SANDBOX, str(script), "sandbox", command], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "the sandbox is not installed" in done.stderr and "herokupg-sandbox" in done.stderr
    assert "pip install -e pycore/sandbox" in done.stderr, done.stderr
    assert "dist/herokupg_sandbox-<version>-py3-none-any.whl" in done.stderr, done.stderr
    assert done.stdout == ""


def test_without_the_sandbox_distribution_other_commands_run(env: dict[str, str]) -> None:
    script = Path(sys.executable).parent / "herokupg"
    done = subprocess.run([sys.executable, "-c", WITHOUT_SANDBOX, str(script), "slow-queries", "--help"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "slow-queries" in done.stdout


# Which modules a `herokupg` run loaded, printed when it exits.
LOADED = """
import atexit, runpy, sys
atexit.register(lambda: print("LOADED", *sorted(m for m in sys.modules if m.startswith("herokupg"))))
script = sys.argv.pop(1)
sys.argv[0] = script
runpy.run_path(script, run_name="__main__")
"""


NOT_SANDBOX = [["--help"], ["slow-queries", "--help"], ["outliers", "--help"], ["--version"]]


@pytest.mark.parametrize("args", NOT_SANDBOX)
def test_commands_that_are_not_the_sandbox_do_not_load_it(env: dict[str, str], args: list[str]) -> None:
    script = Path(sys.executable).parent / "herokupg"
    done = subprocess.run([sys.executable, "-c", LOADED, str(script), *args], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.rsplit("LOADED", 1)[1].split()
    assert "herokupg.cli" in loaded
    assert not [m for m in loaded if m.startswith("herokupg_sandbox")], loaded


def test_help_lists_the_sandbox_command(env: dict[str, str]) -> None:
    done = herokupg("--help", env=env)
    assert done.returncode == 0 and "sandbox" in done.stdout and "herokupg-sandbox" in done.stdout


def test_herokupg_sandbox_is_its_own_command(env: dict[str, str], tmp_path: Path) -> None:
    """The sandbox distribution's console script, without herokupg on the way."""
    script = Path(sys.executable).parent / "herokupg-sandbox"
    started = subprocess.run([str(script), "start", "--engine", "memory"], env=env, capture_output=True,
                             text=True, timeout=60)
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith("herokupg-sandbox running at http://127.0.0.1:"), started.stdout
    assert f"{script} env --state-dir" in started.stdout or 'eval "$(herokupg-sandbox env' in started.stdout
    status = subprocess.run([str(script), "status"], env=env, capture_output=True, text=True, timeout=60)
    assert status.returncode == 0 and "running" in status.stdout
    # the same server, seen through herokupg
    assert herokupg("sandbox", "status", env=env).returncode == 0
    pid = int((tmp_path / "state" / "sandbox.pid").read_text())
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert b"herokupg_sandbox" in cmdline and b"herokupg.cli" not in cmdline, cmdline
    stopped = subprocess.run([str(script), "stop"], env=env, capture_output=True, text=True, timeout=60)
    assert stopped.returncode == 0 and stopped.stdout.strip() == "herokupg-sandbox stopped"
