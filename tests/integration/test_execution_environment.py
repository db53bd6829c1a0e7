"""meta/execution-environment.yml, as ansible-builder reads it (no container engine runs here).

- `ansible-builder create -f meta/execution-environment.yml` makes a build context: a Containerfile
  with ansible-core 2.19 and ansible-runner, this collection and the herokupg wheel from dist/, and
  the Python/system requirements as real files (a symbolic link would dangle in the context).
- `ansible-builder introspect` over the collection installed from its tarball (how an EE that lists
  herokuops.postgres sees it) finds herokupg, its libraries (httpx, pydantic) and the PostgreSQL client.
ansible-builder comes from the tools venv (`make tools-venv`).
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from harness import run_tool

ROOT = Path(__file__).resolve().parents[2]
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
TARBALL = f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
WHEEL = f"herokupg-{GALAXY['version']}-py3-none-any.whl"

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def builder() -> str:
    run_tool(["make", "-s", "-C", str(ROOT), "tools-venv"], timeout=900)
    path = ROOT / ".cache" / "tools-venv" / "bin" / "ansible-builder"
    assert path.is_file()
    return str(path)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The collection's EE files in a source layout, with dist/ holding the tarball and a wheel
    stand-in (test_packaging.py builds the real one; here only its name matters)."""
    tree = tmp_path_factory.mktemp("src")
    (tree / "meta").mkdir()
    for name in ("execution-environment.yml", "requirements.txt", "bindep.txt"):
        shutil.copy2(ROOT / "meta" / name, tree / "meta" / name)
    dist = tree / "dist"
    dist.mkdir()
    run_tool([str(Path(sys.executable).parent / "ansible-galaxy"), "collection", "build", "--output-path", str(dist),
              str(ROOT)])
    (dist / WHEEL).write_bytes(b"stand-in")
    return tree


def test_top_level_files_link_to_meta() -> None:
    """`pip install -r requirements.txt` and bindep at the root read the very files the EE uses."""
    for name in ("requirements.txt", "bindep.txt"):
        top = ROOT / name
        assert top.is_symlink() and top.resolve() == (ROOT / "meta" / name).resolve(), name
    requirements = (ROOT / "meta" / "requirements.txt").read_text()
    assert any(line.startswith("herokupg") for line in requirements.splitlines())


def test_requirements_name_herokupgs_libraries_with_its_bounds() -> None:
    """httpx, pydantic and tqdm, as pycore/pyproject.toml declares them (lower bounds are tested)."""
    declared = tomllib.loads((ROOT / "pycore" / "pyproject.toml").read_text())["project"]["dependencies"]
    assert sorted(d.split(">")[0] for d in declared) == ["httpx", "pydantic", "tqdm"]
    lines = (ROOT / "meta" / "requirements.txt").read_text().splitlines()
    assert set(declared) <= set(lines), (declared, lines)


def test_definition_pins_versions_and_ships_the_collection() -> None:
    ee = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
    assert ee["version"] == 3
    deps = ee["dependencies"]
    assert deps["python"] == "requirements.txt" and deps["system"] == "bindep.txt"
    assert deps["ansible_core"]["package_pip"] == "ansible-core>=2.19,<2.20"
    assert deps["ansible_runner"]["package_pip"].startswith("ansible-runner")
    # The galaxy requirement names the tarball of galaxy.yml's version.
    [collection] = deps["galaxy"]["collections"]
    assert collection == {"name": f"/build/dist/{TARBALL}", "type": "file"}


def test_ansible_builder_create(builder: str, tmp_path: Path) -> None:
    """In the checkout itself, as the release notes say to run it."""
    context = tmp_path / "context"
    run_tool([builder, "create", "-f", "meta/execution-environment.yml", "-c", str(context),
              "--output-filename", "Containerfile"], cwd=ROOT)
    containerfile = (context / "Containerfile").read_text()
    build = context / "_build"
    for name in ("requirements.txt", "bindep.txt"):
        assert (build / name).is_file() and not (build / name).is_symlink(), name
        assert (build / name).read_text() == (ROOT / "meta" / name).read_text()
    assert "herokupg" in (build / "requirements.txt").read_text()
    assert "postgresql-client [platform:dpkg]" in (build / "bindep.txt").read_text()
    assert 'ANSIBLE_INSTALL_REFS="ansible-core>=2.19,<2.20 ansible-runner' in containerfile
    assert "introspect.py introspect" in containerfile and "--user-pip=requirements.txt" in containerfile
    assert "--user-bindep=bindep.txt" in containerfile
    assert "ENV PIP_FIND_LINKS=/build/dist" in containerfile
    assert yaml.safe_load((build / "requirements.yml").read_text()) == {
        "collections": [{"name": f"/build/dist/{TARBALL}", "type": "file"}]
    }


def test_ansible_builder_create_copies_dist(builder: str, source: Path, tmp_path: Path) -> None:
    """With dist/ filled (`make package`), the context carries the tarball and the wheel."""
    context = tmp_path / "context"
    run_tool([builder, "create", "-f", "meta/execution-environment.yml", "-c", str(context),
              "--output-filename", "Containerfile"], cwd=source)
    assert (context / "Containerfile").is_file()
    assert sorted(p.name for p in (context / "_build" / "dist").iterdir()) == sorted([TARBALL, WHEEL])
    containerfile = (context / "Containerfile").read_text()
    galaxy_stage = containerfile.split("FROM base AS galaxy", 1)[1].split("FROM base AS builder", 1)[0]
    builder_stage = containerfile.split("FROM base AS builder", 1)[1].split("FROM base AS final", 1)[0]
    assert "COPY _build/dist/ /build/dist/" in galaxy_stage
    assert "COPY _build/dist/ /build/dist/" in builder_stage


def test_introspect_installed_collection(builder: str, source: Path, tmp_path: Path) -> None:
    """An EE that lists herokuops.postgres gets herokupg and pg_restore through this file."""
    collections = tmp_path / "collections"
    # Not from the checkout's root: its ansible.cfg shows ansible-galaxy the checkout as installed.
    run_tool([str(Path(sys.executable).parent / "ansible-galaxy"), "collection", "install",
              str(source / "dist" / TARBALL), "-p", str(collections)], cwd=tmp_path)
    installed = collections / "ansible_collections" / "herokuops" / "postgres"
    assert (installed / "requirements.txt").read_text() == (ROOT / "meta" / "requirements.txt").read_text()
    out = run_tool([builder, "introspect", "--sanitize", str(collections)]).stdout
    data = yaml.safe_load(out[out.index("---"):])
    assert any(line.startswith("herokupg>=") and "herokuops.postgres" in line for line in data["python"]), out
    for library in ("httpx>=", "pydantic>="):
        assert any(line.startswith(library) for line in data["python"]), out
    assert any(line.startswith("postgresql-client [platform:dpkg]") for line in data["system"]), out
    assert any(line.startswith("postgresql [platform:rpm]") for line in data["system"]), out
