"""Write fencing for a promotion: the old primary refuses writes before its follower is unfollowed.

Without it, what the app writes to the old primary between the follower's last replay and the
moment the app's DATABASE_URL points at the new primary is acknowledged and then lost. With it,
through a direct connection (psycopg 3, herokupg's ``postgres`` extra) made with the database's
own credentials, read through the API:

1. ``ALTER DATABASE ... SET default_transaction_read_only = on``: every new session is read-only;
2. every older session of the database is ended (``pg_terminate_backend``), and the fence waits
   until none is left, so no transaction of a session that could still write is open;
3. the follower is waited for until it has replayed the old primary's WAL up to that point.

From then on a write to the old primary fails instead of being lost. The fence stays after a
successful promotion (the old primary is no longer DATABASE). When the promotion fails before
the unfollow, the fence is lifted again (only if this run set it); after the unfollow it is kept,
and the error says how to finish the failover or to make the old primary writable again.
Connections are made by :func:`herokupg.pgconnect.open_connection` (timeouts, TLS, secrets,
redacted errors), after :func:`driver` has checked that psycopg is there.

A session-level advisory lock on the old primary is held from the fence to the end of the
promotion: a second fenced promotion of the same primary stops at once and names the first one.

Not fenced: a client that asks for a read-write transaction itself (``BEGIN READ WRITE``,
``SET default_transaction_read_only = off``), and superuser sessions (Heroku's own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from herokupg.errors import ConflictError, HerokuPgError
from herokupg.ops.base import Context
from herokupg.pgconnect import DatabaseConnectionError, import_psycopg, open_connection, register_url
from herokupg.redact import redact

if TYPE_CHECKING:
    from psycopg import Connection

LOCK_KEY = int.from_bytes(b"herokupg", "big")  # the advisory lock every fenced promotion takes
LABEL = "herokupg failover to "  # application_name prefix: names the promotion to another one
SESSIONS_TIMEOUT = 30.0  # seconds for the ended sessions to be gone
CONNECT_TIMEOUT = 10.0  # seconds; then each statement may take a minute, waiting for a lock 10 s
STATEMENT_TIMEOUT = 60.0
LOCK_TIMEOUT = 10.0
SETTING = "default_transaction_read_only"
MISSING = (
    "Write fencing (fence: true) connects to the old primary with psycopg 3, which is not installed: "
    "install herokupg with its postgres extra (pip install 'herokupg[postgres]'). Nothing was changed."
)
_OLDER_SESSIONS = """
SELECT a.pid, a.usename FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
  AND a.backend_type = 'client backend' AND NOT r.rolsuper AND a.backend_start <= %s
"""
_HOLDER = """
SELECT a.application_name, to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ')
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = %s
"""
_READ_ONLY_SET = """
SELECT s FROM pg_db_role_setting, unnest(setconfig) AS s
WHERE setrole = 0 AND setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


class FenceError(HerokuPgError):
    """The old primary could not be fenced (or the follower did not catch up with the fence)."""


def driver() -> Any:
    """psycopg, imported only when a fence is asked for (MissingPsycopgError naming the extra)."""
    return import_psycopg(MISSING, reason="for write fencing (fence: true)")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return redact(text[0] if text else type(exc).__name__)


def _is_on(value: str) -> bool:
    return value.strip().strip("'").lower() in ("on", "true", "yes", "1")



def _reset(conn: Connection[Any], database: str) -> None:
    """New sessions of ``database`` may write again."""
    sql = driver().sql
    names = (sql.Identifier(database), sql.Identifier(SETTING))
    conn.execute(sql.SQL("ALTER DATABASE {} RESET {}").format(*names))


