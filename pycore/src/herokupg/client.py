"""Client of the Heroku Platform API and Data API (one for both hosts).

What it does for every caller: Bearer auth, the Heroku Accept header, a User-Agent, a fresh
Request-Id per HTTP request, Range/Next-Range pagination, redirects (Authorization kept on its
origin), retries with jittered exponential backoff (``retries``: connection failures, and for
idempotent requests read failures and 5xx answers), 429 handling (any method, ``Retry-After``
honoured, its own ``rate_limit_retries`` budget), pacing on ``RateLimit-Remaining``, and typed
errors (:mod:`herokupg.errors`). Nothing it logs or raises contains the API key: text goes through
:func:`herokupg.redact.redact`.

Every request goes through one ``httpx.Client`` (:attr:`HerokuClient.http`), made on first use and
shared by both hosts, so a run opens one connection per host and loads certificates once. Proxies
and certificates are httpx's: ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``/``NO_PROXY`` and
``SSL_CERT_FILE``/``SSL_CERT_DIR`` from the environment (``trust_env``), else certifi's bundle;
``validate_certs=False`` turns verification off. Whether a failed request may be repeated follows
httpx's exceptions: ``ConnectError``/``ConnectTimeout``/``PoolTimeout`` never reached the server
(any method may be repeated); read timeouts, network and protocol errors may have (only idempotent
requests are: GET/HEAD/OPTIONS/PUT/DELETE, or a request sent with ``idempotent=True``).

The API key is looked up lazily, on the first request (:func:`herokupg.auth.find_api_key`), so
constructing a client never fails for want of a key (check mode can build one freely).
"""

from __future__ import annotations

import logging
import math
import os
import random
import re
import ssl
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from json import dumps, loads
from types import TracebackType
from typing import Any, Literal, TypedDict, Unpack
from urllib.parse import urlencode, urlsplit

from herokupg import __version__
from herokupg.auth import find_api_key
from herokupg.errors import (
    APIError,
    ConfirmationRequiredError,
    ConflictError,
    ConnectionFailedError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    StreamBrokenError,
    UnauthorizedError,
    ValidationError,
    missing_resource,
)
from herokupg.redact import MASK, redact, register_secret

# httpx imports its command line client when click, rich and pygments happen to be installed
# (a quarter of its import time); herokupg never runs it. httpx treats it as optional: a None
# entry in sys.modules makes that one import fail at once, and is dropped again right after.
_HTTPX_CLI = "httpx._main"
_SKIP_HTTPX_CLI = _HTTPX_CLI not in sys.modules
if _SKIP_HTTPX_CLI:
    sys.modules[_HTTPX_CLI] = None  # type: ignore[assignment]
try:
    import httpx
finally:
    if _SKIP_HTTPX_CLI and sys.modules.get(_HTTPX_CLI, _HTTPX_CLI) is None:
        del sys.modules[_HTTPX_CLI]


DEFAULT_API_URL = "https://api.heroku.com"
DEFAULT_DATA_API_URL = "https://api.data.heroku.com"
DEFAULT_ACCEPT = "application/vnd.heroku+json; version=3"

# Heroku refills the account's token bucket at about 75 requests per minute.
REFILL_INTERVAL = 60.0 / 75.0
# A Retry-After longer than this is a server asking us to give up, not to wait.
RETRY_AFTER_MAX = 300.0

MAX_REDIRECTS = 20

# Idempotent (RFC 9110 9.2.2): repeating one has the effect of sending it once, so one that may have
# reached the server can be sent again. Not "safe" (9.2.1): PUT and DELETE change things.
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Failures where the request provably never reached the server: it may be repeated whatever its method.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures after which the request may have reached the server: repeat only idempotent requests.
_MAYBE_SENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
# Never sent either, but repeating cannot help: a proxy that refused the tunnel, a URL httpx cannot send.
_REFUSED = (httpx.ProxyError, httpx.UnsupportedProtocol)
# The proxy variables httpx reads (trust_env), named in errors about them.
PROXY_VARIABLES = "HTTPS_PROXY, HTTP_PROXY, ALL_PROXY (or their lowercase forms)"

log = logging.getLogger("herokupg.client")

Api = Literal["platform", "data"]


