"""Shared plumbing of the HTML pages: templates, the session cookie, CSRF, notices and error pages.

Pages live in each domain's ``pages.py`` (templates in its ``templates/``) and call the same service
functions as the JSON API. A person signs in with a cookie holding the same signed token the API takes
as a bearer token (HttpOnly, SameSite=Lax); every form carries a CSRF token derived from the session
(the token's id, or a random id for a visitor) and every POST is refused without it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import WebSocketRequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from fanbase.accounts.service import Principal, verify_token
from fanbase.context import Context
from fanbase.errors import DomainError, Forbidden, Unauthorized, ValidationFailed
from fanbase.i18n import DEFAULT_LOCALE, LOCALES, N_, current_locale, gettext
from fanbase.money import format_fen, yuan_to_fen

PACKAGE = Path(__file__).parent
# a nested package's templates go by its last name: "forum/thread.html"
PAGE_DOMAINS = ("accounts", "catalog", "cart", "orders", "payments", "flashsale", "wallet", "console",
                "community/forum", "community/ideas", "social/groupbuys", "social/reviews", "social/referrals",
                "membership", "festival")
SESSION_COOKIE = "fb_session"
VISITOR_COOKIE = "fb_visitor"
LANG_COOKIE = "fb_lang"
NOTICE_COOKIE = "fb_notice"
NOT_PAGES = ("/api/", "/media/", "/static/", "/docs", "/redoc", "/openapi.json")
MAX_FORM_BYTES = 64_000


class CsrfRefused(Forbidden):
    """A POST without the form's token: refused before anything is read or written."""


class LoginRequired(Exception):
    """A page that needs a signed-in person: answered by a redirect to the sign-in page."""


@dataclass(frozen=True)
class Visitor:
    """Who is looking at a page: a signed-in person (``principal``) or an anonymous visitor."""

    principal: Principal | None
    session_id: str  # the token's id when signed in, else the visitor cookie's value
    new_visitor: bool  # the visitor cookie must be set on the answer
    csrf: str

    @property
    def signed_in(self) -> bool:
        return self.principal is not None


def ctx_of(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def _csrf(secret: str, session_id: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def visitor(request: Request) -> Visitor:
    """Read (once per request) the session cookie; a bad, expired or revoked token is an anonymous visitor."""
    known: Visitor | None = getattr(request.state, "visitor", None)
    if known is not None:
        return known
    ctx = ctx_of(request)
    principal = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        if ctx.revocations.due():
            with ctx.db.read() as session:
                ctx.revocations.refresh(session)
        try:
            principal = verify_token(ctx.secret_key, token, ctx.clock.now(), ctx.revocations)
        except Unauthorized:
            principal = None
    if principal is not None:
        session_id, new = principal.jti, False
    else:
        cookie = request.cookies.get(VISITOR_COOKIE, "")
        valid = 16 <= len(cookie) <= 64 and cookie.isascii() and cookie.replace("-", "").replace("_", "").isalnum()
        session_id, new = (cookie, False) if valid else (secrets.token_urlsafe(24), True)
    found = Visitor(principal, session_id, new, _csrf(ctx.secret_key, session_id))
    request.state.visitor = found
    return found


def signed_in(request: Request) -> Principal:
    principal = visitor(request).principal
    if principal is None:
        raise LoginRequired()
    return principal


async def form(request: Request) -> dict[str, str]:
    """The POSTed form (urlencoded), after checking its CSRF token against the session."""
    body = await request.body()
    await run_in_threadpool(visitor, request)  # it may refresh the revocation list: a database read
    if len(body) > MAX_FORM_BYTES:
        raise DomainError("The request body is too large", code="payload_too_large")
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200))
    except (UnicodeDecodeError, ValueError):
        fields = {}
    expected = visitor(request).csrf
    if not hmac.compare_digest(fields.pop("csrf", "").encode(), expected.encode()):
        raise CsrfRefused(N_("This form has expired; please go back, reload the page and try again"))
    return {k: v.replace("\x00", "") for k, v in fields.items()}


def yuan_field(fields: dict[str, str], name: str, label: str | None = None) -> int:
    """An amount typed in yuan (``1999``, ``1,999.00``), exactly, as fen; ``label`` names the field in the
    refusal (else its form name)."""
    raw = fields.get(name, "").strip().replace(",", "")
    try:
        if len(raw) > 14 or Decimal(raw) < 0:
            raise ValueError(raw)
        return yuan_to_fen(raw)
    except (ValueError, InvalidOperation):
        raise ValidationFailed(N_("Enter {field} in yuan, e.g. 1999.00"), field=label or name) from None


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site: never ``//host`` or a scheme (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


