"""``POST /api/v1/flash-sales/{sale_id}/purchase`` without FastAPI's per-request machinery.

Every fan of a sale calls this route within seconds. Profiling the server under ``fanbase bench
flash-sale --mode http`` showed FastAPI's work around it costing several times the purchase itself:
dependency solving (a threadpool hop for each sync dependency), the body model, matching through the
included routers, and FastAPI's own per-request layers. ``install`` puts ``PurchaseFastPath`` in front of
the app's middleware stack; it does what the FastAPI route ``api.purchase`` does, in the same order, with
the same functions:

1. read the body as FastAPI does for this route: empty or JSON ``null`` means the defaults, else a JSON
   object valid as ``api.PurchaseIn`` (strict);
2. the bearer token: ``web.principal`` (signature, expiry, revocation list; no database read);
3. ``api.serve_purchase``: rate limits, Idempotency-Key, then ``api._buy`` (``service.attempt`` decides).

Steps 2 and 3 run inside the app's own error handling and middleware, put together as Starlette does for
every route (``ServerErrorMiddleware``, the user middleware such as ``LocaleAndLimits``,
``ExceptionMiddleware`` with the app's handlers), so errors are the same problem+json; a ``DomainError``
(sold out, limit reached...) is handed to the app's handler for it directly rather than raised through
the middleware.

Anything it cannot answer with certainty goes on to FastAPI untouched (with the body, if it was read):
another method or path, a sale id that is not a plain number in range, a body without a Content-Length or
over ``MAX_BODY``, a Content-Type other than ``application/json``, a body that is not such an object. So
FastAPI stays the one definition of what a bad request gets (its 422, after the token check), and the
FastAPI route stays declared: /openapi.json documents the route as before. Skipped for this route only:
FastAPI's router, its exit stacks (for dependencies with ``yield``, none here) and its exception
telemetry middleware (its request spans, when a tracer is configured, still cover the route: they are
made in ``FastAPI.__call__``, before the middleware stack).
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import FastAPI
from pydantic import ValidationError
from starlette._utils import get_route_path, is_async_callable
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fanbase.errors import DomainError
from fanbase.flashsale.api import PurchaseIn, serve_purchase
from fanbase.web import ctx_of, principal_on_loop

MAX_SALE_ID = 2**62  # as api.SaleId
MAX_BODY = 16 * 1024  # far above any valid body (a 128-character token, escaped): larger ones go to FastAPI
_PURCHASE = "fanbase.purchase"  # scope key: (sale id, body) for the endpoint


def install(app: FastAPI, prefix: str) -> None:
    """Put ``PurchaseFastPath`` in front of the middleware stack the app builds on its first request."""
    build = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        return PurchaseFastPath(app, prefix, build())

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]


class PurchaseFastPath:
    """ASGI: purchases it can answer go to ``_purchase`` in the app's error handling and middleware; every
    other request to ``everything_else``, the stack FastAPI built (middleware, router, FastAPI routes)."""

    def __init__(self, app: FastAPI, prefix: str, everything_else: ASGIApp) -> None:
        self.everything_else = everything_else
        # a plain number only; "007", "+7" or " 7" are left to FastAPI's own parsing of the path parameter
        self._path = re.compile(re.escape(prefix) + r"/flash-sales/([1-9][0-9]{0,18})/purchase")
        # FastAPI's body size limit, when one is set, is not repeated here: the route is then left to FastAPI
        self._stack = None if getattr(app, "max_body_size", None) is not None else _stack(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._stack is None or scope["type"] != "http" or scope["method"] != "POST":
            await self.everything_else(scope, receive, send)
            return
        found = self._path.fullmatch(get_route_path(scope))
        if found is None or int(found[1]) > MAX_SALE_ID:
            await self.everything_else(scope, receive, send)
            return
        content_type, length = _body_headers(scope)
        if length is None or length > MAX_BODY:  # chunked, unframed or large: LocaleAndLimits counts or refuses it
            await self.everything_else(scope, receive, send)
            return
        try:
            raw = await _whole_body(receive)
        except ClientDisconnect:
            return  # gone before the body arrived: nobody to answer (FastAPI's 400 would go nowhere too)
        body = read_body(raw, content_type)
        receive = _replay(raw, receive)  # the body stays readable: Idempotency-Key fingerprints it
        if body is None:
            await self.everything_else(scope, receive, send)
        else:
            scope[_PURCHASE] = (int(found[1]), body)
            await self._stack(scope, receive, send)


def _stack(app: FastAPI) -> ASGIApp:
    """The app's error handling and middleware around ``_Purchase``, as ``Starlette.build_middleware_stack``
    puts them around the router (FastAPI adds its own layers there: not needed by this route)."""
    error_handler = None
    handlers: dict[Any, Any] = {}
    for key, value in app.exception_handlers.items():
        if key in (500, Exception):
            error_handler = value
        else:
            handlers[key] = value
    stack: ASGIApp = ExceptionMiddleware(_Purchase(handlers), handlers=handlers, debug=app.debug)
    for cls, args, kwargs in reversed(app.user_middleware):
        stack = cls(stack, *args, **kwargs)
    return ServerErrorMiddleware(stack, handler=error_handler, debug=app.debug)


class _Purchase:
    """Steps 2 and 3 (the body was read and checked in front)."""

    def __init__(self, handlers: dict[Any, Any]) -> None:
        self._handlers = handlers  # the ones ExceptionMiddleware has

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sale_id, body = scope[_PURCHASE]
        request = Request(scope, receive, send)
        ctx = ctx_of(request)
        response: Response
        try:
            caller = await principal_on_loop(ctx, request)
            response = await serve_purchase(ctx, request, sale_id, caller.user_id, body)
        except DomainError as error:
            # Refusals are most answers of a sale: rendered here by the handler ExceptionMiddleware would
            # pick (first of the error's classes with one), as raising through it costs about as much
            # again as the whole refusal.
            handler = next((self._handlers[cls] for cls in type(error).__mro__ if cls in self._handlers), None)
            if handler is None or not is_async_callable(handler):
                raise
            response = await handler(request, error)
        await response(scope, receive, send)


def read_body(raw: bytes, content_type: str | None) -> PurchaseIn | None:
    """The body as FastAPI reads ``body: PurchaseIn | None = None``, or None when only FastAPI can tell."""
    if not raw:
        return PurchaseIn()  # no body: FastAPI ignores the Content-Type too
    if content_type is None or content_type.partition(";")[0].strip().lower() != "application/json":
        return None
    try:
        # orjson accepts a subset of what json.loads does (no NaN, no BOM, 64-bit integers) and reads
        # the same values from it; what it refuses goes to FastAPI
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if data is None:
        return PurchaseIn()
    if not isinstance(data, dict):
        return None
    try:
        return PurchaseIn.model_validate(data)  # what FastAPI's body field runs on a dict (strict model)
    except ValidationError:
        return None


def _body_headers(scope: Scope) -> tuple[str | None, int | None]:
    """Content-Type (the first, as ``request.headers`` gives it) and Content-Length; the length is None
    unless the body is framed by exactly one Content-Length (then the server delivers exactly that)."""
    content_type: str | None = None
    length: int | None = None
    lengths = 0
    for name, value in scope["headers"]:
        if name == b"content-type" and content_type is None:
            content_type = value.decode("latin-1")
        elif name == b"content-length":
            lengths += 1
            length = int(value) if value.isdigit() else None
        elif name == b"transfer-encoding":
            lengths += 2
    return content_type, length if lengths == 1 else None


async def _whole_body(receive: Receive) -> bytes:
    """What ``Request.body()`` reads, without its async generator (one message for a small body)."""
    message = await receive()
    raw = message.get("body", b"")
    while message["type"] == "http.request" and message.get("more_body", False):
        message = await receive()
        raw += message.get("body", b"")
    if message["type"] == "http.disconnect":
        raise ClientDisconnect()
    return raw


def _replay(raw: bytes, receive: Receive) -> Receive:
    """The request's receive channel again, from the start of the body already read."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return replayed
