#!/usr/bin/env python3
"""Throughput and peak memory of `herokupg slow-queries --file` vs `pgbadger -f logplex -j 1`.

Three comparisons: the JSON report against pgBadger's JSON output, the whole HTML page (charts
and table) against pgBadger's HTML report, and the peak memory of our report on one log line of
--long-mb megabytes (a single huge statement: it is cut at 1 MiB and the rest skipped).

The log: Heroku-format lines (`heroku logs -p postgres`) of at least --mb megabytes made from a
real pgbench run (herokupg_sandbox.pgengine.pgbench_log; kept in .cache/bench and reused while it
is big enough, --fresh rebuilds it), or with --synthetic the generated workload of
herokupg.slowlog.workload (long multi-line statements of interleaved processes, router and metrics
noise). Both tools read the same file once; the table gives wall seconds, MB/s, CPU seconds and
peak RSS. Ours also reads the first tenth of the file: its peak memory depends on the number of
fingerprints, not on the input size.
Prints only; asserts nothing.

    .venv/bin/python pycore/bench/slowlog_bench.py [--mb 100] [--synthetic] [--fresh] [--log PATH]
                                                   [--long-mb 300]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from herokupg_sandbox.pgengine.pgbench_log import make_log

from herokupg.slowlog.workload import heroku_lines, statements

CACHE = Path(__file__).resolve().parents[2] / ".cache" / "bench"


def synthetic(path: Path, megabytes: float) -> None:
    target = int(megabytes * 1_000_000)
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        for line in heroku_lines(statements(10**9)):
            handle.write(line)
            written += len(line)
            if written >= target:
                break


def pgbench_log(megabytes: float, fresh: bool) -> Path:
    path = CACHE / f"pgbench-{megabytes:g}mb.log"
    if fresh or not path.exists() or path.stat().st_size < megabytes * 1_000_000:
        CACHE.mkdir(parents=True, exist_ok=True)
        done = make_log(path, megabytes)
        print(f"made {path.name}: {int(done['transactions'])} pgbench transactions in "
              f"{int(done['rounds'])} rounds, {done['seconds']:.0f} s")
    return path


def long_line(path: Path, megabytes: float) -> Path:
    """A Heroku log whose first statement is one line of ``megabytes`` MB, then an ordinary one."""
    ts = "2026-11-25T14:00:00.000000+00:00"
    prefix = f"{ts} app[postgres.1]: [DATABASE] [%d-1]  sql_error_code = 00000 LOG:  duration: %s ms  "
    prefix += "statement: "
    with path.open("wb") as out:
        out.write((prefix % (1, "9.5") + "SELECT '").encode())
        chunk = b"x" * 1_000_000
        for _ in range(int(megabytes)):
            out.write(chunk)
        out.write(("'\n" + prefix % (2, "1.0") + "SELECT 1\n").encode())
    return path


def head(src: Path, dst: Path, fraction: float) -> Path:
    """The first ``fraction`` of ``src``, cut at a line end."""
    limit = int(src.stat().st_size * fraction)
    with src.open("rb") as inp, dst.open("wb") as out:
        out.write(inp.read(limit))
        out.write(inp.readline())
    return dst


@dataclass
class Run:
    wall: float  # seconds
    cpu: float | None  # user + system seconds
    rss: float | None  # peak MB
    code: int


def measure(cmd: list[str], stdout: Path) -> Run:
    """One run of ``cmd``, its output to ``stdout``.

    CPU time and peak memory come from GNU time, not from our own wait4: a child forked from this
    process starts with this process's memory, and Linux keeps that in the child's peak across exec."""
    gnu_time = Path("/usr/bin/time")
    usage = stdout.with_suffix(".usage")
    prefix = [str(gnu_time), "-f", "%U %S %M", "-o", str(usage)] if gnu_time.exists() else []
    start = time.perf_counter()
    with stdout.open("wb") as out:
        done = subprocess.run([*prefix, *cmd], stdout=out, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - start
    if done.returncode:
        sys.stderr.write(done.stderr.decode(errors="replace")[-2000:])
    if not prefix or not usage.exists():
        return Run(wall, None, None, done.returncode)
    user, system, peak_kb = usage.read_text().split("\n")[-2].split()
    return Run(wall, float(user) + float(system), int(peak_kb) / 1024.0, done.returncode)


def row(name: str, log: Path, run: Run, extra: str = "") -> None:
    mb = log.stat().st_size / 1e6
    cpu = f"{run.cpu:8.2f}" if run.cpu is not None else f"{'n/a':>8}"
    peak = f"{run.rss:8.1f}" if run.rss is not None else f"{'n/a':>8}"
    print(f"{name:<26} {mb:6.1f} {run.wall:8.2f} {mb / run.wall:6.1f} {cpu} {peak} {run.code:4d}  {extra}")


def speedup(what: str, theirs: Run, mine: Run) -> None:
    text = f"speed-up, {what} (pgbadger / ours): {theirs.wall / mine.wall:.1f}x wall time"
    if theirs.cpu and mine.cpu:
        text += f", {theirs.cpu / mine.cpu:.1f}x CPU time"
    print(text)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=float, default=100.0, help="log size in MB (default 100)")
    parser.add_argument("--synthetic", action="store_true", help="the generated workload, not pgbench")
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached pgbench log")
    parser.add_argument("--log", type=Path, help="measure this Heroku-format log instead")
    parser.add_argument("--long-mb", type=float, default=300.0,
                        help="size of the single-line statement of the memory row (default 300; 0: none)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="slowlog-bench-"))
    try:
        if args.log:
            log = args.log
        elif args.synthetic:
            log = workdir / "synthetic.log"
            synthetic(log, args.mb)
        else:
            log = pgbench_log(args.mb, args.fresh)
        part = head(log, workdir / "first-tenth.log", 0.1)
        print(f"log: {log} ({log.stat().st_size / 1e6:.1f} MB); load average {os.getloadavg()[0]:.2f}; "
              f"herokupg on Python {platform.python_version()} ({os.path.realpath(sys.executable)})")
        header = ("tool", "MB", "wall s", "MB/s", "CPU s", "RSS MB", "exit")
        print("{:<26} {:>6} {:>8} {:>6} {:>8} {:>8} {:>4}  notes".format(*header))
        ours = [sys.executable, "-m", "herokupg.cli", "slow-queries", "--quiet", "--format", "json", "--file"]
        runs: dict[str, Run] = {}
        for name, path in (("herokupg slow-queries", log), ("herokupg (first tenth)", part)):
            out = workdir / "ours.json"
            runs[name] = measure([*ours, str(path)], out)
            summary = json.loads(out.read_text())["summary"] if runs[name].code == 0 else {}
            row(name, path, runs[name],
                f"{summary.get('queries', 0)} queries, {summary.get('fingerprints', 0)} fingerprints")
        page = workdir / "ours.html"
        html = [sys.executable, "-m", "herokupg.cli", "slow-queries", "--quiet", "--format", "html", "--file"]
        runs["html"] = measure([*html, str(log), "--output", str(page)], workdir / "ours-html.out")
        charts = page.read_text().count("<svg") if runs["html"].code == 0 else 0
        row("herokupg --format html", log, runs["html"],
            f"{page.stat().st_size / 1000 if page.exists() else 0:.0f} kB page, {charts} charts")
        if args.long_mb > 0:
            long_log = long_line(workdir / "long-line.log", args.long_mb)
            runs["long"] = measure([*ours, str(long_log)], workdir / "long.json")
            row(f"herokupg, a {args.long_mb:g} MB line", long_log, runs["long"], "peak memory bound: 100 MB")
            long_log.unlink()
        pgbadger = shutil.which("pgbadger")
        if pgbadger is None:
            print("pgbadger: not installed (apt-get install -y pgbadger); no comparison")
            return 0
        badger = [pgbadger, "-q", "-f", "logplex", "-j", "1"]
        theirs = measure([*badger, "-o", str(workdir / "pgbadger.json"), str(log)], workdir / "pgbadger.out")
        row("pgbadger -f logplex -j 1", log, theirs, "JSON output")
        theirs_html = measure([*badger, "-o", str(workdir / "pgbadger.html"), str(log)],
                              workdir / "pgbadger.out")
        row("pgbadger, HTML report", log, theirs_html, "HTML output")
        speedup("JSON report", theirs, runs["herokupg slow-queries"])
        speedup("HTML page", theirs_html, runs["html"])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
