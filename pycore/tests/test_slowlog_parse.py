"""The Heroku log parser: realistic lines (contract §6 samples), reassembly, bad input."""

from __future__ import annotations

import pytest

from herokupg.slowlog.parse import (
    CUT_MARKER,
    MAX_MESSAGE_CHARS,
    ParseStats,
    SlowQuery,
    iter_messages,
    iter_slow_queries,
)

TS = "2023-06-05T19:33:14.793000+00:00"
OK = "sql_error_code = 00000 LOG:  "
PREFIX = (
    'time_ms="2023-06-05 19:33:14.793 UTC" pid="1234" proc_start_time="2023-06-05 19:30:00 UTC" '
    'session_id="647e37e8.4d2" vtid="3/1234" tid="0" log_line="3" database="d8abc" '
    'connection_source="10.0.0.1(5432)" user="u1abc" application_name="web.1" '
)


def queries(*lines: str, stats: ParseStats | None = None) -> list[SlowQuery]:
    return list(iter_slow_queries(lines, stats=stats))


@pytest.mark.parametrize(
    ("line", "duration", "kind", "name", "sql"),
    [
        # 2017+ shape: sql_error_code, no key="value" prefix
        (f"{TS} app[postgres.1234]: [DATABASE] [12-1]  {OK}duration: 2405.887 ms  "
         "statement: SELECT * FROM users", 2405.887, "statement", None, "SELECT * FROM users"),
        # 2022+ shape: the key="value" prefix
        (f"{TS} app[postgres.1234]: [YELLOW] [3-1]  sql_error_code = 00000 {PREFIX}LOG:  duration: 2001 ms  "
         "statement: UPDATE t SET a = 1", 2001.0, "statement", None, "UPDATE t SET a = 1"),
        # 2016 shape: no sql_error_code at all
        (f"{TS} app[postgres.4717]: [DATABASE] [4717-1] LOG:  duration: 3000.5 ms  statement: SELECT 1",
         3000.5, "statement", None, "SELECT 1"),
        # prepared statements
        (f"{TS} app[postgres.77]: [PINK] [9-1]  {OK}duration: 12.5 ms  "
         "execute <unnamed>: SELECT * FROM t WHERE id = $1", 12.5, "execute", "<unnamed>",
         "SELECT * FROM t WHERE id = $1"),
        (f"{TS} app[postgres.77]: [PINK] [9-1]  {OK}duration: 1.25 ms  "
         "execute S_3: SELECT 2", 1.25, "execute", "S_3", "SELECT 2"),
        (f"{TS} app[postgres.77]: [PINK] [9-1]  {OK}duration: 0.5 ms  "
         "execute fetch from S_1/C_2: SELECT 3", 0.5, "execute", "fetch from S_1/C_2", "SELECT 3"),
        (f"{TS} app[postgres.77]: [PINK] [9-1]  {OK}duration: 7 ms  "
         "parse <unnamed>: SELECT $1::int", 7.0, "parse", "<unnamed>", "SELECT $1::int"),
        (f"{TS} app[postgres.77]: [PINK] [9-1]  {OK}duration: 8 ms  "
         "bind <unnamed>: SELECT $1::int", 8.0, "bind", "<unnamed>", "SELECT $1::int"),
        # a CRLF file and a proc without a pid
        (f"{TS} app[postgres]: [DATABASE] [1-1]  {OK}duration: 5 ms  statement: "
         "SELECT 'a: b'\r\n", 5.0, "statement", None, "SELECT 'a: b'"),
    ],
)
def test_one_line_statements(line: str, duration: float, kind: str, name: str | None, sql: str) -> None:
    stats = ParseStats()
    [q] = queries(line, stats=stats)
    assert (q.duration_ms, q.kind, q.name, q.sql) == (duration, kind, name, sql)
    assert q.ts == TS
    assert stats.malformed_lines == 0 and stats.slow_queries == 1


