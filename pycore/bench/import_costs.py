#!/usr/bin/env python3
"""What a module run pays for herokupg's libraries (httpx, pydantic), step by step.

1. CPU milliseconds (``time.process_time``, fresh interpreter each, median of --reps) of each step,
   in a process that has already imported ``ansible.module_utils.basic`` as a module run has:
   importing httpx (with and without its optional CLI), making the ``httpx.Client`` (httpcore and
   the TLS context), importing pydantic and herokupg.models, and the first validation of a model.
   CPU time rather than wall time: it moves much less when the machine is shared.
2. ``python -X importtime`` of a whole ``heroku_pg_info`` run against a memory-engine sandbox (so
   the imports httpx and pydantic make lazily, at the first request or validation, count too): the
   cumulative milliseconds of the main imports, median of --reps.

Prints only; asserts nothing.

    .venv/bin/python pycore/bench/import_costs.py [--reps 9]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import collections_path, compile_core, load_average, table
from herokupg_sandbox.threaded import ThreadedSandbox, seed_app, seed_database

HEAD = "import time, ansible.module_utils.basic\n_t = [0.0]\ndef T(): _t[0] = time.process_time()\n"
TAIL = "\nprint((time.process_time() - _t[0]) * 1000)"
SKIP_CLI = "import sys\nsys.modules['httpx._main'] = None\n"
ATTACHMENT = "{'id': 'i', 'name': 'DATABASE', 'app': {'id': 'a'}, 'addon': {'id': 'x', 'name': 'y'}}"
STEPS = [
    ("import httpx, its CLI skipped (as herokupg.client does)", SKIP_CLI + "T()\nimport httpx"),
    ("import httpx with its CLI (click and rich are installed here)", "T()\nimport httpx"),
    ("httpx.Client(): httpcore import and TLS context (CA bundle)",
     SKIP_CLI + "import httpx\nT()\nhttpx.Client()"),
    ("from pydantic import BaseModel", "T()\nfrom pydantic import BaseModel"),
    ("import herokupg.models (its 23 models, defer_build)",
     "import herokupg.errors\nT()\nimport herokupg.models"),
    (
        "import herokupg.models and build every model's validator",
        "import herokupg.errors\nT()\nimport herokupg.models as m\n"
        "for c in vars(m).values():\n"
        "    if isinstance(c, type) and issubclass(c, m.HerokuModel): c.model_rebuild(force=True)",
    ),
    ("first validation (Attachment: the schema machinery)",
     f"import herokupg.models as m\nT()\nm.parse(m.Attachment, {ATTACHMENT})"),
    ("a later first validation (Transfer)",
     f"import herokupg.models as m\nm.parse(m.Attachment, {ATTACHMENT})\n"
     "T()\nm.parse(m.Transfer, {'uuid': 'u'})"),
]
IMPORTS = [
    "ansible.module_utils.basic", "ansible_collections.herokuops.postgres.plugins.module_utils._heroku_pg",
    "herokupg.api", "herokupg.client", "herokupg.models", "httpx", "httpcore", "pydantic", "pydantic_core",
    "pydantic._internal._generate_schema", "ssl", "certifi", "urllib.request", "http.client",
]
LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| \s*(\S+)")


def cpu_steps(reps: int) -> str:
    rows = []
    for name, body in STEPS:
        samples = []
        for _ in range(reps):
            code = HEAD + body + TAIL
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            samples.append(float(done.stdout))
        rows.append([name, statistics.median(samples), min(samples)])
    return table(f"1. CPU ms of each step after ansible.module_utils.basic, median of {reps}",
                 ["step", "median ms", "min ms"], rows)


def importtime(reps: int) -> str:
    base = Path(tempfile.mkdtemp(prefix="import-costs-"))
    with ThreadedSandbox(base / "sandbox") as sb:
        seed_app(sb, "imports")
        seed_database(sb, "imports")
        args = base / "args.json"
        args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
            "app": "imports", "api_url": sb.url, "api_key": sb.token,
            "_ansible_remote_tmp": str(base), "_ansible_tmpdir": str(base),
        }}))
        env = {**os.environ, "PYTHONPATH": str(collections_path())}
        samples: dict[str, list[float]] = {}
        for _ in range(reps):
            done = subprocess.run(
                [sys.executable, "-X", "importtime", "-m",
                 "ansible_collections.herokuops.postgres.plugins.modules.heroku_pg_info", str(args)],
                env=env, capture_output=True, text=True, check=True,
            )
            seen: dict[str, int] = {}
            for match in LINE.finditer(done.stderr):
                seen.setdefault(match.group(2), int(match.group(1)))
            for name in IMPORTS:
                if name in seen:
                    samples.setdefault(name, []).append(seen[name] / 1000)
    rows = [[name, statistics.median(samples[name])] for name in IMPORTS if name in samples]
    return table(
        f"2. python -X importtime of a heroku_pg_info run, cumulative ms (first importer), median of {reps}",
        ["import", "ms"], rows,
    ) + ("\nEach import is charged to whoever imports it first: the module_utils line holds\n"
         "ansible.module_utils.basic and herokupg; httpcore and pydantic's schema builder are\n"
         "imported at the first request and the first validation.\n")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=9, help="runs per figure (default 9)")
    args = parser.parse_args()
    compile_core()
    print(f"# import_costs; load average at start: {load_average()}\n", flush=True)
    print(cpu_steps(args.reps), flush=True)
    print(importtime(args.reps))
    print(f"# load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
