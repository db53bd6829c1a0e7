"""The release artefacts: the collection tarball and the herokupg wheel, installed from nothing.

- `ansible-galaxy collection build` leaves out pycore/, virtualenvs, caches, node_modules and
  tests/output (galaxy.yml's build_ignore), checked on a copy of the tree seeded with such files.
- The herokupg wheel ships py.typed and no tests, and no sandbox code: the emulator is its own
  wheel, herokupg-sandbox (pycore/sandbox), with its console script and pytest plugin.
- In a fresh venv: the tarball installed with ansible-galaxy, both wheels and ansible-core 2.19
  with pip; that venv's `herokupg sandbox start` serves the API and that venv's
  `ansible localhost -m herokuops.postgres.heroku_pg_info` reads a database through it.

Third-party wheels are kept in .cache/wheelhouse: the fresh venv installs from there with
--no-index, and the wheelhouse is (re)filled from the package index only when that fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = ROOT / ".cache" / "wheelhouse"
PIP_CACHE = ROOT / ".cache" / "pip"
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
VERSION = GALAXY["version"]
TARBALL = f"{GALAXY['namespace']}-{GALAXY['name']}-{VERSION}.tar.gz"
ANSIBLE_CORE = "ansible-core>=2.19,<2.20"

pytestmark = pytest.mark.timeout(900)


def run(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: int = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, f"{' '.join(cmd)} -> {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def clean_env(**extra: str) -> dict[str, str]:
    """No ANSIBLE_*, HEROKU_*, PYTHONPATH or venv of ours leaks into the fresh install."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANSIBLE_", "HEROKU_", "HEROKUPG_")) and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env["PIP_CACHE_DIR"] = str(PIP_CACHE)
    env.update(extra)
    return env


def ansible_bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def build_collection(source: Path, dest: Path) -> Path:
    run([ansible_bin("ansible-galaxy"), "collection", "build", "--force", "--output-path", str(dest), str(source)],
        env=clean_env())
    tarball = dest / TARBALL
    assert tarball.is_file()
    return tarball


def build_wheel(dest: Path, work: Path, project: str = "pycore", name: str = "herokupg") -> Path:
    """The wheel of ``project`` (pycore, or pycore/sandbox) from a clean copy of it (no stale build/
    or egg-info of the checkout); the copy of pycore/ holds sandbox/, which its wheel must leave out."""
    src = work / project
    shutil.copytree(
        ROOT / project,
        src,
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist", ".*cache"),
    )
    # Offline from the wheelhouse (pip's isolated build env needs setuptools); fill it on a miss.
    offline = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-index",
               "--find-links", str(WHEELHOUSE), str(src), "-w", str(dest)]
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    if subprocess.run(offline, env=clean_env(), capture_output=True, timeout=600, check=False).returncode != 0:
        run([sys.executable, "-m", "pip", "download", "-q", "-d", str(WHEELHOUSE), "setuptools>=77", "wheel"],
            env=clean_env())
        run(offline, env=clean_env())
    wheels = list(dest.glob(f"{name}-{VERSION}-py3-none-any.whl"))
    assert len(wheels) == 1, sorted(p.name for p in dest.iterdir())
    return wheels[0]


@dataclass
class Artefacts:
    tarball: Path
    wheel: Path
    sandbox_wheel: Path


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Artefacts:
    dist = tmp_path_factory.mktemp("dist")
    return Artefacts(build_collection(ROOT, dist), build_wheel(dist, tmp_path_factory.mktemp("wheel-src")),
                     build_wheel(dist, tmp_path_factory.mktemp("sandbox-wheel-src"), "pycore/sandbox",
                                 "herokupg_sandbox"))


def wheel_contents(wheel: Path, dist_info: str) -> tuple[list[str], str, str]:
    """The wheel's file names, its METADATA and its entry_points.txt."""
    with zipfile.ZipFile(wheel) as archive:
        return (archive.namelist(), archive.read(f"{dist_info}/METADATA").decode(),
                archive.read(f"{dist_info}/entry_points.txt").decode())


