#!/usr/bin/env python3
"""Throughput and peak memory of `herokupg slow-queries --file` vs `pgbadger -f logplex -j 1`.

Generates a Heroku-format log (`heroku logs -p postgres` output, multi-line statements of
interleaved processes, router and metrics noise) of at least --mb megabytes, then runs both tools
on it once and prints MB/s and peak RSS. Prints only; asserts nothing.

    .venv/bin/python pycore/bench/slowlog_bench.py [--mb 100] [--keep PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from herokupg.slowlog.workload import heroku_lines, statements


def generate(path: Path, megabytes: float) -> int:
    target = int(megabytes * 1_000_000)
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        for line in heroku_lines(statements(10**9)):
            handle.write(line)
            written += len(line)
            if written >= target:
                break
    return path.stat().st_size


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit code) of one run, its output discarded."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode and proc.stderr is not None:
        sys.stderr.write(proc.stderr.read().decode(errors="replace")[-2000:])
    return wall, usage.ru_maxrss / 1024.0, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=float, default=100.0, help="log size in MB (default 100)")
    parser.add_argument("--keep", type=Path, help="write the log here and keep it (default: a temp dir)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="slowlog-bench-"))
    log = args.keep or workdir / "heroku.log"
    try:
        t0 = time.perf_counter()
        size = generate(log, args.mb)
        mb = size / 1_000_000
        print(f"log: {log} ({mb:.1f} MB, generated in {time.perf_counter() - t0:.1f}s)")
        ours = [sys.executable, "-m", "herokupg.cli", "slow-queries", "--file", str(log), "--format", "json"]
        wall, rss, rc = measure(ours)
        print(f"herokupg slow-queries:   {wall:7.2f}s  {mb / wall:7.1f} MB/s  peak RSS {rss:7.1f} MB  "
              f"(exit {rc})")
        pgbadger = shutil.which("pgbadger")
        if pgbadger is None:
            print("pgbadger: not installed (apt-get install -y pgbadger); no comparison")
            return 0
        out = workdir / "pgbadger.json"
        wall_b, rss_b, rc_b = measure([pgbadger, "-q", "-f", "logplex", "-j", "1", "-o", str(out), str(log)])
        print(f"pgbadger -f logplex -j1: {wall_b:7.2f}s  {mb / wall_b:7.1f} MB/s  peak RSS {rss_b:7.1f} MB  "
              f"(exit {rc_b})")
        print(f"speed-up: {wall_b / wall:.1f}x")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
