"""Every module of the action group renders with ansible-doc (text and JSON), with no warning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import ROOT, collections_path

PREFIX = "herokuops.postgres."


def action_group() -> list[str]:
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    modules: list[str] = runtime["action_groups"]["heroku"]
    return modules


def module_files() -> list[str]:
    return sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")


def _ansible_doc(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections_path()), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    cmd = [str(Path(sys.executable).parent / "ansible-doc"), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    """One ansible-doc run per format for all modules (each run costs a Python start-up)."""
    names = [PREFIX + m for m in action_group()]
    as_json = _ansible_doc("--json", *names)
    as_text = _ansible_doc(*names)
    docs = json.loads(as_json.stdout) if as_json.returncode == 0 and as_json.stdout.strip() else {}
    return {"json": as_json, "text": as_text, "docs": docs}


def test_action_group_lists_every_module_once() -> None:
    group = action_group()
    assert len(group) == len(set(group))
    assert sorted(group) == module_files()


@pytest.mark.parametrize("module", action_group())
def test_module_doc_renders(rendered: dict[str, Any], module: str) -> None:
    name = PREFIX + module
    for kind in ("json", "text"):
        proc = rendered[kind]
        assert proc.returncode == 0, proc.stderr
        problems = [line for line in proc.stderr.splitlines() if name in line or "ERROR" in line]
        assert not problems, proc.stderr
    assert name in rendered["docs"], rendered["json"].stderr
    doc = rendered["docs"][name]["doc"]
    assert doc["module"] == module
    assert doc["version_added"]
    assert doc["short_description"]
    assert "herokuops.postgres.heroku" in doc["attributes"]["action_group"]["membership"]
    assert {"app", "api_key"} <= set(doc["options"])
    assert rendered["docs"][name]["examples"].strip()
    assert f"{name}:" in rendered["docs"][name]["examples"]
    assert f"> MODULE {name}" in rendered["text"].stdout
