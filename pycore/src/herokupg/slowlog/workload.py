# ruff: noqa: S608, S311
"""A synthetic slow-query workload, written as Heroku log lines or PostgreSQL's own stderr log.

For benchmarks and for cross-checking against pgBadger: the same statements with the same
durations in both formats. Deterministic for a given seed. Heroku output interleaves the
``[N-k]`` lines of concurrent processes (each process' own lines stay in order) and mixes in
router and ``heroku-postgres`` metrics lines, as a real ``heroku logs`` capture does.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# PostgreSQL log_line_prefix of the stderr output (pass it to pgbadger --prefix).
STDERR_PREFIX = "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h "


def _ids(r: random.Random) -> str:
    return ", ".join(str(r.randint(1, 99999)) for _ in range(r.randint(1, 12)))


def _name(r: random.Random) -> str:
    """A name as an SQL string's content (quotes doubled)."""
    return r.choice(["alice", "bob", "o''brien", "zoë", "carol", "dave"]) + str(r.randint(1, 999))


# Each template: (kind, builder). Kind "execute" is logged as `execute <unnamed>:`.
# Test data, never run against a database (hence noqa S608 on the file's SQL strings).
TEMPLATES: list[tuple[str, Callable[[random.Random], str]]] = [
    ("statement", lambda r: f"SELECT * FROM users WHERE id = {r.randint(1, 10**6)}"),
    ("statement", lambda r: f"SELECT *\n  FROM orders\n  WHERE user_id = {r.randint(1, 10**6)}\n"
                            f"  ORDER BY created_at DESC\n  LIMIT {r.choice([10, 20, 50])}"),
    ("statement", lambda r: f"SELECT id, email FROM accounts WHERE email = '{_name(r)}@example.com'"),
    ("statement", lambda r: f"SELECT count(*) FROM events WHERE kind IN ({_ids(r)})"),
    ("statement", lambda r: f"UPDATE carts\n   SET total = {r.randint(1, 999)}.{r.randint(10, 99)}\n"
                            f" WHERE id = {r.randint(1, 10**5)}"),
    ("statement", lambda r: "INSERT INTO audit (actor, action, at) VALUES "
                            + ", ".join(f"('{_name(r)}', 'login', now())" for _ in range(r.randint(1, 5)))),
    ("statement", lambda r: "DELETE FROM sessions\n"
                            f"WHERE expires_at < now() - interval '{r.randint(1, 30)} days'"),
    ("statement", lambda r: "SELECT p.id, p.title,\n       c.name\n  FROM posts p\n  JOIN categories c "
                            "ON c.id = p.category_id\n WHERE p.published\n"
                            f"   AND p.score > {r.randint(1, 100)}"),
    ("execute", lambda r: "SELECT * FROM products WHERE sku = $1 AND warehouse_id = $2"),
    ("execute", lambda r: "UPDATE inventory SET qty = qty - $1\nWHERE product_id = $2"),
    ("statement", lambda r: f"SELECT sum(amount) FROM payments WHERE account_id = {r.randint(1, 5000)} "
                            f"AND created_at > '2026-0{r.randint(1, 9)}-1{r.randint(0, 9)}'"),
    ("statement", lambda r: f"VACUUM ANALYZE big_table_{r.choice(['a', 'b'])}"),
]
# relative frequency and typical duration (ms) of each template
_WEIGHTS = [30, 12, 10, 9, 8, 6, 3, 6, 10, 5, 4, 1]
_TYPICAL_MS = [250.0, 900.0, 400.0, 1200.0, 300.0, 150.0, 4000.0, 2500.0, 120.0, 200.0, 800.0, 30000.0]


@dataclass(frozen=True)
class Statement:
    when: datetime
    pid: int
    duration_ms: float
    kind: str
    sql: str
    template: int


def statements(count: int, seed: int = 7, start: datetime | None = None) -> Iterator[Statement]:
    r = random.Random(seed)
    when = start or datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    pids = [r.randint(1000, 60000) for _ in range(24)]
    for _ in range(count):
        t = r.choices(range(len(TEMPLATES)), weights=_WEIGHTS)[0]
        kind, build = TEMPLATES[t]
        when += timedelta(microseconds=r.randint(1, 400_000))
        duration = round(_TYPICAL_MS[t] * r.lognormvariate(0, 0.6), 3)
        yield Statement(when, r.choice(pids), duration, kind, build(r), t)


def _body(s: Statement) -> str:
    what = "statement: " if s.kind == "statement" else "execute <unnamed>: "
    return f"duration: {s.duration_ms:.3f} ms  {what}{s.sql}"


def heroku_lines(stmts: Iterator[Statement], seed: int = 11, prefix: bool = True) -> Iterator[str]:
    """``heroku logs -p postgres`` lines (with newline), continuation lines of processes interleaved."""
    r = random.Random(seed)
    seq: dict[int, int] = {}
    pending: list[list[str]] = []  # per in-flight message: its remaining lines, in order
    for s in stmts:
        n = seq[s.pid] = seq.get(s.pid, 0) + 1
        ts = s.when.isoformat(timespec="microseconds")
        head = f"{ts} app[postgres.{s.pid}]: [DATABASE] [{n}-1]  sql_error_code = 00000 "
        if prefix:
            head += (
                f'time_ms="{s.when:%Y-%m-%d %H:%M:%S}.{s.when.microsecond // 1000:03d} UTC" pid="{s.pid}" '
                f'session_id="6573a1b2.{s.pid:x}" log_line="{n}" database="d8f3k2" '
                f'connection_source="10.1.2.3(54321)" user="u4ab9" application_name="web.1" '
            )
        body = _body(s).split("\n")
        lines = [f"{head}LOG:  {body[0]}\n"]
        lines += [
            f"{ts} app[postgres.{s.pid}]: [DATABASE] [{n}-{k}] {text}\n" for k, text in enumerate(body[1:], 2)
        ]
        # a process' next message never overtakes its previous one: finish that first
        for item in [p for p in pending if p and f"app[postgres.{s.pid}]" in p[0]]:
            yield from item
            item.clear()
        pending = [p for p in pending if p]
        pending.append(lines)
        while len(pending) > 2 or (pending and r.random() < 0.3):
            item = r.choice(pending)
            yield item.pop(0)
            pending = [p for p in pending if p]
        if r.random() < 0.05:
            yield f"{ts} heroku[router]: at=info method=GET path=\"/\" host=app.herokuapp.com status=200\n"
        if r.random() < 0.01:
            yield (f"{ts} app[heroku-postgres]: source=DATABASE addon=postgresql-curved-12345 "
                   "sample#current_transaction=1873 sample#db_size=26311547bytes sample#tables=12\n")
    for item in pending:
        yield from item


def stderr_lines(stmts: Iterator[Statement]) -> Iterator[str]:
    """PostgreSQL's own stderr log with :data:`STDERR_PREFIX` (continuation lines start with a tab)."""
    seq: dict[int, int] = {}
    for s in stmts:
        n = seq[s.pid] = seq.get(s.pid, 0) + 1
        head = f"{s.when:%Y-%m-%d %H:%M:%S} UTC [{s.pid}]: [{n}-1] "
        head += "user=u4ab9,db=d8f3k2,app=web.1,client=10.1.2.3 "
        body = _body(s).split("\n")
        yield f"{head}LOG:  {body[0]}\n"
        for text in body[1:]:
            yield f"\t{text}\n"
