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
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple

MAX_OPEN = 10_000  # open multi-line messages (one per Postgres process) before the oldest is flushed
# A message (a statement with its `duration:` head) longer than this is cut there, ends with
# CUT_MARKER and is counted in truncated_messages: memory stays bounded, the statement still counts.
MAX_MESSAGE_CHARS = 1 << 20
CUT_MARKER = " …[cut by herokupg: longer than 1 MiB]"
MAX_PENDING_STATEMENTS = 10_000  # `statement:` lines waiting for their `duration:` line

# <ts> <source>[<proc>]: <message>   (the `heroku logs` line; ANSI colours removed beforehand)
_LINE = re.compile(r"(\S+) [\w-]+\[([^\]\s]+)\]: ?(.*)", re.S)
# [ATTACHMENT] [N-k] <body>; the attachment is missing in some old drains
_SEQ = re.compile(r"(?:\[([A-Za-z0-9_]+)\] )?\[(\d+)-(\d+)\] ?(.*)", re.S)
# The hot path, in one pass: _LINE with a Postgres proc (is_postgres_proc), then _SEQ. _LINE's groups
# cannot backtrack into other splits (each stops at the one character that must follow it), so this
# matches exactly when _LINE matches with such a proc and _SEQ matches its rest, with the same
# groups; when it fails, the two are run apart to classify the line (other source or malformed).
_POSTGRES_PROC = r"(postgres(?:\.[^\]\s]*)?)"
_LINE_SEQ = re.compile(
    _LINE.pattern.removesuffix("(.*)").replace(r"([^\]\s]+)", _POSTGRES_PROC) + _SEQ.pattern, re.S
)
_LEVELS = (
    "LOG|ERROR|WARNING|FATAL|PANIC|NOTICE|INFO|DEBUG[1-5]|DEBUG|STATEMENT|DETAIL|HINT|CONTEXT|QUERY|LOCATION"
)
# first line: [sql_error_code = XXXXX ][key="value" ...]LEVEL:  text. The pairs are possessive (no
# backtracking, faster): giving one back could never help, a lowercase key is no uppercase LEVEL.
_HEAD = re.compile(
    r"\s*(?:sql_error_code = ([0-9A-Z]{5}) )?((?:[a-z_]++=\"[^\"]*+\" )*+)(" + _LEVELS + r"):  ?(.*)", re.S
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
    """What the parser saw. Every input line is ignored, malformed, or one of the ``postgres_lines``
    (lines of app[postgres.*] parsed as part of a message): that count is the rest, not a counter
    of its own, so the per-line loop keeps one counter fewer."""

    lines: int = 0  # every line read, blank ones included
    ignored_lines: int = 0  # other sources: router, dynos, heroku-postgres metrics, blank lines
    malformed_lines: int = 0  # unparseable, or continuation lines whose message start was lost
    messages: int = 0  # reassembled Postgres messages
    truncated_messages: int = 0  # messages longer than MAX_MESSAGE_CHARS, cut there
    slow_queries: int = 0  # duration entries with their statement
    unmatched_durations: int = 0  # `duration:` lines whose statement was never seen
    plans: int = 0  # auto_explain plans (not counted as statements: their query also logs a duration)

    @property
    def postgres_lines(self) -> int:
        return self.lines - self.ignored_lines - self.malformed_lines

    def as_dict(self) -> dict[str, int]:
        return {"lines": self.lines, "postgres_lines": self.postgres_lines, **self.__dict__}


class LogMessage(NamedTuple):
    """One Postgres log message, its ``[N-k]`` lines joined with newlines."""

    ts: str
    proc: str
    attachment: str | None
    seq: int
    level: str
    text: str
    sql_error_code: str | None = None
    prefix_text: str = ""  # the raw key="value" prefix: parsed on demand (the hot path skips it)

    @property
    def prefix(self) -> dict[str, str]:
        """The key="value" prefix fields (``database``, ``user``, ``pid``, ...)."""
        return dict(_PAIR.findall(self.prefix_text)) if self.prefix_text else {}

    def prefix_value(self, key: str) -> str | None:
        return prefix_value(self.prefix_text, key)


def prefix_value(prefix_text: str, key: str) -> str | None:
    """One field of a key="value" prefix, found without parsing the others."""
    needle = f'{key}="'
    start = prefix_text.find(needle)
    while start > 0 and prefix_text[start - 1] != " ":  # `user="` inside `other_user="`
        start = prefix_text.find(needle, start + 1)
    if start < 0:
        return None
    start += len(needle)
    end = prefix_text.find('"', start)
    return prefix_text[start:end] if end >= 0 else None


class SlowQuery(NamedTuple):
    """A ``duration:`` entry with its statement."""

    ts: str
    proc: str
    attachment: str | None
    duration_ms: float
    kind: str  # statement | execute | parse | bind
    sql: str
    name: str | None = None  # prepared statement / portal name of execute, parse and bind
    prefix_text: str = ""  # the message's raw key="value" prefix

    @property
    def database(self) -> str | None:
        """From the key="value" prefix, when Heroku sends it (read on demand: reports don't)."""
        return prefix_value(self.prefix_text, "database")

    @property
    def user(self) -> str | None:
        return prefix_value(self.prefix_text, "user")


# Builds a LogMessage or SlowQuery from all its fields without the Python-level __new__ that
# NamedTuple generates (the hot path builds one of each per slow query).
_new = tuple.__new__
_POSITION, _TEXT = itemgetter(0), itemgetter(1)  # of a continuation line's (k, text)


class _Open:
    """A message whose lines are still arriving (continuation lines may come before the first)."""

    __slots__ = ("att", "body", "chars", "code", "level", "n", "parts", "prefix", "proc", "touched", "ts")

    def __init__(
        self, ts: str, proc: str, att: str | None, n: str, touched: int,
        level: str | None = None, code: str | None = None, prefix: str = "", body: str = "",
    ) -> None:
        self.ts, self.proc, self.att, self.n, self.touched = ts, proc, att, n, touched
        self.level = level  # None until the [N-1] line is seen
        self.code, self.prefix, self.body = code, prefix, body
        self.parts: list[tuple[int, str]] | None = None  # the [N-k>1] lines: most messages have none
        self.chars = len(body)


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

    def feed(self, line: str) -> list[LogMessage]:
        """Take one line; return the messages it completed (usually none)."""
        return list(self.messages((line,)))

    def messages(self, lines: Iterable[str]) -> Iterator[LogMessage]:
        """Take ``lines``; yield the messages they complete. Messages still open at the end stay open
        (more lines may follow): :meth:`flush` completes them. This loop runs for every line, so it is
        written for speed: locals instead of attribute lookups, the line count kept in a local and
        stored back before each yield, ``N`` compared as text."""
        stats = self.stats
        opened = self._open
        wanted = self.attachments
        match = _LINE_SEQ.match
        head = _HEAD.match
        count = before = stats.lines
        try:
            for count, line in enumerate(lines, before + 1):
                if "\x1b" in line:
                    line = _ANSI.sub("", line)
                full = match(line.rstrip("\r\n"))
                if full is None:
                    self._reject(line)
                    continue
                ts, proc, att, n, k, body = full.groups()
                if wanted is not None and att is not None and att not in wanted:
                    stats.ignored_lines += 1
                    continue
                key = (proc, att)
                current = opened.get(key)
                if current is not None and current.n == n:  # another line of an open message
                    current.touched = count
                    if k == "1":
                        self._first_line(current, key, ts, body)  # after its continuations, or twice
                        continue
                else:  # a new message: the process's previous one is complete
                    if current is not None:
                        if k != "1" and int(n) < int(current.n):
                            stats.malformed_lines += 1  # a late line of a message already flushed
                            continue
                        stats.lines = count
                        done = self._flush(key)
                        if done is not None:
                            yield done
                    h = head(body) if k == "1" else None  # the usual first line, parsed inline
                    if h is None:
                        current = opened[key] = _Open(ts, proc, att, n, count)
                    else:
                        code, prefix, level, text = h.groups()
                        current = opened[key] = _Open(ts, proc, att, n, count, level, code, prefix, text)
                    if len(opened) > MAX_OPEN:
                        stats.lines = count
                        done = self._flush(next(iter(opened)))
                        if done is not None:
                            yield done
                    if k == "1":
                        if h is None:  # odd first lines take _first_line
                            self._first_line(current, key, ts, body)
                        continue
                if current.chars + len(body) > MAX_MESSAGE_CHARS:  # cut at the end (_flush)
                    current.chars = MAX_MESSAGE_CHARS + 1
                    continue
                if current.parts is None:
                    current.parts = [(int(k), body)]
                else:
                    current.parts.append((int(k), body))
                current.chars += len(body) + 1
        finally:
            stats.lines = count

    def _reject(self, line: str) -> None:
        """Count a line the combined pattern refused: other source, malformed or blank."""
        stripped = line.rstrip("\r\n")
        m = _LINE.match(stripped)
        if m is None:
            if stripped.strip():
                self.stats.malformed_lines += 1
            else:
                self.stats.ignored_lines += 1
        elif is_postgres_proc(m.group(2)):
            self.stats.malformed_lines += 1  # _SEQ does not match its rest
        else:
            self.stats.ignored_lines += 1

    def _first_line(self, current: _Open, key: tuple[str, str | None], ts: str, body: str) -> None:
        """The ``[N-1]`` line of ``current``: its level, code, prefix and text. A second one is
        malformed; so is one without a level, and its message is dropped."""
        if current.level is not None:
            self.stats.malformed_lines += 1
            return
        h = _HEAD.match(body)
        if h is not None:
            current.code, current.prefix, current.level, current.body = h.groups()
        else:
            loose = _HEAD_LOOSE.match(body)  # a stray quote in a prefix value: the first LEVEL wins
            if loose is None:
                self.stats.malformed_lines += 1
                del self._open[key]
                return
            head, current.level, current.body = loose.groups()
            code = _CODE.search(head)
            current.code = code.group(1) if code else None
            current.prefix = head
        current.ts = ts
        current.chars += len(current.body)

    def _flush(self, key: tuple[str, str | None]) -> LogMessage | None:
        item = self._open.pop(key)
        parts = item.parts
        if item.level is None:  # continuation lines whose first line never came
            self.stats.malformed_lines += len(parts or ())
            return None
        if parts is None:
            text = item.body
        else:
            parts.sort(key=_POSITION)  # lines of one process arrive in order: a no-op pass, usually
            text = "\n".join([item.body, *map(_TEXT, parts)])
        if item.chars > MAX_MESSAGE_CHARS:
            self.stats.truncated_messages += 1
            text = text[:MAX_MESSAGE_CHARS].removesuffix(CUT_MARKER) + CUT_MARKER
        self.stats.messages += 1
        fields = (item.ts, item.proc, item.att, int(item.n), item.level, text, item.code, item.prefix)
        return _new(LogMessage, fields)

    def flush(self) -> list[LogMessage]:
        """End of input: every open message is complete."""
        return self._flush_all(list(self._open))

    def flush_idle(self, touched_before: int) -> list[LogMessage]:
        """Complete the messages with no line since line number ``touched_before`` (live tails)."""
        return self._flush_all([key for key, item in self._open.items() if item.touched < touched_before])

    def _flush_all(self, keys: list[tuple[str, str | None]]) -> list[LogMessage]:
        return [msg for msg in map(self._flush, keys) if msg is not None]


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
        d = _DURATION.match(msg.text)
        if d is None:
            self._remember_statement(msg)
            return None
        duration, kind, name, sql = d.groups()
        if kind is None:
            pending = self._pending.pop((msg.proc, msg.attachment), None)
            if pending is None:
                self.stats.unmatched_durations += 1
                return None
            kind, sql, name = pending
        elif kind == "plan":
            self.stats.plans += 1
            return None
        else:
            name = (name.strip() or None) if name else None
        self.stats.slow_queries += 1
        return _new(SlowQuery, (
            msg.ts, msg.proc, msg.attachment, float(duration), kind, sql.strip(), name, msg.prefix_text
        ))

    def _remember_statement(self, msg: LogMessage) -> None:
        """A ``statement:`` logged by log_statement: its duration comes in a later message."""
        s = _STATEMENT.match(msg.text)
        if s is not None:
            if len(self._pending) >= MAX_PENDING_STATEMENTS:
                self._pending.pop(next(iter(self._pending)))
            kind, name, sql = s.groups()
            self._pending[(msg.proc, msg.attachment)] = (kind, sql, name.strip() or None)


def iter_messages(
    lines: Iterable[str], attachments: Collection[str] | None = None, stats: ParseStats | None = None
) -> Iterator[LogMessage]:
    assembler = MessageAssembler(attachments, stats)
    yield from assembler.messages(lines)
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
