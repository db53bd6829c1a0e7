"""What every operation shares: the context it runs in, its result, and waiting."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from herokupg.api import HerokuAPI
from herokupg.errors import (
    APIError,
    ConfirmationRequiredError,
    ConnectionFailedError,
    NotFoundError,
    OperationTimeoutError,
    ValidationError,
)
from herokupg.models import Attachment, DatabaseInfo, Transfer

T = TypeVar("T")


def require_confirmation(app: str, confirm: str | None, action: str) -> None:
    """The CLI's ConfirmCommand: destructive actions need ``confirm`` equal to the app name."""
    if confirm is None or confirm == "":
        raise ConfirmationRequiredError(
            f"{action} is destructive and cannot be undone. To proceed, set confirm: {app}",
            error_id="confirmation_required",
        )
    if confirm != app:
        raise ConfirmationRequiredError(
            f"Confirmation {confirm} did not match {app}. Aborted. {action} needs confirm: {app}",
            error_id="confirmation_required",
        )


@dataclass(frozen=True)
class WaitOptions:
    enabled: bool = True
    timeout: float = 1800.0
    poll_interval: float = 5.0  # the longest pause between two polls
    first_interval: float = 0.25  # polling starts here and backs off (x1.5) up to poll_interval

    def __post_init__(self) -> None:
        if self.timeout < 0:
            raise ValidationError(f"wait_timeout must be 0 or more seconds, got {self.timeout}.")
        if self.poll_interval <= 0:
            raise ValidationError(f"poll_interval must be more than 0 seconds, got {self.poll_interval}.")


@dataclass(frozen=True)
class PlannedRequest:
    """A write the operation sends (or, in check mode, would send)."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "body": self.body, "description": self.description}


@dataclass
class Result:
    changed: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    requests: list[PlannedRequest] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def diff(self) -> dict[str, Any]:
        return {"before": self.before or {}, "after": self.after or {}}


class Reads:
    """The state reads of one operation, each sent once and then remembered.

    An operation decides from the same answers wherever it looks (resolving, checking, describing)
    instead of asking again. Everything is forgotten before a write and before each poll of a
    wait, when the state may have changed. The read methods are named as on :class:`HerokuAPI`,
    so resolution takes either.
    """

    def __init__(self, api: HerokuAPI) -> None:
        self.api = api
        self._answers: dict[tuple[str, str], Any] = {}

    def _once(self, kind: str, key: str, fetch: Callable[[str], T]) -> T:
        if (kind, key) not in self._answers:
            self._answers[(kind, key)] = fetch(key)
        return cast(T, self._answers[(kind, key)])

    def list_attachments(self, app: str) -> list[Attachment]:
        return self._once("attachments", app, self.api.list_attachments)

    def config_vars(self, app: str) -> dict[str, str]:
        return self._once("config_vars", app, self.api.config_vars)

    def database(self, addon_id: str) -> DatabaseInfo | None:
        """The Data API's view of a database; None while it is still provisioning (a 404)."""
        return self._once("database", addon_id, self._database)

    def _database(self, addon_id: str) -> DatabaseInfo | None:
        try:
            return self.api.database(addon_id)
        except NotFoundError:
            return None

    def list_transfers(self, app: str) -> list[Transfer]:
        return self._once("transfers", app, self.api.list_transfers)

    def resolve_attachment(self, app: str, ident: str) -> list[Attachment]:
        return self.api.resolve_attachment(app, ident)

    def forget(self) -> None:
        self._answers.clear()


@dataclass
class Context:
    """What one operation runs with. ``reads`` remembers its answers: use a Context per operation."""

    api: HerokuAPI
    check_mode: bool = False
    wait: WaitOptions = field(default_factory=WaitOptions)
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    wrote: bool = False  # set once a write was sent: a later failure still changed something
    reads: Reads = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.reads = Reads(self.api)

    def write(
        self,
        result: Result,
        request: PlannedRequest,
        send: Callable[[], T],
    ) -> T | None:
        """Record a write on ``result``; send it unless in check mode (then return None)."""
        result.requests.append(request)
        result.changed = True
        if self.check_mode:
            return None
        self.reads.forget()  # the write may change anything read so far
        try:
            sent = send()
        except ConnectionFailedError as exc:  # before APIError: it is one, with no status
            self.wrote = self.wrote or bool(exc.may_have_applied)
            raise
        except APIError as exc:
            # An API that answered 4xx refused the request: nothing was applied (so a failure
            # that follows does not report `changed`). Anything else may have been applied.
            if exc.status is None or not 400 <= exc.status < 500:
                self.wrote = True
            raise
        except BaseException:
            self.wrote = True
            raise
        self.wrote = True
        return sent

    def wait_until(
        self,
        probe: Callable[[], tuple[bool, str]],
        *,
        resource: str,
        goal: str,
    ) -> str:
        """Poll ``probe`` (-> (done, status)) with backoff until done; return the last status.

        Fails with the resource and the last status seen when ``wait.timeout`` runs out, so that a
        rerun (which finds the resource already there) can simply go on waiting.
        """
        deadline = self.monotonic() + self.wait.timeout
        interval = self.wait.first_interval
        while True:
            self.reads.forget()  # each poll reads anew; what the last one read stays for afterwards
            done, status = probe()
            if done:
                return status
            remaining = deadline - self.monotonic()
            if remaining <= 0:
                raise OperationTimeoutError(
                    f"Timed out after {self.wait.timeout:g}s waiting for {resource} to {goal}; "
                    f"last status: {status}. Run again to keep waiting (nothing is created twice).",
                    resource=resource,
                    last_status=status,
                )
            self.sleep(min(interval, self.wait.poll_interval, remaining))
            interval = min(interval * 1.5, self.wait.poll_interval)
