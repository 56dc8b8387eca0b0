"""The ASGI application: routers, problem+json errors, locale, lifespan (scheduler)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fanbase import models  # noqa: F401  (registers every table)
from fanbase.accounts.api import router as accounts_router
from fanbase.accounts.pages import router as accounts_pages
from fanbase.cart.api import router as cart_router
from fanbase.cart.pages import router as cart_pages
from fanbase.catalog.api import media as media_router
from fanbase.catalog.api import router as catalog_router
from fanbase.catalog.pages import router as catalog_pages
from fanbase.community.forum.api import router as forum_router
from fanbase.community.forum.pages import router as forum_pages
from fanbase.community.ideas.api import router as ideas_router
from fanbase.community.ideas.pages import router as ideas_pages
from fanbase.config import Settings
from fanbase.console.pages import router as console_pages
from fanbase.context import Context, build_context
from fanbase.errors import DomainError
from fanbase.festival.api import router as festival_router
from fanbase.festival.pages import router as festival_pages
from fanbase.flashsale import fastpath as purchase_fast_path
from fanbase.flashsale.api import router as flashsale_router
from fanbase.flashsale.pages import router as flashsale_pages
from fanbase.fund.api import router as fund_router
from fanbase.i18n import N_, current_locale, gettext, negotiate
from fanbase.inventory.api import router as inventory_router
from fanbase.jobs import Scheduler, refresh_shared_state
from fanbase.membership.api import router as membership_router
from fanbase.membership.pages import router as membership_pages
from fanbase.orders.api import router as orders_router
from fanbase.orders.pages import router as orders_pages
from fanbase.pages import cookie_locale
from fanbase.pages import install as install_pages
from fanbase.payments.api import router as payments_router
from fanbase.payments.gateway import BadSignature
from fanbase.payments.pages import router as payments_pages
from fanbase.sandbox.api import router as sandbox_router
from fanbase.social.groupbuys.api import router as groupbuys_router
from fanbase.social.groupbuys.pages import router as groupbuys_pages
from fanbase.social.referrals.api import router as referrals_router
from fanbase.social.referrals.pages import router as referrals_pages
from fanbase.social.reviews.api import router as reviews_router
from fanbase.social.reviews.pages import router as reviews_pages
from fanbase.wallet.api import router as wallet_router
from fanbase.wallet.pages import router as wallet_pages
from fanbase.web import ERROR_RESPONSES, Problem, domain_error_response, problem_response

log = logging.getLogger("fanbase")
API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 1_000_000

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
              422: "validation_error", 429: "rate_limited", 503: "service_unavailable"}
HTTP_DETAILS = {404: N_("No such address"), 405: N_("Method not allowed"),
                413: N_("The request body is too large")}


API_ROUTERS = (accounts_router, catalog_router, inventory_router, cart_router, orders_router, payments_router,
               sandbox_router, flashsale_router, wallet_router, fund_router, groupbuys_router, referrals_router,
               forum_router, ideas_router, reviews_router, membership_router, festival_router)
OTHER_PAGES = (accounts_pages, cart_pages, orders_pages, payments_pages, flashsale_pages, wallet_pages,
               groupbuys_pages, forum_pages, ideas_pages, console_pages, referrals_pages, reviews_pages,
               membership_pages, festival_pages)


class LocaleAndLimits:
    """Pure ASGI middleware: picks the locale from Accept-Language; refuses bodies over MAX_BODY_BYTES (by
    Content-Length before any routing, else counted as they arrive) and NUL characters in the address
    (PostgreSQL cannot store or compare them; no slug or query needs one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = chosen = None
        too_large = False
        framed = chunked = False
        for name, value in scope["headers"]:
            if name == b"accept-language":
                accept = value.decode("latin-1")
            elif name == b"content-length" and value.isdigit():
                framed = True
                too_large = too_large or int(value) > MAX_BODY_BYTES
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"cookie":
                chosen = cookie_locale(value.decode("latin-1"))  # the language switch of the pages
        token = current_locale.set(chosen or negotiate(accept))
        try:
            if too_large:
                await problem_response("payload_too_large", gettext("The request body is too large"))(
                    scope, receive, send)
            elif "\x00" in scope["path"] or b"%00" in scope["query_string"]:
                await problem_response("validation_error", gettext("Some fields are missing or not valid"))(
                    scope, receive, send)
            elif framed and not chunked:
                # the server reads exactly the declared length (checked above): nothing to count, and no
                # wrapper around every receive of every request
                await self.app(scope, receive, send)
            else:
                await self.app(scope, _at_most(MAX_BODY_BYTES, receive), send)
        finally:
            current_locale.reset(token)


def _at_most(limit: int, receive: Receive) -> Receive:
    """A body sent without Content-Length (chunked) is counted as it arrives: 413 past ``limit``."""
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise StarletteHTTPException(413)
        return message

    return limited


def create_app(settings: Settings | None = None, ctx: Context | None = None, *,
               run_scheduler: bool | None = None) -> FastAPI:
    settings = settings or (ctx.settings if ctx else Settings())
    context = ctx or build_context(settings)
    scheduler_wanted = settings.run_jobs_in_process if run_scheduler is None else run_scheduler

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        refresh_shared_state(context)
        context.broadcast.start()
        scheduler = Scheduler(context, settings.job_interval_seconds) if scheduler_wanted else None
        if scheduler:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler:
                scheduler.stop()
            context.broadcast.stop()
            context.flash_writer.stop()

    # FastAPIOffline serves the /docs and /redoc assets from the package: no CDN, works on an intranet
    app: FastAPI = FastAPIOffline(title="Fanbase API", version="1.0", lifespan=lifespan,
                  description="Direct-to-fan commerce: catalogue, cart, orders, payments. Amounts are "
                              "integers in fen; errors are application/problem+json with a stable `code`.")
    app.state.ctx = context
    # Routes are tried in the order they are included, and each included router costs its regular expressions
    # to every request that passes it: the storefront's busiest pages (home, listing, product) first, then the
    # API, then the other pages (all page routers first would cost each API call about 100 µs more).
    app.include_router(catalog_pages, include_in_schema=False)
    for router in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    app.include_router(media_router)
    purchase_fast_path.install(app, API_PREFIX)  # the flash-sale purchase route, ahead of FastAPI's layers
    _install_error_handlers(app)
    _document_problems(app)
    app.add_middleware(LocaleAndLimits)
    install_pages(app, OTHER_PAGES)
    return app


def _document_problems(app: FastAPI) -> None:
    """Errors are problem+json (see ``ERROR_RESPONSES``), not FastAPI's default validation body."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = Problem.model_json_schema()
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def on_domain_error(request: Request, exc: DomainError) -> Response:
        return domain_error_response(exc)

    @app.exception_handler(BadSignature)
    async def on_bad_signature(request: Request, exc: BadSignature) -> Response:
        return domain_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> Response:
        errors: list[dict[str, Any]] = [
            {"loc": [str(part) for part in err.get("loc", ())], "msg": str(err.get("msg", "")),
             "type": str(err.get("type", ""))} for err in exc.errors()[:20]]
        return problem_response("validation_error", gettext("Some fields are missing or not valid"), errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:  # FastAPI could not read the body (e.g. not UTF-8): as malformed as "{"
            return problem_response("validation_error", gettext("Some fields are missing or not valid"),
                                    errors=[{"loc": ["body"], "msg": exc.detail, "type": "json_invalid"}])
        code = HTTP_CODES.get(exc.status_code, "bad_request")
        known = HTTP_DETAILS.get(exc.status_code)
        detail = gettext(known) if known else str(exc.detail)
        return problem_response(code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def on_database_unavailable(request: Request, exc: Exception) -> Response:
        # the transaction was rolled back by the unit of work: nothing was written, the caller may retry
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return problem_response("service_unavailable", gettext("The store is busy; please try again shortly"),
                                headers={"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response("internal_error", gettext("Something went wrong on our side; please try again"))
