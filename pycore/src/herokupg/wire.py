"""What HerokuClient hands a transport and gets back: requests, responses, headers, failures.

The client owns everything Heroku-specific (auth, retries, pagination, redirects); a transport only
moves one request and its response over the wire. Two come with herokupg: the default
:class:`herokupg.stdlib_transport.StdlibTransport` (``http.client``, cheap to import: a module run
is a fresh process) and :class:`herokupg.httpx_adapter.HttpxTransport` (any httpx transport, such as
``httpx.MockTransport`` in tests or one with custom TLS or proxies).

A transport failure says whether the request may have reached the server: that decides whether
the client may repeat a request that is not safe to repeat.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import NamedTuple, Protocol
from urllib.parse import urljoin, urlsplit

REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 20


class Headers(MutableMapping[str, str]):
    """Case-insensitive header names; repeated headers are joined with ", " (RFC 9110)."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        pairs = items.items() if isinstance(items, Mapping) else items
        for name, value in pairs:
            key = name.lower()
            if key in self._items:
                value = f"{self._items[key][1]}, {value}"
            self._items[key] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _value in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __setitem__(self, name: str, value: str) -> None:
        self._items[name.lower()] = (name, value)

    def __delitem__(self, name: str) -> None:
        del self._items[name.lower()]

    def __repr__(self) -> str:
        return f"Headers({list(self)!r})"  # names only: values may be credentials


class Request(NamedTuple):
    method: str
    url: str  # absolute, query string included
    headers: Headers
    content: bytes | None = None


class Response(NamedTuple):
    status: int
    headers: Headers
    content: bytes  # decoded from any Content-Encoding


class TransportError(Exception):
    """The request got no HTTP response.

    ``not_sent``: it provably never reached the server (no connection was made), so it may be
    repeated whatever its method. ``retryable``: repeating can help (false for a setup error such
    as an unsupported proxy). ``kind`` names the underlying failure (e.g. ``ConnectionRefusedError``).
    """

    def __init__(self, kind: str, message: str, *, not_sent: bool, retryable: bool = True) -> None:
        super().__init__(message)
        self.kind = kind
        self.not_sent = not_sent
        self.retryable = retryable


def redirected(request: Request, status: int, location: str) -> Request:
    """The request to send after a redirect, as httpx and browsers do it: 303 (and 301/302 after a
    POST) becomes a GET without a body, and Authorization never goes to another origin."""
    url = urljoin(request.url, location).partition("#")[0]
    method, content, headers = request.method, request.content, Headers(request.headers)
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method, content = "GET", None
        headers.pop("Content-Type", None)
    if _origin(url) != _origin(request.url):
        headers.pop("Authorization", None)  # the key goes to the configured hosts only
    return Request(method, url, headers, content)


def too_many_redirects() -> TransportError:
    return TransportError("TooManyRedirects", f"more than {MAX_REDIRECTS} redirects", not_sent=False,
                          retryable=False)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


class Transport(Protocol):
    def handle(self, request: Request, timeout: float) -> Response:
        """Send one request and read its whole response; raise TransportError without one."""

    def close(self) -> None: ...
