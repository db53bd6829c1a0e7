"""Every command README.md shows works as written after its set-up step.

The README's fenced `sh` blocks run in order in one bash session started at the checkout's root,
after `. .venv/bin/activate` (its set-up step; `make venv` has run before any test), against the
sandbox `herokupg sandbox start` starts - the postgres engine, as on any machine with PostgreSQL
server binaries - with a private HOME and a free port ($HEROKUPG_SANDBOX_PORT: the commands stay
as written). The official Heroku CLI is on PATH, as the README assumes where it uses it. Each
`yaml` block (a play, or tasks to run on localhost) runs with ansible-playbook at its place in the
README. The Installing block runs as on a controller: in a fresh virtualenv first on PATH.

A command that is not run here must be listed in ELSEWHERE with what runs it instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from harness import ROOT
from herokupg_sandbox.pgengine import available
from herokupg_sandbox.threaded import free_port, postgres_processes

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not available()[0], reason=f"postgres engine unavailable: {available()[1]}"),
    pytest.mark.timeout(1200),
]

README = ROOT / "README.md"
ELSEWHERE = {
    "make venv": "the set-up step: make test runs it before any test, and this test runs in that venv",
    "make demo": "tests/integration/test_demo.py",
    "make test": "the suite this test belongs to",
    "make test-matrix": "run by hand (20-30 min); the README's support table gives its last result",
    "HEROKU_API_KEY=... make": "make test-live talks to a real Heroku account (none here); "
    "tests/integration/test_live_suite.py runs the same live suite against a sandbox",
    "herokupg outliers": "pycore/tests/test_outliers.py: the sandbox's app user cannot create pg_stat_statements, "
    "so those tests create it as the cluster's superuser first",
}
INSTALL_MARK = "pip install dist/"  # the Installing block: on a controller, not in the dev venv
BLOCK = re.compile(r"^```(sh|yaml)\n(.*?)^```\n", re.M | re.S)


@dataclass
class Block:
    kind: str
    text: str

    def commands(self) -> list[str]:
        """Shell commands, continuation lines joined, comments kept (they are part of the line)."""
        joined = re.sub(r"\\\n\s*", " ", self.text)
        return [line for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def blocks() -> list[Block]:
    return [Block(kind, text) for kind, text in BLOCK.findall(README.read_text())]


def first_word_pair(command: str) -> str:
    return " ".join(command.split("#", 1)[0].split()[:2])


def test_every_shown_command_is_run_here_or_elsewhere() -> None:
    shell = [b for b in blocks() if b.kind == "sh"]
    assert shell, "no sh block in README.md"
    skipped = {first_word_pair(c) for b in shell for c in b.commands() if first_word_pair(c) in ELSEWHERE}
    assert skipped == set(ELSEWHERE), f"ELSEWHERE lists commands the README no longer shows: {skipped}"


def playbook_text(block: Block) -> str:
    """A yaml block as a playbook: plays as they are, a list of tasks in a play on localhost."""
    data = yaml.safe_load(block.text)
    if isinstance(data, list) and data and all("hosts" in item for item in data):
        return block.text
    play = [{"name": "README example", "hosts": "localhost", "gather_facts": False, "tasks": data}]
    return yaml.safe_dump(play, sort_keys=False)


def script(home: Path, controller: Path) -> str:
    """The README as one bash script: each command echoed before it runs, stopping at the first failure."""
    lines = ["set -eo pipefail", "cd " + str(ROOT), ". .venv/bin/activate"]
    for n, block in enumerate(blocks()):
        if block.kind == "yaml":
            path = home / f"readme-example-{n}.yml"
            path.write_text(playbook_text(block))
            lines += [f"echo '### README example {n}'", f"ansible-playbook {path}"]
            continue
        runnable = [c for c in block.commands() if first_word_pair(c) not in ELSEWHERE]
        if not runnable:
            continue
        body = [f"echo {shlex_quote('$ ' + c)}\n{c}" for c in runnable]
        if any(INSTALL_MARK in c for c in runnable):
            body = [f'export PATH="{controller}/bin:$PATH"', *body]
            lines.append("(\n" + "\n".join(body) + "\n)")
        else:
            lines += body
    return "\n".join(lines) + "\n"


def shlex_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


@pytest.fixture
def home() -> Iterator[Path]:
    """A private HOME the postgres user can enter (the sandbox's default state dir is under it)."""
    path = Path(tempfile.mkdtemp(prefix="herokupg-readme-", dir="/var/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        state = path / ".local" / "state" / "herokupg" / "sandbox"
        if state.exists():
            subprocess.run([str(Path(sys.executable).parent / "herokupg"), "sandbox", "stop", "--state-dir",
                            str(state)], capture_output=True, timeout=120, check=False)
            leftover = postgres_processes(state)
            if leftover:
                from herokupg_sandbox.pgengine import PostgresEngine

                PostgresEngine(state).stop()
        shutil.rmtree(path, ignore_errors=True)


def test_readme_commands_run_as_written(home: Path) -> None:
    heroku = Path(os.environ.get("HEROKU_CLI") or ROOT / ".cache/heroku-cli/node_modules/.bin/heroku")
    if not heroku.is_file():
        pytest.fail(f"the Heroku CLI is not installed at {heroku}: run `make heroku-cli`")
    controller = home / "controller-venv"
    subprocess.run([sys.executable, "-m", "venv", str(controller)], check=True, timeout=300)

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HEROKU_", "HEROKUPG_", "ANSIBLE_", "VIRTUAL_ENV")) and k != "PYTHONPATH"}
    env.update(
        HOME=str(home),
        PATH=f"{heroku.parent}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
        HEROKUPG_SANDBOX_PORT=str(free_port()),  # never the shared default 5599
        PIP_CACHE_DIR=str(ROOT / ".cache" / "pip"),
        XDG_CACHE_HOME=str(home / ".cache"),
        NO_COLOR="1",
        ANSIBLE_NOCOLOR="1",
        # async tasks: the module writes its job file under $HOME, ansible looks under the user's home
        # in the password database; they differ only because this HOME is private.
        ANSIBLE_ASYNC_DIR=str(home / ".ansible_async"),
    )
    text = script(home, controller)
    page = ROOT / "slow.html"  # the README's `-o slow.html` writes where the commands run
    had_page = page.exists()
    try:
        done = subprocess.run(["bash", "-c", text], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=1100, check=False)
        html = page.read_text() if page.exists() else ""
    finally:
        if not had_page:
            page.unlink(missing_ok=True)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"exit {done.returncode}:\n{output[-8000:]}"

    # What the commands did, checked from outside them.
    assert re.search(r"Follower FOLLOWER \(postgresql-\S+, heroku-postgresql:standard-0\) was created", output)
    assert "is now the primary (DATABASE_URL) of myapp" in output
    assert "Restored b001 of myapp into DATABASE" in output
    assert "1 slow query in 1 fingerprint" in output and "select pg_sleep(?)" in output, output[-6000:]
    assert "<svg" in html and "select pg_sleep(?)" in html, "slow.html: no chart or no fingerprint"
    assert (home / "myapp-b001.dump").is_file() and (home / "myapp-latest.dump").is_file()
    assert "herokupg sandbox stopped" in output
    installed = home / ".ansible" / "collections" / "ansible_collections" / "herokuops" / "postgres"
    assert (installed / "plugins" / "modules" / "heroku_pg_database.py").is_file()
    where = subprocess.run([str(controller / "bin" / "python"), "-c", "import herokupg; print(herokupg.__file__)"],
                           cwd=home, capture_output=True, text=True, check=True).stdout
    assert Path(where.strip()).is_relative_to(controller), where
