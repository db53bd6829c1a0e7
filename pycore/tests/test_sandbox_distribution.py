"""herokupg-sandbox stands alone: no module of it imports herokupg (read from the sources, and
checked by importing every one of them, and serving a request, where herokupg cannot be imported);
its metadata asks for no herokupg; herokupg's own metadata no longer names the sandbox."""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import herokupg_sandbox
from sandbox_helpers import not_installed

PACKAGE = Path(herokupg_sandbox.__file__).parent
PYCORE = Path(__file__).resolve().parents[1]


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_no_sandbox_module_imports_herokupg() -> None:
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 30 and PACKAGE == PYCORE / "sandbox" / "src" / "herokupg_sandbox"
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(n for n in imported(path) if n.split(".")[0] == "herokupg")
        for path in sources
    }
    assert not {k: v for k, v in offenders.items() if v}


WITHOUT_HEROKUPG = not_installed("herokupg") + """
import pkgutil, tempfile, importlib
import herokupg_sandbox
names = [m.name for m in pkgutil.walk_packages(herokupg_sandbox.__path__, "herokupg_sandbox.")]
for name in names:
    if name != "herokupg_sandbox.__main__":
        importlib.import_module(name)
from pathlib import Path
from herokupg_sandbox.threaded import ThreadedSandbox, seed_app
with ThreadedSandbox(Path(tempfile.mkdtemp()) / "sandbox") as running:
    print(seed_app(running, "alone")["name"], len(names))
print(sorted(m for m in sys.modules if m.split(".")[0] == "herokupg"))
"""


def test_the_sandbox_imports_and_serves_without_herokupg() -> None:
    done = subprocess.run([sys.executable, "-c", WITHOUT_HEROKUPG], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    served, loaded = done.stdout.splitlines()
    assert served.split()[0] == "alone" and int(served.split()[1]) > 30, served
    assert loaded == "[]"


def test_distribution_metadata() -> None:
    sandbox = importlib.metadata.metadata("herokupg-sandbox")
    requires = importlib.metadata.requires("herokupg-sandbox") or []
    assert not [r for r in requires if r.startswith("herokupg")], requires
    assert sandbox["Name"] == "herokupg-sandbox"
    scripts = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="console_scripts")}
    assert scripts["herokupg-sandbox"] == "herokupg_sandbox.cli:main"
    plugins = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="pytest11")}
    assert plugins["herokupg_sandbox"] == "herokupg_sandbox.pytest_plugin"
    core = importlib.metadata.metadata("herokupg")
    assert "sandbox" not in (core.get_all("Provides-Extra") or [])
    core_requires = importlib.metadata.requires("herokupg") or []
    assert not [r for r in core_requires if r.startswith(("starlette", "uvicorn", "herokupg"))], core_requires


PLUGIN_USER = '''
def test_fixtures(sandbox, sb, seed):
    assert sandbox.url != sb.url
    seed.app("plugged")
    addon = seed.database("plugged")
    with sandbox.http() as http:
        assert http.get(f"/client/v11/databases/{addon['id']}").status_code == 200
        assert [a["name"] for a in http.get("/apps").json()] == ["plugged"]
    with sb.http() as http:
        assert http.get("/apps").json() == []
'''


def test_the_pytest_plugin_loads_by_its_entry_point(tmp_path: Path) -> None:
    """A project of its own (no conftest, no -p): the fixtures come from the pytest11 entry point."""
    (tmp_path / "test_user.py").write_text(PLUGIN_USER)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