class WriteOptions(TypedDict, total=False):
    """Keyword options of post/patch/put/delete (see HerokuClient.request)."""

    api: Api
    json: Any
    params: Mapping[str, str] | None
    headers: Mapping[str, str] | None
    accept: str | None
    idempotent: bool | None


def resolve_urls(
    api_url: str | None = None,
    data_api_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """Return ``(platform_url, data_api_url)``.

    Each argument wins over its env var (``HEROKU_API_URL``, ``HEROKU_DATA_API_URL``), which wins
    over the default. With no Data API URL given and a platform URL that is not a heroku.com
    host (the sandbox), the Data API shares the platform URL: the sandbox serves both on one port.
    """
    environ = os.environ if env is None else env
    platform = _check_url(api_url or environ.get("HEROKU_API_URL") or DEFAULT_API_URL)
    data = data_api_url or environ.get("HEROKU_DATA_API_URL")
    if data:
        return platform, _check_url(data)
    host = (urlsplit(platform).hostname or "").lower()
    if host == "heroku.com" or host.endswith(".heroku.com"):
        return platform, DEFAULT_DATA_API_URL
    return platform, platform


def _check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"API URL must be an absolute http(s) URL, got {redact(url)!r}")
    return url.strip().rstrip("/")


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: Mapping[str, str]  # case-insensitive (httpx.Headers)
    body: Any  # parsed JSON, text for non-JSON bodies, None when empty
    request_id: str | None