def members(tarball: Path) -> list[str]:
    with tarfile.open(tarball) as tar:
        return [m.name.removeprefix("./") for m in tar.getmembers()]


# Paths (relative to the collection root) that must never reach the tarball, and one decoy file
# planted under each in the seeded copy.
DECOYS = [
    "pycore/src/herokupg/__init__.py",
    ".venv/bin/python",
    ".venv-tools/pyvenv.cfg",
    ".cache/collections/x.txt",
    ".cache/heroku-cli/node_modules/heroku/package.json",
    "node_modules/left-pad/index.js",
    "roles/backup_setup/node_modules/x/index.js",
    "tests/output/junit/results.xml",
    "tests/integration/.pytest_cache/v/cache/nodeids",
    ".pytest_cache/README.md",
    ".mypy_cache/3.11/cache.db",
    "plugins/modules/.mypy_cache/x.json",
    ".ruff_cache/CACHEDIR.TAG",
    "plugins/modules/__pycache__/heroku_pg_info.cpython-311.pyc",
    "plugins/module_utils/stale.pyc",
    "dist/herokupg-0.1.0-py3-none-any.whl",
    "build/lib/x.py",
    "herokupg.egg-info/PKG-INFO",
    ".ci/run",
    ".git/HEAD",
    "Makefile",
]


def forbidden(name: str) -> str | None:
    """Why a tarball member must not be there, or None."""
    parts = name.split("/")
    top = parts[0]
    if top in {"pycore", ".venv", ".cache", ".ci", ".git", "dist", "build", "Makefile", "docs", ".gitignore",
               "ansible.cfg", "collections"}:
        return f"top-level {top}"
    if top.startswith(".venv"):
        return "a virtualenv"
    if name == "tests/output" or name.startswith("tests/output/"):
        return "tests/output"
    for part in parts:
        if part in {"node_modules", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox"}:
            return part
        if part.endswith(".egg-info"):
            return "egg-info"
    if name.endswith((".pyc", ".pyo", ".whl", ".tar.gz")):
        return "a build artefact"
    return None


def test_collection_tarball_leaves_out_dev_files(tmp_path: Path) -> None:
    """Build a copy of the tree seeded with one decoy per kind of unwanted file."""
    tree = tmp_path / "tree"
    shutil.copytree(
        ROOT,
        tree,
        symlinks=True,
        ignore=shutil.ignore_patterns(".venv", ".cache", ".git", "node_modules", "dist", "build", "output"),
    )
    for decoy in DECOYS:
        path = tree / decoy
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("decoy\n")
    names = members(build_collection(tree, tmp_path / "out"))

    unwanted = {name: why for name in names if (why := forbidden(name))}
    assert not unwanted, unwanted
    for decoy in DECOYS:
        assert decoy not in names


def test_collection_tarball_contents(artefacts: Artefacts) -> None:
    names = set(members(artefacts.tarball))
    unwanted = {name: why for name in names if (why := forbidden(name))}
    assert not unwanted, unwanted
    required = {
        "MANIFEST.json", "FILES.json", "README.md", "meta/runtime.yml", "meta/execution-environment.yml",
        "meta/requirements.txt", "meta/bindep.txt", "requirements.txt", "bindep.txt",
        "changelogs/changelog.yaml", "changelogs/config.yaml", "plugins/module_utils/_heroku_pg.py",
    }
    required |= {str(p.relative_to(ROOT)) for p in (ROOT / "plugins" / "modules").glob("*.py")}
    required |= {str(p.relative_to(ROOT)) for p in (ROOT / "plugins" / "doc_fragments").glob("*.py")}
    required |= {str(p.relative_to(ROOT)) for p in (ROOT / "roles").rglob("*") if p.is_file()
                 and not forbidden(str(p.relative_to(ROOT)))}
    missing = sorted(required - names)
    assert not missing, missing
    with tarfile.open(artefacts.tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))  # type: ignore[arg-type]
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == ("herokuops", "postgres", VERSION)


