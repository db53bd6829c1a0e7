"""An httpx transport that builds its TLS setup only when an https request needs it.

httpx.Client builds an SSL context when it is created, loading the CA bundle (about 40 ms, a
tenth of a module run) even when every URL is plain http, as with the sandbox. This transport
keeps one httpx.HTTPTransport per scheme, made on first use: http requests never load
certificates; https requests (also after a redirect from http) verify as asked.
"""

from __future__ import annotations

import httpx


class PerSchemeTransport(httpx.BaseTransport):
    def __init__(self, verify: bool = True) -> None:
        self.verify = verify
        self._transports: dict[str, httpx.HTTPTransport] = {}

    def _for(self, scheme: str) -> httpx.HTTPTransport:
        transport = self._transports.get(scheme)
        if transport is None:
            # TLS is only ever used for https: for http, skip building the context altogether
            transport = httpx.HTTPTransport(verify=self.verify if scheme == "https" else False)
            self._transports[scheme] = transport
        return transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._for(request.url.scheme).handle_request(request)

    def close(self) -> None:
        for transport in self._transports.values():
            transport.close()
        self._transports.clear()
