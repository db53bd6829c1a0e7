"""The environment of `ansible-playbook` and Heroku CLI runs against a sandbox, for the tests and
benchmarks (nothing inherited that could point them elsewhere)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from herokupg_sandbox.control import heroku_cli_exports
from herokupg_sandbox.threaded import RunningSandbox


def heroku_cli_env(running: RunningSandbox, binary: Path, home: Path) -> dict[str, str]:
    """Environment for Heroku CLI runs against ``running``: only this, nothing inherited but PATH
    (with ``binary``'s directory first: the CLI's git credential hook runs `heroku`), a private
    HOME and XDG dirs, git stopped above HOME, plain UTC output."""
    return {
        "PATH": f"{binary.parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "GIT_CEILING_DIRECTORIES": str(home.parent),
        "GIT_CONFIG_NOSYSTEM": "1",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "NO_COLOR": "1",
        "FORCE_COLOR": "0",
        **heroku_cli_exports(running.url, running.token),
    }


def ansible_env(running: RunningSandbox, home: Path, collections: Path) -> dict[str, str]:
    """Environment for ansible/ansible-playbook runs against ``running``: this Python, the given
    collections dir, a private HOME, quiet output, and no HEROKU_/ANSIBLE_ setting inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEROKU_", "ANSIBLE_"))}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="False",
        ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        HEROKU_API_URL=running.url,
        HEROKU_API_KEY=running.token,
        HOME=str(home),
    )
    return env
