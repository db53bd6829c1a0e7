"""The postgres engine on real PostgreSQL clusters, driven directly (no HTTP).

Select with ``-m postgres``. Every test destroys its clusters, even when it fails; the module
ends by stopping the engine and checking that no server process is left.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from herokupg_sandbox.engine import EngineError
from herokupg_sandbox.pgengine import PostgresEngine, available
from herokupg_sandbox.state import Addon, Database, Transfer, new_id

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not available()[0], reason=f"postgres engine unavailable: {available()[1]}"),
]

TABLE = "CREATE TABLE items (id int PRIMARY KEY, note text);"
CHECKSUM = "SELECT count(*), md5(string_agg(id::text || ':' || note, ',' ORDER BY id)) FROM items"


def url(addon: Addon) -> str:
    db = addon.db
    assert db is not None
    return f"postgres://{db.user}:{db.password}@{db.host}:{db.port}/{db.database_name}"


def psql(addon: Addon, sql: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """A client session through the add-on's URL, like an app would open."""
    done = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url(addon)],
        input=sql, capture_output=True, text=True, timeout=60, check=False,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def one(addon: Addon, sql: str) -> str:
    return psql(addon, sql).stdout.strip()


def eventually(probe: Callable[[], object], expected: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while (value := probe()) != expected:
        assert time.monotonic() < deadline, f"still {value!r}, expected {expected!r}"
        time.sleep(0.05)


def postmasters(path: Path) -> list[str]:
    done = subprocess.run(["pgrep", "-a", "-f", str(path)], capture_output=True, text=True, check=False)
    return [line for line in done.stdout.splitlines() if "pgrep" not in line]


@pytest.fixture(scope="module")
def state_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: as root the servers run as `postgres`, which cannot enter it (0700).
    path = Path(tempfile.mkdtemp(prefix="herokupg-pgengine-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def engine(state_dir: Path) -> Iterator[PostgresEngine]:
    eng = PostgresEngine(state_dir)
    yield eng
    eng.stop()
    assert postmasters(state_dir) == []


class Pg:
    """Builds add-on records like provider.create_database does, and destroys them afterwards."""

    def __init__(self, engine: PostgresEngine) -> None:
        self.engine = engine
        self.addons: list[Addon] = []

    def record(self, name: str) -> Addon:
        now = time.time()
        db = Database(
            database_name="d" + secrets.token_hex(7), user="u" + secrets.token_hex(7),
            password="p" + secrets.token_hex(32), status="creating",
        )
        plan = "heroku-postgresql:standard-0"
        addon = Addon(new_id(), name, "app", plan, "provisioning", now, now, now, db=db)
        self.addons.append(addon)
        return addon

    def primary(self, name: str = "primary") -> Addon:
        addon = self.record(name)
        self.engine.provision(addon, time.time())
        return addon

    def follower(self, leader: Addon) -> Addon:
        addon = self.record("follower")
        assert addon.db is not None and leader.db is not None
        addon.db.leader_id = leader.id
        self.engine.follow(addon, leader, time.time())
        return addon

    def fork(self, source: Addon, to: float | None = None) -> Addon:
        addon = self.record("fork")
        self.engine.fork(addon, source, time.time(), to=to)
        return addon

    def transfer(self, addon: Addon) -> Transfer:
        now = time.time()
        return Transfer(new_id(), 1, "app", addon.id, "DATABASE", "pg_dump", None, "BACKUP", "gof3r", None,
                        now, now)


@pytest.fixture
def pg(engine: PostgresEngine) -> Iterator[Pg]:
    helper = Pg(engine)
    yield helper
    for addon in reversed(helper.addons):
        if addon.db and addon.db.engine_data:
            engine.destroy(addon)
        assert not (engine.clusters_dir / addon.id).exists()


def test_provision_gives_a_working_url_and_stats(pg: Pg) -> None:
    db = pg.primary()
    assert db.db is not None and db.db.port != 5432 and db.db.host == "127.0.0.1"
    psql(db, f"{TABLE} INSERT INTO items VALUES (1, 'a'), (2, 'b');")
    assert one(db, "SELECT count(*) FROM items") == "2"
    assert one(db, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user") == "f"
    stats = pg.engine.stats(db)
    assert stats.num_tables == 1
    assert stats.num_bytes == int(one(db, "SELECT pg_database_size(current_database())"))
    assert stats.postgres_version.split(".")[0] == db.db.version
    assert stats.current_transaction > 0
    wrong = db.db.password[:-1] + "x"
    bad = subprocess.run(["psql", "-X", url(db).replace(db.db.password, wrong), "-c", "SELECT 1"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode != 0 and "password authentication failed" in bad.stderr


def test_follower_replicates_reports_lag_and_unfollows(pg: Pg) -> None:
    leader = pg.primary("leader")
    psql(leader, f"{TABLE} INSERT INTO items VALUES (1, 'a');")
    follower = pg.follower(leader)
    assert follower.db is not None and leader.db is not None
    assert (follower.db.user, follower.db.database_name) == (leader.db.user, leader.db.database_name)
    assert follower.db.port != leader.db.port
    eventually(lambda: pg.engine.lag(follower, leader, time.time()), 0)
    assert one(follower, "SELECT count(*) FROM items") == "1"

    admin = pg.engine.cluster(follower)
    admin.sql("SELECT pg_wal_replay_pause()")
    for n in (2, 3, 4):  # three write transactions the follower cannot replay yet
        psql(leader, f"INSERT INTO items VALUES ({n}, 'x')")
    assert pg.engine.lag(follower, leader, time.time()) == 3
    assert one(follower, "SELECT count(*) FROM items") == "1"
    refused = psql(follower, "INSERT INTO items VALUES (9, 'no')", check=False)
    assert "read-only transaction" in refused.stderr
    admin.sql("SELECT pg_wal_replay_resume()")
    eventually(lambda: pg.engine.lag(follower, leader, time.time()), 0)
    assert one(follower, "SELECT count(*) FROM items") == "4"

    pg.engine.unfollow(follower, time.time())
    assert one(follower, "SELECT pg_is_in_recovery()") == "f"
    psql(follower, "INSERT INTO items VALUES (10, 'mine')")
    assert one(follower, "SELECT count(*) FROM items") == "5"
    assert one(leader, "SELECT count(*) FROM items") == "4"


def test_fork_is_an_independent_writable_copy(pg: Pg) -> None:
    source = pg.primary("source")
    psql(source, f"{TABLE} INSERT INTO items VALUES (1, 'a');")
    fork = pg.fork(source)
    assert fork.db is not None and source.db is not None
    assert fork.db.user != source.db.user and fork.db.database_name != source.db.database_name
    assert one(fork, "SELECT count(*) FROM items") == "1"
    assert one(fork, "SELECT tableowner FROM pg_tables WHERE tablename = 'items'") == fork.db.user
    psql(fork, "INSERT INTO items VALUES (2, 'fork')")
    psql(source, "INSERT INTO items VALUES (3, 'source')")
    assert one(fork, "SELECT string_agg(id::text, ',' ORDER BY id) FROM items") == "1,2"
    assert one(source, "SELECT string_agg(id::text, ',' ORDER BY id) FROM items") == "1,3"
    follower = pg.follower(source)
    eventually(lambda: pg.engine.lag(follower, source, time.time()), 0)
    of_follower = pg.fork(follower)  # forking a follower gives a writable primary too
    psql(of_follower, "INSERT INTO items VALUES (4, 'fork of follower')")
    assert one(of_follower, "SELECT string_agg(id::text, ',' ORDER BY id) FROM items") == "1,3,4"


def test_rollback_recovers_the_state_at_a_moment(pg: Pg) -> None:
    source = pg.primary("source")
    psql(source, f"{TABLE} INSERT INTO items VALUES (1, 'before');")
    moment = float(one(source, "SELECT extract(epoch FROM clock_timestamp())"))
    psql(source, "INSERT INTO items VALUES (2, 'after')")
    rolled = pg.fork(source, to=moment)
    assert one(rolled, "SELECT string_agg(note, ',' ORDER BY id) FROM items") == "before"
    psql(rolled, "INSERT INTO items VALUES (3, 'rolled')")
    assert one(source, "SELECT string_agg(note, ',' ORDER BY id) FROM items") == "before,after"
    follower = pg.follower(source)
    with pytest.raises(EngineError, match="Rollback of the follower"):
        pg.fork(follower, to=moment)


def test_backup_and_restore_round_trip(pg: Pg, tmp_path: Path) -> None:
    source = pg.primary("source")
    psql(source, "CREATE TABLE items (id int PRIMARY KEY, note text);"
                 "INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 2000) g;"
                 "CREATE TABLE other (x int); INSERT INTO other VALUES (7);")
    expected = one(source, CHECKSUM)
    result = pg.engine.capture(source, pg.transfer(source), tmp_path, time.time())
    assert result.artifact is not None
    dump = tmp_path / result.artifact
    assert result.processed_bytes == dump.stat().st_size > 0
    assert result.source_bytes == int(one(source, "SELECT pg_database_size(current_database())"))
    assert any("pg_dump" in line for line in result.logs)

    target = pg.primary("target")
    assert target.db is not None
    psql(target, "CREATE TABLE items (id int, note text); INSERT INTO items VALUES (99, 'replaced');")
    restored = pg.engine.restore(target, pg.transfer(target), dump, time.time())
    assert restored.processed_bytes == dump.stat().st_size
    assert one(target, CHECKSUM) == expected
    assert one(target, "SELECT x FROM other") == "7"
    assert one(target, "SELECT tableowner FROM pg_tables WHERE tablename = 'items'") == target.db.user

    corrupt = tmp_path / "corrupt.dump"
    corrupt.write_bytes(dump.read_bytes()[:200])
    with pytest.raises(EngineError) as failed:
        pg.engine.restore(target, pg.transfer(target), corrupt, time.time())
    assert any(line.startswith("pg_restore: error") for line in failed.value.logs), failed.value.logs
    assert one(target, CHECKSUM) == expected  # a failed restore changed nothing here

    pg.engine.cluster(source).stop()
    with pytest.raises(EngineError) as dump_failed:
        pg.engine.capture(source, pg.transfer(source), tmp_path, time.time())
    assert any("pg_dump" in line for line in dump_failed.value.logs), dump_failed.value.logs


SLOW = "SELECT pg_sleep(0.3),\n  1 AS one,\n  2 AS two"


def slow_entries(pg: Pg, addon: Addon, since: float) -> list[list[str]]:
    """Each logged slow statement as its [N-k] bodies, grouped by N."""
    groups: dict[tuple[str, str], list[str]] = {}
    for line in pg.engine.log_lines(addon, since):
        match = re.match(r"^\[(\d+)-\d+\]", line.body)
        assert match, line
        groups.setdefault((line.proc, match[1]), []).append(line.body)
    return [bodies for bodies in groups.values() if "pg_sleep(0.3)" in bodies[0]]


def test_slow_queries_reach_the_log_in_heroku_format(pg: Pg) -> None:
    db = pg.primary()
    start = time.time() - 1
    psql(db, SLOW)  # 300 ms is under Heroku's default threshold of 2000 ms
    pg.engine.apply_settings(db, {"log_min_duration_statement": 100})
    psql(db, SLOW)
    pg.engine.apply_settings(db, {"log_min_duration_statement": -1})
    psql(db, SLOW)
    eventually(lambda: len(slow_entries(pg, db, start)), 1)
    (entry,) = slow_entries(pg, db, start)
    n = re.match(r"^\[(\d+)-1\]", entry[0])
    assert n is not None
    assert re.fullmatch(
        rf"\[{n[1]}-1\]  sql_error_code = 00000 LOG:  duration: \d+\.\d{{3}} ms  "
        r"statement: SELECT pg_sleep\(0\.3\),",
        entry[0],
    )
    assert entry[1:] == [f"[{n[1]}-2] \t  1 AS one,", f"[{n[1]}-3] \t  2 AS two"]
    psql(db, "SELECT * FROM missing_table", check=False)
    eventually(lambda: any("missing_table" in line.body for line in pg.engine.log_lines(db, start)), True)
    lines = pg.engine.log_lines(db, 0)
    error = next(i for i, line in enumerate(lines) if "ERROR:" in line.body and "missing_table" in line.body)
    n = re.match(r"^\[(\d+)-1\]", lines[error].body)
    assert n is not None
    missing = 'relation "missing_table" does not exist at character 15'
    assert lines[error].body == f"[{n[1]}-1]  sql_error_code = 42P01 ERROR:  {missing}"
    statement = "STATEMENT:  SELECT * FROM missing_table"
    assert lines[error + 1].body == f"[{n[1]}-2]  sql_error_code = 42P01 {statement}"
    assert all(line.proc.startswith("postgres.") for line in lines)
    assert db.db is not None
    text = "\n".join(line.body for line in lines)
    assert "sandbox_admin" not in text and db.db.password not in text
    assert all(line.ts > start for line in pg.engine.log_lines(db, start))


def test_stop_leaves_no_process_and_start_brings_data_back(pg: Pg, state_dir: Path) -> None:
    leader = pg.primary("leader")
    psql(leader, f"{TABLE} INSERT INTO items VALUES (1, 'a');")
    follower = pg.follower(leader)
    eventually(lambda: pg.engine.lag(follower, leader, time.time()), 0)
    pg.engine.stop()
    assert postmasters(state_dir / "clusters") == []
    assert list((state_dir / "clusters").glob("*/data/postmaster.pid")) == []

    restarted = PostgresEngine(state_dir)
    restarted.start([follower, leader])
    try:
        psql(leader, "INSERT INTO items VALUES (2, 'b')")
        eventually(lambda: one(follower, "SELECT count(*) FROM items"), "2")
        assert restarted.lag(follower, leader, time.time()) == 0
    finally:
        restarted.stop()
    assert postmasters(state_dir / "clusters") == []


def test_a_failed_fork_leaves_nothing_and_reports_its_server_log(pg: Pg) -> None:
    source = pg.primary("source")
    fork = pg.record("fork")
    assert fork.db is not None and source.db is not None
    fork.db.user = source.db.user  # the copied role cannot be renamed to the name it already has
    with pytest.raises(EngineError, match="Could not create the fork fork") as failed:
        pg.engine.fork(fork, source, time.time())
    assert any("already exists" in line for line in failed.value.logs)
    assert any("ready to accept connections" in line for line in failed.value.logs)  # the server log
    root = pg.engine.clusters_dir / fork.id
    assert not root.exists() and postmasters(root) == []
    fork.db.engine_data.clear()  # nothing for the fixture to destroy
