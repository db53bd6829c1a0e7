"""Injected faults, managed through the admin API and stored with the state.

HTTP kinds, applied by the server before a Platform/Data route runs:
  ``latency``  sleep ``latency`` seconds, then serve the request normally;
  ``error``    answer ``status`` (500, 503, 429, ...) with a Heroku error body;
  ``reset``    drop the TCP connection without any response (see server.drop_connection).
Kinds consumed by route code: ``provision_failure`` and ``transfer_failure`` (the data side),
``release_failure`` (a release-phase release ends ``failed``).

A fault matches when ``method`` is ``*`` or equal, and its ``path`` regex is found in the
request path (or in the name the consumer passes). It fires with probability ``rate``; with a
``seed`` the n-th draw is ``Random(f"{seed}:{n}")``, so a run is reproducible and survives
restarts. ``remaining`` counts down the firings and the fault is removed at zero.
"""

from __future__ import annotations

import dataclasses
import random
import re
from typing import TYPE_CHECKING, Any

from herokupg.sandbox.http import HerokuHTTPError, invalid_params
from herokupg.sandbox.ratelimit import RATE_LIMIT_URL
from herokupg.sandbox.state import Fault, new_id

if TYPE_CHECKING:
    from herokupg.sandbox.server import Sandbox

HTTP_KINDS = ("latency", "error", "reset")
KINDS = (*HTTP_KINDS, "provision_failure", "transfer_failure", "release_failure")
METHODS = ("*", "GET", "POST", "PUT", "PATCH", "DELETE")

_DEFAULT_BODIES: dict[int, tuple[str, str]] = {
    429: ("rate_limit", "Your account reached the API rate limit"),
    500: ("internal_server_error", "Internal server error."),
    502: ("bad_gateway", "Bad gateway."),
    503: ("unavailable", "The service is temporarily unavailable. Please try again."),
    504: ("gateway_timeout", "Gateway timeout."),
}
_system_random = random.SystemRandom()


def _draw(fault: Fault) -> float:
    if fault.seed is None:
        return _system_random.random()
    return random.Random(f"{fault.seed}:{fault.draws}").random()  # noqa: S311 - reproducible on purpose


def consume(sb: Sandbox, kind: str, path: str = "", method: str = "*") -> Fault | None:
    """The first fault of ``kind`` matching ``path``/``method`` that fires now (a copy), else None."""
    store = sb.store
    with store.lock:
        for fault in list(store.state.faults.values()):
            if fault.kind != kind or not _matches(fault, path, method):
                continue
            if fault.rate < 1.0:
                value = _draw(fault)
                fault.draws += 1
                if value >= fault.rate:
                    store.save()
                    continue
            fault.hits += 1
            fired = dataclasses.replace(fault)
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    del store.state.faults[fault.id]
            store.save()
            return fired
    return None


def _matches(fault: Fault, path: str, method: str) -> bool:
    if fault.method != "*" and method != "*" and fault.method != method.upper():
        return False
    return re.search(fault.path, path) is not None


def error_for(fault: Fault) -> HerokuHTTPError:
    """The Heroku-shaped error an ``error`` fault answers with."""
    error_id, message = _DEFAULT_BODIES.get(fault.status, ("error", "Injected error."))
    url = RATE_LIMIT_URL if fault.status == 429 else None
    headers = {"RateLimit-Remaining": "0"} if fault.status == 429 else None
    return HerokuHTTPError(
        fault.status, fault.error_id or error_id, fault.message or message, url=url, headers=headers
    )


def create(sb: Sandbox, body: dict[str, Any]) -> Fault:
    """Validate an admin request body and store the fault."""
    fields = {f.name for f in dataclasses.fields(Fault)} - {"id", "draws", "hits"}
    unknown = set(body) - fields
    if unknown:
        raise invalid_params(f"Unknown fault fields: {', '.join(sorted(unknown))}.")
    kind = body.get("kind")
    if kind not in KINDS:
        raise invalid_params(f"kind must be one of {', '.join(KINDS)}.")
    fault = Fault(id=new_id(), kind=kind)
    path = body.get("path", fault.path)
    if not isinstance(path, str):
        raise invalid_params("path must be a regular expression string.")
    try:
        re.compile(path)
    except re.error as exc:
        raise invalid_params(f"path is not a valid regular expression: {exc}.") from None
    fault.path = path
    method = body.get("method", "*")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise invalid_params(f"method must be one of {', '.join(METHODS)}.")
    fault.method = method.upper()
    fault.rate = _number(body, "rate", fault.rate, 0.0, 1.0)
    fault.latency = _number(body, "latency", fault.latency, 0.0, 60.0)
    status = body.get("status", fault.status)
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
        raise invalid_params("status must be an HTTP error status (400-599).")
    fault.status = status
    for name in ("remaining", "seed"):
        value = body.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise invalid_params(f"{name} must be an integer or null.")
        setattr(fault, name, value)
    if fault.remaining is not None and fault.remaining < 1:
        raise invalid_params("remaining must be at least 1 (or null for unlimited).")
    for name in ("error_id", "message"):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise invalid_params(f"{name} must be a string.")
        setattr(fault, name, value)
    with sb.store.lock:
        sb.store.state.faults[fault.id] = fault
        sb.store.save()
    return fault


def _number(body: dict[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = body.get(name, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
        raise invalid_params(f"{name} must be a number between {low:g} and {high:g}.")
    return float(value)