@dataclass
class Fence:
    """One promotion's fence on the old primary ``primary`` (add-on name) for follower ``target``."""

    ctx: Context
    app: str
    primary: str
    primary_url: str = field(repr=False)
    target: str
    target_url: str = field(repr=False)
    applied: bool = False  # this run set the fence (and so may lift it)
    was_fenced: bool = False  # it was read-only already (an earlier run's fence)
    lifted: bool = False
    target_released: bool = False  # the fence, replicated to the promoted database, was reset there
    database: str = ""
    sessions_ended: int = 0
    lsn: str | None = None  # the old primary's WAL position once fenced
    _conn: Connection[Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for url in (self.primary_url, self.target_url):
            register_url(url)

    # -- connections ----------------------------------------------------------------------
    def _connect(self, url: str, what: str) -> Connection[Any]:
        try:
            return open_connection(
                url,
                f"{what} of {self.app}",
                timeout=CONNECT_TIMEOUT,
                application_name=LABEL + self.target,
                autocommit=True,
                statement_timeout=STATEMENT_TIMEOUT,
                lock_timeout=LOCK_TIMEOUT,
            )
        except DatabaseConnectionError as exc:
            reason = exc.reason
            raise FenceError(f"Could not connect to {what} of {self.app} to fence it: {reason}.") from None

    def _one(self, conn: Connection[Any], query: Any, params: tuple[Any, ...] = ()) -> Any:
        row = conn.execute(query, params).fetchone()
        return row[0] if row else None

    def _read_only(self, conn: Connection[Any]) -> bool:
        """Whether the connected database makes new sessions read-only (ALTER DATABASE ... SET)."""
        pairs = (str(row[0]).partition("=") for row in conn.execute(_READ_ONLY_SET).fetchall())
        return any(name == SETTING and _is_on(value) for name, _, value in pairs)

    def close(self) -> None:
        """Close the connection (which releases the advisory lock); the fence itself stays."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- the fence ------------------------------------------------------------------------
    def apply(self) -> None:
        """Take the lock, make new sessions read-only, end the older ones, note the WAL position."""
        psycopg = driver()
        conn = self._conn = self._connect(self.primary_url, f"the old primary {self.primary}")
        try:
            conn.execute(f"SET {SETTING} = off")  # this session changes settings, even when fenced
            if not self._one(conn, "SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)):
                holders = conn.execute(_HOLDER, (LOCK_KEY,)).fetchall()
                who = "; ".join(f"{name or 'unnamed session'} (since {since})" for name, since in holders)
                raise ConflictError(
                    f"Another failover of {self.app} is fencing its primary {self.primary} right now: "
                    f"{who or 'a session that just ended'}. Nothing was changed by this run.",
                    error_id="promotion_conflict",
                )
            self.database = str(self._one(conn, "SELECT current_database()"))
            self.was_fenced = self._read_only(conn)
            if not self.was_fenced:
                conn.execute(
                    psycopg.sql.SQL("ALTER DATABASE {} SET {} = on").format(
                        psycopg.sql.Identifier(self.database), psycopg.sql.Identifier(SETTING)
                    )
                )
                self.applied = True
            fenced_at = self._one(conn, "SELECT clock_timestamp()")
            self._end_sessions(conn, fenced_at)
            self.lsn = str(self._one(conn, "SELECT pg_current_wal_insert_lsn()::text"))
        except psycopg.Error as exc:
            what = f"Fencing {self.primary}, the old primary of {self.app},"
            raise FenceError(f"{what} failed: {_first_line(exc)}.") from None

    def _end_sessions(self, conn: Connection[Any], fenced_at: Any) -> None:
        """End every session older than the fence and wait until they are gone."""
        psycopg = driver()
        ended: set[int] = set()
        refused: dict[int, str] = {}
        deadline = self.ctx.monotonic() + SESSIONS_TIMEOUT
        while True:
            left = conn.execute(_OLDER_SESSIONS, (fenced_at,)).fetchall()
            if not left:
                self.sessions_ended = len(ended)
                return
            for pid, user in left:
                if pid in ended or pid in refused:
                    continue
                try:
                    conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
                    ended.add(pid)
                except psycopg.errors.InsufficientPrivilege:
                    refused[pid] = user
            if refused or self.ctx.monotonic() > deadline:
                users = ", ".join(sorted(set(refused.values()))) or "none"
                raise FenceError(
                    f"Could not end {len(left)} session(s) of {self.primary} that started before the fence "
                    f"(not permitted for the roles: {users}); they could still write. End them "
                    f"(heroku pg:killall -a {self.app}) and run again."
                )
            self.ctx.sleep(0.05)

    def wait_replayed(self) -> None:
        """Wait until the follower has replayed the old primary's WAL up to the fence."""
        psycopg = driver()
        follower = self._connect(self.target_url, f"the follower {self.target}")

        def probe() -> tuple[bool, str]:
            row = follower.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, "
                "coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, false)",
                (self.lsn,),
            ).fetchone()
            recovering, replayed, done = row if row else (False, None, False)
            if not recovering:
                raise ConflictError(
                    f"{self.target} stopped following {self.primary} while the fence waited for it "
                    "(another promotion or heroku pg:unfollow). Nothing was changed by this run.",
                    error_id="promotion_conflict",
                )
            return bool(done), f"replayed WAL up to {replayed}, the fence is at {self.lsn}"

        try:
            where = f"{self.target} on {self.app}"
            self.ctx.wait_until(probe, resource=where, goal="replay the fenced primary's WAL")
        except psycopg.Error as exc:
            reason = _first_line(exc)
            raise FenceError(f"Reading the replay position of {self.target} failed: {reason}.") from None
        finally:
            follower.close()

    def release_target(self) -> None:
        """Make the promoted database writable: the fence reached it through replication (the
        setting is in the catalog), so once it is unfollowed it would refuse writes too."""
        psycopg = driver()
        conn = self._connect(self.target_url, f"the new primary {self.target}")
        try:
            if self._one(conn, "SELECT pg_is_in_recovery()"):
                raise FenceError(f"{self.target} still follows {self.primary}: it cannot be writable yet.")
            conn.execute(f"SET {SETTING} = off")
            if self._read_only(conn):
                _reset(conn, str(self._one(conn, "SELECT current_database()")))
                self.target_released = True
        except psycopg.Error as exc:
            reason = _first_line(exc)
            raise FenceError(f"Making the new primary {self.target} writable failed: {reason}.") from None
        finally:
            conn.close()

    def lift(self) -> None:
        """Make the old primary writable again, if this run fenced it."""
        if not self.applied or self.lifted or self._conn is None:
            return
        _reset(self._conn, self.database)
        self.lifted = True

    # -- what to tell ---------------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        return {
            "database": self.primary,
            "read_only": (self.applied or self.was_fenced) and not self.lifted,
            "set_by_this_run": self.applied,
            "lifted": self.lifted,
            "new_primary_reset": self.target_released,
            "sessions_ended": self.sessions_ended,
            "wal_position": self.lsn,
        }

    def outcome(self, unfollow_sent: bool) -> str:
        """What happened to the fence after a failure (lifting it if nothing was switched yet)."""
        if not unfollow_sent:
            if not self.applied or self.lifted:
                return ""
            try:
                self.lift()
            except Exception as exc:  # reported, with what to do instead
                return (
                    f"The fence on {self.primary} could not be lifted ({_first_line(exc)}): it still refuses "
                    f"writes. Make it writable: ALTER DATABASE \"{self.database}\" RESET {SETTING}; "
                    f"(heroku pg:psql {self.primary} -a {self.app})."
                )
            return f"The fence on {self.primary} was lifted: it accepts writes again."
        return (
            f"{self.primary} stays read-only (fenced), so that nothing is written there that {self.target} "
            f"no longer receives: the app's writes are refused until the failover is finished. Finish it: "
            f"run again with allow_non_follower: true and fence: true (roles/failover: failover_resume: "
            f"true, failover_fence: true), which also makes {self.target} writable. Or keep "
            f"{self.primary} as the primary: make it writable with ALTER DATABASE \"{self.database}\" RESET "
            f"{SETTING}; (heroku pg:psql {self.primary} -a {self.app}), and destroy {self.target} or keep "
            "it as a standalone copy."
        )


def add_outcome(exc: HerokuPgError, note: str) -> HerokuPgError:
    """``exc`` with ``note`` (what became of the fence) appended to its message."""
    if note:
        exc.message = redact(f"{exc.message} {note}")
        exc.args = (exc.message,)
    return exc
