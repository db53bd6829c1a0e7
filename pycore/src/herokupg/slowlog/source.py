"""Log lines from a Heroku log session (Server-Sent Events); files and stdin: :mod:`.files`.

Everything here is a generator of lines: nothing reads a whole input into memory.

Log sessions follow the Heroku CLI (contract §6): ``POST /apps/{app}/log-sessions`` with
``{dyno, lines, tail}`` returns a ``logplex_url``, read as Server-Sent Events. Each event's
``data`` may carry several log lines separated by newlines. The stream URL carries its own
token: no Authorization header is sent to it. Without ``tail`` the server ends the stream; with
it, the stream goes on until the caller stops reading, the deadline passes or the server ends it
(a 403/404 then means the session timed out, as the CLI reports). The stream goes through the API
client's ``httpx.Client`` (its proxies and certificates), without the API key.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from herokupg import __version__
from herokupg.api import HerokuAPI
from herokupg.errors import APIError, ConnectionFailedError
from herokupg.redact import redact

_TOKEN = re.compile(r"token=[^&\s]+")
MAX_LINES = 1500  # the most a Heroku log session returns without tail
DEFAULT_DYNO = "postgres"  # `heroku logs -p postgres`; `heroku-postgres` selects the metrics proc


def _safe(exc: Exception) -> str:
    """An exception's text without the stream URL's session token."""
    return _TOKEN.sub("token=[REDACTED]", redact(str(exc))) or type(exc).__name__


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
    http: httpx.Client, url: str, *, tail: bool, timeout: float, user_agent: str
) -> Iterator[Iterator[str]]:
    """The stream's lines; no Authorization header ever goes to the log stream host."""
    headers = {"Accept": "text/event-stream", "User-Agent": user_agent, "Accept-Encoding": "identity"}
    # A tail waits for its next line for ever; a bounded read, as long as any other read.
    limits = httpx.Timeout(timeout, read=None if tail else timeout)
    try:
        with http.stream("GET", url, headers=headers, timeout=limits, follow_redirects=True) as response:
            status = response.status_code
            if status != 200:
                if tail and status in (403, 404):
                    raise APIError("Log stream timed out. Please try again.", status=status)
                raise APIError(f"Logs eventsource failed with: {status}", status=status)
            yield _lines(response)
    except httpx.HTTPError as exc:
        reason = f"{type(exc).__name__}: {_safe(exc)}"
        raise ConnectionFailedError(f"Could not read the log stream: {reason}") from None


def _lines(response: httpx.Response) -> Iterator[str]:
    try:
        yield from response.iter_lines()
    except httpx.HTTPError as exc:
        raise ConnectionFailedError(f"The log stream broke off: {type(exc).__name__}: {_safe(exc)}") from None


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
    http = api.client.http
    with _stream(http, session.logplex_url, tail=tail, timeout=timeout, user_agent=user_agent) as stream:
        for line in iter_sse_log_lines(stream):
            yield line
            if deadline is not None and monotonic() >= deadline:
                return
