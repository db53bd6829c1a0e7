"""The docs site (`make docs`: antsibull-docs + Sphinx) and the changelog (antsibull-changelog).

`make docs` runs with --fail-on-error: a module, role or filter whose documentation antsibull-docs
cannot parse fails it. Every module file must get an RST page and an HTML page that carries its
short description. The tools come from the tools venv (`make tools-venv`).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import run_tool

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".cache" / "tools-venv" / "bin"
PAGES = Path("collections") / "herokuops" / "postgres"

pytestmark = pytest.mark.timeout(900)


def run(cmd: list[str], *, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_tool(cmd, cwd=cwd, timeout=900)  # the docs build installs its tools venv the first time


def modules() -> dict[str, str]:
    """Module name -> short_description, read from each module's DOCUMENTATION."""
    return {name: doc["short_description"] for name, doc in documentation().items()}


def versions_added() -> dict[str, str]:
    return {name: str(doc["version_added"]) for name, doc in documentation().items()}


def documentation() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((ROOT / "plugins" / "modules").glob("*.py")):
        if path.stem == "__init__":
            continue
        tree = ast.parse(path.read_text())
        doc = next(
            node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "DOCUMENTATION" for t in node.targets)
            and isinstance(node.value, ast.Constant)
        )
        found[path.stem] = yaml.safe_load(doc)
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("docs") / "site"
    run(["make", "-s", "-C", str(ROOT), "docs", f"DOCS_DIR={dest}"])
    return dest


def test_every_module_has_a_page(site: Path) -> None:
    expected = modules()
    assert len(expected) >= 10
    for name, short in expected.items():
        rst = site / "rst" / PAGES / f"{name}_module.rst"
        html = site / "build" / "html" / PAGES / f"{name}_module.html"
        assert rst.is_file(), f"no RST page for {name}"
        assert html.is_file(), f"no HTML page for {name}"
        text = html.read_text()
        assert f"herokuops.postgres.{name}" in text
        # Sphinx escapes quotes; compare on a stretch free of them.
        assert short.split("'")[0] in text, (name, short)
    index = (site / "build" / "html" / PAGES / "index.html").read_text()
    for name in expected:
        assert f"{name}_module.html" in index, name


def test_roles_and_filters_have_pages(site: Path) -> None:
    html = site / "build" / "html" / PAGES
    for role in sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file()):
        assert (html / f"{role}_role.html").is_file(), role
    for spec in sorted((ROOT / "plugins" / "filter").glob("*.yml")):
        assert (html / f"{spec.stem}_filter.html").is_file(), spec.stem
    assert (site / "build" / "html" / "index.html").is_file()


def test_changelog_is_linted_and_rendered(tmp_path: Path) -> None:
    """Fragments lint clean, and CHANGELOG.rst is what changelogs/changelog.yaml renders to."""
    run(["make", "-s", "-C", str(ROOT), "tools-venv"])
    run([str(TOOLS / "antsibull-changelog"), "lint"], cwd=ROOT)
    run([str(TOOLS / "antsibull-changelog"), "lint-changelog-yaml", "changelogs/changelog.yaml"], cwd=ROOT)
    copy = tmp_path / "c"
    copy.mkdir()
    shutil.copy2(ROOT / "galaxy.yml", copy / "galaxy.yml")
    shutil.copytree(ROOT / "changelogs", copy / "changelogs")
    (copy / "CHANGELOG.rst").write_text("stale\n")
    run([str(TOOLS / "antsibull-changelog"), "generate", "--is-collection"], cwd=copy)
    assert (copy / "CHANGELOG.rst").read_text() == (ROOT / "CHANGELOG.rst").read_text()
    changelog = yaml.safe_load((ROOT / "changelogs" / "changelog.yaml").read_text())
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    assert version in changelog["releases"]
    assert changelog["releases"][version]["changes"]["release_summary"]
    released = {m["name"] for m in changelog["releases"][version].get("modules", [])}
    added_here = {name for name, added in versions_added().items() if added == version}
    assert added_here <= released, sorted(added_here - released)
