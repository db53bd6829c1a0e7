"""HerokuClient's default transport: ``http.client``, one kept-alive connection per origin.

Why not httpx: every Ansible module run is a fresh Python process, and importing httpx plus the
httpcore parts its first request needs costs about 40 ms, a sixth of an ``ansible.builtin.ping``
task; ``http.client`` costs about 7. What httpx did for us and this keeps: keep-alive with a check
that the server has not closed an idle connection, connect failures told apart from failures after
sending (the client may repeat only the former for any method), gzip/deflate answers, TLS verified
with ``SSL_CERT_FILE``/``SSL_CERT_DIR`` or certifi's bundle, and ``*_proxy``/``no_proxy`` from the
environment (http:// proxies; https targets go through a CONNECT tunnel). Redirects, retries and
everything Heroku-specific live in the client.

TLS is set up on the first https request only: plain-http URLs (the sandbox) never load a CA bundle.
"""

from __future__ import annotations

import base64
import http.client
import os
import select
import socket
import ssl  # http.client imports it anyway; set up (CA bundle loaded) only for https
import zlib
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from herokupg.wire import (
    MAX_REDIRECTS,
    REDIRECTS,
    Headers,
    Request,
    Response,
    TransportError,
    redirected,
    too_many_redirects,
)

Origin = tuple[str, str, int]
DEFAULT_PORTS = {"http": 80, "https": 443}


class Proxy(NamedTuple):
    host: str
    port: int
    headers: dict[str, str]  # Proxy-Authorization, when the proxy URL has credentials


class Link(NamedTuple):
    """A connection to one origin, and how requests go over it."""

    connection: http.client.HTTPConnection
    absolute_form: bool  # plain http through a proxy: the request line names the whole URL
    headers: dict[str, str]  # added to every request (proxy credentials for absolute form)


