"""Typed errors raised by the herokupg client and operations.

Every error carries what a user needs to act (HTTP status, Heroku error id, message,
Request-Id) and never the API token or a database password: messages are passed through
:func:`herokupg.redact.redact` before they are stored.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from herokupg.redact import redact

if TYPE_CHECKING:
    from pydantic import ValidationError as PydanticValidationError


class HerokuPgError(Exception):
    """Base class of every error herokupg raises."""

    def __init__(self, message: str) -> None:
        self.message = redact(message)
        super().__init__(self.message)


class AuthConfigError(HerokuPgError):
    """No API key could be found (argument, HEROKU_API_KEY, ~/.netrc)."""


class ValidationError(HerokuPgError):
    """Bad input caught before any request was sent."""


def validation_problems(exc: PydanticValidationError) -> list[str]:
    """Each error of a pydantic ValidationError as ``field: what it should be (got <type>)``.

    Never the value itself: pydantic's own text shows the input, and a body that does not fit may
    carry a secret (a password in a renamed field) that nobody has registered for redaction yet.
    """
    lines = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "(the whole body)"
        got = "" if error["type"] == "missing" else f" (got {type(error['input']).__name__})"
        lines.append(f"{where}: {error['msg']}{got}")
    return lines


class UnexpectedResponseError(HerokuPgError, ValueError):
    """The API answered with a body that does not fit the model herokupg reads it into.

    ``problems`` name each field, what it should be and the type that came; never the value.
    ``request_id``: the Request-Id of the answer, when the reader knows it (the Ansible modules
    fill it in from :attr:`herokupg.client.HerokuClient.last_request_id`).
    """

    def __init__(self, model: str, problems: list[str], *, request_id: str | None = None) -> None:
        self.model = model
        self.problems = problems
        self.request_id = request_id
        super().__init__(f"Unexpected answer from the Heroku API for {model}: {'; '.join(problems)}")


class MissingLibraryError(HerokuPgError):
    """An optional library an operation needs is not installed (``install`` says how to get it)."""

    def __init__(self, message: str, *, library: str, reason: str, install: str) -> None:
        super().__init__(message)
        self.library = library
        self.reason = reason
        self.install = install


class APIError(HerokuPgError):
    """The Platform or Data API answered with an error."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_id: str | None = None,
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
        resource: str | None = None,
        doc_url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_id = error_id
        self.request_id = request_id
        self.method = method
        self.url = redact(url) if url else url
        self.resource = resource
        self.doc_url = doc_url

    def __str__(self) -> str:
        parts = [self.message]
        if self.method and self.url:  # names the app/database when the message does not
            parts.append(f"{self.method} {self.url}")
        if self.error_id:
            parts.append(f"Error ID: {self.error_id}")
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.request_id:
            parts.append(f"Request-Id: {self.request_id}")
        return " | ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, error_id={self.error_id!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class NotFoundError(APIError):
    """404, or a resolution that found nothing."""


# What a Data API path names, for 404s that carry no Heroku error (an HTML page served as JSON).
_MISSING = (
    (re.compile(r"^/client/v11/apps/([^/]+)/transfers/([^/]+)"), "transfer", "transfer {1} of app {0}"),
    (re.compile(r"^/client/v11/apps/([^/]+)/transfers"), "app", "app {0} on the Data API"),
    (
        re.compile(r"^/client/v11/databases/([^/]+)/transfer-schedules/([^/]+)"),
        "transfer_schedule",
        "backup schedule {1} of database {0}",
    ),
    (re.compile(r"^/(?:client/v11|postgres/v0)/databases/([^/]+)"), "database", "database {0}"),
)


def missing_resource(method: str, url: str) -> tuple[str, str | None]:
    """(message, resource) for a 404 without a Heroku error body, naming what was not found.

    Heroku's Data API answers an unknown (or not yet provisioned) database id with an HTML page.
    """
    path = unquote(urlsplit(url).path)
    for pattern, resource, what in _MISSING:
        match = pattern.match(path)
        if match:
            return (
                f"Heroku has no {what.format(*match.groups())} (HTTP 404 for {method} {path}); check "
                "the name, or wait if it was just created and is still provisioning.",
                resource,
            )
    return f"HTTP Error 404 for {method} {url}", None


class UnauthorizedError(APIError):
    """401: the API key is missing, wrong or expired."""


class ForbiddenError(APIError):
    """403: the key is valid but may not do this."""


class RateLimitedError(APIError):
    """429: the account's request budget is spent."""


class ConfirmationRequiredError(APIError):
    """The API (or an operation) asks for `confirm: <app>` before a destructive change."""


class ConflictError(APIError):
    """409/422: the request conflicts with the current state (ambiguous name, tier rule...)."""


class ConnectionFailedError(APIError):
    """The API could not be reached, after the allowed retries.

    ``may_have_applied`` is True when a request that changes something may have reached the
    server before the failure (read error or timeout): check the state before repeating it.
    """

    def __init__(
        self,
        message: str,
        *,
        may_have_applied: bool | None = None,
        status: int | None = None,
        error_id: str | None = None,
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(
            message, status=status, error_id=error_id, request_id=request_id, method=method, url=url
        )
        self.may_have_applied = may_have_applied


class StreamBrokenError(ConnectionFailedError):
    """A streamed body (a download, a log stream) broke off after its answer began."""


class OperationTimeoutError(HerokuPgError):
    """A wait ran out of time; carries the resource and the last status seen."""

    def __init__(self, message: str, *, resource: str, last_status: str | None) -> None:
        super().__init__(message)
        self.resource = resource
        self.last_status = last_status


class TransferFailedError(HerokuPgError):
    """A backup, restore or copy finished without success; carries its last log lines."""

    def __init__(self, message: str, *, transfer: str, logs: list[str]) -> None:
        super().__init__(message)
        self.transfer = transfer
        self.logs = [redact(line) for line in logs]