def test_prefix_fields_are_kept() -> None:
    line = f"{TS} app[postgres.1234]: [DATABASE] [3-1]  sql_error_code = 00000 {PREFIX}LOG:  " \
        "duration: 1 ms  statement: SELECT 1"
    [msg] = list(iter_messages([line]))
    assert msg.prefix["database"] == "d8abc" and msg.prefix["connection_source"] == "10.0.0.1(5432)"
    assert msg.sql_error_code == "00000" and msg.level == "LOG" and msg.attachment == "DATABASE"
    [q] = queries(line)
    assert (q.database, q.user, q.proc) == ("d8abc", "u1abc", "postgres.1234")


def test_interleaved_continuation_lines_of_two_processes() -> None:
    lines = [
        f"{TS} app[postgres.1]: [DATABASE] [12-1]  {OK}duration: 2000 ms  statement: SELECT *",
        f"{TS} app[postgres.2]: [DATABASE] [12-1]  {OK}duration: 3000 ms  statement: UPDATE t",
        f"{TS} app[postgres.2]: [DATABASE] [12-2]    SET a = 1",
        f"{TS} app[postgres.1]: [DATABASE] [12-2] FROM users",
        f"{TS} app[heroku-postgres]: source=DATABASE addon=postgresql-x sample#db_size=1bytes",
        f"{TS} app[postgres.1]: [DATABASE] [12-3] WHERE id = 42",
        f"{TS} app[postgres.2]: [DATABASE] [12-3]  WHERE b = 'x'",
        # same pid and N on another database: a different message
        f"{TS} app[postgres.1]: [PINK] [12-1]  {OK}duration: 1 ms  statement: SELECT 9",
    ]
    stats = ParseStats()
    got = {q.sql: q.duration_ms for q in queries(*lines, stats=stats)}
    assert got == {
        "SELECT *\nFROM users\nWHERE id = 42": 2000.0,
        "UPDATE t\n   SET a = 1\n WHERE b = 'x'": 3000.0,  # one separator space dropped
        "SELECT 9": 1.0,
    }
    assert stats.ignored_lines == 1 and stats.malformed_lines == 0 and stats.messages == 3


def test_continuation_lines_out_of_order_are_sorted() -> None:
    lines = [
        f"{TS} app[postgres.1]: [DATABASE] [5-1]  {OK}duration: 10 ms  statement: SELECT a",
        f"{TS} app[postgres.1]: [DATABASE] [5-3] WHERE c",
        f"{TS} app[postgres.1]: [DATABASE] [5-2] FROM b",
    ]
    assert [q.sql for q in queries(*lines)] == ["SELECT a\nFROM b\nWHERE c"]


def test_a_new_statement_number_completes_the_previous_message() -> None:
    lines = [
        f"{TS} app[postgres.1]: [DATABASE] [5-1]  {OK}duration: 10 ms  statement: SELECT a",
        f"{TS} app[postgres.1]: [DATABASE] [5-2] FROM b",
        f"{TS} app[postgres.1]: [DATABASE] [6-1]  sql_error_code = 00000 LOG:  checkpoint starting: time",
    ]
    messages = iter_messages(lines)
    first = next(messages)  # produced by the [6-1] line, before the end of input
    assert first.text == "duration: 10 ms  statement: SELECT a\nFROM b"
    assert next(messages).text == "checkpoint starting: time"


def test_other_sources_and_non_duration_messages_are_ignored() -> None:
    stats = ParseStats()
    lines = [
        f"{TS} heroku[router]: at=info method=GET path=\"/\" status=200",
        f"{TS} app[web.1]: Started GET \"/\"",
        f"{TS} app[heroku-postgres]: source=DATABASE addon=postgresql-x sample#current_transaction=1873",
        f"{TS} app[postgres.4717]: [DATABASE] [4717-1] LOG:  checkpoint starting: time",
        f"{TS} app[postgres.9]: [DATABASE] [8-1]  sql_error_code = 28000 FATAL:  no pg_hba.conf entry",
        f"{TS} app[postgres.9]: [DATABASE] [9-1]  sql_error_code = 57014 ERROR:  canceling statement",
        f"{TS} app[postgres.9]: [DATABASE] [10-1]  sql_error_code = 57014 STATEMENT:  SELECT pg_sleep(10)",
        "",
    ]
    assert queries(*lines, stats=stats) == []
    assert stats.lines == 8 and stats.ignored_lines == 4 and stats.postgres_lines == 4
    assert stats.messages == 4 and stats.malformed_lines == 0