def test_wheel_ships_py_typed_and_no_tests(artefacts: Artefacts) -> None:
    names, metadata, entry_points = wheel_contents(artefacts.wheel, f"herokupg-{VERSION}.dist-info")
    assert "herokupg/py.typed" in names
    assert "herokupg/__init__.py" in names
    tops = {name.split("/")[0] for name in names}
    assert tops == {"herokupg", f"herokupg-{VERSION}.dist-info"}, tops
    offenders = [
        n for n in names
        if "/tests/" in n or n.startswith(("tests/", "bench/")) or "__pycache__" in n
        or n.endswith((".pyc", "conftest.py")) or re.search(r"/test_[^/]*\.py$", n)
    ]
    assert not offenders, offenders
    assert re.search(r"^herokupg = herokupg\.cli:main$", entry_points, re.MULTILINE)


def test_wheel_holds_no_sandbox(artefacts: Artefacts) -> None:
    """The product wheel: no emulator module, no extra or dependency that names one."""
    names, metadata, entry_points = wheel_contents(artefacts.wheel, f"herokupg-{VERSION}.dist-info")
    sandbox = [n for n in names if "sandbox" in n.lower()]
    assert not sandbox, sandbox
    assert "herokupg/cli.py" in names
    requires = re.findall(r"^Requires-Dist: (.*)$", metadata, re.MULTILINE)
    extras = re.findall(r"^Provides-Extra: (.*)$", metadata, re.MULTILINE)
    assert "sandbox" not in extras, extras
    assert not [r for r in requires if re.match(r"(starlette|uvicorn|herokupg)", r)], requires
    assert "pytest11" not in entry_points and "sandbox" not in entry_points, entry_points


