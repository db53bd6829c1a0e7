"""HTTP helpers shared by the sandbox's route modules: Heroku-shaped errors, bodies, Range paging."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

MAX_BODY_BYTES = 1024 * 1024


class HerokuHTTPError(Exception):
    """Raised by a route; the server turns it into Heroku's error body.

    Body shape (Platform and Data API alike): ``{"id", "message", "url"?, "resource"?, "app"?}``.
    """

    def __init__(
        self,
        status: int,
        error_id: str,
        message: str,
        *,
        resource: str | None = None,
        url: str | None = None,
        headers: dict[str, str] | None = None,
        app: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_id = error_id
        self.message = message
        self.resource = resource
        self.url = url
        self.headers = headers or {}
        self.app = app

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.error_id, "message": self.message}
        if self.resource:
            body["resource"] = self.resource
        if self.url:
            body["url"] = self.url
        if self.app:
            body["app"] = self.app
        return body

    def response(self) -> Response:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def not_found(resource: str, message: str | None = None) -> HerokuHTTPError:
    text = message or f"Couldn't find that {resource.replace('_', ' ').replace('-', ' ')}."
    return HerokuHTTPError(404, "not_found", text, resource=resource)


def bad_request(message: str, error_id: str = "bad_request", status: int = 400) -> HerokuHTTPError:
    return HerokuHTTPError(status, error_id, message)


def invalid_params(message: str) -> HerokuHTTPError:
    return HerokuHTTPError(422, "invalid_params", message)


async def read_json(request: Request, *, required: bool = False) -> dict[str, Any]:
    """The request body as a JSON object; {} when empty and not required."""
    too_large = HerokuHTTPError(413, "request_too_large", f"Request body exceeds {MAX_BODY_BYTES} bytes.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large  # refuse before reading it
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise too_large
    if not raw.strip():
        if required:
            raise bad_request("Request body is required and must be a JSON object.")
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"Request body is not valid JSON: {exc}.") from None
    except RecursionError:
        raise bad_request("Request body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object.")
    return body


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(data, status_code=status, headers=headers)


_RANGE = re.compile(
    r"^\s*(?P<field>[a-z_]+)\s+(?P<start>[^.;\s]*)\s*\.\.\s*(?P<end>[^;\s]*)\s*"
    r"(?:;\s*(?P<opts>.*))?$"
)


def paginate(
    request: Request, items: Sequence[dict[str, Any]], *, default_field: str, page_size: int
) -> Response:
    """Serve a list with Heroku's Range / Next-Range protocol.

    ``Range: <field> <start>..<end>; max=<n>, order=asc|desc``. Items are sorted by ``field``;
    a page that stops short of the end answers 206 with ``Next-Range: <field> ]<last>..; max=<n>``
    (``]`` = exclusive start), which the client sends back verbatim.
    """
    header = request.headers.get("range")
    field_name, start, exclusive, limit, order = default_field, "", False, page_size, "asc"
    if header:
        match = _RANGE.match(header)
        if not match:
            raise HerokuHTTPError(400, "bad_request", f"Invalid Range header: {header!r}.")
        field_name = match["field"]
        start = match["start"]
        if start.startswith("]"):
            exclusive, start = True, start[1:]
        for opt in (match["opts"] or "").split(","):
            key, _, value = opt.strip().partition("=")
            if key == "max":
                if not value.isdigit() or not 1 <= int(value) <= 1000:
                    raise HerokuHTTPError(400, "bad_request", "Range max must be between 1 and 1000.")
                limit = int(value)
            elif key == "order":
                if value not in ("asc", "desc"):
                    raise HerokuHTTPError(400, "bad_request", "Range order must be asc or desc.")
                order = value
        if items and field_name not in items[0]:
            raise HerokuHTTPError(400, "bad_request", f"Range field {field_name!r} is not sortable here.")

    def sort_key(item: dict[str, Any]) -> Any:
        value = item.get(field_name)
        return (value is None, value if not isinstance(value, dict) else str(value))

    ordered = sorted(items, key=sort_key, reverse=(order == "desc"))
    if start:
        bound = _typed_bound(start, [item.get(field_name) for item in ordered])

        def after(item: dict[str, Any]) -> bool:
            value = item.get(field_name)
            if value is None:
                return False
            value = value if isinstance(value, type(bound)) else str(value)
            if order == "desc":
                return bool(value < bound if exclusive else value <= bound)
            return bool(value > bound if exclusive else value >= bound)

        ordered = [item for item in ordered if after(item)]
    page = ordered[:limit]
    headers: dict[str, str] = {}
    status = 200
    if len(ordered) > limit:
        last = page[-1].get(field_name)
        headers["Next-Range"] = f"{field_name} ]{last}..; max={limit}, order={order}"
        status = 206
    if page:
        headers["Content-Range"] = f"{field_name} {page[0].get(field_name)}..{page[-1].get(field_name)}"
    return JSONResponse(page, status_code=status, headers=headers)


def _typed_bound(start: str, values: Sequence[Any]) -> Any:
    """Compare a Range start as a number when the field holds numbers (release versions:
    "10" must sort after "9")."""
    if any(isinstance(v, int) and not isinstance(v, bool) for v in values):
        try:
            return int(start)
        except ValueError:
            raise HerokuHTTPError(400, "bad_request", f"Range start {start!r} is not a number.") from None
    return start


@dataclass
class Call:
    """What a route handler gets: the request (headers), its path parameters and JSON body."""

    request: Request
    params: dict[str, str]
    body: dict[str, Any]

    def header(self, name: str) -> str:
        return self.request.headers.get(name, "")


def endpoint(handler: Callable[[Call], Response]) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a blocking handler: read the body on the event loop, run the handler (which takes
    the store lock and may call the engine) in the thread pool."""

    async def run(request: Request) -> Response:
        body = await read_json(request) if request.method in ("POST", "PATCH", "PUT", "DELETE") else {}
        call = Call(request, {k: str(v) for k, v in request.path_params.items()}, body)
        return await run_in_threadpool(handler, call)

    return run
