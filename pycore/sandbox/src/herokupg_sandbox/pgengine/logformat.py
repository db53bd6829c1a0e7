"""The server's native log -> Heroku's `heroku logs -p postgres` lines.

Each cluster writes stderr to ``postgresql.log`` with :data:`LOG_LINE_PREFIX` (also what a
pgBadger run needs: ``pgbadger -f stderr --prefix '<LOG_LINE_PREFIX>'``). Heroku ships the
server log through syslog, whose writer numbers messages per process and splits them at
newlines: ``[<N>-<k>]`` with N counting that process's messages and k the line within one.
The first line of a message (and its DETAIL/STATEMENT/... lines, which carry the prefix)
reads ``[N-k]  sql_error_code = <SQLSTATE> <LEVEL>:  <text>``; lines continuing a multi-line
text (PostgreSQL indents them with a tab) read ``[N-k] <tab><text>``. ``logs.py`` adds the
``[<ATTACHMENT>]`` label and ``app[postgres.<PID>]:``.

The engine's own sessions (the admin user, or application_name ENGINE_APP) are left out,
the way Heroku's monitoring connections do not show up in an app's logs.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from herokupg_sandbox.engine import LogLine

LOG_LINE_PREFIX = "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h,sqlstate=%e "
ENGINE_APP = "herokupg-sandbox"
MAX_LINES = 2000  # about what Logplex keeps for `heroku logs`
HOLD_SECONDS = 2.0  # wait this long for the line that says who a new connection belongs to

_PREFIX = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC \[(?P<pid>\d+)\]: \[\d+-1\] "
    r"user=(?P<user>[^,]*),db=(?P<db>[^,]*),app=(?P<app>.*?),client=(?P<client>[^,]*),"
    r"sqlstate=(?P<code>[0-9A-Z]{5}) (?P<level>[A-Z0-9]+):  (?P<text>.*)$"
)
# Parts of one message that PostgreSQL writes as separate prefixed lines.
_MESSAGE_PARTS = frozenset({"DETAIL", "HINT", "QUERY", "CONTEXT", "LOCATION", "STATEMENT"})


def _ts(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).timestamp()


@dataclass
class _Message:
    pid: str
    n: int
    k: int
    ts: float
    hidden: bool


class HerokuNumbering:
    """Native log lines -> :class:`LogLine` objects, numbered per process the way Heroku's syslog
    writer numbers them; each goes to ``sink``. Streams: keeps only the per-process counters."""

    def __init__(self, hidden_users: frozenset[str], sink: Callable[[LogLine], object]) -> None:
        self.hidden_users = hidden_users
        self.sink = sink
        self._seq: dict[str, int] = {}
        self._current: _Message | None = None

    def consume(self, texts: list[str], *, final: bool = False) -> int:
        """Convert complete lines; returns how many were used. Stops early at a fresh
        ``connection received`` line whose owner is not in ``texts`` yet (unless ``final``)."""
        matches = [_PREFIX.match(text) for text in texts]
        for i, (text, match) in enumerate(zip(texts, matches, strict=True)):
            if match is None:
                self._continue(text)
            elif match["level"] in _MESSAGE_PARTS and (msg := self._current) and msg.pid == match["pid"]:
                self._part(msg, match)
            else:
                hidden = self._hidden(match)
                if match["text"].startswith("connection received:"):
                    # Who connects is only known from the process's next line.
                    later = next((m for m in matches[i + 1:] if m and m["pid"] == match["pid"]), None)
                    if later is None and not final and time.time() - _ts(match["ts"]) < HOLD_SECONDS:
                        return i
                    hidden = hidden or (later is not None and self._hidden(later))
                self._start(match, hidden)
        return len(texts)

    def _hidden(self, match: re.Match[str]) -> bool:
        return match["user"] in self.hidden_users or match["app"] == ENGINE_APP

    def _start(self, match: re.Match[str], hidden: bool) -> None:
        pid = match["pid"]
        n = self._seq.get(pid, 0) + 1
        self._seq[pid] = n
        self._current = msg = _Message(pid, n, 1, _ts(match["ts"]), hidden)
        self._emit(msg, f"[{n}-1]  sql_error_code = {match['code']} {match['level']}:  {match['text']}")

    def _part(self, msg: _Message, match: re.Match[str]) -> None:
        msg.k += 1
        text = f"sql_error_code = {match['code']} {match['level']}:  {match['text']}"
        self._emit(msg, f"[{msg.n}-{msg.k}]  {text}")

    def _continue(self, text: str) -> None:
        msg = self._current
        if msg is None:
            return  # text from before the first prefixed line (e.g. a crash report): no home
        msg.k += 1
        self._emit(msg, f"[{msg.n}-{msg.k}] {text}")

    def _emit(self, msg: _Message, body: str) -> None:
        if not msg.hidden:
            self.sink(LogLine(msg.ts, f"postgres.{msg.pid}", body))


class LogReader:
    """Incremental reader of one cluster's log (the offset and counters survive calls)."""

    def __init__(self, path: Path, hidden_users: frozenset[str]) -> None:
        self.path = path
        self.hidden_users = hidden_users
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._offset = 0
        self._lines: deque[LogLine] = deque(maxlen=MAX_LINES)
        self._numbering = HerokuNumbering(self.hidden_users, self._lines.append)

    def lines(self, since: float) -> list[LogLine]:
        with self._lock:
            self._read()
            return [line for line in self._lines if line.ts > since]

    def _read(self) -> None:
        try:
            with self.path.open("rb") as handle:
                handle.seek(0, 2)
                if handle.tell() < self._offset:  # replaced or truncated: start over
                    self._reset()
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n")
        if end < 0:
            return
        raw = data[: end + 1].split(b"\n")[:-1]
        used = self._numbering.consume([line.decode("utf-8", "replace") for line in raw])
        self._offset += sum(len(line) + 1 for line in raw[:used])