def test_malformed_lines_are_counted_never_fatal() -> None:
    stats = ParseStats()
    lines = [
        "garbage without a timestamp",
        f"{TS} app[postgres.1]: no sequence here",
        f"{TS} app[postgres.1]: [DATABASE] [5-1]  sql_error_code = 00000 no level at all",
        f"{TS} app[postgres.2]: [DATABASE] [7-2] a continuation whose first line was lost",
        f"{TS} app[postgres.3]: [DATABASE] [3-1]  {OK}duration: 2 ms  statement: SELECT 1",
        f"{TS} app[postgres.3]: [DATABASE] [4-1]  {OK}duration: 3 ms  statement: SELECT 2",
        f"{TS} app[postgres.3]: [DATABASE] [3-2] a late line of message 3",
        "\x1b[36m" + f"{TS} app[postgres.4]: [DATABASE] [1-1]  {OK}duration: 4 ms  "
        "statement: SELECT 4\x1b[0m",
    ]
    got = [(q.sql, q.duration_ms) for q in queries(*lines, stats=stats)]
    assert got == [("SELECT 1", 2.0), ("SELECT 2", 3.0), ("SELECT 4", 4.0)]
    assert stats.malformed_lines == 5


def test_duration_alone_is_paired_with_the_statement_logged_before() -> None:
    # log_statement = all: Postgres logs the statement, then "duration: X ms" alone
    lines = [
        f"{TS} app[postgres.5]: [DATABASE] [1-1]  sql_error_code = 00000 LOG:  statement: CREATE TABLE t (",
        f"{TS} app[postgres.5]: [DATABASE] [1-2]   id int)",
        f"{TS} app[postgres.6]: [DATABASE] [1-1]  {OK}duration: 9 ms",
        f"{TS} app[postgres.5]: [DATABASE] [2-1]  {OK}duration: 2500.5 ms",
    ]
    stats = ParseStats()
    got = [(q.sql, q.duration_ms) for q in queries(*lines, stats=stats)]
    assert got == [("CREATE TABLE t (\n  id int)", 2500.5)]
    assert stats.unmatched_durations == 1


def test_attachment_filter() -> None:
    lines = [
        f"{TS} app[postgres.1]: [DATABASE] [1-1]  {OK}duration: 1 ms  statement: SELECT 1",
        f"{TS} app[postgres.2]: [PINK] [1-1]  {OK}duration: 2 ms  statement: SELECT 2",
    ]
    stats = ParseStats()
    got = list(iter_slow_queries(lines, attachments=["HEROKU_POSTGRESQL_PINK_URL"], stats=stats))
    assert [q.sql for q in got] == ["SELECT 2"] and stats.ignored_lines == 1


def test_huge_messages_are_truncated_and_counted() -> None:
    chunk = "x" * 900
    lines = [f"{TS} app[postgres.1]: [DATABASE] [1-1]  {OK}duration: 1 ms  statement: SELECT"]
    more = range(2, 2 + MAX_MESSAGE_CHARS // 900 + 50)
    lines += [f"{TS} app[postgres.1]: [DATABASE] [1-{k}] {chunk}" for k in more]
    stats = ParseStats()
    [q] = queries(*lines, stats=stats)
    assert len(q.sql) <= MAX_MESSAGE_CHARS + len(CUT_MARKER) and stats.truncated_messages == 1
    assert q.sql.endswith("x" + CUT_MARKER)


def test_a_huge_single_line_statement_is_cut_with_a_marker() -> None:
    stats = ParseStats()
    head = f"{TS} app[postgres.1]: [DATABASE] [1-1]  {OK}duration: 1 ms  statement: "
    line = f"{head}SELECT '{'y' * 3_000_000}'"
    [q] = queries(line, f"{TS} app[postgres.1]: [DATABASE] [2-1]  {OK}duration: 2 ms  statement: SELECT 1",
                  stats=stats)[:1]
    assert q.sql.startswith("SELECT 'yyy") and q.sql.endswith("y" + CUT_MARKER)
    assert len(q.sql) < MAX_MESSAGE_CHARS + len(CUT_MARKER) and stats.truncated_messages == 1