class StdlibTransport:
    def __init__(self, verify: bool = True, env: Mapping[str, str] | None = None) -> None:
        self.verify = verify
        self._env: Mapping[str, str] = os.environ if env is None else env
        self._links: dict[Origin, Link] = {}
        self._context: ssl.SSLContext | None = None

    def handle(self, request: Request, timeout: float) -> Response:
        connection, response = self._exchange(request, timeout, timeout)
        try:
            content = response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise _sent_error(exc) from None
        received = Headers(response.getheaders())
        return Response(response.status, received, _decoded(content, received.get("Content-Encoding")))

    def open(self, request: Request, timeout: float, read_timeout: float | None) -> http.client.HTTPResponse:
        """Send ``request`` and return its response with the body unread, for streams (log sessions).

        ``read_timeout`` None waits for the next bytes for ever (a tail). Read the body, then close
        the response and this transport: the connection is not reused.
        """
        return self._exchange(request, timeout, read_timeout)[1]

    def open_following(
        self, request: Request, timeout: float, read_timeout: float | None
    ) -> http.client.HTTPResponse:
        """:meth:`open`, after any redirects (log streams and storage URLs may use them)."""
        for _hop in range(MAX_REDIRECTS + 1):
            response = self.open(request, timeout, read_timeout)
            location = response.getheader("Location")
            if response.status not in REDIRECTS or not location:
                return response
            response.read()  # the redirect's own body, so that its connection can carry the next hop
            request = redirected(request, response.status, location)
        raise too_many_redirects()

    def _exchange(
        self, request: Request, timeout: float, read_timeout: float | None
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        parts = urlsplit(request.url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            raise TransportError(
                "UnsupportedURL", f"cannot send a request to a {scheme or 'relative'} URL", not_sent=True,
                retryable=False,
            )
        origin = (scheme, parts.hostname, parts.port or DEFAULT_PORTS[scheme])
        link = self._links.get(origin)
        if link is None:
            link = self._links[origin] = self._link(origin, timeout)
        connection = link.connection
        if connection.sock is not None and _dropped(connection.sock):
            connection.close()  # the server closed it while idle: a new one, before anything is sent
        if connection.sock is None:
            connection.timeout = timeout
            try:
                connection.connect()  # TCP, the proxy's CONNECT tunnel, TLS: nothing sent yet
            except OSError as exc:
                connection.close()
                raise _connect_error(exc) from None
        connection.sock.settimeout(read_timeout)

        target = request.url if link.absolute_form else (parts.path or "/") + (
            f"?{parts.query}" if parts.query else "")
        headers = {"Accept-Encoding": "gzip, deflate", **link.headers, **request.headers}
        try:
            connection.request(request.method, target, body=request.content, headers=headers)
            return connection, connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise _sent_error(exc) from None

    def close(self) -> None:
        for link in self._links.values():
            link.connection.close()
        self._links.clear()

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS settings of every https connection, made on first use."""
        if self._context is None:
            if not self.verify:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            else:
                cafile, capath = self._env.get("SSL_CERT_FILE"), self._env.get("SSL_CERT_DIR")
                if not (cafile or capath):
                    try:
                        import certifi  # httpx's default, so whom we trust stays the same

                        cafile = certifi.where()
                    except ImportError:
                        pass
                context = ssl.create_default_context(cafile=cafile or None, capath=capath or None)
            self._context = context
        return self._context

    def _link(self, origin: Origin, timeout: float) -> Link:
        scheme, host, port = origin
        proxy = self._proxy(scheme, host, port)
        dial = (proxy.host, proxy.port) if proxy else (host, port)
        if scheme == "https":
            secure = http.client.HTTPSConnection(*dial, timeout=timeout, context=self.ssl_context())
            if proxy:
                secure.set_tunnel(host, port, headers=proxy.headers)  # TLS to the origin, through the proxy
            return Link(secure, False, {})
        if proxy:
            return Link(http.client.HTTPConnection(*dial, timeout=timeout), True, proxy.headers)
        return Link(http.client.HTTPConnection(*dial, timeout=timeout), False, {})

    def _proxy(self, scheme: str, host: str, port: int) -> Proxy | None:
        variables: dict[str, str] = {}
        for name, value in self._env.items():
            lowered = name.lower()
            # as in urllib: a lowercase variable wins over its uppercase twin
            if lowered.endswith("_proxy") and value and (name == lowered or lowered not in variables):
                variables[lowered] = value
        url = variables.get(f"{scheme}_proxy") or variables.get("all_proxy")
        if not url or _bypassed(variables.get("no_proxy", ""), host, port):
            return None
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme.lower() != "http" or not parts.hostname:
            raise TransportError(
                "UnsupportedProxy",
                f"the {scheme}_proxy/all_proxy setting must be an http:// proxy URL (got a "
                f"{parts.scheme or 'schemeless'} one); unset it or point it at an http proxy",
                not_sent=True,
                retryable=False,
            )
        headers = {}
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            headers["Proxy-Authorization"] = "Basic " + base64.b64encode(pair).decode()
        return Proxy(parts.hostname, parts.port or 80, headers)


def _bypassed(no_proxy: str, host: str, port: int) -> bool:
    """``no_proxy``: ``*``, or names (``example.com`` also covers its subdomains), ports optional."""
    host = host.lower()
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if entry == "*":
            return True
        name, _colon, entry_port = entry.partition(":") if entry.count(":") == 1 else (entry, "", "")
        name = name.strip("[]").lstrip(".")
        matches = host == name or host.endswith("." + name)
        if name and matches and (not entry_port or entry_port == str(port)):
            return True
    return False


def _connect_error(exc: OSError) -> TransportError:
    message = str(exc) or "connect failed"
    if isinstance(exc, ssl.SSLCertVerificationError):
        # repeating cannot help; say what can
        return TransportError(
            type(exc).__name__,
            f"{message} (set SSL_CERT_FILE to the CA bundle that signed the server's certificate, or turn "
            "certificate validation off (validate_certs: false) for a host you trust)",
            not_sent=True,
            retryable=False,
        )
    return TransportError(type(exc).__name__, message, not_sent=True)


def _sent_error(exc: OSError | http.client.HTTPException) -> TransportError:
    return TransportError(type(exc).__name__, str(exc) or "no response", not_sent=False)


def _dropped(sock: socket.socket) -> bool:
    """An idle kept-alive connection is readable only if the server closed it (or broke protocol)."""
    try:
        readable, _writable, _failed = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _decoded(content: bytes, encoding: str | None) -> bytes:
    if not encoding or not content:
        return content
    try:
        for coding in reversed([c.strip().lower() for c in encoding.split(",")]):
            if coding in ("gzip", "x-gzip"):
                content = zlib.decompress(content, 16 + zlib.MAX_WBITS)
            elif coding == "deflate":
                try:
                    content = zlib.decompress(content)
                except zlib.error:  # raw deflate, without the zlib header some servers omit
                    content = zlib.decompress(content, -zlib.MAX_WBITS)
            elif coding not in ("identity", ""):
                raise TransportError("DecodingError", f"unsupported Content-Encoding {coding!r}",
                                     not_sent=False, retryable=False)
    except zlib.error as exc:
        raise TransportError("DecodingError", f"bad {encoding} body: {exc}", not_sent=False) from None
    return content
