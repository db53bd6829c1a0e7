"""Parse Heroku Postgres log lines (``heroku logs -p postgres``) into messages and slow queries.

One Postgres log message reaches Heroku's log stream as one or more lines (contract §6)::

    <ts> app[postgres.<pid>]: [<ATTACHMENT>] [<N>-1]  sql_error_code = <SQLSTATE> [key="value" ...]
        <LEVEL>:  <text>                                       (one line; wrapped here)
    <ts> app[postgres.<pid>]: [<ATTACHMENT>] [<N>-2] <next line of text>

``N`` numbers the messages of one Postgres process (syslog sequence), ``k`` the lines of one
message (Postgres' syslog writer splits at newlines and at about 900 bytes). Lines of different
processes interleave; :class:`MessageAssembler` reassembles each message under the key
``(proc, attachment, N)``. A process writes its messages one after the other, so at most one
message per ``(proc, attachment)`` is open: it is complete when a new ``N`` appears for that
process, or at the end of the input. Memory is therefore bounded by the number of processes
(capped at :data:`MAX_OPEN`), and each message by :data:`MAX_MESSAGE_CHARS`.

Lines of other sources (router, dynos, ``app[heroku-postgres]`` metrics) are counted and
skipped. Lines that cannot be parsed are counted as malformed and skipped: never fatal.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field

MAX_OPEN = 10_000  # open multi-line messages (one per Postgres process) before the oldest is flushed
MAX_MESSAGE_CHARS = 1 << 20  # longer messages are truncated (and counted)
MAX_PENDING_STATEMENTS = 10_000  # `statement:` lines waiting for their `duration:` line

# <ts> <source>[<proc>]: <message>   (the `heroku logs` line; ANSI colours removed beforehand)
_LINE = re.compile(r"(\S+) ([\w-]+)\[([^\]\s]+)\]: ?(.*)", re.S)
# [ATTACHMENT] [N-k] <body>; the attachment is missing in some old drains
_SEQ = re.compile(r"(?:\[([A-Za-z0-9_]+)\] )?\[(\d+)-(\d+)\] ?(.*)", re.S)
# both in one pass (the hot path). _LINE's groups cannot backtrack into other splits (each stops at
# the one character that must follow it), so this matches exactly when _LINE matches and _SEQ
# matches its rest, with the same groups; when it fails, the two are run apart to classify the line.
_LINE_SEQ = re.compile(_LINE.pattern.removesuffix("(.*)") + _SEQ.pattern, re.S)
_LEVELS = (
    "LOG|ERROR|WARNING|FATAL|PANIC|NOTICE|INFO|DEBUG[1-5]|DEBUG|STATEMENT|DETAIL|HINT|CONTEXT|QUERY|LOCATION"
)
# first line: [sql_error_code = XXXXX ][key="value" ...]LEVEL:  text
_HEAD = re.compile(
    r"\s*(?:sql_error_code = ([0-9A-Z]{5}) )?((?:[a-z_]+=\"[^\"]*\" )*)(" + _LEVELS + r"):  ?(.*)", re.S
)
# a fallback when a prefix value holds a stray quote: the first `LEVEL:  ` wins
_HEAD_LOOSE = re.compile(r"(.*?)\b(" + _LEVELS + r"):  (.*)", re.S)
_CODE = re.compile(r"sql_error_code = ([0-9A-Z]{5})")
_PAIR = re.compile(r"([a-z_]+)=\"([^\"]*)\"")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# duration: 12.345 ms  statement: ...   | execute <unnamed>: ... | parse S_1: ... | bind ... | plan: ...
_DURATION = re.compile(
    r"duration: (\d+(?:\.\d+)?) ms(?:  (statement|execute|parse|bind|plan)([^:\n]*): ?(.*))?", re.S
)
# statement: ... / execute <name>: ... logged by log_statement (the duration follows on its own)
_STATEMENT = re.compile(r"(statement|execute|parse|bind)([^:\n]*): ?(.*)", re.S)


@dataclass
class ParseStats:
    """What the parser saw. Every input line lands in exactly one of the first four counters."""

    lines: int = 0  # every line read, blank ones included
    postgres_lines: int = 0  # lines of app[postgres.*] parsed as part of a message
    ignored_lines: int = 0  # other sources: router, dynos, heroku-postgres metrics, blank lines
    malformed_lines: int = 0  # unparseable, or continuation lines whose message start was lost
    messages: int = 0  # reassembled Postgres messages
    truncated_messages: int = 0  # messages longer than MAX_MESSAGE_CHARS
    slow_queries: int = 0  # duration entries with their statement
    unmatched_durations: int = 0  # `duration:` lines whose statement was never seen
    plans: int = 0  # auto_explain plans (not counted as statements: their query also logs a duration)

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True, slots=True)
class LogMessage:
    """One Postgres log message, its ``[N-k]`` lines joined with newlines."""

    ts: str
    proc: str
    attachment: str | None
    seq: int
    level: str
    text: str
    sql_error_code: str | None = None
    prefix: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SlowQuery:
    """A ``duration:`` entry with its statement."""

    ts: str
    proc: str
    attachment: str | None
    duration_ms: float
    kind: str  # statement | execute | parse | bind
    sql: str
    name: str | None = None  # prepared statement / portal name of execute, parse and bind
    database: str | None = None  # from the key="value" prefix, when Heroku sends it
    user: str | None = None


class _Open:
    """A message whose lines are still arriving."""

    __slots__ = (
        "att", "body", "chars", "code", "level", "n", "parts", "prefix", "proc", "sorted", "touched", "ts"
    )

    def __init__(self, ts: str, proc: str, att: str | None, n: int, touched: int) -> None:
        self.ts, self.proc, self.att, self.n, self.touched = ts, proc, att, n, touched
        self.level: str | None = None  # None until the [N-1] line is seen
        self.code: str | None = None
        self.prefix = ""
        self.body = ""
        self.parts: list[tuple[int, str]] = []
        self.chars = 0
        self.sorted = True


_NONE: tuple[LogMessage, ...] = ()


def is_postgres_proc(proc: str) -> bool:
    return proc == "postgres" or proc.startswith("postgres.")


def label_variants(name: str) -> set[str]:
    """The log labels a database identifier may appear under: ``HEROKU_POSTGRESQL_PINK_URL`` ->
    {``HEROKU_POSTGRESQL_PINK``, ``PINK``}; ``DATABASE_URL`` -> {``DATABASE``}."""
    base = name.strip().upper().removesuffix("_URL")
    return {base, base.removeprefix("HEROKU_POSTGRESQL_")}


class MessageAssembler:
    """Turns log lines into :class:`LogMessage` objects, reassembling ``[N-k]`` lines."""

    def __init__(self, attachments: Collection[str] | None = None, stats: ParseStats | None = None) -> None:
        self.stats = stats if stats is not None else ParseStats()
        self.attachments = (
            {label for name in attachments for label in label_variants(name)} if attachments else None
        )
        self._open: dict[tuple[str, str | None], _Open] = {}

    def feed(self, line: str) -> Iterable[LogMessage]:
        """Take one line; return the messages it completed (usually none)."""
        stats = self.stats
        stats.lines += 1
        if "\x1b" in line:
            line = _ANSI.sub("", line)
        line = line.rstrip("\r\n")
        full = _LINE_SEQ.match(line)
        if full is not None:
            ts, _source, proc, att, n_text, k_text, body = full.groups()
            if proc != "postgres" and not proc.startswith("postgres."):  # is_postgres_proc, inlined
                stats.ignored_lines += 1
                return _NONE
        else:
            m = _LINE.match(line)
            if m is None:
                if line.strip():
                    stats.malformed_lines += 1
                else:
                    stats.ignored_lines += 1
                return _NONE
            if is_postgres_proc(m.group(3)):
                stats.malformed_lines += 1  # _SEQ does not match its rest
            else:
                stats.ignored_lines += 1
            return _NONE
        if self.attachments is not None and att is not None and att not in self.attachments:
            stats.ignored_lines += 1
            return _NONE
        n, k = int(n_text), int(k_text)
        key = (proc, att)
        current = self._open.get(key)
        done: list[LogMessage] | tuple[LogMessage, ...] = _NONE
        if current is None or current.n != n:
            if current is not None:
                if n < current.n and k > 1:
                    stats.malformed_lines += 1  # a late line of a message already flushed
                    return _NONE
                done = self._flush(key)
            current = _Open(ts, proc, att, n, stats.lines)
            self._open[key] = current
            if len(self._open) > MAX_OPEN:
                done = [*done, *self._flush(next(iter(self._open)))]
        current.touched = stats.lines
        stats.postgres_lines += 1
        if k == 1:
            if current.level is not None:
                stats.malformed_lines += 1  # a second first line for the same N
                stats.postgres_lines -= 1
                return done
            h = _HEAD.match(body)
            if h is not None:
                current.code, current.prefix, current.level, current.body = h.groups()
            else:
                loose = _HEAD_LOOSE.match(body)
                if loose is None:
                    stats.malformed_lines += 1
                    stats.postgres_lines -= 1
                    del self._open[key]
                    return done
                head, current.level, current.body = loose.groups()
                code = _CODE.search(head)
                current.code = code.group(1) if code else None
                current.prefix = head
            current.ts = ts
            current.chars += len(current.body)
            return done
        if current.chars + len(body) > MAX_MESSAGE_CHARS:
            if current.chars <= MAX_MESSAGE_CHARS:
                stats.truncated_messages += 1
                current.chars = MAX_MESSAGE_CHARS + 1
            return done
        if current.parts and current.parts[-1][0] > k:
            current.sorted = False
        current.parts.append((k, body))
        current.chars += len(body) + 1
        return done

    def _flush(self, key: tuple[str, str | None]) -> tuple[LogMessage, ...]:
        item = self._open.pop(key)
        if item.level is None:  # continuation lines whose first line never came
            self.stats.malformed_lines += len(item.parts)
            self.stats.postgres_lines -= len(item.parts)
            return _NONE
        parts = item.parts if item.sorted else sorted(item.parts, key=lambda part: part[0])
        text = item.body if not parts else "\n".join([item.body, *(p[1] for p in parts)])
        prefix = dict(_PAIR.findall(item.prefix)) if item.prefix else {}
        self.stats.messages += 1
        return (LogMessage(item.ts, item.proc, item.att, item.n, item.level, text, item.code, prefix),)

    def flush(self) -> list[LogMessage]:
        """End of input: every open message is complete."""
        out: list[LogMessage] = []
        for key in list(self._open):
            out.extend(self._flush(key))
        return out

    def flush_idle(self, touched_before: int) -> list[LogMessage]:
        """Complete the messages with no line since line number ``touched_before`` (live tails)."""
        out: list[LogMessage] = []
        for key in [key for key, item in self._open.items() if item.touched < touched_before]:
            out.extend(self._flush(key))
        return out


class SlowQueryExtractor:
    """Turns messages into :class:`SlowQuery` entries.

    ``duration: X ms  statement: ...`` carries both. With ``log_statement`` logging a statement
    first, Postgres logs ``duration: X ms`` alone afterwards: it is paired with the last
    statement of the same process.
    """

    def __init__(self, stats: ParseStats) -> None:
        self.stats = stats
        self._pending: dict[tuple[str, str | None], tuple[str, str, str | None]] = {}

    def extract(self, msg: LogMessage) -> SlowQuery | None:
        if msg.level != "LOG":
            return None
        text = msg.text
        key = (msg.proc, msg.attachment)
        if not text.startswith("duration: "):
            s = _STATEMENT.match(text)
            if s is not None:
                if len(self._pending) >= MAX_PENDING_STATEMENTS:
                    self._pending.pop(next(iter(self._pending)))
                kind, name, sql = s.groups()
                self._pending[key] = (kind, sql, name.strip() or None)
            return None
        d = _DURATION.match(text)
        if d is None:
            return None
        duration, kind, name, sql = d.groups()
        if kind == "plan":
            self.stats.plans += 1
            return None
        if kind is None:
            pending = self._pending.pop(key, None)
            if pending is None:
                self.stats.unmatched_durations += 1
                return None
            kind, sql, name = pending
        else:
            name = name.strip() or None
        self.stats.slow_queries += 1
        prefix = msg.prefix
        return SlowQuery(
            msg.ts, msg.proc, msg.attachment, float(duration), kind, sql.strip(), name,
            prefix.get("database"), prefix.get("user"),
        )


def iter_messages(
    lines: Iterable[str], attachments: Collection[str] | None = None, stats: ParseStats | None = None
) -> Iterator[LogMessage]:
    assembler = MessageAssembler(attachments, stats)
    for line in lines:
        yield from assembler.feed(line)
    yield from assembler.flush()


def iter_slow_queries(
    lines: Iterable[str], attachments: Collection[str] | None = None, stats: ParseStats | None = None
) -> Iterator[SlowQuery]:
    """Every slow query of ``lines`` (streamed; see the module docstring for memory bounds)."""
    stats = stats if stats is not None else ParseStats()
    extractor = SlowQueryExtractor(stats)
    for msg in iter_messages(lines, attachments, stats):
        query = extractor.extract(msg)
        if query is not None:
            yield query
