"""Register, log in, log out, and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from fanbase.accounts import service
from fanbase.accounts.api import LoginIn, RegisterIn
from fanbase.broadcast import TOKEN_REVOKED
from fanbase.errors import DomainError
from fanbase.i18n import gettext as _
from fanbase.pages import (
    ctx_of,
    form,
    message,
    redirect,
    render,
    safe_next,
    set_language,
    sign_in,
    sign_out,
    visitor,
)
from fanbase.social.referrals import pages as referrals_pages

router = APIRouter()
Next = Annotated[str | None, Query(max_length=500)]


@router.get("/register")
def register_page(request: Request, next: Next = None) -> Response:  # noqa: A002  (the query's name)
    return render(request, "accounts/register.html", title=_("Create your account"), next=safe_next(next),
                  values={}, error=None)


@router.post("/register")
async def register(request: Request) -> Response:
    fields = await form(request)
    target = safe_next(fields.get("next"))
    ctx = ctx_of(request)
    try:
        body = RegisterIn(email=fields.get("email", ""), password=fields.get("password", ""),
                          name=fields.get("name", ""))

        def work() -> str:
            with ctx.db.uow() as session:
                user = service.register_customer(session, ctx.clock, email=body.email, password=body.password,
                                                 name=body.name)
                return service.issue_token(ctx.secret_key, user, ctx.clock.now(), ctx.settings.token_ttl_seconds)

        token = await run_in_threadpool(work)
    except ValidationError as exc:
        return _again(request, "accounts/register.html", _("Create your account"), fields, _problems(exc))
    except DomainError as exc:
        return _again(request, "accounts/register.html", _("Create your account"), fields, message(exc))
    response = sign_in(request, redirect(request, target, notice=_("Welcome to Fanbase!")), token)
    return await referrals_pages.claim_clicks(request, response, token)  # share links opened before


@router.get("/login")
def login_page(request: Request, next: Next = None) -> Response:  # noqa: A002
    return render(request, "accounts/login.html", title=_("Log in"), next=safe_next(next), values={}, error=None)


@router.post("/login")
async def login(request: Request) -> Response:
    fields = await form(request)
    target = safe_next(fields.get("next"))
    ctx = ctx_of(request)
    try:
        body = LoginIn(email=fields.get("email", ""), password=fields.get("password", ""))

        def work() -> str:
            with ctx.db.read() as session:
                user = service.authenticate(session, email=body.email, password=body.password)
                return service.issue_token(ctx.secret_key, user, ctx.clock.now(), ctx.settings.token_ttl_seconds)

        token = await run_in_threadpool(work)
    except (ValidationError, DomainError):
        return _again(request, "accounts/login.html", _("Log in"), fields, _("Wrong email or password"))
    return await referrals_pages.claim_clicks(request, sign_in(request, redirect(request, target), token), token)


@router.post("/logout")
async def logout(request: Request) -> Response:
    await form(request)
    ctx = ctx_of(request)
    principal = visitor(request).principal
    if principal is not None:
        def work() -> None:
            with ctx.db.uow() as session:
                service.revoke_token(session, ctx.clock, principal, ctx.revocations)

        await run_in_threadpool(work)
        ctx.broadcast.publish(TOKEN_REVOKED, principal.jti)
    return sign_out(redirect(request, "/", notice=_("You have logged out")))


@router.post("/language")
async def language(request: Request) -> Response:
    fields = await form(request)
    return set_language(request, redirect(request, safe_next(fields.get("next"))), fields.get("locale", ""))


def _again(request: Request, template: str, title: str, fields: dict[str, str], error: str) -> Response:
    values = {k: v for k, v in fields.items() if k != "password"}
    return render(request, template, title=title, status=422, next=safe_next(fields.get("next")), values=values,
                  error=error)


def _problems(exc: ValidationError) -> str:
    labels = {"email": _("Email"), "password": _("Password (at least 8 characters)"), "name": _("Name")}
    wrong = sorted({labels.get(str(e["loc"][0]), str(e["loc"][0])) for e in exc.errors() if e.get("loc")})
    return _("Please check: {fields}", fields=", ".join(wrong))
