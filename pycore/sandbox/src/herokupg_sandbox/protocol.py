"""How the sandbox is served: uvicorn's h11 protocol with a deadline for request headers.

uvicorn closes idle keep-alive connections, but a client that sends its headers one byte at a time
holds a connection forever. Here every request's headers must be complete within
``header_timeout`` seconds of the connection opening, or of the previous response; otherwise the
connection is closed. The body is the routes' business (they cap its size).
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT = 10.0


class HeaderTimeoutProtocol(H11Protocol):
    header_timeout = HEADER_TIMEOUT
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn's
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a request's headers arrived
            self._disarm()

    def on_response_complete(self) -> None:
        self._arm()  # before: a pipelined request may be read (and disarm) right away
        super().on_response_complete()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _timed_out(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def config(app: Any, host: str, port: int, *, header_timeout: float = HEADER_TIMEOUT) -> Any:
    """A uvicorn config serving ``app`` with request headers read under ``header_timeout``."""
    protocol = type("SandboxProtocol", (HeaderTimeoutProtocol,), {"header_timeout": header_timeout})
    return uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on", http=protocol)