def test_sandbox_wheel(artefacts: Artefacts) -> None:
    """herokupg-sandbox: the emulator alone, its own command and pytest plugin, no herokupg."""
    names, metadata, entry_points = wheel_contents(
        artefacts.sandbox_wheel, f"herokupg_sandbox-{VERSION}.dist-info"
    )
    tops = {name.split("/")[0] for name in names}
    assert tops == {"herokupg_sandbox", f"herokupg_sandbox-{VERSION}.dist-info"}, tops
    assert {"herokupg_sandbox/py.typed", "herokupg_sandbox/server.py", "herokupg_sandbox/pgengine/engine.py",
            "herokupg_sandbox/pytest_plugin.py"} <= set(names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert re.search(r"^Name: herokupg-sandbox$", metadata, re.MULTILINE)
    requires = re.findall(r"^Requires-Dist: ([A-Za-z0-9_.-]+)", metadata, re.MULTILINE)
    assert sorted(requires) == ["httpx", "pydantic", "starlette", "uvicorn"], requires
    assert re.search(r"^herokupg-sandbox = herokupg_sandbox\.cli:main$", entry_points, re.MULTILINE)
    assert re.search(r"^\[pytest11\]\nherokupg_sandbox = herokupg_sandbox\.pytest_plugin$", entry_points,
                     re.MULTILINE), entry_points


def fresh_venv_install(venv: Path, wheel_dir: Path) -> None:
    """pip-install the herokupg and herokupg-sandbox wheels and ansible-core into VENV, from the wheelhouse."""
    python = str(venv / "bin" / "python")
    reqs = [f"herokupg=={VERSION}", f"herokupg-sandbox=={VERSION}", ANSIBLE_CORE]
    offline = [python, "-m", "pip", "install", "-q", "--no-index",
               "--find-links", str(wheel_dir), "--find-links", str(WHEELHOUSE), *reqs]
    env = clean_env()
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    first = subprocess.run(offline, env=env, capture_output=True, text=True, timeout=600, check=False)
    if first.returncode != 0:
        # Fill the wheelhouse (third-party wheels only) from the index, then install offline.
        run([sys.executable, "-m", "pip", "wheel", "-q", "--find-links", str(wheel_dir),
             "-w", str(WHEELHOUSE), *reqs], env=env)
        for own in [*WHEELHOUSE.glob("herokupg-*.whl"), *WHEELHOUSE.glob("herokupg_sandbox-*.whl")]:
            own.unlink()
        run(offline, env=env)


def test_fresh_install_runs_a_module(artefacts: Artefacts, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], env=clean_env())
    bindir = venv / "bin"
    fresh_venv_install(venv, artefacts.wheel.parent)

    collections = tmp_path / "collections"
    run([str(bindir / "ansible-galaxy"), "collection", "install", str(artefacts.tarball), "-p", str(collections)],
        env=clean_env(ANSIBLE_COLLECTIONS_PATH=str(collections)))
    installed = collections / "ansible_collections" / "herokuops" / "postgres"
    assert (installed / "plugins" / "modules" / "heroku_pg_info.py").is_file()
    assert not (installed / "pycore").exists()

    # herokupg comes from the wheel in this venv, not from the checkout.
    where = run([str(bindir / "python"), "-c", "import herokupg, pathlib; print(pathlib.Path(herokupg.__file__))"],
                cwd=tmp_path, env=clean_env()).stdout.strip()
    assert Path(where).is_relative_to(venv), where
    assert (Path(where).parent / "py.typed").is_file()
    version = run([str(bindir / "ansible"), "--version"], env=clean_env()).stdout
    assert re.search(r"core 2\.19\.", version), version

    home = tmp_path / "home"
    home.mkdir()
    state = tmp_path / "sandbox"
    port = _free_port()
    sandbox_args = ["--port", str(port), "--state-dir", str(state)]
    env = clean_env(HOME=str(home))
    run([str(bindir / "herokupg"), "sandbox", "start", *sandbox_args], cwd=tmp_path, env=env, timeout=120)
    try:
        exports = run([str(bindir / "herokupg"), "sandbox", "env", *sandbox_args], env=env).stdout
        settings = dict(re.findall(r"export (HEROKU_[A-Z_]+)=['\"]?([^'\"\n]+)['\"]?", exports))
        assert settings.get("HEROKU_API_URL") == f"http://127.0.0.1:{port}", exports
        url, token = settings["HEROKU_API_URL"], settings["HEROKU_API_KEY"]
        _seed(url, token, "pkg-app")

        result = run(
            [str(bindir / "ansible"), "localhost", "-i", "localhost,", "-c", "local",
             "-m", "herokuops.postgres.heroku_pg_info", "-a", "app=pkg-app"],
            cwd=tmp_path,
            env=clean_env(
                HOME=str(home),
                HEROKU_API_URL=url,
                HEROKU_API_KEY=token,
                ANSIBLE_COLLECTIONS_PATH=str(collections),
                ANSIBLE_PYTHON_INTERPRETER=str(bindir / "python"),
                ANSIBLE_CALLBACK_RESULT_FORMAT="json",
                ANSIBLE_NOCOLOR="1",
                ANSIBLE_LOCALHOST_WARNING="False",
                ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
                ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
            ),
            timeout=300,
        )
        status = re.search(r"^localhost \| (\w+) => ", result.stdout, re.MULTILINE)
        assert status and status.group(1) == "SUCCESS", result.stdout[-4000:]
        task = json.loads(result.stdout[status.end():])
        assert task["changed"] is False
        [database] = task["databases"]
        assert database["config_var"] == "DATABASE_URL", database
        assert database["plan"] == "heroku-postgresql:standard-0", database
        assert token not in result.stdout
    finally:
        subprocess.run([str(bindir / "herokupg"), "sandbox", "stop", *sandbox_args],
                       env=env, capture_output=True, timeout=60, check=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _seed(url: str, token: str, app: str) -> None:
    """An app with one heroku-postgresql database, through the sandbox's Platform API."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.heroku+json; version=3"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        http.post("/apps", json={"name": app}).raise_for_status()
        addon = http.post(f"/apps/{app}/addons", json={"plan": {"name": "heroku-postgresql:standard-0"}})
        addon.raise_for_status()
        addon_id = addon.json()["id"]
        for _attempt in range(500):
            if http.get(f"/client/v11/databases/{addon_id}").status_code == 200:
                return
            time.sleep(0.02)
    raise AssertionError(f"the sandbox never served database {addon_id}")
