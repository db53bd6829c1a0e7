"""ansible-lint (production profile, config in /.ansible-lint) over roles/ and playbooks/: no violation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from harness import ROOT, collections_path

BIN = Path(sys.executable).parent


@pytest.mark.timeout(600)
def test_ansible_lint_production_profile_is_clean() -> None:
    lint = BIN / "ansible-lint"
    if not lint.exists():
        pytest.fail("ansible-lint is not installed in this virtualenv: add ansible-lint to tests/requirements.txt")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        ANSIBLE_COLLECTIONS_PATH=str(collections_path()),
        NO_COLOR="1",
    )
    proc = subprocess.run(
        [str(lint), "--nocolor", "--format", "pep8", "--profile", "production", "roles", "playbooks"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=540, check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-8000:]
    assert "violation" not in proc.stdout, output[-8000:]
