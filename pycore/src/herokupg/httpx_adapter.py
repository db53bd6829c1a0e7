"""Any httpx transport behind HerokuClient: ``httpx.MockTransport`` in tests, or one a caller has
set up with its own TLS, proxies or retries. HerokuClient wraps an httpx transport in this itself.

httpx failures map onto the client's retry rules: connect failures never reached the server;
timeouts, network errors and protocol errors may have; any other httpx transport error (an
unsupported protocol, a proxy refusing) is not worth repeating.
"""

from __future__ import annotations

import httpx

from herokupg.wire import Headers, Request, Response, TransportError

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_MAYBE_SENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class HttpxTransport:
    def __init__(self, transport: httpx.BaseTransport) -> None:
        self.transport = transport

    def handle(self, request: Request, timeout: float) -> Response:
        outgoing = httpx.Request(
            request.method,
            request.url,
            headers=list(request.headers.items()),
            content=request.content,
            extensions={"timeout": httpx.Timeout(timeout).as_dict()},
        )
        try:
            response = self.transport.handle_request(outgoing)
            try:
                content = response.read()  # decoded from any Content-Encoding
            finally:
                response.close()
        except httpx.TransportError as exc:
            not_sent = isinstance(exc, _NOT_SENT)
            retryable = not_sent or isinstance(exc, _MAYBE_SENT)
            kind = type(exc).__name__
            raise TransportError(kind, str(exc), not_sent=not_sent, retryable=retryable) from None
        return Response(response.status_code, Headers(response.headers.multi_items()), content)

    def close(self) -> None:
        self.transport.close()