# --- rendering ------------------------------------------------------------------------------------


def _environment() -> Environment:
    loader = ChoiceLoader([
        FileSystemLoader(PACKAGE / "templates"),
        PrefixLoader({domain.rsplit("/", 1)[-1]: FileSystemLoader(PACKAGE / domain / "templates")
                      for domain in PAGE_DOMAINS}),
    ])
    env = Environment(loader=loader, autoescape=select_autoescape(default=True), trim_blocks=True,
                      lstrip_blocks=True, auto_reload=False)
    env.globals.update(_=gettext, gettext=gettext, named=named)
    env.filters["money"] = format_fen
    return env


def named(thing: Any, field: str = "name") -> str:
    """A catalogue text in the page's language: the ``*_en`` column in English when it is filled."""
    if current_locale.get() == "en":
        english = getattr(thing, f"{field}_en", "")
        if english:
            return str(english)
    return str(getattr(thing, field))


ENV = _environment()


def local_time(ctx: Context, when: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if when is None else when.astimezone(ctx.settings.zone).strftime(fmt)


def _cookie_flags(ctx: Context) -> dict[str, Any]:
    return {"httponly": True, "samesite": "lax", "secure": ctx.settings.public_url.startswith("https://"),
            "path": "/"}


PAGE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
                "Referrer-Policy": "same-origin"}
# Stand-ins for what differs between two anonymous visitors of the same page (see ``for_visitors``): plain
# letters, so escaping leaves them as they are.
CSRF_MARK = "fbcsrfmark7d1c0e5a"
NOW_MARK = "fbnowmark3b9f42c8"


def render(request: Request, template: str, *, title: str, status: int = 200, description: str = "",
           image: str | None = None, **values: Any) -> HTMLResponse:
    """A page in the request's language, with its title and Open Graph tags; sets the visitor cookie
    when the visitor is new, and shows (then drops) a notice left by the previous POST."""
    ctx = ctx_of(request)
    who = visitor(request)
    shared = getattr(request.state, "shared_copy", False)  # rendered for every anonymous visitor
    notice = None if shared else _read_notice(request.cookies.get(NOTICE_COOKIE))
    iso = _iso(ctx)
    html = ENV.get_template(template).render(
        request=request, visitor=who, csrf=CSRF_MARK if shared else who.csrf, locale=current_locale.get(),
        title=title, description=description or gettext("Fanbase: the brand's own store, one price everywhere"),
        image=image, url=str(request.url), path=request.url.path, notice=notice,
        when=lambda value, fmt="%Y-%m-%d %H:%M": local_time(ctx, value, fmt), iso=iso,
        server_now=NOW_MARK if shared else iso(ctx.clock.now()), **values)
    return _page_response(request, html, status, who, notice)


def _page_response(request: Request, html: str, status: int, who: Visitor,
                   notice: dict[str, str] | None) -> HTMLResponse:
    response = HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
    if who.new_visitor:
        response.set_cookie(VISITOR_COOKIE, who.session_id, max_age=365 * 24 * 3600,
                            **_cookie_flags(ctx_of(request)))
    if notice:
        response.delete_cookie(NOTICE_COOKIE, path="/")
    return response


async def for_visitors(request: Request, build: Callable[[], Response]) -> Response:
    """A read-only page (home, listing, product) that looks the same to every anonymous visitor: rendered
    once per address, language and ``product_cache_seconds`` into a shared copy (``Context.visitor_pages``,
    stale-while-revalidate like the product JSON), into which each answer puts its own form token and
    time. A signed-in person, or one with a notice to see, gets ``build`` itself."""
    ctx = ctx_of(request)
    if (not ctx.visitor_pages.enabled or request.cookies.get(SESSION_COOKIE)
            or request.cookies.get(NOTICE_COOKIE)):
        return await run_in_threadpool(build)

    async def load() -> str:
        request.state.shared_copy = True
        response = await run_in_threadpool(build)
        return bytes(response.body).decode()

    html = await ctx.visitor_pages.get_or_load((str(request.url), current_locale.get()), load)
    who = visitor(request)  # no session cookie: no database read
    html = html.replace(CSRF_MARK, who.csrf).replace(NOW_MARK, _iso(ctx)(ctx.clock.now()))
    return _page_response(request, html, 200, who, None)


def _iso(ctx: Context) -> Callable[[datetime | None], str]:
    return lambda when: "" if when is None else when.astimezone(ctx.settings.zone).isoformat(timespec="seconds")