class HerokuClient:
    """Synchronous client for both Heroku APIs. Not thread-safe; use one per thread/process.

    ``env`` is where ``HEROKU_API_KEY``/``HEROKU_API_URL``/``HEROKU_DATA_API_URL`` and ``HOME``
    (for ``~/.netrc``) are looked up (default ``os.environ``); httpx reads the proxy and certificate
    variables from the process environment itself. ``transport``: an httpx transport to send through
    instead of httpx's own (tests pass ``httpx.MockTransport``; proxies from the environment then
    do not apply).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        api_url: str | None = None,
        data_api_url: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        validate_certs: bool = True,
        user_agent: str | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        env: Mapping[str, str] | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 20.0,
        pace_below: int = 200,
        rate_limit_retries: int = 10,
    ) -> None:
        register_secret(api_key)
        self._explicit_key = api_key
        self._key: str | None = None
        self._env: Mapping[str, str] = os.environ if env is None else env
        self.api_url, self.data_api_url = resolve_urls(api_url, data_api_url, self._env)
        self.retries = max(0, retries)
        # 429s have their own budget: the request was refused before anything was applied, and
        # concurrent clients sharing the account's bucket (Ansible forks) may each need several
        # refill intervals before a token is theirs.
        self.rate_limit_retries = max(0, rate_limit_retries)
        # user_agent replaces the default entirely (callers may put herokupg's in it themselves).
        self.user_agent = user_agent or f"herokupg/{__version__}"
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.pace_below = pace_below
        self.request_count = 0  # API requests sent, retries included (redirect hops are not counted)
        self.rate_limit_remaining: int | None = None
        # Request-Id of the last answer: names the request whose body did not fit a model.
        self.last_request_id: str | None = None
        self._sleep = sleep
        self._warned: set[str] = set()
        self.timeout = timeout  # seconds, for connecting and for each read
        self.validate_certs = validate_certs
        self._transport = transport  # an httpx transport of the caller's (tests: httpx.MockTransport)
        self._http: httpx.Client | None = None

    def __repr__(self) -> str:
        return f"HerokuClient(api_url={self.api_url!r}, data_api_url={self.data_api_url!r})"

    @property
    def http(self) -> httpx.Client:
        """The ``httpx.Client`` every request goes through, made on first use.

        It carries no credentials of its own (the API key is added to each API request), so log
        streams and signed backup URLs, which are their own credential, go through it too.
        """
        if self._http is None:
            self._http = _http_client(self._transport, self.timeout, self.validate_certs)
        return self._http

    @contextmanager
    def open_url(
        self,
        url: str,
        *,
        what: str,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        endless: bool = False,
    ) -> Iterator[UrlStream]:
        """GET an absolute URL that is its own credential (a signed backup URL, a log stream), streamed.

        Through :attr:`http`, like every API request: the same proxies, certificates, timeouts and
        log redaction, but never the API key. Redirects are followed. ``what`` names the stream in
        errors ("the download"); ``timeout`` (default: the client's) is for connecting and each
        read, but an ``endless`` stream (a log tail) waits for its next byte for ever. Any status is
        returned: the caller decides what it means. A failure before the answer raises
        :class:`~herokupg.errors.ConnectionFailedError`; one while reading the body,
        :class:`~herokupg.errors.StreamBrokenError`. Their text names the URL without its query.
        """
        seconds = self.timeout if timeout is None else timeout
        limits = httpx.Timeout(seconds, read=None if endless else seconds)
        asked = httpx.Headers({"User-Agent": self.user_agent, "Accept-Encoding": "identity"})
        asked.update(headers or {})
        shown = _without_query(url)
        try:
            with self.http.stream("GET", url, headers=asked, timeout=limits, follow_redirects=True) as answer:
                yield UrlStream(answer, what, url)
        except httpx.HTTPError as exc:
            reason = f"{type(exc).__name__}: {_describe(exc, url)}"
            raise ConnectionFailedError(
                f"Could not read {what} ({shown}): {reason}", method="GET", url=shown, may_have_applied=False
            ) from None

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> HerokuClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- public verbs --------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        api: Api = "platform",
        json: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        accept: str | None = None,
        idempotent: bool | None = None,
    ) -> ApiResponse:
        """Send one request (retrying as allowed) and return the response; raise on non-2xx.

        ``idempotent`` None means "by method": GET/HEAD/OPTIONS/PUT/DELETE may be repeated after
        a failure that may have reached the server, POST/PATCH may not. Does not paginate.
        """
        method = method.upper()
        url = self._url(path, api)
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        repeatable = method in _IDEMPOTENT_METHODS if idempotent is None else idempotent
        merged = httpx.Headers(
            {
                "Accept": DEFAULT_ACCEPT,
                "User-Agent": self.user_agent,
                "Authorization": f"Bearer {self._api_key()}",
            }
        )
        merged.update(headers or {})  # case-insensitive: a caller's "accept" replaces "Accept"
        if accept:
            merged["Accept"] = accept
        content = None
        if json is not None:
            content = dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            if "Content-Type" not in merged:
                merged["Content-Type"] = "application/json"
        shown_url = redact(url)
        http = self.http

        attempts = self.retries + 1
        failures = 0  # transport errors and 5xx so far: bounded by `retries`
        limited = 0  # 429s so far: bounded by `rate_limit_retries`
        retry_wait = 0.0
        for attempt in range(1, attempts + self.rate_limit_retries + 1):
            self._pause(retry_wait)
            request_id = str(uuid.uuid4())
            merged["Request-Id"] = request_id
            started = time.monotonic()
            self.request_count += 1
            try:
                response = self._send(http, http.build_request(method, url, headers=merged, content=content))
            except _Failure as failure:
                elapsed = time.monotonic() - started
                not_sent = failure.not_sent
                retryable = failure.retryable and (not_sent or repeatable)
                failures += 1
                reason = f"{type(failure.error).__name__}: {_describe(failure.error)}"
                log.debug(
                    "%s %s failed after %.0f ms (Request-Id %s): %s",
                    method,
                    shown_url,
                    elapsed * 1000,
                    request_id,
                    reason,
                )
                if retryable and failures < attempts:
                    retry_wait = self._backoff(failures)
                    log.debug(
                        "retrying %s %s in %.2f s (attempt %d): %s",
                        method,
                        shown_url,
                        retry_wait,
                        attempt + 1,
                        reason,
                    )
                    continue
                # from None: httpx's text is unredacted (it is already in `reason`, redacted)
                raise self._connection_error(method, shown_url, attempt, reason, not_sent) from None

            elapsed = time.monotonic() - started
            self._track(response)
            resp_id = response.headers.get("Request-Id") or request_id
            self.last_request_id = resp_id
            log.debug(
                "%s %s -> %d in %.0f ms (Request-Id %s)",
                method,
                shown_url,
                response.status_code,
                elapsed * 1000,
                resp_id,
            )
            status = response.status_code
            if 200 <= status < 300:
                return ApiResponse(status, response.headers, _body(response), resp_id)

            retry_wait = -1.0
            if status == 429 and limited < self.rate_limit_retries:
                # Rejected before anything was applied, so it may be repeated for any method.
                # Without Retry-After, back off from one refill interval (a token's worth).
                limited += 1
                fallback = self._backoff(limited, base=REFILL_INTERVAL)
                retry_wait = _retry_after(response.headers.get("Retry-After"), fallback)
            elif status >= 500 and repeatable and failures + 1 < attempts:
                failures += 1
                retry_wait = self._backoff(failures)
            if retry_wait >= 0:
                log.debug(
                    "retrying %s %s in %.2f s (attempt %d): HTTP %d",
                    method,
                    shown_url,
                    retry_wait,
                    attempt + 1,
                    status,
                )
                continue
            raise _api_error(response, method, shown_url, resp_id)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def get(
        self,
        path: str,
        *,
        api: Api = "platform",
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        accept: str | None = None,
    ) -> Any:
        """GET and return the body; an array answered with ``Next-Range`` is followed to the end."""
        response = self.request("GET", path, api=api, headers=headers, params=params, accept=accept)
        if isinstance(response.body, list) and response.headers.get("Next-Range"):
            return self._follow(response, path, api, headers, params, accept, None)
        return response.body

    def get_all(
        self,
        path: str,
        *,
        api: Api = "platform",
        headers: Mapping[str, str] | None = None,
        accept: str | None = None,
        range_header: str | None = None,
    ) -> list[Any]:
        """GET every page of a list (starting at ``range_header`` if given) and concatenate them."""
        first_headers = {**(headers or {}), **({"Range": range_header} if range_header else {})}
        response = self.request("GET", path, api=api, headers=first_headers, accept=accept)
        if not isinstance(response.body, list):
            raise APIError(
                f"Expected a JSON array from GET {redact(self._url(path, api))}, "
                f"got {type(response.body).__name__}",
                status=response.status,
                request_id=response.request_id,
                method="GET",
                url=self._url(path, api),
            )
        return self._follow(response, path, api, headers, None, accept, range_header)

    def post(self, path: str, **options: Unpack[WriteOptions]) -> Any:
        return self.request("POST", path, **options).body

    def patch(self, path: str, **options: Unpack[WriteOptions]) -> Any:
        return self.request("PATCH", path, **options).body

    def put(self, path: str, **options: Unpack[WriteOptions]) -> Any:
        return self.request("PUT", path, **options).body

    def delete(self, path: str, **options: Unpack[WriteOptions]) -> Any:
        return self.request("DELETE", path, **options).body

    # -- internals -----------------------------------------------------------------------------

    def _send(self, http: httpx.Client, request: httpx.Request) -> httpx.Response:
        """One request and its whole response, after any redirects.

        httpx builds each hop (``next_request``: 303 and 301/302 after a POST become a GET without
        a body, Authorization never goes to another origin); the hops are followed here so that a
        failure on a later hop counts as sent: the first hop reached the server.
        """
        hops = 0
        while True:
            try:
                response = http.send(request)
            except httpx.HTTPError as exc:
                raise _Failure(exc, reached=hops > 0) from None
            following = response.next_request
            if not response.is_redirect or following is None:
                return response
            hops += 1
            if hops > MAX_REDIRECTS:
                too_many = httpx.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects", request=request)
                raise _Failure(too_many, reached=True)
            request = following

    def _api_key(self) -> str:
        if self._key is None:
            self._key = find_api_key(self._explicit_key, env=self._env)
        return self._key

    def _url(self, path: str, api: Api) -> str:
        if not path.startswith("/"):
            # Absolute URLs are refused so that the key is only ever sent to the configured hosts.
            raise ValidationError(f"API path must start with '/', got {redact(path)!r}")
        base = self.data_api_url if api == "data" else self.api_url
        return base + path

    def _follow(
        self,
        first: ApiResponse,
        path: str,
        api: Api,
        headers: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        accept: str | None,
        range_header: str | None,
    ) -> list[Any]:
        items: list[Any] = list(first.body)
        response, current = first, range_header
        while isinstance(response.body, list) and (next_range := response.headers.get("Next-Range")):
            if next_range == current:
                # A server that hands back the range we asked for would loop us forever.
                raise APIError(
                    f"Pagination did not advance for GET {redact(self._url(path, api))} "
                    f"(Next-Range {next_range!r} repeated)",
                    status=response.status,
                    request_id=response.request_id,
                    method="GET",
                    url=self._url(path, api),
                )
            current = next_range
            response = self.request(
                "GET",
                path,
                api=api,
                params=params,
                accept=accept,
                headers={**(headers or {}), "Range": next_range},
            )
            if isinstance(response.body, list):
                items.extend(response.body)
        return items

    def _pause(self, retry_wait: float) -> None:
        """Sleep before a request: the retry backoff, or the pacing delay if that is longer."""
        pace = self._pace_delay()
        if pace > retry_wait:
            log.debug("pacing: RateLimit-Remaining %s, waiting %.2f s", self.rate_limit_remaining, pace)
        delay = max(retry_wait, pace)
        if delay > 0:
            self._sleep(delay)

    def _pace_delay(self) -> float:
        # delay = REFILL_INTERVAL * (1 - remaining / pace_below), for remaining < pace_below:
        # 0 at the threshold, rising linearly to one refill interval (0.8 s) at remaining 0.
        # A lone client then spends no faster than the bucket refills as it nears empty, and
        # concurrent clients (Ansible forks share the account's bucket) all slow down together
        # as the shared counter falls; any 429 that still happens is retried with backoff.
        remaining = self.rate_limit_remaining
        if remaining is None or self.pace_below <= 0 or remaining >= self.pace_below:
            return 0.0
        return REFILL_INTERVAL * (1.0 - max(remaining, 0) / self.pace_below)

    def _backoff(self, attempt: int, base: float | None = None) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random, capped at backoff_max."""
        start = self.backoff_base if base is None else base
        ceiling = min(self.backoff_max, start * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not crypto

    def _track(self, response: httpx.Response) -> None:
        remaining = response.headers.get("RateLimit-Remaining")
        if remaining is not None:
            try:
                self.rate_limit_remaining = int(remaining)
            except ValueError:
                pass
        for name in ("X-Heroku-Warning", "Warning-Message"):
            warning = response.headers.get(name)
            if warning and warning not in self._warned:
                self._warned.add(warning)
                log.warning("Heroku API warning: %s", redact(warning))

    def _connection_error(
        self, method: str, shown_url: str, attempts: int, reason: str, not_sent: bool
    ) -> ConnectionFailedError:
        if not_sent:
            outcome = "The request never reached the server, so nothing was changed."
        elif method in _READ_METHODS:
            outcome = "The request may have reached the server; it only reads, so it is safe to repeat."
        else:
            outcome = (
                "The request may have reached the server and been applied: check the current "
                "state before repeating it."
            )
        return ConnectionFailedError(
            f"Could not complete {method} {shown_url} after {attempts} attempt(s): {reason}. {outcome}",
            method=method,
            url=shown_url,
            may_have_applied=not not_sent and method not in _READ_METHODS,
        )


class UrlStream:
    """The answer of :meth:`HerokuClient.open_url`: status, headers and the body as it comes."""

    def __init__(self, response: httpx.Response, what: str, url: str) -> None:
        self.status = response.status_code
        self.headers: Mapping[str, str] = response.headers  # case-insensitive
        self._response = response
        self._what = what
        self._url = url

    def iter_raw(self) -> Iterator[bytes]:
        """The body's bytes as they arrive, undecoded: a break keeps what arrived."""
        return self._guarded(self._response.iter_raw())

    def iter_lines(self) -> Iterator[str]:
        return self._guarded(self._response.iter_lines())

    def _guarded(self, chunks: Iterator[Any]) -> Iterator[Any]:
        try:
            yield from chunks
        except httpx.HTTPError as exc:
            reason = f"{type(exc).__name__}: {_describe(exc, self._url)}"
            raise StreamBrokenError(f"{self._what[:1].upper()}{self._what[1:]} broke off: {reason}") from None


class _Failure(Exception):
    """A request that got no HTTP response, and whether it may be repeated.

    ``not_sent``: it provably never reached the server (no connection was made), so it may be
    repeated whatever its method. ``retryable``: repeating can help (not for a certificate the
    server's chain does not match, a proxy httpx cannot use, a redirect loop).
    """

    def __init__(self, error: Exception, *, reached: bool) -> None:
        super().__init__(type(error).__name__)  # httpx's text may hold a secret: see _describe
        self.error = error
        self.not_sent = not reached and isinstance(error, _NOT_SENT + _REFUSED)
        # (ConnectError is a NetworkError to httpx: the certificate check must come first)
        self.retryable = isinstance(error, _NOT_SENT + _MAYBE_SENT) and not _bad_certificate(error)


def _bad_certificate(error: BaseException) -> bool:
    """httpx reports a certificate that fails verification as a ConnectError caused by ssl's error."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


# A log stream's session token, in whatever query parameter position (redact() masks ?token= only).
_TOKEN = re.compile(r"(token=)[^&\s\"']+", re.I)


def _without_query(url: str) -> str:
    """``url`` without its query, which holds a signed URL's or a log stream's credential."""
    return redact(url.split("?", 1)[0])


def _describe(error: Exception, url: str | None = None) -> str:
    """An httpx failure's text, redacted (``url``'s query masked), with what to do about one that
    repeating cannot fix."""
    text = str(error)
    query = url.partition("?")[2] if url else ""
    if query:
        text = text.replace(query, MASK)
    text = _TOKEN.sub(r"\g<1>" + MASK, redact(text)) or "no response"
    if _bad_certificate(error):
        text += (
            " (set SSL_CERT_FILE to the CA bundle that signed the server's certificate, or turn "
            "certificate validation off (validate_certs: false) for a host you trust)"
        )
    return text


def _http_client(transport: httpx.BaseTransport | None, timeout: float, verify: bool) -> httpx.Client:
    """The httpx.Client of a HerokuClient: proxies and certificates from the environment."""
    _install_log_redaction()
    try:
        return httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            verify=verify,
            trust_env=True,
            follow_redirects=False,  # HerokuClient._send follows them (streams ask httpx to)
        )
    except (ValueError, ImportError) as exc:
        # A proxy URL httpx cannot use: an unknown scheme, or socks5:// without httpx[socks].
        raise ConnectionFailedError(
            f"Cannot use the proxy set in {PROXY_VARIABLES}: {redact(str(exc))}. Point it at an "
            "http:// or https:// proxy (socks5:// needs `pip install 'httpx[socks]'`), or unset it.",
            may_have_applied=False,
        ) from None


def _install_log_redaction() -> None:
    """httpx logs every request's URL at INFO: a signed backup URL or a log-stream token would
    reach whatever handler a caller configured. Redact those records as herokupg's own are."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _Redacting) for f in logger.filters):
        logger.addFilter(_Redacting())


class _Redacting(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        return True


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    content_type = response.headers.get("Content-Type", "")
    if "json" in content_type or not content_type:
        try:
            return loads(response.content)
        except ValueError:
            pass
    return response.text


def _retry_after(value: str | None, default: float) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), else ``default``."""
    if not value:
        return default
    seconds: float
    try:
        seconds = float(value)
    except ValueError:
        import email.utils  # HTTP-date Retry-After is rare; the import is not free

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return default
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if math.isnan(seconds):
        return default
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)


def _api_error(response: httpx.Response, method: str, shown_url: str, request_id: str | None) -> APIError:
    status = response.status_code
    try:
        payload = loads(response.content)
    except ValueError:
        payload = None
    data: dict[str, Any] = payload if isinstance(payload, dict) else {}
    error_id = data.get("id") if isinstance(data.get("id"), str) else None
    message = data.get("message")
    resource = data.get("resource")
    if (not isinstance(message, str) or not message) and status == 404:
        message, resource = missing_resource(method, shown_url)  # the Data API's HTML 404 page
    elif not isinstance(message, str) or not message:
        message = f"HTTP Error {status} for {method} {shown_url}"

    cls: type[APIError]
    if error_id == "confirmation_required":
        cls = ConfirmationRequiredError
    elif status == 401:
        cls = UnauthorizedError
    elif status == 403:
        cls = ForbiddenError
    elif status == 404:
        cls = NotFoundError
    elif status == 429:
        cls = RateLimitedError
    elif status in (409, 422):
        cls = ConflictError
    else:
        cls = APIError
    doc_url = data.get("url")
    return cls(
        message,
        status=status,
        error_id=error_id,
        request_id=request_id,
        method=method,
        url=shown_url,
        resource=resource if isinstance(resource, str) else None,
        doc_url=doc_url if isinstance(doc_url, str) else None,
    )
