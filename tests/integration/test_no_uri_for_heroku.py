"""Every Heroku call of a role or playbook goes through a module of the collection: no task, handler
or module_defaults entry of roles/*/ (molecule scenarios aside) or playbooks/ uses the uri module or
the url lookup, so credentials (api_key, HEROKU_API_KEY, ~/.netrc), check mode, retries and error
reporting are the modules' everywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import ROOT

URI = {"uri", "ansible.builtin.uri", "ansible.legacy.uri"}
URL_LOOKUP = re.compile(r"""(?:lookup|query|q)\(\s*['"](?:ansible\.builtin\.)?url['"]""")
TASK_LISTS = ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always")
# Playbooks that may call the sandbox directly, and why (each refuses to run against Heroku).
SANDBOX_ONLY = {
    "playbooks/demo-setup.yml": "creates the demo app on the local sandbox (no module creates apps); "
    "its first task refuses any HEROKU_API_URL that is not local",
}


def files() -> list[Path]:
    roles = [p for p in (ROOT / "roles").glob("*/**/*.yml") if "molecule" not in p.relative_to(ROOT).parts]
    return sorted(roles + list((ROOT / "playbooks").glob("**/*.yml")))


def tasks_of(node: Any) -> Iterator[dict[str, Any]]:
    """Every task-like mapping (plays, tasks, blocks and their children) of a parsed YAML file."""
    if isinstance(node, list):
        for item in node:
            yield from tasks_of(item)
    elif isinstance(node, dict):
        yield node
        for key in TASK_LISTS:
            yield from tasks_of(node.get(key))


def uri_uses(path: Path) -> list[str]:
    text = path.read_text()
    found = [f"url lookup: {m.group(0)}" for m in URL_LOOKUP.finditer(text)]
    for task in tasks_of(yaml.safe_load(text)):
        found += [f"task {task.get('name')!r}: {key}" for key in URI & set(task)]
        defaults = task.get("module_defaults") or {}
        found += [f"module_defaults: {key}" for key in URI & set(defaults)]
    return found


def test_the_scan_sees_what_it_looks_for(tmp_path: Path) -> None:
    sample = tmp_path / "sample.yml"
    sample.write_text(
        "- hosts: localhost\n  module_defaults: {uri: {}}\n  tasks:\n"
        "    - block:\n        - name: inner\n          ansible.builtin.uri: {url: x}\n"
        "      always:\n        - name: key\n          ansible.builtin.debug: {msg: \"{{ lookup('url', 'x') }}\"}\n"
    )
    assert sorted(uri_uses(sample)) == [
        "module_defaults: uri",
        "task 'inner': ansible.builtin.uri",
        "url lookup: lookup('url'",
    ]


@pytest.mark.parametrize("path", files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_role_or_playbook_calls_heroku_with_uri(path: Path) -> None:
    relative = str(path.relative_to(ROOT))
    uses = uri_uses(path)
    if relative in SANDBOX_ONLY:
        assert uses, f"{relative} no longer uses uri: remove it from SANDBOX_ONLY"
        assert "refuse" in path.read_text().lower()
        return
    assert uses == [], f"{relative} calls an API with uri instead of a module of the collection: {uses}"


def test_the_roles_files_are_scanned() -> None:
    scanned = {str(p.relative_to(ROOT)) for p in files()}
    destroying = {"roles/failover/tasks/switch.yml", "roles/failover/tasks/after.yml", "roles/refresh/tasks/fork.yml"}
    assert destroying <= scanned
