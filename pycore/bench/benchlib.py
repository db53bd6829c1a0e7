"""Shared machinery of ops_bench.py: a request-counting sandbox, the Heroku CLI and Ansible runners.

Every figure of ops_bench.py comes from one threaded memory-engine sandbox wrapped by ``Counter``:
our modules and the official Heroku CLI talk to the same server and are counted by the same code
(server-side, one hit per HTTP request). The admin API (``/_sandbox/``) used to set things up is
not counted; log streams and signed backup URLs (``/_sandbox/public/``, Heroku's other hosts) are.
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from herokupg_sandbox.threaded import Counter, Hit, RunningSandbox
from herokupg_sandbox.threaded import counted_sandbox as sandbox_counting

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "support"))  # the tests' checkout and environment helpers
from checkout import collections_dir  # noqa: E402
from sandbox_env import ansible_env, heroku_cli_env  # noqa: E402

BENCH = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
DEFAULT_CLI = ROOT / ".cache" / "heroku-cli" / "node_modules" / ".bin" / "heroku"
PLAN = "heroku-postgresql:standard-0"


def compile_core() -> None:
    """Byte-compile herokupg, as installing its wheel with pip does.

    The checkout's herokupg is an editable install, and with PYTHONDONTWRITEBYTECODE set (it is,
    on this kind of machine) every module process would recompile each source file edited since
    its last .pyc: tens of milliseconds a task that no installed collection pays.
    """
    import herokupg

    compileall.compile_dir(Path(herokupg.__file__).parent, quiet=1)


@contextmanager
def counted_sandbox() -> Iterator[tuple[RunningSandbox, Counter]]:
    base = Path(tempfile.mkdtemp(prefix="herokupg-opsbench-"))
    try:
        with sandbox_counting(base / "sandbox") as counted:
            # The bench measures requests and time, not rate limiting: a bucket no run can empty
            # (the whole bench sends more than Heroku's 4500 within minutes).
            set_settings(counted[0], rate_limit_capacity=10**7)
            yield counted
    finally:
        shutil.rmtree(base, ignore_errors=True)


def set_settings(sb: RunningSandbox, **settings: Any) -> None:
    sb.admin("PATCH", "settings", json=settings)


def seed_app(sb: RunningSandbox, app: str, *, follower: str | None = None) -> dict[str, str]:
    """A fresh app with a provisioned primary (DATABASE) and, optionally, a named follower.
    Returns the add-on ids by attachment name."""
    ids: dict[str, str] = {}
    with sb.http() as http:
        http.post("/apps", json={"name": app}).raise_for_status()
        primary = http.post(f"/apps/{app}/addons", json={"plan": {"name": PLAN}}).json()
        ids["DATABASE"] = primary["id"]
        wait_ready(http, primary["id"])
        if follower:
            body = {"plan": {"name": PLAN}, "attachment": {"name": follower},
                    "config": {"follow": primary["id"]}}
            addon = http.post(f"/apps/{app}/addons", json=body).json()
            ids[follower] = addon["id"]
            wait_ready(http, addon["id"])
    return ids


def wait_ready(http: Any, addon_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while http.get(f"/client/v11/databases/{addon_id}/wait_status").json().get("waiting?", True):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{addon_id} was not provisioned in time")
        time.sleep(0.02)


def addon_state(sb: RunningSandbox, addon_id: str) -> dict[str, Any]:
    addon: dict[str, Any] = sb.admin("GET", "state")["addons"][addon_id]
    return addon


def addon_ids(sb: RunningSandbox, app: str) -> dict[str, str]:
    """Attachment name -> add-on id for ``app``."""
    state = sb.admin("GET", "state")
    app_id = next(a["id"] for a in state["apps"].values() if a["name"] == app)
    return {a["name"]: a["addon_id"] for a in state["attachments"].values() if a["app_id"] == app_id}


# -- running things --------------------------------------------------------------------------------
@dataclass
class Run:
    what: str
    returncode: int
    seconds: float
    requests: int
    output: str
    hits: list[Hit]
    started: float  # time.time()
    ended: float

    def check(self) -> Run:
        if self.returncode != 0:
            raise RuntimeError(f"{self.what} failed (exit {self.returncode}):\n{self.output[-4000:]}")
        return self


class Runner:
    """Runs the Heroku CLI, ad-hoc Ansible modules and playbooks against one counted sandbox."""

    def __init__(self, sb: RunningSandbox, counter: Counter, cli: Path, workdir: Path) -> None:
        self.sb = sb
        self.counter = counter
        self.cli = cli
        self.workdir = workdir
        self.home = workdir / "home"
        self.verbose = False
        (self.home / "tmp").mkdir(parents=True, exist_ok=True)

    def cli_env(self) -> dict[str, str]:
        return heroku_cli_env(self.sb, self.cli, self.home)

    def ansible_env(self, **extra: str) -> dict[str, str]:
        env = ansible_env(self.sb, self.home, collections_path())
        env.update(extra)
        return env

    def _run(self, what: str, cmd: Sequence[str], env: dict[str, str], timeout: float = 600) -> Run:
        mark = self.counter.mark()
        started = time.time()
        start = time.monotonic()
        done = subprocess.run(list(cmd), env=env, cwd=self.home, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout, check=False)
        seconds = time.monotonic() - start
        ended = time.time()
        time.sleep(0.05)  # let the server's last response finish being recorded
        hits = self.counter.since(mark)
        output = (done.stdout + done.stderr).replace(self.sb.token, "<token>")
        if self.verbose:
            print(f"  [{len(hits):>2} req {seconds:5.2f}s] {what}", file=sys.stderr)
            for hit in hits:
                print(f"      {hit.method} {hit.path} -> {hit.status}", file=sys.stderr)
        return Run(what, done.returncode, seconds, len(hits), output, hits, started, ended)

    def heroku(self, *args: str) -> Run:
        return self._run("heroku " + " ".join(args), [str(self.cli), *args], self.cli_env())

    def module(self, name: str, args: dict[str, Any]) -> Run:
        """``ansible localhost -m herokuops.postgres.<name> -a <json args>``."""
        cmd = [str(VENV_BIN / "ansible"), "localhost", "-i", "localhost,", "-c", "local",
               "-m", f"herokuops.postgres.{name}", "-a", json.dumps(args)]
        return self._run(f"{name} {json.dumps(args)}", cmd, self.ansible_env())

    def playbook(self, path: Path, variables: dict[str, Any], times: Path | None = None) -> Run:
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", json.dumps(variables), str(path)]
        extra: dict[str, str] = {}
        if times is not None:
            extra = {"ANSIBLE_CALLBACK_PLUGINS": str(BENCH / "callbacks"),
                     "ANSIBLE_CALLBACKS_ENABLED": "task_times", "BENCH_TASK_TIMES": str(times)}
        return self._run(f"ansible-playbook {path.name}", cmd, self.ansible_env(**extra))


def collections_path() -> Path:
    """A collections dir where herokuops.postgres is this checkout (the checkout's collections/)."""
    configured = os.environ.get("ANSIBLE_COLLECTIONS_PATH")
    if configured:
        return Path(configured.split(os.pathsep)[0])
    return collections_dir(ROOT)


def heroku_cli() -> Path:
    path = Path(os.environ.get("HEROKU_CLI") or DEFAULT_CLI)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise SystemExit(f"the Heroku CLI is not installed at {path}: run `make heroku-cli`")
    return path


# -- tables ------------------------------------------------------------------------------------
def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table: numeric columns right-aligned, the others left-aligned."""
    cells = [[str(h) for h in headers], *[[_cell(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    numeric = [all(_numeric(r[i]) for r in cells[1:]) for i in range(len(headers))]

    def line(r: Sequence[str]) -> str:
        return "  ".join(c.rjust(widths[i]) if numeric[i] else c.ljust(widths[i])
                         for i, c in enumerate(r)).rstrip()

    out = [f"## {title}", "", line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out) + "\n"


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text == ""
    return True


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} CPUs)"
