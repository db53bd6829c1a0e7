"""The ansible-test integration targets (make ansible-integration) cover every module and are whole:
a module added without a target, or a target ansible-test would not run, fails the build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import ROOT

TARGETS = ROOT / "tests" / "integration" / "targets"
SETUP = "setup_heroku_sandbox"
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
TARGET_DIRS = sorted(p for p in TARGETS.iterdir() if p.is_dir())


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _aliases(target: Path) -> list[str]:
    lines = (target / "aliases").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_every_module_has_a_target() -> None:
    assert MODULES, "no modules found"
    missing = [m for m in MODULES if not (TARGETS / m).is_dir()]
    assert missing == [], f"modules without an ansible-test target in {TARGETS}: {missing}"


@pytest.mark.parametrize("target", TARGET_DIRS, ids=lambda p: p.name)
def test_target_is_runnable_by_ansible_test(target: Path) -> None:
    assert (target / "aliases").is_file(), f"{target.name}: no aliases file"
    assert (target / "tasks" / "main.yml").is_file(), f"{target.name}: no tasks/main.yml"
    assert "context/controller" in _aliases(target), f"{target.name}: the modules run on the controller"


@pytest.mark.parametrize("module", MODULES)
def test_module_target_starts_and_stops_its_sandbox(module: str) -> None:
    target = TARGETS / module
    dependencies = _yaml(target / "meta" / "main.yml")["dependencies"]
    names = [d if isinstance(d, str) else d["role"] for d in dependencies]
    assert names == [SETUP], f"{module}: meta/main.yml must depend on {SETUP} (it starts the sandbox)"
    [play] = _yaml(target / "tasks" / "main.yml")
    always = [t.get("ansible.builtin.include_role", {}) for t in play.get("always", [])]
    stops = [role for role in always if role.get("name") == SETUP and role.get("tasks_from") == "stop.yml"]
    assert stops, f"{module}: tasks/main.yml must stop the sandbox in an always: (include_role {SETUP}, stop.yml)"
    assert f"herokuops.postgres.{module}:" in (target / "tasks" / "exercise.yml").read_text(), (
        f"{module}: its scenario (tasks/exercise.yml) does not call the module"
    )
