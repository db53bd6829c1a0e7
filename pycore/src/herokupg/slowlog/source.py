"""Log lines from a Heroku log session (Server-Sent Events); files and stdin: :mod:`.files`.

Everything here is a generator of lines: nothing reads a whole input into memory.

Log sessions follow the Heroku CLI (contract §6): ``POST /apps/{app}/log-sessions`` with
``{dyno, lines, tail}`` returns a ``logplex_url``, read as Server-Sent Events. Each event's
``data`` may carry several log lines separated by newlines. The stream URL carries its own
token: no Authorization header is sent to it. Without ``tail`` the server ends the stream; with
it, the stream goes on until the caller stops reading, the deadline passes or the server ends it
(a 403/404 then means the session timed out, as the CLI reports). The stream goes through
:meth:`HerokuClient.open_url` (the API client's proxies, certificates, timeouts and redaction),
without the API key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from herokupg import __version__
from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient
from herokupg.errors import APIError

MAX_LINES = 1500  # the most a Heroku log session returns without tail
DEFAULT_DYNO = "postgres"  # `heroku logs -p postgres`; `heroku-postgres` selects the metrics proc


def iter_sse_data(lines: Iterator[str]) -> Iterator[str]:
    """The ``data`` of each Server-Sent Event (multi-line data joined with newlines)."""
    data: list[str] = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue  # a comment / keep-alive
        name, _sep, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


def iter_sse_log_lines(lines: Iterator[str]) -> Iterator[str]:
    """Log lines of an SSE stream: each event's data split on newlines, blank lines dropped."""
    for data in iter_sse_data(lines):
        for line in data.split("\n"):
            if line.strip():
                yield line


@contextmanager
def _stream(
    client: HerokuClient, url: str, *, tail: bool, timeout: float, user_agent: str
) -> Iterator[Iterator[str]]:
    """The stream's lines; no Authorization header ever goes to the log stream host."""
    headers = {"Accept": "text/event-stream", "User-Agent": user_agent}
    # A tail waits for its next line for ever; a bounded read, as long as any other read.
    opened = client.open_url(url, what="the log stream", headers=headers, timeout=timeout, endless=tail)
    with opened as response:
        status = response.status
        if status != 200:
            if tail and status in (403, 404):
                raise APIError("Log stream timed out. Please try again.", status=status)
            raise APIError(f"Logs eventsource failed with: {status}", status=status)
        yield response.iter_lines()


def stream_log_lines(
    api: HerokuAPI,
    app: str,
    *,
    dyno: str = DEFAULT_DYNO,
    lines: int = MAX_LINES,
    tail: bool = False,
    timeout: float = 30.0,
    deadline: float | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> Iterator[str]:
    """Log lines of ``app`` through a new log session (``deadline`` is a ``monotonic()`` value:
    checked between events, so a quiet tail overruns it until its next event; see the CLI for a
    hard stop)."""
    if not 1 <= lines <= MAX_LINES:
        raise ValueError(f"lines must be from 1 to {MAX_LINES}, got {lines}.")
    session = api.create_log_session(app, dyno=dyno, lines=lines, tail=tail)
    user_agent = f"herokupg/{__version__} heroku-run"
    opened = _stream(api.client, session.logplex_url, tail=tail, timeout=timeout, user_agent=user_agent)
    with opened as stream:
        for line in iter_sse_log_lines(stream):
            yield line
            if deadline is not None and monotonic() >= deadline:
                return
