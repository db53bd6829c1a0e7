"""`pycore/bench/ops_bench.py --quick` and `import_costs.py --reps 1` run to the end and print their
tables (figures are not checked).

It runs the real Heroku CLI and ansible against a sandbox of its own, like `make bench` does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from checkout import collections_dir

ROOT = Path(__file__).resolve().parents[2]

HEADERS = [
    "## 1. HTTP requests per operation",
    "## 2. Wall time per task",
    "## 3. The guide's workflow",
    "## 3b. The workflow per step",
    "## 4. Polling",
]


def test_ops_bench_quick_prints_its_tables() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEROKU_", "ANSIBLE_"))}
    env["ANSIBLE_COLLECTIONS_PATH"] = str(collections_dir())  # this checkout, as ansible.cfg finds it
    if os.environ.get("HEROKU_CLI"):
        env["HEROKU_CLI"] = os.environ["HEROKU_CLI"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "pycore" / "bench" / "ops_bench.py"), "--quick"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    for header in HEADERS:
        assert header in done.stdout, f"{header!r} missing:\n{done.stdout[-4000:]}"


def test_import_costs_prints_its_tables() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEROKU_", "ANSIBLE_"))}
    env["ANSIBLE_COLLECTIONS_PATH"] = str(collections_dir())  # this checkout, as ansible.cfg finds it
    done = subprocess.run(
        [sys.executable, str(ROOT / "pycore" / "bench" / "import_costs.py"), "--reps", "1"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    for header in ("## 1. CPU ms of each step", "## 2. python -X importtime", "httpx.Client()", "httpcore"):
        assert header in done.stdout, f"{header!r} missing:\n{done.stdout[-4000:]}"
