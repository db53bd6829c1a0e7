"""Running the sandbox as a process: foreground ``serve``, background ``start``/``stop``/``status``.

The state dir remembers what a server was started with (``server.json``: port, engine) and who
runs it (``sandbox.pid``), so later commands find it without repeating options. The token stays
in the state dir's ``token`` file and never goes on a command line or into logs. Every file here is
0600 and the dir 0700 (private.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from herokupg_sandbox.private import open_private, private_dir, write_private

HOST = "127.0.0.1"
DEFAULT_PORT = 5599
DEFAULT_ENGINE = "memory"
SERVER_FILE = "server.json"
PID_FILE = "sandbox.pid"
LOG_FILE = "sandbox.log"


def default_state_dir(env: Mapping[str, str] = os.environ) -> Path:
    configured = env.get("HEROKUPG_SANDBOX_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path(env.get("HOME", str(Path.home()))) / ".local" / "state" / "herokupg" / "sandbox"


@dataclass
class Remembered:
    port: int | None = None
    engine: str | None = None


def remembered(state_dir: Path) -> Remembered:
    try:
        raw = json.loads((state_dir / SERVER_FILE).read_text())
    except (OSError, ValueError):
        return Remembered()
    port, engine = raw.get("port"), raw.get("engine")
    return Remembered(port if isinstance(port, int) else None, engine if isinstance(engine, str) else None)


def remember(state_dir: Path, port: int, engine: str) -> None:
    if not state_dir.is_dir():
        private_dir(state_dir)
    write_private(state_dir / SERVER_FILE, json.dumps({"port": port, "engine": engine}) + "\n")


def port_for_start(explicit: int | None, state_dir: Path, env: Mapping[str, str] = os.environ) -> int:
    """--port, else $HEROKUPG_SANDBOX_PORT, else the remembered port, else 5599."""
    if explicit is not None:
        return explicit
    if env.get("HEROKUPG_SANDBOX_PORT"):
        return int(env["HEROKUPG_SANDBOX_PORT"])
    return remembered(state_dir).port or DEFAULT_PORT


def port_for_existing(explicit: int | None, state_dir: Path, env: Mapping[str, str] = os.environ) -> int:
    """For env/status/stop: --port, else the port the server was started with, else the default."""
    if explicit is not None:
        return explicit
    port = remembered(state_dir).port
    if port is not None:
        return port
    return int(env.get("HEROKUPG_SANDBOX_PORT") or DEFAULT_PORT)


def base_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def heroku_cli_exports(url: str, token: str) -> dict[str, str]:
    """The variables that point the Heroku CLI (and herokupg) at the sandbox at ``url``."""
    return {
        "HEROKU_API_URL": url,
        "HEROKU_API_KEY": token,
        "HEROKU_HOST": url,
        "HEROKU_DATA_HOST": HOST,  # a hostname only: the CLI keeps HEROKU_HOST's port and protocol
        "HEROKU_PARTICLEBOARD_URL": url,
        "DISABLE_TELEMETRY": "true",  # the Heroku CLI would otherwise post telemetry to heroku.com
        "HEROKU_SKIP_ANALYTICS": "1",  # and Herokulytics events
        "HEROKU_DISABLE_AUTOUPDATE": "1",  # and spawn a background `heroku update` that outlives it
    }


def healthy(port: int, timeout: float = 1.0) -> bool:
    import httpx  # here: `herokupg-sandbox --help` and `status` of a stopped sandbox do without it

    try:
        response = httpx.get(f"{base_url(port)}/_sandbox/public/health", timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def read_pid(state_dir: Path) -> int | None:
    try:
        return int((state_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _is_sandbox_process(pid)


def _is_sandbox_process(pid: int) -> bool:
    """Guard against a recycled pid: on Linux, the command line must be a sandbox server's."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():
        return True
    try:
        args = cmdline.read_bytes().split(b"\0")
    except OSError:
        return True
    if b"serve" not in args:
        return False
    return any(b"herokupg" in arg for arg in args) or b"sandbox" in args


def write_pid(state_dir: Path) -> None:
    write_private(state_dir / PID_FILE, f"{os.getpid()}\n")


def clear_pid(state_dir: Path, pid: int | None = None) -> None:
    """Remove the pid file if it is ours (or, with ``pid``, that process's)."""
    path = state_dir / PID_FILE
    if read_pid(state_dir) == (pid or os.getpid()):
        path.unlink(missing_ok=True)


@dataclass
class Status:
    running: bool
    pid: int | None
    port: int
    engine: str | None

    @property
    def url(self) -> str:
        return base_url(self.port)


def status(state_dir: Path, port: int) -> Status:
    pid = read_pid(state_dir)
    running = pid is not None and alive(pid) and healthy(port)
    return Status(running, pid if running else None, port, remembered(state_dir).engine)


class StartError(Exception):
    pass


def start(state_dir: Path, port: int, engine: str, timeout: float = 20.0) -> Status:
    """Launch ``herokupg-sandbox serve`` detached and wait until it answers."""
    current = status(state_dir, port)
    if current.running:
        return current
    if not state_dir.is_dir():
        private_dir(state_dir)
    log = os.fdopen(open_private(state_dir / LOG_FILE, os.O_WRONLY | os.O_APPEND), "ab")
    command = [
        sys.executable, "-m", "herokupg_sandbox", "serve",
        "--port", str(port), "--state-dir", str(state_dir), "--engine", engine,
    ]
    with log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartError(f"the sandbox exited with status {process.returncode}:\n{_log_tail(state_dir)}")
        if read_pid(state_dir) == process.pid and healthy(port, timeout=0.5):
            return Status(True, process.pid, port, engine)
        time.sleep(0.05)
    _terminate(process.pid, 5.0)
    raise StartError(
        f"the sandbox did not answer on {base_url(port)} within {timeout:g} s:\n{_log_tail(state_dir)}"
    )


def stop(state_dir: Path, timeout: float = 15.0) -> bool:
    """Terminate the recorded server; True if one was running."""
    pid = read_pid(state_dir)
    if pid is None or not alive(pid):
        (state_dir / PID_FILE).unlink(missing_ok=True)
        return False
    _terminate(pid, timeout)
    clear_pid(state_dir, pid)
    return True


def _terminate(pid: int, timeout: float) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _exists(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    while _exists(pid):
        time.sleep(0.05)


def _exists(pid: int) -> bool:
    try:
        # Reap it if it is our child (start() timing out), else just probe.
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _log_tail(state_dir: Path, lines: int = 20) -> str:
    try:
        text = (state_dir / LOG_FILE).read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])