def redirect(request: Request, url: str, *, notice: str | None = None, error: str | None = None) -> Response:
    """303 after a POST (the browser then GETs ``url``), with a one-time notice for the next page."""
    response = RedirectResponse(url, status_code=303)
    if notice or error:
        kind, text = ("error", error) if error else ("notice", notice)
        value = base64.urlsafe_b64encode(orjson.dumps({"kind": kind, "text": text})).decode()
        response.set_cookie(NOTICE_COOKIE, value, max_age=120, **_cookie_flags(ctx_of(request)))
    return response


def _read_notice(raw: str | None) -> dict[str, str] | None:
    if not raw or len(raw) > 4000:
        return None
    try:
        data = orjson.loads(base64.urlsafe_b64decode(raw))
        return {"kind": "error" if data["kind"] == "error" else "notice", "text": str(data["text"])[:500]}
    except (ValueError, KeyError, TypeError):
        return None


def message(error: DomainError) -> str:
    return gettext(error.detail, **error.params)


Work = Callable[[Session, Principal, dict[str, str]], "str | None"]


async def write(request: Request, back: str, notice: str | Callable[[], str | None] | None, work: Work, *,
                who: Callable[[Request], Principal] | None = None,
                after: Callable[[], None] | None = None) -> Response:
    """A form that changes something: its token checked (``form``), the person it needs (``who``, a signed-in
    person by default), ``work`` in one transaction off the event loop, ``after`` once it is committed;
    then where ``work`` answers (else ``back``) with ``notice`` (a callable is asked after the commit, so
    the text may say what ``work`` did), or back to ``back`` with the refusal's message."""
    fields = await form(request)
    person = (who or signed_in)(request)
    ctx = ctx_of(request)

    def run() -> str | None:
        with ctx.db.uow() as session:
            return work(session, person, fields)

    try:
        target = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(request, back, error=message(exc))
    if after is not None:
        after()
    return redirect(request, target or back, notice=notice() if callable(notice) else notice)


def sign_in(request: Request, response: Response, token: str) -> Response:
    ctx = ctx_of(request)
    response.set_cookie(SESSION_COOKIE, token, max_age=ctx.settings.token_ttl_seconds, **_cookie_flags(ctx))
    return response


def sign_out(response: Response) -> Response:
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def set_language(request: Request, response: Response, locale: str) -> Response:
    if locale in LOCALES:
        response.set_cookie(LANG_COOKIE, locale, max_age=365 * 24 * 3600, **_cookie_flags(ctx_of(request)))
    return response


def cookie_locale(cookie_header: str) -> str | None:
    """The language a person chose (``fb_lang`` cookie), if any; it wins over Accept-Language."""
    for part in cookie_header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == LANG_COOKIE and value in LOCALES:
            return value
    return None


# --- errors ---------------------------------------------------------------------------------------


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(NOT_PAGES)


def error_page(request: Request, status: int, title: str, detail: str,
               headers: dict[str, str] | None = None) -> Response:
    try:
        response: Response = render(request, "error.html", title=title, status=status, detail=detail,
                                    status_code=status)
    except Exception:  # the error page itself failed (e.g. the database is down): plain, still HTML
        response = HTMLResponse(f"<!doctype html><title>{status}</title><h1>{status}</h1>", status_code=status)
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            response.headers[name] = value
    return response


def install_error_pages(app: FastAPI) -> None:
    """Page routes answer errors with an HTML page (never a traceback or JSON); the API keeps problem+json.
    Each handler the app installed is wrapped: for a page, its problem body becomes the page's text."""
    for exc_class, original in list(app.exception_handlers.items()):
        if exc_class is not WebSocketRequestValidationError:
            app.exception_handlers[exc_class] = _html_for_pages(original)

    @app.exception_handler(LoginRequired)
    async def on_login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


def _html_for_pages(original: Callable[..., Any]) -> Callable[..., Any]:
    async def handler(request: Request, exc: Exception) -> Response:
        response: Response = await original(request, exc)
        if not is_page(request):
            return response
        try:
            problem = orjson.loads(bytes(response.body))
            title, detail = str(problem["title"]), str(problem["detail"])
        except (ValueError, KeyError, TypeError):
            title, detail = gettext("Something went wrong"), ""
        if response.status_code >= 500:  # nothing of our insides is shown to a person
            detail = gettext("Something went wrong on our side; please try again")
        return error_page(request, response.status_code, title, detail, dict(response.headers))

    return handler


def install(app: FastAPI, routers: Iterable[Any]) -> None:
    """Static files from the package, the page routers (out of the OpenAPI document) and error pages."""
    app.mount("/static", StaticFiles(directory=PACKAGE / "static"), name="static")
    for router in routers:
        app.include_router(router, include_in_schema=False)
    install_error_pages(app)


__all__ = ["DEFAULT_LOCALE", "Visitor", "form", "install", "redirect", "render", "signed_in", "visitor"]
