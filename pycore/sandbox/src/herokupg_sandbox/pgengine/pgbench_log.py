"""A Heroku-format Postgres log (`heroku logs -p postgres` lines) made from a real pgbench run.

A throwaway PostgreSQL cluster (the sandbox's postgres engine code: run as the `postgres` user when
we are root) logs every statement (log_min_duration_statement = 0) while pgbench runs the built-in
tpcb-like and select-only scripts plus a script of multi-line statements with IN-lists and string
constants. The native log is turned into Heroku's lines by the sandbox's own converter (per-process
``[N-k]`` numbering, continuation lines for multi-line statements) as it grows; pgbench runs in
rounds until the Heroku log reaches the requested size.

    python -m herokupg_sandbox.pgengine.pgbench_log OUT.log [--mb 100]
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

from herokupg_sandbox.engine import EngineError, LogLine
from herokupg_sandbox.logs import log_time
from herokupg_sandbox.pgengine import binaries
from herokupg_sandbox.pgengine.cluster import ADMIN_USER, Cluster, free_port, quote_literal
from herokupg_sandbox.pgengine.logformat import HerokuNumbering
from herokupg_sandbox.redact import register_secret

ATTACHMENT = "DATABASE"
FIRST_ROUND_SECONDS = 5
CLIENTS = 4  # a client stopped by -T may leave its last transaction half-run: counts vary by this
SCALE = 4
# Multi-line statements (continuation lines in Heroku's log), IN-lists and string constants.
MULTILINE_SCRIPT = r"""\set aid random(1, 100000 * :scale)
\set bid random(1, :scale)
\set tid random(1, 10 * :scale)
\set delta random(-5000, 5000)
SELECT a.aid, a.abalance,
       b.bbalance
  FROM pgbench_accounts a
  JOIN pgbench_branches b ON b.bid = a.bid
 WHERE a.aid IN (:aid, :aid + 1, :aid + 2, :aid + 3)
   AND b.bid = :bid;
UPDATE pgbench_tellers
   SET tbalance = tbalance + :delta,
       filler = 'batch ' || :tid
 WHERE tid = :tid;
SELECT count(*) FROM pgbench_history WHERE tid = :tid AND delta > :delta AND aid < 1000;
"""


class HerokuLogWriter:
    """Follows a growing native log and appends its Heroku lines to ``out``."""

    def __init__(self, native: Path, out: Path) -> None:
        self.native = native
        self.out = out.open("w", encoding="utf-8")
        self.offset = 0
        self.written = 0
        self.numbering = HerokuNumbering(frozenset({ADMIN_USER}), self._write)

    def _write(self, line: LogLine) -> None:
        text = f"{log_time(line.ts)} app[{line.proc}]: [{ATTACHMENT}] {line.body}\n"
        self.out.write(text)
        self.written += len(text.encode())

    def follow(self, *, final: bool = False) -> int:
        """Convert the complete lines written since the last call; the Heroku log's size so far."""
        with self.native.open("rb") as handle:
            handle.seek(self.offset)
            data = handle.read()
        end = data.rfind(b"\n")
        if end >= 0:
            raw = data[: end + 1].split(b"\n")[:-1]
            used = self.numbering.consume([line.decode("utf-8", "replace") for line in raw], final=final)
            self.offset += sum(len(line) + 1 for line in raw[:used])
        self.out.flush()
        return self.written

    def close(self) -> None:
        self.out.close()


def _pgbench(cluster: Cluster, password: str, args: list[str]) -> str:
    env = {"PGPASSWORD": password, "PGAPPNAME": "pgbench"}
    done = cluster.bins.run(
        "pgbench", ["-h", "127.0.0.1", "-p", str(cluster.port), "-U", "app", *args, "app"],
        env=env, timeout=900,
    )
    return done.stdout + done.stderr


def make_log(
    out: Path, megabytes: float, *, progress: bool = True, first_round: int = FIRST_ROUND_SECONDS
) -> dict[str, float]:
    """Write at least ``megabytes`` MB of Heroku log lines to ``out``; what the run did."""
    bins = binaries.find()
    if bins is None:
        raise EngineError("pgbench_log: no PostgreSQL server binaries found (postgresql-15)")
    work = Path(tempfile.mkdtemp(prefix="herokupg-pgbench-"))  # $TMPDIR, else /tmp
    work.chmod(0o755)  # the server runs as `postgres` when we are root
    cluster = Cluster(work / "cluster", bins, free_port(), secrets.token_hex(16))
    password = secrets.token_hex(16)
    for secret in (cluster.admin_password, password):
        register_secret(secret)  # before any command can echo it (psql prints the SQL it rejects)
    started = time.monotonic()
    rounds = transactions = 0
    try:
        cluster.make_dirs()
        cluster.initdb()
        cluster.write_hba()
        cluster.configure({
            "log_min_duration_statement": 0, "archive_mode": "off", "synchronous_commit": "off",
            "max_wal_size": "1GB", "autovacuum": "off",
        })
        cluster.start()
        cluster.sql(f"CREATE ROLE app LOGIN PASSWORD {quote_literal(password)}")
        cluster.sql("CREATE DATABASE app OWNER app")
        script = work / "multiline.sql"
        script.write_text(MULTILINE_SCRIPT)
        script.chmod(0o644)
        _pgbench(cluster, password, ["-i", "-q", "-s", str(SCALE)])
        writer = HerokuLogWriter(cluster.log, out)
        target = int(megabytes * 1_000_000)
        try:
            seconds = first_round
            while (size := writer.follow()) < target:
                rounds += 1
                round_start = time.monotonic()
                report = _pgbench(cluster, password, [
                    "-n", "-c", str(CLIENTS), "-j", "2", "-T", str(seconds),
                    "-b", "tpcb-like@5", "-b", "select-only@2", "-f", f"{script}@3",
                ])
                transactions += _processed(report)
                grown = writer.follow() - size
                if progress:
                    print(f"  pgbench round {rounds} ({seconds} s): {writer.written / 1e6:.1f} MB "
                          "of Heroku log", file=sys.stderr)
                # the next round: about what is missing at this round's rate (plus 10 %)
                rate = grown / max(time.monotonic() - round_start, 1.0)
                seconds = max(2, min(120, math.ceil((target - writer.written) * 1.1 / max(rate, 1.0))))
            cluster.stop()  # the server writes its last lines on the way down: read them too
            size = writer.follow(final=True)
        finally:
            writer.close()
    finally:
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    return {"mb": size / 1e6, "rounds": rounds, "transactions": transactions,
            "seconds": time.monotonic() - started}


def _processed(report: str) -> int:
    for line in report.splitlines():
        if line.startswith("number of transactions actually processed:"):
            return int(line.split(":")[1].split("/")[0].strip())
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--mb", type=float, default=100.0)
    args = parser.parse_args()
    done = make_log(args.out, args.mb)
    print(f"{args.out}: {done['mb']:.1f} MB from {int(done['transactions'])} pgbench transactions "
          f"in {int(done['rounds'])} rounds, {done['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
