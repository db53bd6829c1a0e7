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

from herokupg_sandbox.http import HerokuHTTPError
from herokupg_sandbox.ratelimit import RATE_LIMIT_URL
from herokupg_sandbox.state import Fault, new_id

if TYPE_CHECKING:
    from herokupg_sandbox.server import Sandbox

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


def add(sb: Sandbox, fields: dict[str, Any]) -> Fault:
    """Store a fault made of ``fields`` (a request body checked by :class:`bodies.FaultCreate`)."""
    fault = Fault(id=new_id(), **fields)
    with sb.store.lock:
        sb.store.state.faults[fault.id] = fault
        sb.store.save()
    return fault
