"""`herokupg slow-queries --file` (and stdin) as a subprocess; the SSE reader on canned streams."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from herokupg.slowlog.files import iter_file_blocks, iter_file_lines, split_lines
from herokupg.slowlog.parse import CUT_MARKER
from herokupg.slowlog.source import iter_sse_log_lines
from herokupg.slowlog.workload import heroku_lines, statements

TS = "2026-11-25T14:00:00.123456+00:00"
OK = "sql_error_code = 00000 LOG:  "
LOG = "".join(
    f"{line}\n"
    for line in [
        f"{TS} app[postgres.1]: [DATABASE] [5-1]  {OK}duration: 2500 ms  statement: SELECT *",
        f"{TS} app[postgres.2]: [PINK] [8-1]  {OK}duration: 4000 ms  statement: SELECT 2",
        f"{TS} app[postgres.1]: [DATABASE] [5-2] FROM users WHERE id = 1",
        f"{TS} app[postgres.1]: [DATABASE] [6-1]  {OK}duration: 3500 ms  statement: "
        "SELECT * FROM users WHERE id = 2",
        f"{TS} app[postgres.1]: [DATABASE] [7-1]  {OK}duration: 100 ms  statement: "
        "SELECT * FROM users WHERE id = 3",
        f"{TS} heroku[router]: at=info method=GET path=\"/\"",
        "not a log line",
    ]
)


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "herokupg.cli", "slow-queries", *args],
        input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )


def test_file_json_report(tmp_path: Path) -> None:
    path = tmp_path / "postgres.log"
    path.write_text(LOG)
    run = cli("--file", str(path), "--format", "json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    users, two = data["queries"]
    assert users["query"] == "select * from users where id = ?"
    assert (users["count"], users["total_ms"], users["max_ms"]) == (3, 6100.0, 3500.0)
    assert two["query"] == "select ?" and two["count"] == 1
    assert data["summary"]["malformed_lines"] == 1 and data["summary"]["ignored_lines"] == 1
    assert data["summary"]["lines"] == 7


def test_stdin_with_threshold_database_sort_and_top() -> None:
    run = cli("--file", "-", "--format", "json", "--threshold", "2500", "--sort", "count", "--top", "1",
              "--database", "DATABASE", stdin=LOG)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    [row] = data["queries"]
    assert (row["count"], row["total_ms"]) == (2, 6000.0)
    assert data["summary"]["below_threshold"] == 1 and data["summary"]["queries"] == 2


def test_table_output(tmp_path: Path) -> None:
    path = tmp_path / "w.log"
    with path.open("w") as handle:
        handle.writelines(heroku_lines(statements(300, seed=5)))
    run = cli("--file", str(path), "--top", "3")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split()[:4] == ["#", "total", "ms", "share"]
    assert [line.split()[0] for line in lines[1:4]] == ["1", "2", "3"]
    assert "300 slow queries in" in run.stdout and "0 malformed" in run.stdout


def test_table_words_timestamps_and_values() -> None:
    statement = "SELECT * FROM t WHERE a IN (7)"
    one = f"{TS} app[postgres.1]: [DATABASE] [9-1]  {OK}duration: 2500 ms  statement: {statement}\n"
    run = cli("--file", "-", stdin=one)
    assert run.returncode == 0, run.stderr
    summary = run.stdout.splitlines()[-1]
    assert summary.startswith("1 slow query in 1 fingerprint, 2,500 ms in all, 2026-11-25 14:00:00+00:00 .. ")
    assert "; 1 line read," in summary and ".123456" not in run.stdout
    assert run.stdout.splitlines()[0].endswith("  query") and "where a in (...)" in run.stdout
    shown = cli("--file", "-", "--show-values", stdin=one)
    assert shown.stdout.splitlines()[0].endswith("  example") and "WHERE a IN (7)" in shown.stdout


def test_no_slow_query_is_said_without_an_empty_table() -> None:
    quiet = f"{TS} app[postgres.1]: [DATABASE] [9-1]  {OK}checkpoint complete\n"
    run = cli("--file", "-", stdin=quiet)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("No slow queries found.\n") and "total ms" not in run.stdout


def test_input_without_postgres_lines_is_an_error(tmp_path: Path) -> None:
    router = tmp_path / "router.log"
    router.write_text(f'{TS} heroku[router]: at=info method=GET path="/"\nnot a log line\n')
    for args, stdin, where in ((["--file", str(router)], None, str(router)), (["--file", "-"], "", "stdin")):
        run = cli(*args, stdin=stdin)
        assert run.returncode == 1 and run.stdout == ""
        assert f"no Heroku Postgres log line in {where}" in run.stderr
        assert "heroku logs -p postgres" in run.stderr
    assert "(2 lines read)" in cli("--file", str(router)).stderr
    assert "(0 lines read)" in cli("--file", "-", stdin="").stderr


def test_usage_errors() -> None:
    assert cli().returncode == 2
    assert cli("--file", "x", "-a", "app").returncode == 2
    bad = cli("--file", "-", "--top", "0", stdin="")
    assert bad.returncode == 2 and "--top" in bad.stderr
    missing = cli("--file", "/nonexistent/log")
    assert missing.returncode == 1 and "No such file" in missing.stderr


def test_sse_events_carry_batched_lines() -> None:
    stream = [
        ": keep-alive\n", "\n",
        "id: 1\n", "data: line one\n", "\n",
        "data: line two\n", "data: line three\n", "\n",
        "event: message\n", "data: line four\n", "retry: 1000\n",
        "data:line five\n", "\n",
        "data: line six",  # the server ended the stream mid-event
    ]
    # several data fields in one event: several log lines, as logplex batches them
    assert list(iter_sse_log_lines(iter(stream))) == [
        "line one", "line two", "line three", "line four", "line five", "line six",
    ]
    assert list(iter_sse_log_lines(iter(["data: a\n", "data:\n", "data: b\n", "\n"]))) == ["a", "b"]


def test_file_blocks_keep_every_line_across_block_bounds(tmp_path: Path) -> None:
    log = tmp_path / "crlf.log"
    log.write_bytes(LOG.replace("\n", "\r\n").encode() + b"no newline at the end \xff")
    seen: list[tuple[int, int]] = []
    blocks = list(iter_file_blocks(log, block=100, progress=lambda b, n: seen.append((b, n))))
    assert len(blocks) > 2  # small blocks: the lines still come out whole and in order
    lines = [line for block in blocks for line in block]
    assert lines == list(iter_file_lines(log))
    assert "\n".join(lines) == LOG.replace("\n", "\r\n") + "no newline at the end \ufffd"
    assert sum(b for b, _ in seen) == log.stat().st_size and sum(n for _, n in seen) == len(lines)


def test_a_line_longer_than_the_cap_is_cut_and_the_rest_skipped() -> None:
    data = b"first\n" + b"z" * 2500 + "é".encode() * 500 + b"\nnext\n\xc3"  # a cut UTF-8 sequence last
    blocks = list(split_lines(io.BytesIO(data), block=64, cap=1000))
    assert [line for block in blocks for line in block] == [
        "first", "z" * 1000 + CUT_MARKER, "next", "\ufffd"
    ]


PEAK_MEMORY = """
import sys
from herokupg.cli import main
code = main(["slow-queries", "--quiet", "--format", "json", "--file", sys.argv[1]])
status = open("/proc/self/status").read()
print(code, [int(l.split()[1]) for l in status.splitlines() if l.startswith("VmHWM:")][0], file=sys.stderr)
"""


def test_memory_stays_bounded_on_a_100_mb_line(tmp_path: Path) -> None:
    # One statement of 100 MB on one line (issue 15 item 9: it used to peak at 715 MB). The child
    # reads its own high-water mark (VmHWM: this process image only, not what fork copied).
    log = tmp_path / "long.log"
    with log.open("wb") as out:
        out.write(f"{TS} app[postgres.1]: [DATABASE] [1-1]  {OK}duration: 9 ms  statement: SELECT '".encode())
        for _ in range(100):
            out.write(b"v" * 1_000_000)
        out.write(f"'\n{TS} app[postgres.1]: [DATABASE] [2-1]  {OK}duration: 1 ms  statement: SELECT 1\n"
                  .encode())
    done = subprocess.run([sys.executable, "-c", PEAK_MEMORY, str(log)], capture_output=True, text=True,
                          timeout=300, check=False)
    code, peak_kb = done.stderr.split()[-2:]
    report = json.loads(done.stdout)
    assert code == "0" and report["summary"]["queries"] == 2 and report["summary"]["truncated_messages"] == 1
    assert int(peak_kb) < 100 * 1024, f"peak {int(peak_kb) / 1024:.0f} MB"
